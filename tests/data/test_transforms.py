"""Preprocessing modes, sizes rounded for the networks, and shared random parameters."""

import pytest
import torch
from PIL import Image

from ganzoo.data.transforms import Params, Preprocess, apply
from ganzoo.errors import InvalidOptionError

NO_FLIP = Params(0.5, 0.5, False)


def ramp(width, height):
    """An image whose red channel grows left to right, to see crops and flips."""
    img = Image.new("RGB", (width, height))
    img.putdata([(int(255 * x / (width - 1)), 0, 0) for _ in range(height) for x in range(width)])
    return img


@pytest.mark.parametrize(
    "preprocess, size, expected",
    [
        ("resize_and_crop", (100, 60), (3, 24, 24)),
        ("crop", (100, 60), (3, 24, 24)),
        ("scale_width", (100, 60), (3, 24, 40)),  # width 40, height kept in proportion (24)
        ("scale_width_and_crop", (100, 50), (3, 24, 24)),
        ("none", (30, 21), (3, 20, 32)),  # rounded to the nearest multiple of 4
    ],
)
def test_output_sizes(preprocess, size, expected):
    opts = Preprocess(preprocess=preprocess, load_size=40, crop_size=24, flip=False)
    out = apply(ramp(*size), opts, NO_FLIP)
    assert tuple(out.shape) == expected
    assert out.min() >= -1 and out.max() <= 1


def test_scale_width_keeps_at_least_crop_height():
    opts = Preprocess(preprocess="scale_width", load_size=40, crop_size=32, flip=False)
    assert tuple(apply(ramp(200, 20), opts, NO_FLIP).shape) == (3, 32, 40)


def test_size_multiple_follows_the_network():
    opts = Preprocess(preprocess="none", flip=False, size_multiple=16)
    assert tuple(apply(ramp(50, 30), opts, NO_FLIP).shape)[1:] == (32, 48)


def test_same_params_same_crop_and_flip():
    opts = Preprocess(preprocess="crop", load_size=64, crop_size=16, flip=True)
    params = Params(0.3, 0.8, True)
    a, b = apply(ramp(64, 64), opts, params), apply(ramp(64, 64), opts, params)
    assert torch.equal(a, b)
    assert a[0, 0, 0] > a[0, 0, -1], "flipped: red decreases left to right"
    unflipped = apply(ramp(64, 64), opts, Params(0.3, 0.8, False))
    assert torch.equal(unflipped.flip(-1), a)


def test_grayscale_side():
    out = apply(ramp(16, 16), Preprocess(preprocess="none", flip=False), NO_FLIP, grayscale=True)
    assert out.shape[0] == 1


def test_bad_options():
    with pytest.raises(InvalidOptionError, match="resize_and_crop, crop"):
        Preprocess(preprocess="zoom")
    with pytest.raises(InvalidOptionError, match="larger than load_size"):
        Preprocess(load_size=100, crop_size=128)
    with pytest.raises(InvalidOptionError, match="smaller than crop_size"):
        apply(ramp(10, 10), Preprocess(preprocess="crop", crop_size=16), NO_FLIP)
