"""The reference project's published pretrained models, fetched and converted on request.

pytorch-CycleGAN-and-pix2pix publishes generators (``scripts/download_cyclegan_model.sh`` and
``download_pix2pix_model.sh``): CycleGAN's are ``resnet_9blocks`` with instance norm, pix2pix's are
``unet_256`` with batch norm, all trained on 256x256 crops. ``ganzoo pull reference:horse2zebra``
downloads one (resuming, with size checks) and converts it into a bundle kept in ganzoo's model cache
(``GANZOO_MODELS_DIR``, else ``$XDG_CACHE_HOME/ganzoo/models``). ``GANZOO_REFERENCE_MIRROR`` replaces the
reference's address (for a mirror, or a server in tests).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import sys
from pathlib import Path

from ganzoo.errors import GanzooError

DEFAULT_MIRROR = "http://efrosgans.eecs.berkeley.edu"


@dataclasses.dataclass(frozen=True)
class ReferenceModel:
    """One published generator of the reference project."""

    name: str  # as the reference's download script takes it
    project: str  # "cyclegan" or "pix2pix"
    domain_a: str
    domain_b: str

    @property
    def key(self) -> str:
        return f"{self.project}/{self.name}"

    @property
    def generator(self) -> str:
        return "resnet9" if self.project == "cyclegan" else "unet256"

    @property
    def norm(self) -> str:
        return "instance" if self.project == "cyclegan" else "batch"

    @property
    def summary(self) -> str:
        return f"{self.domain_a} to {self.domain_b}: the reference's {self.name}.pth, converted"

    def url(self, mirror: str | None = None) -> str:
        base = (mirror or os.environ.get("GANZOO_REFERENCE_MIRROR") or DEFAULT_MIRROR).rstrip("/")
        folder = "cyclegan/pretrained_models" if self.project == "cyclegan" else "pix2pix/models-pytorch"
        return f"{base}/{folder}/{self.name}.pth"


_CYCLEGAN = {
    "apple2orange": ("apple", "orange"), "orange2apple": ("orange", "apple"),
    "summer2winter_yosemite": ("summer", "winter"), "winter2summer_yosemite": ("winter", "summer"),
    "horse2zebra": ("horse", "zebra"), "zebra2horse": ("zebra", "horse"),
    "monet2photo": ("monet", "photo"), "style_monet": ("photo", "monet"), "style_cezanne": ("photo", "cezanne"),
    "style_ukiyoe": ("photo", "ukiyoe"), "style_vangogh": ("photo", "vangogh"),
    "sat2map": ("satellite", "map"), "map2sat": ("map", "satellite"),
    "cityscapes_photo2label": ("photo", "label"), "cityscapes_label2photo": ("label", "photo"),
    "facades_photo2label": ("photo", "label"), "facades_label2photo": ("label", "photo"),
    "iphone2dslr_flower": ("iphone", "dslr"),
}
_PIX2PIX = {
    "edges2shoes": ("edges", "shoes"), "sat2map": ("satellite", "map"), "map2sat": ("map", "satellite"),
    "facades_label2photo": ("label", "photo"), "day2night": ("day", "night"),
}
#: Every published model, by ``PROJECT/NAME``.
REFERENCE_MODELS: dict[str, ReferenceModel] = {
    model.key: model
    for project, table in (("cyclegan", _CYCLEGAN), ("pix2pix", _PIX2PIX))
    for model in (ReferenceModel(name, project, a, b) for name, (a, b) in table.items())
}


def reference_model(name: str) -> ReferenceModel:
    """The model ``PROJECT/NAME`` or an unambiguous ``NAME`` names, with close matches when none does."""
    if name in REFERENCE_MODELS:
        return REFERENCE_MODELS[name]
    matches = [m for m in REFERENCE_MODELS.values() if m.name == name]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise GanzooError(f"reference model {name!r} exists for "
                          + " and ".join(m.project for m in matches)
                          + f"; say {' or '.join('reference:' + m.key for m in matches)}")
    close = difflib.get_close_matches(name, [*REFERENCE_MODELS, *(m.name for m in REFERENCE_MODELS.values())], n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise GanzooError(f"unknown reference model {name!r}{hint}; `ganzoo list --pretrained` shows them")


def models_dir() -> Path:
    """Where converted models are kept: ``GANZOO_MODELS_DIR`` or the user's cache folder."""
    from ganzoo.data.download import user_cache_dir

    return user_cache_dir("models", env="GANZOO_MODELS_DIR")


def pull_reference(name: str, *, to: str | os.PathLike[str] | None = None, progress: bool | None = None) -> Path:
    """Download a reference model and convert it into a bundle once; later calls return the bundle."""
    from ganzoo.data.download import download_file
    from ganzoo.hub.convert import convert_checkpoint

    model = reference_model(name)
    if progress is None:
        progress = sys.stderr.isatty()
    target = Path(to).expanduser() if to else models_dir() / f"{model.project}-{model.name}"
    if (target / "config.json").exists():
        return target
    url = model.url()
    checkpoint = download_file(url, models_dir() / "downloads" / f"{model.project}-{model.name}.pth",
                               progress=progress)
    convert_checkpoint(checkpoint, role="generator", name=model.generator, norm=model.norm, out=target,
                       image_size=256, domains={"A": model.domain_a, "B": model.domain_b},
                       recipe=model.project,
                       source={"url": url, "reference_name": model.key})
    checkpoint.unlink(missing_ok=True)
    return target


def pretrained_tags(project: str) -> dict[str, dict[str, str]]:
    """Registry tags for one project's models (``resnet9.horse2zebra``), for the built-in plugin."""
    return {m.name: {"source": f"reference:{m.key}", "summary": m.summary}
            for m in REFERENCE_MODELS.values() if m.project == project}
