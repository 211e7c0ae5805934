"""Folder data sets in the layouts users already have (those of the reference CycleGAN/pix2pix code).

- ``unpaired``: ROOT/trainA and ROOT/trainB (testA, testB for ``phase="test"``), piles of any sizes.
- ``paired``: ROOT/train/*.jpg with A and B side by side (pix2pix), or ROOT/A and ROOT/B (also
  ROOT/train/A, ROOT/train/B) matched by file name.
- ``single``: every image under ROOT, searched recursively.

Items are dicts: ``{"A", "B", "A_path", "B_path"}`` for the two-sided modes, where ``A`` is always the
input side (``direction="BtoA"`` swaps the roles), and ``{"image", "path"}`` for ``single``.
"""

from __future__ import annotations

import logging
import os
import random
from pathlib import Path
from typing import Any, Callable

from PIL import Image
from torch.utils.data import Dataset

from ganzoo.data.images import READ_ERRORS, check_readable, list_images, load_rgb
from ganzoo.data.transforms import Preprocess, apply, draw_params
from ganzoo.errors import GanzooError, InvalidOptionError

logger = logging.getLogger("ganzoo.data")
DIRECTIONS = ("AtoB", "BtoA")


class DataLayoutError(GanzooError):
    """A data folder that is missing, empty, or not laid out as its mode expects."""


def describe_folder(folder: Path, *, limit: int = 8) -> str:
    """A short listing of what a folder holds, for error messages."""
    if not folder.exists():
        return "the folder does not exist"
    entries = sorted(folder.iterdir())
    shown = [e.name + ("/" if e.is_dir() else "") for e in entries[:limit]]
    more = f" and {len(entries) - limit} more" if len(entries) > limit else ""
    return f"found {', '.join(shown)}{more}" if shown else "the folder is empty"


def _require_root(root: str | os.PathLike[str]) -> Path:
    path = Path(root).expanduser()
    if not path.is_dir():
        raise DataLayoutError(f"data folder {str(path)!r} does not exist or is not a folder")
    return path


def _images_in(folder: Path, *, recursive: bool = False, max_size: int | None = None) -> list[Path]:
    paths = check_readable(list_images(folder, recursive=recursive), where=str(folder))
    if not paths:
        raise DataLayoutError(f"no readable images in {str(folder)!r}: {describe_folder(folder)}")
    return paths[:max_size] if max_size else paths


class _ImageDataset(Dataset):
    """Shared machinery: preprocessing options, and loading that survives a file going bad late."""

    def __init__(self, *, phase: str, preprocess: str, load_size: int, crop_size: int, flip: bool | None,
                 size_multiple: int, max_size: int | None) -> None:
        self.phase = phase
        self.max_size = max_size
        self.opts = Preprocess(preprocess=preprocess, load_size=load_size, crop_size=crop_size,
                               flip=(phase == "train") if flip is None else flip, size_multiple=size_multiple)

    def _load(self, path: Path, fallback: Callable[[], Path]) -> tuple[Image.Image, Path]:
        """Load ``path``; a file that fails now (truncated after the scan) is replaced by ``fallback()``."""
        for _ in range(10):
            try:
                return load_rgb(path), path
            except READ_ERRORS as exc:
                logger.warning("ganzoo: skipping unreadable image %s (%s)", path, type(exc).__name__)
                path = fallback()
        raise DataLayoutError(f"too many unreadable images near {str(path)!r}")


