"""Finding and reading image files robustly, and the one way ganzoo turns its images into 8-bit pixels.

Users' folders hold RGBA PNGs, palette GIFs, 16-bit TIFFs, grayscale scans, stray text files and
half-downloaded JPEGs. Every readable image becomes an 8-bit RGB ``PIL.Image``; unreadable files are
skipped with one warning each, and the scan reports how many it skipped.

:func:`to_uint8` is what a saved PNG holds for an image in [-1, 1]; the sample grids and the feature
extractors of FID/KID both use it, so a score computed on tensors equals one computed on the saved files.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import numpy as np
from PIL import Image, UnidentifiedImageError

if TYPE_CHECKING:
    from torch import Tensor

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp", ".gif"}
)
#: Errors Pillow raises for files that are not images, are corrupt, or are truncated.
READ_ERRORS = (OSError, UnidentifiedImageError, SyntaxError, ValueError, Image.DecompressionBombError)

logger = logging.getLogger("ganzoo.data")


def is_image_file(path: str | os.PathLike[str]) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def list_images(folder: str | os.PathLike[str], *, recursive: bool = False) -> list[Path]:
    """Image files in ``folder`` (by extension, hidden files excluded), sorted for reproducibility."""
    folder = Path(folder)
    pattern = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(
        p for p in pattern if p.is_file() and is_image_file(p) and not p.name.startswith(".")
    )


def check_readable(paths: Iterable[Path], *, where: str) -> list[Path]:
    """Keep the files Pillow can open and verify; warn once per skipped file, then once with the count."""
    good, skipped = [], 0
    for path in paths:
        try:
            with Image.open(path) as img:
                img.verify()
        except READ_ERRORS as exc:
            skipped += 1
            logger.warning("ganzoo: skipping unreadable image %s (%s)", path, _reason(exc))
            continue
        good.append(path)
    if skipped:
        logger.warning("ganzoo: skipped %d unreadable file(s) in %s", skipped, where)
    return good


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def load_rgb(path: str | os.PathLike[str]) -> Image.Image:
    """Read any image as 8-bit RGB: transparency is composited on white, 16-bit scaled to 8 bits."""
    with Image.open(path) as img:
        img.load()
        return to_rgb(img)


def to_rgb(img: Image.Image) -> Image.Image:
    """Convert an image of any mode to 8-bit RGB."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        array = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if img.mode.startswith("I;16") or array.max() > 255 else 255.0
        img = Image.fromarray(np.clip(array / peak * 255.0 + 0.5, 0, 255).astype(np.uint8), mode="L")
    if img.mode == "P" or (img.mode in ("L", "RGB") and "transparency" in img.info):
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return img.convert("RGB") if img.mode != "RGB" else img


def to_uint8(images: Tensor) -> Tensor:
    """Images in [-1, 1] (any shape, any float dtype or device) as the 8-bit values a saved PNG holds.

    Each value maps to ``(x + 1) / 2 * 255`` rounded half up, as ``torchvision.utils.save_image`` does
    (``mul(255).add_(0.5)`` then truncation); values outside [-1, 1] are clamped first. torch is imported
    here, not at the top: reading image files must not need it.
    """
    import torch

    unit = (images.detach().float().clamp(-1, 1) + 1) / 2
    return unit.mul(255).add_(0.5).clamp_(0, 255).to(torch.uint8)
