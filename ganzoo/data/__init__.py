"""Data: folder data sets for each mode, the embedded toy sets with their scorers, and downloads.

    >>> from ganzoo import data
    >>> toy = data.toy_set("day2night")
    >>> train = toy.dataset(image_size=32)            # items {"A", "B", "A_path", "B_path"}
    >>> toy.score(lambda x: generator(x))             # {"shape_accuracy": ..., "psnr": ...} against the truth
    >>> data.resolve_data("facades", mode="paired")   # downloads once, then a folder in the cache

Exports load on first use, like ``ganzoo``'s own: the built-in plugin reads the download catalog from
:mod:`ganzoo.data.download`, and listing data sets must not import torch (which the folder and toy
modules do).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "CATALOG": "ganzoo.data.download",
    "DownloadError": "ganzoo.data.download",
    "cache_dir": "ganzoo.data.download",
    "download_dataset": "ganzoo.data.download",
    "download_file": "ganzoo.data.download",
    "download_hub_dataset": "ganzoo.data.download",
    "extract_archive": "ganzoo.data.download",
    "DataLayoutError": "ganzoo.data.folders",
    "PairedFolder": "ganzoo.data.folders",
    "SingleFolder": "ganzoo.data.folders",
    "UnpairedFolder": "ganzoo.data.folders",
    "make_loader": "ganzoo.data.loader",
    "DataSource": "ganzoo.data.sources",
    "resolve_data": "ganzoo.data.sources",
    "toy_set": "ganzoo.data.sources",
    "TOY_SETS": "ganzoo.data.toy",
    "ToySet": "ganzoo.data.toy",
    "Preprocess": "ganzoo.data.transforms",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ganzoo.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
