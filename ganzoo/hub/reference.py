"""Published checkpoints of reference implementations, fetched and converted on request.

A plugin declares each published checkpoint as a :class:`ReferenceModel` through the hook
``ganzoo_register_reference_models`` (the CycleGAN and pix2pix plugins declare the reference project's);
the model carries everything needed to fetch and convert it: where it is, its architecture's registry
name, its normalization, its domains and its recipe. ``ganzoo pull reference:NAME`` (or
``Model.from_pretrained("reference:NAME")``) downloads one (resuming, with size checks) and converts it
into a bundle kept in ganzoo's model cache (``GANZOO_MODELS_DIR``, else ``$XDG_CACHE_HOME/ganzoo/models``).
``GANZOO_REFERENCE_MIRROR`` replaces every model's server (for a mirror, or a server in tests).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import sys
from pathlib import Path

from ganzoo.errors import GanzooError

REFERENCE_PREFIX = "reference:"


@dataclasses.dataclass(frozen=True)
class ReferenceModel:
    """One published generator checkpoint and how to turn it into a bundle.

    Attributes:
        name: the model's name as its project's download script takes it (``horse2zebra``).
        recipe: the recipe it was trained with; ``RECIPE/NAME`` is its unambiguous key.
        base_url: the server (``GANZOO_REFERENCE_MIRROR`` replaces it).
        url_path: the checkpoint's path on the server.
        generator: the registry name of its architecture (``resnet9``).
        norm: its normalization (``instance`` or ``batch``), checked against the tensors.
        domains: the names of its input and output domains.
        image_size: the side it was trained at.
    """

    name: str
    recipe: str
    base_url: str
    url_path: str
    generator: str
    norm: str
    domains: tuple[str, str]
    image_size: int = 256

    @property
    def key(self) -> str:
        return f"{self.recipe}/{self.name}"

    @property
    def source(self) -> str:
        """The name :meth:`ganzoo.Model.from_pretrained` (and a weights tag) takes for it."""
        return f"{REFERENCE_PREFIX}{self.key}"

    @property
    def summary(self) -> str:
        return f"{self.domains[0]} to {self.domains[1]}: the reference's {self.name}.pth, converted"

    def url(self, mirror: str | None = None) -> str:
        base = (mirror or os.environ.get("GANZOO_REFERENCE_MIRROR") or self.base_url).rstrip("/")
        return f"{base}/{self.url_path.lstrip('/')}"


def reference_models() -> dict[str, ReferenceModel]:
    """Every reference model the loaded plugins declared, by ``RECIPE/NAME``."""
    from ganzoo.plugins import get_host

    return dict(get_host().reference_models)


def reference_model(name: str) -> ReferenceModel:
    """The model ``RECIPE/NAME`` or an unambiguous ``NAME`` names, with close matches when none does."""
    models = reference_models()
    if name in models:
        return models[name]
    matches = sorted((m for m in models.values() if m.name == name), key=lambda m: m.key)
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise GanzooError(f"reference model {name!r} exists for "
                          + " and ".join(m.recipe for m in matches)
                          + f"; say {' or '.join(m.source for m in matches)}")
    close = difflib.get_close_matches(name, [*models, *(m.name for m in models.values())], n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise GanzooError(f"unknown reference model {name!r}{hint}; `ganzoo list --pretrained` shows them")


def models_dir() -> Path:
    """Where converted models are kept: ``GANZOO_MODELS_DIR`` or the user's cache folder."""
    from ganzoo.data.download import user_cache_dir

    return user_cache_dir("models", env="GANZOO_MODELS_DIR")


def pull_reference(name: str, *, to: str | os.PathLike[str] | None = None, progress: bool | None = None) -> Path:
    """Download a reference model and convert it into a bundle once; later calls return the bundle.

    The bundle appears whole or not at all (the converter writes it through a staging folder), and a
    second process pulling the same model waits for the first and reuses its bundle.
    """
    from ganzoo.data.download import download_file, lock_path, say_waiting
    from ganzoo.fsutil import ensure_writable_dir, exclusive_lock
    from ganzoo.hub.convert import convert_checkpoint

    model = reference_model(name)
    if progress is None:
        progress = sys.stderr.isatty()
    target = Path(to).expanduser() if to else models_dir() / f"{model.recipe}-{model.name}"
    if (target / "config.json").exists():
        return target
    downloads = ensure_writable_dir(models_dir() / "downloads", what="model cache")
    what = f"the pull of {model.source}"
    with exclusive_lock(lock_path(downloads, f"{model.recipe}-{model.name}.model"), what=what, wait=True,
                        on_wait=say_waiting(what)):
        if (target / "config.json").exists():  # the process we waited for finished it
            return target
        url = model.url()
        checkpoint = download_file(url, downloads / f"{model.recipe}-{model.name}.pth", progress=progress)
        convert_checkpoint(checkpoint, role="generator", name=model.generator, norm=model.norm, out=target,
                           image_size=model.image_size, domains=dict(zip("AB", model.domains)),
                           recipe=model.recipe, source={"url": url, "reference_name": model.key})
        checkpoint.unlink(missing_ok=True)
    return target
