"""Embedded toy data sets: generated from a seed, no network, no files, and a known ground truth.

Every image is a scene of 1 to 3 non-overlapping shapes (circle, square, triangle) whose fill colour is
fixed by the shape's type. Because the scene is known, so is the right answer:

- ``day2night`` (unpaired): the same scene rendered by day and by night. The training piles come from
  disjoint seeds (no scene appears in both), and the test split holds each scene rendered both ways, so
  a translation is scored against its true counterpart.
- ``edges2shapes`` (paired): outlines to filled shapes. The fill colour follows from the outline's shape,
  so the target is exact.
- ``shapes`` (single): the filled scenes alone. Samples are judged on their colours, whether their
  shapes are recognisable, and whether every kind appears.

:mod:`ganzoo.metrics.toy` holds the scores and says what each means.

Images are 32x32 by default (``image_size`` takes any multiple of 4 from 16), small enough for a recipe
to learn in minutes on a laptop CPU.
"""

from __future__ import annotations

import dataclasses
import math
import random
from typing import Any, Callable

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from ganzoo.errors import InvalidOptionError
from ganzoo.metrics.toy import HEADLINE, SHAPES, sample_scores, translation_classes, translation_scores

# Colours in [0, 1]: index 0 is the background, then one per shape type.
DAY = np.array([(0.92, 0.90, 0.82), (0.90, 0.15, 0.15), (0.15, 0.70, 0.20), (0.15, 0.30, 0.90)], np.float32)
NIGHT = np.array([(0.05, 0.07, 0.20), (0.55, 0.08, 0.10), (0.10, 0.40, 0.15), (0.35, 0.55, 1.00)], np.float32)
EDGES = np.array([(0.0, 0.0, 0.0), (1.0, 1.0, 1.0)], np.float32)

SPLIT_SEEDS = {"train": 1, "trainA": 2, "trainB": 3, "test": 4}
DEFAULT_COUNTS = {"train": 600, "test": 100}


def _check_size(image_size: int) -> None:
    if image_size < 16 or image_size % 4:
        raise InvalidOptionError(f"toy image_size must be a multiple of 4 from 16, got {image_size}")


def scene_labels(rng: np.random.Generator, size: int) -> np.ndarray:
    """A (size, size) label map: 0 background, 1 + shape index inside each of 1-3 shapes."""
    labels = np.zeros((size, size), np.int64)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    placed: list[tuple[float, float, float]] = []
    for _ in range(int(rng.integers(1, 4))):
        for _attempt in range(20):
            r = float(rng.uniform(0.13, 0.22) * size)
            cx, cy = (float(v) for v in rng.uniform(r + 1, size - r - 1, size=2))
            if all(math.hypot(cx - px, cy - py) > r + pr + 2 for px, py, pr in placed):
                break
        else:
            continue
        placed.append((cx, cy, r))
        kind = int(rng.integers(0, len(SHAPES)))
        if SHAPES[kind] == "circle":
            mask = (xx - cx) ** 2 + (yy - cy) ** 2 <= r**2
        elif SHAPES[kind] == "square":
            mask = (np.abs(xx - cx) <= 0.85 * r) & (np.abs(yy - cy) <= 0.85 * r)
        else:  # an upright isosceles triangle
            mask = (yy <= cy + 0.8 * r) & (yy >= cy - r + 1.8 * np.abs(xx - cx))
        labels[mask] = kind + 1
    return labels


def outline(labels: np.ndarray) -> np.ndarray:
    """1 on shape pixels that touch another label (4-neighbourhood, image border included), else 0."""
    padded = np.pad(labels, 1, mode="constant", constant_values=-1)
    centre = padded[1:-1, 1:-1]
    neighbours = [padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]]
    edge = np.zeros_like(labels, dtype=bool)
    for n in neighbours:
        edge |= n != centre
    return (edge & (labels > 0)).astype(np.int64)


def render(palette: np.ndarray, labels: np.ndarray) -> Tensor:
    """A (3, H, W) image in [-1, 1] painting each label with its palette colour."""
    return torch.from_numpy(palette[labels]).permute(2, 0, 1) * 2.0 - 1.0


def _scenes(split: str, count: int, size: int) -> list[np.ndarray]:
    rng = np.random.default_rng([20261123, SPLIT_SEEDS[split]])
    return [scene_labels(rng, size) for _ in range(count)]


