"""Tiny settings for any registered network, derived from its options and its contract.

The contract (:mod:`ganzoo.nn.contract`, documented in docs/plugins.md) lets a third-party network be
swept without a test of its own: ``input_kind``, ``size_multiple``, ``min_size``, ``image_size``,
``noise(n)``.
"""

from __future__ import annotations

import torch

import ganzoo
from ganzoo.nn.contract import contract_of

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
    """The smallest side the network takes that is at least TINY_SIDE (or its fixed size)."""
    contract = contract_of(net)
    if contract.image_size:
        return contract.image_size
    side = max(TINY_SIDE, contract.min_size)
    return -(-side // contract.size_multiple) * contract.size_multiple


def generator_input(net, batch: int = 2) -> torch.Tensor:
    contract = contract_of(net)
    if contract.input_kind == "noise":
        return net.noise(batch)
    side = input_side(net)
    return torch.rand(batch, contract.in_channels, side, side) * 2 - 1