class UnpairedFolder(_ImageDataset):
    """Two unrelated piles of images, ROOT/{phase}A and ROOT/{phase}B (CycleGAN's layout).

    Args:
        root: the data set folder.
        phase: ``train`` or ``test`` (folder suffixes A and B are added).
        direction: ``AtoB`` or ``BtoA``; the item's ``A`` is always the input side.
        serial: pair A[i] with B[i mod len(B)] instead of a random B.
        in_channels, out_channels: 1 reads that side as grayscale, 3 as RGB.
        preprocess, load_size, crop_size, flip, size_multiple: see :class:`~ganzoo.data.transforms.Preprocess`
            (``flip`` defaults to on for training only).
        max_size: use at most this many images per side.
    """

    def __init__(self, *, root: str | os.PathLike[str], phase: str = "train", direction: str = "AtoB",
                 serial: bool = False, in_channels: int = 3, out_channels: int = 3,
                 preprocess: str = "resize_and_crop", load_size: int = 286, crop_size: int = 256,
                 flip: bool | None = None, size_multiple: int = 4, max_size: int | None = None) -> None:
        super().__init__(phase=phase, preprocess=preprocess, load_size=load_size, crop_size=crop_size,
                         flip=flip, size_multiple=size_multiple, max_size=max_size)
        _check_direction(direction)
        self.root, self.serial = _require_root(root), serial
        self.channels = (in_channels, out_channels)
        folders = [self.root / f"{phase}A", self.root / f"{phase}B"]
        if not all(f.is_dir() for f in folders):
            raise DataLayoutError(
                f"{str(self.root)!r} is not an unpaired data set: expected folders {phase}A and {phase}B "
                f"(CycleGAN's layout); {describe_folder(self.root)}"
            )
        a, b = (_images_in(f, max_size=max_size) for f in folders)
        self.input_paths, self.target_paths = (a, b) if direction == "AtoB" else (b, a)

    def __len__(self) -> int:
        return max(len(self.input_paths), len(self.target_paths))

    def _target_index(self, index: int) -> int:
        return index % len(self.target_paths) if self.serial else random.randrange(len(self.target_paths))

    def __getitem__(self, index: int) -> dict[str, Any]:
        a_path = self.input_paths[index % len(self.input_paths)]
        b_path = self.target_paths[self._target_index(index)]
        a_img, a_path = self._load(a_path, lambda: random.choice(self.input_paths))
        b_img, b_path = self._load(b_path, lambda: random.choice(self.target_paths))
        return {
            "A": apply(a_img, self.opts, draw_params(), grayscale=self.channels[0] == 1),
            "B": apply(b_img, self.opts, draw_params(), grayscale=self.channels[1] == 1),
            "A_path": str(a_path),
            "B_path": str(b_path),
        }


