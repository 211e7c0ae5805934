"""Tiny settings for any registered network, derived from its options and the attributes it declares.

The conventions (documented in docs/plugins.md) let a third-party network be swept without a test of its
own: ``input_kind`` ("image" or "noise"), ``size_multiple`` (input sides must divide by it), ``min_size``
(smallest input side a discriminator takes), ``image_size`` (fixed-size networks), ``noise(n)``.
"""

from __future__ import annotations

import torch

import ganzoo

TINY_WIDTH = 8
TINY_SIDE = 32


def tiny_options(entry) -> dict:
    names = entry.option_names()
    options = {key: TINY_WIDTH for key in ("ngf", "ndf") if key in names}
    if "image_size" in names:
        options["image_size"] = TINY_SIDE
    return options


def build_tiny(kind: str, name: str, **overrides):
    entry = ganzoo.get_entry(kind, name)
    options = {**tiny_options(entry), **overrides}
    create = ganzoo.create_generator if kind == "generator" else ganzoo.create_discriminator
    return create(entry.example or name, **options)


def input_side(net) -> int:
    fixed = getattr(net, "image_size", None)
    if fixed:
        return fixed
    return max(TINY_SIDE, getattr(net, "size_multiple", 1), getattr(net, "min_size", 1))


def generator_input(net, batch: int = 2) -> torch.Tensor:
    if getattr(net, "input_kind", "image") == "noise":
        return net.noise(batch)
    side = input_side(net)
    return torch.rand(batch, net.in_channels, side, side) * 2 - 1
