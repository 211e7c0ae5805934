"""Feature extractors: ganzoo images in, one feature vector per image out, and a record of how.

FID and KID compare two sets of feature vectors, so a score means what its features mean. Each
extractor turns ganzoo images (float (N, C, H, W) in [-1, 1], C = 1 or 3; grey is repeated to RGB) into
float64 vectors on the CPU, and :meth:`protocol` says what it did, for the run's record:

- :class:`InceptionFeatures`: torch-fidelity's port of TensorFlow's Inception v3 (the 2048 pooled
  features), the network of published FID/KID tables. Images become 8-bit pixels exactly as ganzoo saves
  PNGs (:func:`ganzoo.data.images.to_uint8`), so a score on tensors equals one on the saved files. Then
  either torch-fidelity resizes them to 299x299 with TensorFlow 1's bilinear (``resize="tf1"``, what
  published numbers use), or ganzoo resizes them first with PIL's antialiased bicubic, as clean-fid does
  (``resize="clean"``: no aliasing when downscaling, but not comparable with published tables).
- :class:`TimmFeatures`: any timm model's pooled pre-logits, with the model's own input size, resampling
  filter, mean and std.

torch-fidelity and timm are imported when an extractor is built, not with this module.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ganzoo.data.images import to_uint8
from ganzoo.errors import UsageError, first_line
from ganzoo.metrics.weights import (INCEPTION, MissingWeightsError, check_timm_name, file_sha256, locate_weights,
                                    timm_weights_path, weights_record)

PathLike = Union[str, "os.PathLike[str]"]
Device = Union[str, torch.device]

INCEPTION_SIZE = 299
#: How :class:`InceptionFeatures` can bring images to 299x299, and what each means for the numbers.
RESIZES = {
    "tf1": "tf1: bilinear to 299 as TensorFlow 1 resizes (torch-fidelity's port), from the 8-bit image; "
           "what published FID/KID tables use",
    "clean": "clean: PIL bicubic to 299 (antialiased) as clean-fid does, quantised to 8 bits; not comparable "
             "with published tables",
}


def to_pixels(images: Tensor) -> Tensor:
    """ganzoo images as the (N, 3, H, W) uint8 pixels their PNGs hold (on the same device); uint8 input
    is taken as pixels already, and one grey channel is repeated to three."""
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise UsageError(f"images must be (N, 1 or 3, H, W); got shape {tuple(images.shape)}")
    pixels = images if images.dtype == torch.uint8 else to_uint8(images)
    return pixels.repeat(1, 3, 1, 1) if pixels.shape[1] == 1 else pixels


def clean_resize(pixels: Tensor, size: int = INCEPTION_SIZE) -> Tensor:
    """(N, 3, H, W) uint8 pixels resized to ``size`` x ``size`` as clean-fid resizes: each channel as a
    float image with PIL's bicubic (which widens its filter when downscaling, so nothing aliases), then
    clipped to [0, 255] and rounded half up to 8 bits (torch-fidelity's Inception takes uint8 only)."""
    from PIL import Image

    source = pixels.cpu().numpy().astype(np.float32)
    out = np.empty((len(source), source.shape[1], size, size), np.float32)
    for i, image in enumerate(source):
        for c, channel in enumerate(image):
            resized = Image.fromarray(channel).resize((size, size), Image.Resampling.BICUBIC)
            out[i, c] = np.asarray(resized)
    return torch.from_numpy(np.floor(out.clip(0, 255) + 0.5).astype(np.uint8))


def _batches(images: Tensor, batch_size: int):
    return images.split(batch_size) if len(images) else ()


def _check_batch_size(batch_size: int) -> int:
    if not isinstance(batch_size, int) or batch_size < 1:
        raise UsageError(f"batch_size must be a positive whole number, not {batch_size!r}")
    return batch_size


class InceptionFeatures:
    """The 2048 pooled features of torch-fidelity's Inception v3 ("inception-v3-compat").

    ``weights``: a path to the weights file, else ``GANZOO_INCEPTION_WEIGHTS``, else the cached copy
    (:func:`ganzoo.metrics.weights.locate_weights`; nothing is downloaded). With ``verify`` a file that is
    not the pinned one is refused; without, it is used and :meth:`protocol` says ``standard: False``.
    """

    name = "inception"
    dim = 2048

    def __init__(self, *, weights: PathLike | None = None, verify: bool = True, resize: str = "tf1",
                 device: Device = "cpu", batch_size: int = 64) -> None:
        if resize not in RESIZES:
            raise UsageError(f"unknown resize {resize!r}; choose {' or '.join(RESIZES)}")
        self.resize = resize
        self.batch_size = _check_batch_size(batch_size)
        self.device = torch.device(device)
        self.weights_path = locate_weights(INCEPTION, path=weights, verify=verify)
        self.record = weights_record(INCEPTION, self.weights_path)
        self.network = _load_inception(self.weights_path, trusted=bool(self.record["standard"])).to(self.device)

    @torch.no_grad()
    def __call__(self, images: Tensor) -> Tensor:
        """(N, 2048) float64 features on the CPU, computed ``batch_size`` images at a time."""
        out = [torch.empty(0, self.dim, dtype=torch.float64)]
        for batch in _batches(images, self.batch_size):
            pixels = to_pixels(batch)
            if self.resize == "clean":
                pixels = clean_resize(pixels)
            (features,) = self.network(pixels.to(self.device))
            out.append(features.to("cpu", torch.float64))
        return torch.cat(out)

    def protocol(self) -> dict[str, Any]:
        """How the features were made, for the run's record; ``comparable`` says whether scores can be
        set beside published ones (the pinned weights and TensorFlow 1's resize)."""
        from torch_fidelity.version import __version__

        return {"features": self.name, "network": "inception-v3-compat", "layer": "2048",
                "input_size": INCEPTION_SIZE, "resize": self.resize, "resize_label": RESIZES[self.resize],
                **self.record, "comparable": bool(self.record["standard"]) and self.resize == "tf1",
                "torch_fidelity": __version__}


def _load_inception(path: Path, *, trusted: bool) -> torch.nn.Module:
    """torch-fidelity's Inception with the weights at ``path``.

    torch-fidelity unpickles the file with ``weights_only=False``, which runs whatever code a pickle
    holds: a file that is not the pinned one is first opened as plain tensors, so an unverified file
    cannot run code. (Its constructor downloads from GitHub when given no path; it always gets one.)
    """
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    if not trusted:
        try:
            torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # unpickling fails in many ways: all mean "not a plain weights file"
            raise UsageError(f"cannot read {path} as a weights file: {first_line(exc)}") from exc
    try:
        return FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=str(path))
    except RuntimeError as exc:  # load_state_dict: missing or unexpected tensors, wrong shapes
        raise UsageError(f"{path} does not hold the Inception v3 weights torch-fidelity expects: "
                         f"{first_line(exc)}") from exc