class PairedFolder(_ImageDataset):
    """Input/target pairs: pix2pix's side-by-side images, or two folders matched by file name.

    Layouts tried in order: ROOT/{phase}/A + ROOT/{phase}/B, ROOT/A + ROOT/B, ROOT/{phase}/*.jpg (each
    image A|B side by side). The same random crop and flip apply to both sides of a pair.

    Args:
        root: the data set folder.
        phase: ``train``, ``val`` or ``test``.
        direction: ``AtoB`` or ``BtoA``; the item's ``A`` is always the input side.
        in_channels, out_channels: 1 reads that side as grayscale, 3 as RGB.
        preprocess, load_size, crop_size, flip, size_multiple: see :class:`~ganzoo.data.transforms.Preprocess`.
        max_size: use at most this many pairs.
    """

    def __init__(self, *, root: str | os.PathLike[str], phase: str = "train", direction: str = "AtoB",
                 in_channels: int = 3, out_channels: int = 3, preprocess: str = "resize_and_crop",
                 load_size: int = 286, crop_size: int = 256, flip: bool | None = None, size_multiple: int = 4,
                 max_size: int | None = None) -> None:
        super().__init__(phase=phase, preprocess=preprocess, load_size=load_size, crop_size=crop_size,
                         flip=flip, size_multiple=size_multiple, max_size=max_size)
        _check_direction(direction)
        self.root, self.direction = _require_root(root), direction
        self.channels = (in_channels, out_channels)
        self.pairs: list[tuple[Path, Path | None]] = self._find_pairs(phase)[:max_size] if max_size else self._find_pairs(phase)

    def _find_pairs(self, phase: str) -> list[tuple[Path, Path | None]]:
        for base in (self.root / phase, self.root):
            if (base / "A").is_dir() and (base / "B").is_dir():
                return self._match_folders(base / "A", base / "B")
        aligned = self.root / phase
        if aligned.is_dir():
            return [(path, None) for path in _images_in(aligned)]
        raise DataLayoutError(
            f"{str(self.root)!r} is not a paired data set: expected {phase}/*.jpg with A and B side by side "
            f"(pix2pix's layout) or folders A and B with matching file names; {describe_folder(self.root)}"
        )

    @staticmethod
    def _match_folders(folder_a: Path, folder_b: Path) -> list[tuple[Path, Path | None]]:
        a = {p.stem: p for p in _images_in(folder_a)}
        b = {p.stem: p for p in _images_in(folder_b)}
        matched = sorted(set(a) & set(b))
        unmatched = len(a) + len(b) - 2 * len(matched)
        if not matched:
            raise DataLayoutError(f"no file names in {str(folder_a)!r} match those in {str(folder_b)!r}")
        if unmatched:
            logger.warning("ganzoo: %d image(s) in %s and %s have no partner of the same name; skipped",
                           unmatched, folder_a, folder_b)
        return [(a[stem], b[stem]) for stem in matched]

    def __len__(self) -> int:
        return len(self.pairs)

    def _load_pair(self, index: int) -> tuple[Image.Image, Image.Image, str, str]:
        for attempt in range(10):
            first, second = self.pairs[(index + attempt) % len(self.pairs)]
            try:
                if second is None:
                    ab = load_rgb(first)
                    half = ab.width // 2
                    a, b = ab.crop((0, 0, half, ab.height)), ab.crop((half, 0, 2 * half, ab.height))
                    return a, b, str(first), str(first)
                return load_rgb(first), load_rgb(second), str(first), str(second)
            except READ_ERRORS as exc:
                logger.warning("ganzoo: skipping unreadable image %s (%s)", first, type(exc).__name__)
        raise DataLayoutError(f"too many unreadable images near {str(self.pairs[index][0])!r}")

    def __getitem__(self, index: int) -> dict[str, Any]:
        a, b, a_path, b_path = self._load_pair(index)
        if self.direction == "BtoA":
            a, b, a_path, b_path = b, a, b_path, a_path
        params = draw_params()
        return {
            "A": apply(a, self.opts, params, grayscale=self.channels[0] == 1),
            "B": apply(b, self.opts, params, grayscale=self.channels[1] == 1),
            "A_path": a_path,
            "B_path": b_path,
        }


class SingleFolder(_ImageDataset):
    """Every image under ROOT, recursively (for noise-to-image recipes).

    Args:
        root: the folder.
        channels: 1 reads grayscale, 3 RGB.
        preprocess, load_size, crop_size, flip, size_multiple: see :class:`~ganzoo.data.transforms.Preprocess`.
        max_size: use at most this many images.
    """

    def __init__(self, *, root: str | os.PathLike[str], phase: str = "train", channels: int = 3,
                 preprocess: str = "resize_and_crop", load_size: int = 286, crop_size: int = 256,
                 flip: bool | None = None, size_multiple: int = 4, max_size: int | None = None) -> None:
        super().__init__(phase=phase, preprocess=preprocess, load_size=load_size, crop_size=crop_size,
                         flip=flip, size_multiple=size_multiple, max_size=max_size)
        self.root, self.channels = _require_root(root), channels
        self.paths = _images_in(self.root, recursive=True, max_size=max_size)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> dict[str, Any]:
        img, path = self._load(self.paths[index], lambda: random.choice(self.paths))
        return {"image": apply(img, self.opts, draw_params(), grayscale=self.channels == 1), "path": str(path)}


def _check_direction(direction: str) -> None:
    if direction not in DIRECTIONS:
        raise InvalidOptionError(f"unknown direction {direction!r}; valid: AtoB, BtoA")

