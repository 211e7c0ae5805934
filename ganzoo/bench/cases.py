"""The benchmark's cases: which recipe, which network, at which sizes, for each profile.

A case is named once, after the full-size case (``cyclegan-b8``: CycleGAN at batch 8), and keeps that
name in every profile, which sets the sizes actually run (recorded beside the name); so a CPU run and a
GPU run of the same case line up in the tables. ``full`` is the issue's list at the
papers' sizes (for a GPU); ``cpu`` is the same list at 64x64 and reduced widths so that it finishes in a
few minutes on a small CPU; ``smoke`` is 32x32 with width 8, to check in CI that everything runs.

This module imports no torch: ``ganzoo bench --help`` lists the names from it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

PROFILES = ("full", "cpu", "smoke")

#: ganzoo configurations by name: the run settings each sets (as ``--set`` would); ``plain`` is the
#: default exact fp32.
CONFIGS: dict[str, dict[str, Any]] = {
    "plain": {},
    "fast": {"fast": True},
    "bf16": {"precision": "bf16"},
    "channels-last": {"channels_last": True},
    "compile": {"compile": "default"},
}

#: What runs when no configurations are named. On a CPU compiling takes minutes per network on a small
#: machine, so it is left to be asked for; on a GPU every configuration runs.
DEFAULT_CONFIGS = {"cuda": tuple(CONFIGS), "other": ("plain", "fast", "bf16")}


@dataclasses.dataclass(frozen=True)
class Case:
    """One measured thing: a training iteration (``train``) or a batch of inference (``infer``)."""

    name: str
    recipe: str  # cyclegan, pix2pix, dcgan
    kind: str  # train or infer
    batch: int  # the batch actually run (the name says the full-size one it stands for)
    image_size: int
    ngf: int
    ndf: int
    num_downs: int | None = None  # U-Nets only: levels (2**num_downs == image_size)

    @property
    def network(self) -> str:
        """The generator, as the tables name it."""
        return {"cyclegan": "resnet9", "pix2pix": "unet", "dcgan": "dcgan"}[self.recipe]

    def to_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "network": self.network}


@dataclasses.dataclass(frozen=True)
class Sizes:
    """A profile's sizes: image side and widths, and the batch sizes that stand for the issue's."""

    image_size: int  # translation cases
    dcgan_size: int
    ngf: int
    ndf: int
    train_batches: dict[str, tuple[int, ...]]  # recipe -> training batches
    infer_batches: dict[str, tuple[int, ...]]  # recipe -> inference batches


SIZES = {
    "full": Sizes(256, 64, 64, 64, {"cyclegan": (1, 8), "pix2pix": (1, 16), "dcgan": (128,)},
                  {"cyclegan": (1, 16, 64), "pix2pix": (1, 16, 64), "dcgan": (128, 1024)}),
    "cpu": Sizes(64, 64, 32, 32, {"cyclegan": (1, 8), "pix2pix": (1, 16), "dcgan": (128,)},
                 {"cyclegan": (1, 16), "pix2pix": (1, 16), "dcgan": (128, 512)}),
    "smoke": Sizes(32, 32, 8, 8, {"cyclegan": (1, 2), "pix2pix": (1, 2), "dcgan": (4,)},
                   {"cyclegan": (1, 2), "pix2pix": (1, 2), "dcgan": (4,)}),
}


def _num_downs(image_size: int) -> int:
    """U-Net levels that take ``image_size`` down to 1x1 (8 for 256, as unet256)."""
    return image_size.bit_length() - 1


def cases_for(profile: str) -> list[Case]:
    """Every case of ``profile``, training first, in the issue's order."""
    sizes = SIZES[profile]
    cases: list[Case] = []
    full = SIZES["full"]
    for kind, batches, named in (("train", sizes.train_batches, full.train_batches),
                                 ("infer", sizes.infer_batches, full.infer_batches)):
        for recipe, recipe_batches in batches.items():
            side = sizes.dcgan_size if recipe == "dcgan" else sizes.image_size
            downs = _num_downs(side) if recipe == "pix2pix" else None
            for batch, named_batch in zip(recipe_batches, named[recipe]):
                name = f"{recipe}-b{named_batch}" if kind == "train" else f"{recipe}-infer-b{named_batch}"
                cases.append(Case(name, recipe, kind, batch, side, sizes.ngf, sizes.ndf, downs))
    return cases


def case_names() -> list[str]:
    """The names ``--cases`` accepts (the same in every profile)."""
    return [case.name for case in cases_for("full")]