#: timm's resampling filters as torch.nn.functional.interpolate modes (lanczos and the rest: bicubic,
#: the nearest antialiased filter torch has).
_TORCH_MODES = {"bilinear": "bilinear", "bicubic": "bicubic", "nearest": "nearest"}


class TimmFeatures:
    """A timm model's pooled pre-logits (``num_classes=0``), preprocessed with its own data config.

    ``weights``: a state_dict of the model (.safetensors or .pth; a classifier head in it is ignored),
    else the copy :func:`ganzoo.metrics.weights.fetch_timm_weights` kept. Nothing is downloaded.

    Images go from 8-bit pixels to the model's input size with torch's ``interpolate`` in the model's
    filter (antialiased), whole (no centre crop: every pixel counts in a distance between sets), then are
    normalised with the model's mean and std.
    """

    def __init__(self, name: str, *, weights: PathLike | None = None, device: Device = "cpu",
                 batch_size: int = 64) -> None:
        import timm
        import timm.data

        check_timm_name(name)
        self.name = name
        self.batch_size = _check_batch_size(batch_size)
        self.device = torch.device(device)
        path = Path(weights).expanduser() if weights is not None else timm_weights_path(name)
        if not path.is_file():
            how = (f"run `ganzoo weights fetch timm:{name}` once (timm downloads them), or pass --weights PATH "
                   f"to a state_dict of {name} (.safetensors or .pth)")
            if weights is None:
                raise MissingWeightsError(f"the timm weights of {name} are not in {path.parent}: {how}")
            raise MissingWeightsError(f"no weights file at {path} (given for timm:{name}): {how}")
        self.weights_path = path
        network = _load_timm(name, path)
        config = timm.data.resolve_model_data_config(network)
        self.input_size = tuple(int(s) for s in config["input_size"][1:])
        self.interpolation = str(config["interpolation"])
        self.mode = _TORCH_MODES.get(self.interpolation, "bicubic")
        self.mean = tuple(float(m) for m in config["mean"])
        self.std = tuple(float(s) for s in config["std"])
        self.network = network.to(self.device)
        self.dim = int(network.num_features)
        self._mean = torch.tensor(self.mean, device=self.device).view(1, -1, 1, 1)
        self._std = torch.tensor(self.std, device=self.device).view(1, -1, 1, 1)

    def preprocess(self, images: Tensor) -> Tensor:
        """ganzoo images as the model's input: 8-bit pixels, resized, scaled to [0, 1], normalised."""
        x = to_pixels(images).to(self.device, torch.float32)
        if tuple(x.shape[-2:]) != self.input_size:
            smooth = self.mode != "nearest"
            x = F.interpolate(x, size=self.input_size, mode=self.mode, antialias=smooth,
                              align_corners=False if smooth else None)
        return (x.clamp(0, 255) / 255 - self._mean) / self._std

    @torch.no_grad()
    def __call__(self, images: Tensor) -> Tensor:
        """(N, dim) float64 features on the CPU, computed ``batch_size`` images at a time."""
        out = [torch.empty(0, self.dim, dtype=torch.float64)]
        for batch in _batches(images, self.batch_size):
            out.append(self.network(self.preprocess(batch)).to("cpu", torch.float64))
        return torch.cat(out)

    def protocol(self) -> dict[str, Any]:
        """How the features were made. timm publishes no sums to pin, so ``standard`` is None and the
        file's SHA-256 identifies the weights; no published FID/KID table uses these features."""
        import timm

        height, width = self.input_size
        antialiased = " (antialiased)" if self.mode != "nearest" else ""
        instead = ("" if self.mode == self.interpolation
                   else f" (its config says {self.interpolation}, which torch lacks)")
        return {"features": f"timm:{self.name}", "network": self.name, "layer": "pooled pre-logits",
                "input_size": height if height == width else [height, width], "resize": self.mode,
                "resize_label": f"{self.mode}{antialiased} from the 8-bit image to {height}x{width}, whole (no "
                                f"crop), normalised with mean {self.mean} and std {self.std}: the model's data "
                                f"config{instead}",
                "weights": self.weights_path.name, "sha256": file_sha256(self.weights_path), "standard": None,
                "comparable": False, "timm": timm.__version__}


