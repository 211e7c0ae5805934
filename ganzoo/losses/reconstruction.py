"""Reconstruction losses: a distance between an image and the image it should equal.

``cycle`` (A -> B -> A should give A back), ``identity`` (a B image through G_AB should stay itself) and
``l1`` (pix2pix's output against its target) are the same distance with different roles; each is its own
registry entry so that recipes name the role and users can swap the distance per role
(``--set l1.criterion=l2``).

Lists of tensors are compared pairwise and the distances summed, so the same losses serve feature
matching (pix2pixHD compares the discriminator's intermediate activations on real and generated images,
one distance per layer; weights and ``detach`` stay the recipe's business).
"""

from __future__ import annotations

from typing import ClassVar, Sequence, Union

import torch.nn.functional as F
from torch import Tensor, nn

from ganzoo.errors import GanzooError, InvalidOptionError
from ganzoo.precision import full_precision, wrap_full_precision

CRITERIA = ("l1", "l2", "smooth_l1")

#: One tensor, or several compared pairwise.
Tensors = Union[Tensor, Sequence[Tensor]]


class ReconstructionLoss(nn.Module):
    """Mean distance between ``output`` and ``target``; for lists, the sum of the pairwise distances.

    Args:
        criterion: ``l1`` (the papers'), ``l2`` or ``smooth_l1``.
    """

    #: The slot this loss fills; read from the class by slot fitting (:func:`ganzoo.nn.contract.loss_role`).
    role: ClassVar[str] = "reconstruction"

    def __init__(self, *, criterion: str = "l1") -> None:
        super().__init__()
        if criterion not in CRITERIA:
            raise InvalidOptionError(f"unknown criterion {criterion!r}; valid: {', '.join(CRITERIA)}")
        self.criterion = criterion

    def __init_subclass__(cls, **kwargs: object) -> None:
        # A subclass's own distance runs in float32 too (ganzoo.precision).
        super().__init_subclass__(**kwargs)
        wrap_full_precision(cls, ("forward",))

    @full_precision
    def forward(self, output: Tensors, target: Tensors) -> Tensor:
        if isinstance(output, Tensor) and isinstance(target, Tensor):
            return self.distance(output, target)
        lists = isinstance(output, (list, tuple)) and isinstance(target, (list, tuple))
        if not lists or len(output) != len(target) or not output:
            raise GanzooError(f"{type(self).__name__} compares a tensor with a tensor or two lists of the same "
                              f"non-zero length, got {_describe(output)} and {_describe(target)}")
        total = self.distance(output[0], target[0])
        for out, tgt in zip(output[1:], target[1:]):
            total = total + self.distance(out, tgt)
        return total

    def distance(self, output: Tensor, target: Tensor) -> Tensor:
        """The criterion's mean distance between two tensors of one shape."""
        if self.criterion == "l1":
            return F.l1_loss(output, target)
        if self.criterion == "l2":
            return F.mse_loss(output, target)
        return F.smooth_l1_loss(output, target)


def _describe(value: object) -> str:
    if isinstance(value, Tensor):
        return "a tensor"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a {type(value).__name__}"


class CycleConsistencyLoss(ReconstructionLoss):
    """Cycle-consistency: an image translated to the other domain and back should be unchanged."""


class IdentityLoss(ReconstructionLoss):
    """Identity mapping: an image already in the target domain should pass through unchanged."""


class PixelLoss(ReconstructionLoss):
    """Pixel loss of a paired output against its ground-truth target (pix2pix's L1 term)."""
