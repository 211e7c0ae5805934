"""What ``--data`` means: a toy set, a folder, a Hub data set repo, or a data set some plugin registered.

Named data sets come from the ``dataset`` registry, filled by ``ganzoo_register_datasets`` hooks: the
built-in plugin registers the toy sets and the reference projects' download catalog, and any plugin may
add its own. A data set's factory returns a folder (fetching it first when needed) or a toy set; it may
take ``mode`` (the recipe's data mode, for data sets published in several layouts) and ``download``.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from pathlib import Path

from ganzoo.data.download import download_hub_dataset
from ganzoo.data.toy import ToySet
from ganzoo.errors import GanzooError
from ganzoo.registry import Entry


@dataclasses.dataclass(frozen=True)
class DataSource:
    """A resolved ``--data``: either an embedded toy set or a folder on disk."""

    spec: str
    toy: ToySet | None = None
    root: Path | None = None

    @property
    def is_toy(self) -> bool:
        return self.toy is not None


def embedded_toy_set(name: str) -> ToySet:
    """The embedded toy set ``name``: the factory of the built-in toy data set entries."""
    from ganzoo.data.toy import TOY_SETS

    return TOY_SETS[name]


def toy_set(name: str) -> ToySet:
    """The toy set registered as ``name`` (``toy:`` prefix optional), from the dataset registry."""
    from ganzoo.plugins import registry

    name = name.removeprefix("toy:")
    entry = registry("dataset").get(name)
    if not entry.metadata.get("toy"):
        raise GanzooError(f"{name!r} is a downloadable data set, not a toy set; use --data {name}")
    return entry.build()


def resolve_data(spec: str, *, mode: str | None = None, download: bool = True) -> DataSource:
    """Turn ``--data`` into a toy set or a folder, fetching a registered data set on first use.

    Args:
        spec: ``toy:NAME``, a folder path, ``hf-hub:ORG/NAME[@REV]``, or the name of a registered data set
            (the built-in catalog's ``facades``, a toy set's name, or one from a plugin).
        mode: the recipe's data mode, given to data sets that take a ``mode`` option (the catalog picks
            pix2pix's or CycleGAN's archive with it).
        download: fetch what is missing; False refuses a data set that would have to be fetched (unless
            its factory takes a ``download`` option and can answer from what is local).
    """
    from ganzoo.plugins import registry

    if spec.startswith("toy:"):
        return DataSource(spec, toy=toy_set(spec))
    path = Path(spec).expanduser()
    if path.is_dir():
        return DataSource(spec, root=path)
    if spec.startswith("hf-hub:"):
        if not download:
            raise GanzooError(f"{spec} is not downloaded yet")
        return DataSource(spec, root=download_hub_dataset(spec))
    datasets = registry("dataset")
    if spec not in datasets:
        toys = ", ".join(f"toy:{e.name}" for e in datasets if e.metadata.get("toy"))
        named = ", ".join(e.name for e in datasets if not e.metadata.get("toy"))
        close = difflib.get_close_matches(spec, datasets.names(aliases=True), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise GanzooError(f"--data {spec!r} is not a folder, a toy set ({toys}), a registered data set "
                          f"({named or 'none'}) or hf-hub:ORG/NAME{hint}")
    return _from_entry(spec, datasets.get(spec), mode=mode, download=download)


def _from_entry(spec: str, entry: Entry, *, mode: str | None, download: bool) -> DataSource:
    """Build a data set entry into a :class:`DataSource`: a toy set, or the folder its factory returns."""
    options = entry.option_names()
    if entry.metadata.get("toy"):
        return DataSource(spec, toy=entry.build())
    kwargs: dict[str, object] = {"mode": mode} if "mode" in options else {}
    if "download" in options:
        kwargs["download"] = download
    elif not download:
        raise GanzooError(f"data set {spec!r} is not downloaded yet; run `ganzoo data download {spec}`")
    result = entry.build(**kwargs)
    if isinstance(result, ToySet):
        return DataSource(spec, toy=result)
    if not isinstance(result, (str, os.PathLike)) or not Path(result).is_dir():
        raise GanzooError(f"data set {entry.name!r} from plugin {entry.plugin!r} gave {result!r}, not a folder")
    return DataSource(spec, root=Path(result))
