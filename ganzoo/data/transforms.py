"""Preprocessing as in the reference CycleGAN/pix2pix code, with parameters that can be shared.

A paired example must get the same crop and flip on both sides; so random parameters are drawn once
(:func:`draw_params`) and applied to each side (:func:`apply`). Values end scaled to [-1, 1].

Modes (``preprocess``): ``resize_and_crop`` (resize to ``load_size`` square, random ``crop_size`` crop:
the default, 286 then 256), ``crop``, ``scale_width``, ``scale_width_and_crop``, ``none``. Every mode
rounds sides to a multiple of ``size_multiple`` so that the networks take the result.
"""

from __future__ import annotations

import dataclasses
import random

import torch
from PIL import Image
from torchvision.transforms import functional as TF

from ganzoo.errors import InvalidOptionError

PREPROCESS_MODES = ("resize_and_crop", "crop", "scale_width", "scale_width_and_crop", "none")


@dataclasses.dataclass(frozen=True)
class Preprocess:
    """How images become tensors.

    Attributes:
        preprocess: one of :data:`PREPROCESS_MODES`.
        load_size: side to resize to first (the width for ``scale_width*``).
        crop_size: side of the random crop.
        flip: random horizontal flips (train-time augmentation).
        size_multiple: output sides are rounded to a multiple of this (4 for ResNet generators).
    """

    preprocess: str = "resize_and_crop"
    load_size: int = 286
    crop_size: int = 256
    flip: bool = True
    size_multiple: int = 4

    def __post_init__(self) -> None:
        if self.preprocess not in PREPROCESS_MODES:
            raise InvalidOptionError(
                f"unknown preprocess {self.preprocess!r}; valid: {', '.join(PREPROCESS_MODES)}"
            )
        if "crop" in self.preprocess and self.crop_size > self.load_size and "resize" in self.preprocess:
            raise InvalidOptionError(f"crop_size {self.crop_size} is larger than load_size {self.load_size}")


@dataclasses.dataclass(frozen=True)
class Params:
    """Random choices for one example, shared by its sides."""

    crop_x: float  # crop position as a fraction of the free room, so it fits any side's size
    crop_y: float
    flip: bool


def draw_params(rng: random.Random | None = None) -> Params:
    rng = rng or random
    return Params(crop_x=rng.random(), crop_y=rng.random(), flip=rng.random() > 0.5)


def _round(value: int, multiple: int) -> int:
    return max(multiple, int(round(value / multiple) * multiple))


def _resized_size(opts: Preprocess, width: int, height: int) -> tuple[int, int]:
    if "resize" in opts.preprocess:
        return opts.load_size, opts.load_size
    if "scale_width" in opts.preprocess:
        if width == opts.load_size and height >= opts.crop_size:
            return width, height
        return opts.load_size, int(max(opts.load_size * height / width, opts.crop_size))
    return width, height


def apply(img: Image.Image, opts: Preprocess, params: Params, *, grayscale: bool = False) -> torch.Tensor:
    """Transform one side of an example into a (C, H, W) tensor in [-1, 1]."""
    if grayscale:
        img = img.convert("L")
    width, height = _resized_size(opts, *img.size)
    if (width, height) != img.size:
        img = img.resize((width, height), Image.BICUBIC)
    if "crop" in opts.preprocess:
        side = opts.crop_size
        if img.width < side or img.height < side:
            raise InvalidOptionError(
                f"image of {img.width}x{img.height} is smaller than crop_size {side}; "
                "lower crop_size or use preprocess=resize_and_crop"
            )
        left = int(round(params.crop_x * (img.width - side)))
        top = int(round(params.crop_y * (img.height - side)))
        img = img.crop((left, top, left + side, top + side))
    m = opts.size_multiple
    if img.width % m or img.height % m:
        img = img.resize((_round(img.width, m), _round(img.height, m)), Image.BICUBIC)
    if opts.flip and params.flip:
        img = img.transpose(Image.FLIP_LEFT_RIGHT)
    tensor = TF.to_tensor(img)
    return tensor * 2.0 - 1.0