class ToyDataset(Dataset):
    """Rendered scenes held in memory, with the folder data sets' item format and flips."""

    def __init__(self, *, mode: str, a: Tensor | None, b: Tensor, flip: bool, serial: bool = False) -> None:
        self.mode, self.a, self.b, self.flip, self.serial = mode, a, b, flip, serial

    def __len__(self) -> int:
        return len(self.b) if self.a is None else max(len(self.a), len(self.b))

    def _maybe_flip(self, image: Tensor, flip: bool) -> Tensor:
        return image.flip(-1) if self.flip and flip else image

    def __getitem__(self, index: int) -> dict[str, Any]:
        if self.a is None:
            return {"image": self._maybe_flip(self.b[index], random.random() > 0.5), "path": f"toy:{index}"}
        i = index % len(self.a)
        if self.mode == "paired":
            j, flips = i, (random.random() > 0.5,) * 2
        else:
            j = index % len(self.b) if self.serial else random.randrange(len(self.b))
            flips = (random.random() > 0.5, random.random() > 0.5)
        return {"A": self._maybe_flip(self.a[i], flips[0]), "B": self._maybe_flip(self.b[j], flips[1]),
                "A_path": f"toy:A/{i}", "B_path": f"toy:B/{j}"}


@dataclasses.dataclass(frozen=True)
class ToySet:
    """One embedded toy data set: how to render it, which data mode it feeds, and how to score a model.

    Attributes:
        name: what users type after ``toy:``.
        mode: the data mode it feeds (``paired``, ``unpaired`` or ``single``).
        summary: one line for ``ganzoo list data``.
        palette_a: colours of the input side (None for ``single``).
        palette_b: colours of the target side (the images themselves for ``single``).
        a_is_outline: the input side is the scene's outline rather than its filled shapes.
    """

    name: str
    mode: str
    summary: str
    palette_a: np.ndarray | None
    palette_b: np.ndarray
    a_is_outline: bool = False

    @property
    def metric(self) -> str:
        """The headline score (higher is better): the README's targets are stated in it."""
        return HEADLINE["samples" if self.mode == "single" else "translation"]

    def _render_a(self, labels: np.ndarray) -> Tensor:
        assert self.palette_a is not None
        return render(self.palette_a, outline(labels) if self.a_is_outline else labels)

    def dataset(self, *, phase: str = "train", image_size: int = 32, size: int | None = None,
                direction: str = "AtoB", flip: bool | None = None, serial: bool = False) -> ToyDataset:
        """The training (or test) images as a data set with the folder data sets' items."""
        _check_size(image_size)
        count = size or DEFAULT_COUNTS.get(phase, DEFAULT_COUNTS["test"])
        flip = (phase == "train") if flip is None else flip
        if self.mode == "single":
            images = torch.stack([render(self.palette_b, s) for s in _scenes(_split(phase), count, image_size)])
            return ToyDataset(mode="single", a=None, b=images, flip=flip)
        if self.mode == "unpaired" and phase == "train":
            a = torch.stack([self._render_a(s) for s in _scenes("trainA", count, image_size)])
            b = torch.stack([render(self.palette_b, s) for s in _scenes("trainB", count, image_size)])
        else:
            a, b = self.pairs(phase=phase, image_size=image_size, size=count)
        if direction == "BtoA":
            a, b = b, a
        return ToyDataset(mode=self.mode, a=a, b=b, flip=flip, serial=serial)

    def pairs(self, *, phase: str = "test", image_size: int = 32, size: int | None = None) -> tuple[Tensor, Tensor]:
        """Inputs and their true translations (the ground truth), as (N, 3, H, W) tensors in [-1, 1]."""
        inputs, targets, _ = self.truth(phase=phase, image_size=image_size, size=size)
        return inputs, targets

    def truth(self, *, phase: str = "test", image_size: int = 32, size: int | None = None,
              direction: str = "AtoB") -> tuple[Tensor, Tensor, Tensor]:
        """Inputs, their true translations, and the translations' label maps ((N, H, W): 0 background,
        1 + k shape kind k; for outlines 1 is the outline) in ``direction``."""
        _check_size(image_size)
        if self.mode == "single":
            raise InvalidOptionError(f"toy set {self.name!r} has no pairs: it scores samples")
        scenes = _scenes(_split(phase), size or DEFAULT_COUNTS["test"], image_size)
        a_labels = [outline(s) if self.a_is_outline else s for s in scenes]
        assert self.palette_a is not None
        a = torch.stack([render(self.palette_a, s) for s in a_labels])
        b = torch.stack([render(self.palette_b, s) for s in scenes])
        if direction == "BtoA":
            return b, a, torch.from_numpy(np.stack(a_labels))
        return a, b, torch.from_numpy(np.stack(scenes))

    def target_palette(self, direction: str = "AtoB") -> np.ndarray:
        """The colours of the side a model translates to (or samples)."""
        palette = self.palette_a if direction == "BtoA" else self.palette_b
        assert palette is not None
        return palette

    @torch.no_grad()
    def score(self, model: Callable[..., Tensor] | Tensor, *, image_size: int = 32, direction: str = "AtoB",
              n: int = 100, batch_size: int = 50) -> dict[str, float]:
        """Score a model on the test split (:mod:`ganzoo.metrics.toy` says what each score means).

        For translation sets, ``model`` maps a batch of inputs in [-1, 1] to outputs, compared with the
        truth pixel by pixel and class by class (:meth:`translations`). For ``single``, ``model`` is
        ``sample(n) -> images`` or a tensor of images, whose colours, shapes and variety are judged.
        """
        if self.mode == "single":
            images = model if isinstance(model, Tensor) else model(n)
            return sample_scores(images, palette=self.palette_b)
        return self.translations(model, image_size=image_size, direction=direction, n=n,
                                 batch_size=batch_size).scores()

    @torch.no_grad()
    def translations(self, model: Callable[[Tensor], Tensor], *, image_size: int = 32, direction: str = "AtoB",
                     n: int = 100, batch_size: int = 50) -> Translations:
        """``model``'s translations of ``n`` test scenes in ``direction``, beside their truth and the two
        palettes that judge them: what :meth:`score` scores, for a closer look at the same pixels
        (benchmarks/toy_rims.py splits them into shape interiors and rims)."""
        inputs, targets, labels = self.truth(image_size=image_size, size=n, direction=direction)
        outputs = torch.cat([model(inputs[i:i + batch_size]).float().cpu() for i in range(0, n, batch_size)])
        return Translations(outputs=outputs, targets=targets, labels=labels,
                            palette=self.target_palette(direction),
                            input_palette=self.target_palette("AtoB" if direction == "BtoA" else "BtoA"))


