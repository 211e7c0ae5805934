"""Data: folder data sets for each mode, the embedded toy sets with their scorers, and downloads.

    >>> from ganzoo import data
    >>> toy = data.toy_set("day2night")
    >>> train = toy.dataset(image_size=32)            # items {"A", "B", "A_path", "B_path"}
    >>> toy.score(lambda x: generator(x))             # {"l1": ..., "psnr": ...} against the truth
    >>> data.resolve_data("facades", mode="paired")   # downloads once, then a folder in the cache
"""

from ganzoo.data.download import (
    CATALOG,
    DownloadError,
    cache_dir,
    download_dataset,
    download_file,
    download_hub_dataset,
    extract_archive,
)
from ganzoo.data.folders import DataLayoutError, PairedFolder, SingleFolder, UnpairedFolder
from ganzoo.data.loader import make_loader
from ganzoo.data.sources import DataSource, resolve_data, toy_set
from ganzoo.data.toy import TOY_SETS, ToySet, sample_validity, translation_scores
from ganzoo.data.transforms import Preprocess

__all__ = [
    "CATALOG", "DataLayoutError", "DataSource", "DownloadError", "PairedFolder", "Preprocess", "SingleFolder",
    "TOY_SETS", "ToySet", "UnpairedFolder", "cache_dir", "download_dataset", "download_file",
    "download_hub_dataset", "extract_archive", "make_loader", "resolve_data", "sample_validity", "toy_set",
    "translation_scores",
]
