"""The feature networks' weights: fetched once, checked against a pinned SHA-256, kept.

FID and KID are comparable between papers only when the features come from the same network with the
same weights: the TensorFlow Inception v3 of 2015-12-05, which torch-fidelity converted to PyTorch and
publishes as one file. ganzoo pins that file's SHA-256 and never downloads it behind the user's back:

- :func:`fetch_weights` (``ganzoo weights fetch inception``) downloads it once into :func:`weights_dir`,
  verified by size and sum; a copy already there that verifies is kept.
- :func:`locate_weights` finds it (an explicit path, then the environment variable, then the cache) and
  refuses a file whose sum differs: numbers computed with other weights look like FIDs but cannot be
  compared with published ones. ``verify=False`` (``--unverified-weights``) takes it anyway, and
  :func:`weights_record` then says ``standard: False`` in the run's protocol.
- timm networks have no pinned file: :func:`fetch_timm_weights` lets timm download a model's pretrained
  weights once and keeps them as a safetensors file, which later runs load offline.

Nothing here imports torch or timm at import time, so the command line can list and fetch quickly.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

from ganzoo.data.download import DownloadError, download_file, sha256_of, user_cache_dir
from ganzoo.errors import UsageError, first_line
from ganzoo.fsutil import atomic_write, describe_os_error, ensure_writable_dir


class MissingWeightsError(UsageError):
    """A feature network's weights are not on this machine; the message says how to get them."""


class WeightsMismatchError(UsageError):
    """A weights file is not the pinned one (its SHA-256 differs): its scores would not be comparable."""


@dataclasses.dataclass(frozen=True)
class WeightsFile:
    """One published weights file: where it comes from, what it is, and the sum that identifies it."""

    name: str  # what `ganzoo weights fetch NAME` calls it
    url: str
    filename: str  # the name it is kept under in weights_dir()
    sha256: str
    size: int  # bytes
    env: str  # the environment variable that may point at a copy
    summary: str  # one line for listings: what the network is and what it is for
    title: str = ""  # how messages name it: "the Inception weights"
    release: str = ""  # which version of the network: "2015-12-05"

    @property
    def called(self) -> str:
        """``the Inception weights``."""
        return self.title or f"the {self.name} weights"

    @property
    def described(self) -> str:
        """``the Inception weights (2015-12-05, 96 MB)``."""
        return f"{self.called} ({', '.join(filter(None, (self.release, self.megabytes)))})"

    @property
    def megabytes(self) -> str:
        return f"{self.size / 1e6:.0f} MB"


#: torch-fidelity's conversion of TensorFlow's 2015-12-05 Inception v3 (the network of the reference FID
#: and KID code). The SHA-256 is that of torch-fidelity's v0.2.0 release file as several independent
#: projects record it; its first 8 hex digits are the file name's torch-hub suffix (6726825d), which is how
#: torch.hub names a file by its own sum.
INCEPTION = WeightsFile(
    name="inception",
    url="https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth",
    filename="weights-inception-2015-12-05-6726825d.pth",
    sha256="6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2",
    size=95628359,
    env="GANZOO_INCEPTION_WEIGHTS",
    summary="TensorFlow's Inception v3 of 2015-12-05 as torch-fidelity converted it: the network of "
            "published FID and KID tables",
    title="the Inception weights",
    release="2015-12-05",
)

WEIGHTS: dict[str, WeightsFile] = {"inception": INCEPTION}


def weights_dir() -> Path:
    """Where feature networks' weights are kept: ``GANZOO_WEIGHTS_DIR``, else ``~/.cache/ganzoo/weights``."""
    return user_cache_dir("weights", env="GANZOO_WEIGHTS_DIR")


# -- checking -----------------------------------------------------------------------------------

#: SHA-256 of files already hashed in this process, by (resolved path, size, mtime in ns): hashing 96 MB
#: takes a fraction of a second, but evaluation may build its feature extractor at every checkpoint.
_SUMS: dict[tuple[str, int, int], str] = {}


def _key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file, remembered in this process until the file's size or mtime changes."""
    path = Path(path)
    key = _key(path)
    if key not in _SUMS:
        _SUMS[key] = sha256_of(path)
    return _SUMS[key]


def _display(path: Path) -> str:
    """``path`` with the home folder written as ``~``, as people type it."""
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


def _how_to_get(weights: WeightsFile) -> str:
    return (f"run `ganzoo weights fetch {weights.name}` once, or pass --weights PATH (ganzoo run: --set "
            f"eval_weights=PATH) / set {weights.env} to a copy of {weights.filename} ({weights.url})")


