"""Reconstruction losses: a distance between an image and the image it should equal.

``cycle`` (A -> B -> A should give A back), ``identity`` (a B image through G_AB should stay itself) and
``l1`` (pix2pix's output against its target) are the same distance with different roles; each is its own
registry entry so that recipes name the role and users can swap the distance per role.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from ganzoo.errors import InvalidOptionError

CRITERIA = ("l1", "l2", "smooth_l1")


class ReconstructionLoss(nn.Module):
    """Mean distance between ``output`` and ``target``.

    Args:
        criterion: ``l1`` (the papers'), ``l2`` or ``smooth_l1``.
    """

    def __init__(self, *, criterion: str = "l1") -> None:
        super().__init__()
        if criterion not in CRITERIA:
            raise InvalidOptionError(f"unknown criterion {criterion!r}; valid: {', '.join(CRITERIA)}")
        self.criterion = criterion

    def forward(self, output: Tensor, target: Tensor) -> Tensor:
        if self.criterion == "l1":
            return F.l1_loss(output, target)
        if self.criterion == "l2":
            return F.mse_loss(output, target)
        return F.smooth_l1_loss(output, target)


class CycleConsistencyLoss(ReconstructionLoss):
    """Cycle-consistency: an image translated to the other domain and back should be unchanged."""


class IdentityLoss(ReconstructionLoss):
    """Identity mapping: an image already in the target domain should pass through unchanged."""


class PixelLoss(ReconstructionLoss):
    """Pixel loss of a paired output against its ground-truth target (pix2pix's L1 term)."""