def _load_timm(name: str, path: Path) -> torch.nn.Module:
    """timm model ``name`` without its classifier, with every tensor from the file at ``path``.

    Not ``create_model(pretrained=True, pretrained_cfg_overlay={"file": ...})``: with ``num_classes=0``
    (unlike the config's 1000) timm loads non-strictly, so a file missing tensors would leave those
    layers randomly initialised without a word. Here every tensor the model has must come from the file.
    """
    import timm
    from timm.models import load_state_dict

    network = timm.create_model(name, pretrained=False, num_classes=0)
    try:
        state = load_state_dict(str(path))  # .safetensors or torch.load(weights_only=True); unwraps "state_dict"
    except Exception as exc:  # unpickling and safetensors fail in many ways: all mean "not a weights file"
        raise UsageError(f"cannot read {path} as a weights file: {first_line(exc)}") from exc
    heads = network.pretrained_cfg.get("classifier") or ()
    heads = (heads,) if isinstance(heads, str) else tuple(heads)
    own = network.state_dict()
    state = {k: v for k, v in state.items() if k in own or not any(k.startswith(h + ".") for h in heads)}
    try:
        result = network.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shapes that do not fit
        raise UsageError(f"{path} does not hold the weights of timm:{name}: {first_line(exc)}") from exc
    missing, unexpected = result.missing_keys, result.unexpected_keys
    if missing or unexpected:
        what = [f"{len(missing)} of its {len(own)} tensors missing (e.g. {missing[0]})"] if missing else []
        what += [f"{len(unexpected)} tensors it does not have (e.g. {unexpected[0]})"] if unexpected else []
        raise UsageError(f"{path} does not hold the weights of timm:{name}: {'; '.join(what)}")
    return network.eval().requires_grad_(False)


FeatureExtractor = Union[InceptionFeatures, TimmFeatures]


def make_features(spec: str = "inception", *, weights: PathLike | None = None, verify: bool = True,
                  resize: str = "tf1", device: Device = "cpu", batch_size: int = 64) -> FeatureExtractor:
    """The extractor ``spec`` names: ``inception`` or ``timm:NAME``. ``verify`` and ``resize`` concern
    the Inception only (timm weights have no pinned sum; timm models resize by their own config)."""
    if spec == "inception":
        return InceptionFeatures(weights=weights, verify=verify, resize=resize, device=device, batch_size=batch_size)
    if spec.startswith("timm:") and spec[5:]:
        if resize != "tf1":
            raise UsageError(f"resize {resize!r} is for the inception features; {spec} resizes as its model's "
                             "data config says")
        return TimmFeatures(spec[5:], weights=weights, device=device, batch_size=batch_size)
    raise UsageError(f"unknown features {spec!r}; choose inception or timm:NAME (a timm model, e.g. "
                     "timm:vit_small_patch14_dinov2.lvd142m)")
