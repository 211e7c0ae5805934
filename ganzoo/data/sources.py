"""What ``--data`` means: a toy set, a folder, a known data set to download, or a Hub data set repo."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ganzoo.data.download import CATALOG, download_dataset, download_hub_dataset
from ganzoo.data.toy import ToySet
from ganzoo.errors import GanzooError


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
    """Turn ``--data`` into a toy set or a folder, downloading a known data set on first use.

    Args:
        spec: ``toy:NAME``, a folder path, a catalog name (``facades``), or ``hf-hub:ORG/NAME[@REV]``.
        mode: the recipe's data mode; it picks pix2pix's or CycleGAN's archive when a name has both.
        download: fetch what is missing (False: only what is already local).
    """
    if spec.startswith("toy:"):
        return DataSource(spec, toy=toy_set(spec))
    path = Path(spec).expanduser()
    if path.is_dir():
        return DataSource(spec, root=path)
    if spec.startswith("hf-hub:"):
        if not download:
            raise GanzooError(f"{spec} is not downloaded yet")
        return DataSource(spec, root=download_hub_dataset(spec))
    if spec in CATALOG:
        variants = CATALOG[spec]
        chosen = mode if mode in variants else None
        if not download:
            raise GanzooError(f"data set {spec!r} is not downloaded yet; run `ganzoo data download {spec}`")
        return DataSource(spec, root=download_dataset(spec, mode=chosen))
    from ganzoo.plugins import registry

    toys = ", ".join(f"toy:{e.name}" for e in registry("dataset") if "toy" in e.metadata)
    raise GanzooError(
        f"--data {spec!r} is not a folder, a toy set ({toys}), a known data set "
        f"({', '.join(sorted(CATALOG))}) or hf-hub:ORG/NAME"
    )