@dataclasses.dataclass(frozen=True)
class Translations:
    """A model's translations of toy scenes beside their truth. The target side's ``palette`` names each
    output pixel's class; the ``input_palette``'s colours are never right (an unchanged input is no
    translation). One place for that choice, so the score and any closer look judge alike."""

    outputs: Tensor  # (N, 3, H, W) in [-1, 1]
    targets: Tensor  # the true translations, likewise
    labels: Tensor  # (N, H, W): 0 background, 1 + k shape kind k (outlines: 1 the outline)
    palette: np.ndarray
    input_palette: np.ndarray

    def classes(self) -> Tensor:
        """(N, H, W): each output pixel's class in the target palette, NO_CLASS where still an input colour."""
        return translation_classes(self.outputs, self.palette, input_palette=self.input_palette)

    def scores(self) -> dict[str, float]:
        """L1, PSNR, shape and background accuracy (:func:`ganzoo.metrics.toy.translation_scores`)."""
        return translation_scores(self.outputs, self.targets, labels=self.labels, palette=self.palette,
                                  input_palette=self.input_palette)


def _split(phase: str) -> str:
    return "train" if phase == "train" else "test"


TOY_SETS: dict[str, ToySet] = {
    toy.name: toy
    for toy in (
        ToySet("day2night", "unpaired", "Shapes by day and by night; unpaired piles, true counterparts for testing",
               DAY, NIGHT),
        ToySet("edges2shapes", "paired", "Outlines to filled shapes; the fill colour follows from the shape",
               EDGES, DAY, a_is_outline=True),
        ToySet("shapes", "single",
               "Filled circles, squares and triangles; samples scored for palette, shapes and variety", None, DAY),
    )
}
