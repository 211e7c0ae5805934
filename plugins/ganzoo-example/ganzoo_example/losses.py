"""The Charbonnier loss: imported the first time a ``charbonnier`` loss is built."""

from __future__ import annotations

from torch import Tensor

import ganzoo


class CharbonnierLoss(ganzoo.ReconstructionLoss):
    """Charbonnier distance sqrt((output - target)**2 + eps**2): L1's robustness, smooth at zero.

    L1's gradient flips sign at zero, so a nearly right pixel keeps being pushed back and forth; the
    Charbonnier penalty is L1 far from the target and quadratic within ``eps`` of it (Lai et al.,
    "Deep Laplacian Pyramid Networks for Fast and Accurate Super-Resolution", CVPR 2017,
    https://arxiv.org/abs/1704.03915). It fills any reconstruction role: pix2pix's ``l1``, CycleGAN's
    ``cycle`` and ``identity``, the example recipe's ``rec``. Lists of tensors are compared pairwise and
    summed, as every :class:`ganzoo.ReconstructionLoss` does.

    Args:
        eps: where the penalty turns from quadratic to linear, in image units ([-1, 1] images).
    """

    def __init__(self, *, eps: float = 1e-3) -> None:
        super().__init__()
        if not isinstance(eps, (int, float)) or isinstance(eps, bool) or eps <= 0:
            raise ganzoo.InvalidOptionError(f"eps must be a number above 0, got {eps!r}")
        self.eps = float(eps)

    def distance(self, output: Tensor, target: Tensor) -> Tensor:
        return ((output - target).pow(2) + self.eps ** 2).sqrt().mean()