def locate_weights(weights: WeightsFile, *, path: str | os.PathLike[str] | None = None,
                   verify: bool = True) -> Path:
    """The weights file to use: ``path`` if given, else ``$weights.env``, else the copy in
    :func:`weights_dir`. Never downloads.

    Raises :class:`MissingWeightsError` (saying how to get the file) when there is none, and, with
    ``verify``, :class:`WeightsMismatchError` for a file whose SHA-256 is not the pinned one.
    """
    cached = weights_dir() / weights.filename
    if path is not None:
        found, origin = Path(path).expanduser(), "given"
    elif os.environ.get(weights.env):
        found, origin = Path(os.environ[weights.env]).expanduser(), f"named by {weights.env}"
    else:
        found, origin = cached, ""
    if not found.is_file():
        if not origin:
            raise MissingWeightsError(f"{weights.described} are not in {_display(found.parent)}: "
                                      f"{_how_to_get(weights)}")
        raise MissingWeightsError(f"no weights file at {found} ({origin} for {weights.called}): "
                                  f"{_how_to_get(weights)}")
    if verify:
        try:
            digest = file_sha256(found)
        except OSError as exc:
            raise MissingWeightsError(f"cannot read {found}: {describe_os_error(exc)}") from exc
        if digest != weights.sha256:
            fix = (f"delete it and run `ganzoo weights fetch {weights.name}` again, or pass" if found == cached
                   else "pass")
            raise WeightsMismatchError(
                f"{found} is not {weights.filename}: its SHA-256 is {digest}, not the pinned {weights.sha256}; "
                f"{fix} --unverified-weights (ganzoo run: --set eval_unverified_weights=true) to use it anyway "
                "(its FID/KID are then not comparable with published numbers)")
    return found


def weights_record(weights: WeightsFile, path: str | os.PathLike[str]) -> dict[str, object]:
    """What a run's protocol says about the weights it used: the file, its actual SHA-256, whether that
    is the pinned one (``standard``), and where the pinned one comes from."""
    path = Path(path)
    digest = file_sha256(path)
    return {"weights": path.name, "sha256": digest, "standard": digest == weights.sha256, "url": weights.url}


# -- fetching -----------------------------------------------------------------------------------


def fetch_weights(weights: WeightsFile, *, url: str | None = None, progress: bool = True) -> Path:
    """Download ``weights`` into :func:`weights_dir` once (verified by size and SHA-256) and return the
    path; a copy already there that verifies is returned without touching the network. ``url`` replaces
    the published address (a mirror, or a local server in tests); the pinned sum still decides.
    """
    dest = weights_dir() / weights.filename
    if dest.is_file() and file_sha256(dest) == weights.sha256:
        return dest
    ensure_writable_dir(dest.parent, what="weights folder")
    download_file(url or weights.url, dest, sha256=weights.sha256, size=weights.size, progress=progress,
                  trust_on_first_use=False,
                  mismatch_advice=f"download it yourself and pass --weights PATH or set {weights.env}")
    _SUMS[_key(dest)] = weights.sha256  # download_file has just checked it
    return dest


# -- timm ---------------------------------------------------------------------------------------


def timm_weights_path(name: str) -> Path:
    """Where :func:`fetch_timm_weights` keeps the timm model ``name``'s weights (a safetensors file)."""
    return weights_dir() / "timm" / f"{re.sub(r'[^A-Za-z0-9._-]', '_', name)}.safetensors"


def check_timm_name(name: str) -> None:
    """Raise a one-line :class:`UsageError` unless timm knows the model ``name`` (``arch`` or ``arch.tag``)."""
    import timm

    if not timm.is_model(name):
        import difflib

        close = difflib.get_close_matches(name, timm.list_models(), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise UsageError(f"timm has no model {name!r}{hint}; timm.list_models() lists them")


def fetch_timm_weights(name: str) -> Path:
    """Let timm download the pretrained weights of model ``name`` once (through its own sources, the
    Hugging Face Hub mostly) and keep the feature part (no classifier head) as a safetensors file at
    :func:`timm_weights_path`, which :class:`ganzoo.metrics.features.TimmFeatures` loads offline.

    timm publishes no sums ganzoo could pin: the file's SHA-256 goes into each run's protocol instead.
    """
    import safetensors.torch
    import timm

    from ganzoo.data.download import hub_client_errors

    check_timm_name(name)
    source = _timm_source(name)
    dest = timm_weights_path(name)
    ensure_writable_dir(dest.parent, what="weights folder")
    try:
        model = timm.create_model(name, pretrained=True, num_classes=0)
    except (RuntimeError, ValueError, *hub_client_errors()) as exc:
        from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError

        missing = isinstance(exc, (EntryNotFoundError, RepositoryNotFoundError))
        reason = "not found there" if missing else first_line(exc)
        raise DownloadError(f"could not fetch the timm weights of {name} from {source}: {reason}") from exc
    # clone: safetensors refuses tensors that share memory, which some models' state_dicts have
    state = {key: value.detach().cpu().contiguous().clone() for key, value in model.state_dict().items()}
    return atomic_write(dest, safetensors.torch.save(state, metadata={"timm_model": name, "timm": timm.__version__}))


def _timm_source(name: str) -> str:
    """Where timm downloads model ``name``'s pretrained weights from, for messages; a one-line
    :class:`UsageError` when it has none."""
    from timm.models import get_pretrained_cfg

    try:
        cfg = get_pretrained_cfg(name)
    except RuntimeError as exc:  # a tag the architecture does not have
        raise UsageError(f"timm cannot load {name}: {first_line(exc)}") from exc
    if cfg is None or not (cfg.hf_hub_id or cfg.url):
        raise UsageError(f"timm has no pretrained weights for {name}")
    return f"the Hugging Face Hub ({cfg.hf_hub_id})" if cfg.hf_hub_id else cfg.url
