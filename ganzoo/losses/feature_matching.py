"""pix2pixHD's feature-matching loss: the discriminator's insides on a fake should look like on the real.

Wang et al., CVPR 2018 (https://arxiv.org/abs/1711.11585), eq. 4; reference code
https://github.com/NVIDIA/pix2pixHD, models/pix2pixHD_model.py (``loss_G_GAN_Feat``). For each scale
``i`` of ``num_D`` and each intermediate layer ``j`` (the logit map excluded), the L1 distance between
the discriminator's activations on the fake and on the real input, the latter detached::

    sum_i sum_j  (1 / num_D) * (4 / (n_layers_D + 1)) * L1(D_i^j(fake), D_i^j(real).detach())

times ``lambda_feat`` (10), which here is the weight of the role the loss fills (``--aux
feature_matching=10``). The generator must then make images whose statistics at every depth and scale
match the real ones, which steadies training and sharpens detail (the paper's ablation).

The loss reads the structure of what it is given rather than the discriminator's options: ``num_D`` is
the number of scales, ``n_layers_D + 1`` the number of activations per scale (what a PatchGAN's
``features(x)`` gives), so the same loss serves one PatchGAN (one scale, weight 1 per layer at depth 3)
and the multi-scale discriminator.
"""

from __future__ import annotations

from typing import ClassVar, Sequence, Union

from torch import Tensor, nn

from ganzoo.errors import GanzooError
from ganzoo.losses.reconstruction import ReconstructionLoss
from ganzoo.precision import full_precision

#: A discriminator's ``features(x)``: a list of activations, or one such list per scale.
Features = Union[Sequence[Tensor], Sequence[Sequence[Tensor]]]


class FeatureMatchingLoss(nn.Module):
    """``features(fake)`` against ``features(real)``, weighted per scale and per layer as pix2pixHD does.

    Call it with the discriminator's ``features(x)`` on the fake and on the real input (for pix2pix, the
    input concatenated with each); :meth:`ganzoo.Step.feature_matching` does that for a step.

    Args:
        criterion: the distance per layer: ``l1`` (pix2pixHD's), ``l2`` or ``smooth_l1``.
    """

    #: The auxiliary role this loss fills (read from the class by :func:`ganzoo.nn.contract.loss_role`).
    role: ClassVar[str] = "feature_matching"
    #: What the discriminator must offer (fields of :class:`ganzoo.Contract`): a run that gives this
    #: loss a weight with a discriminator lacking one is refused before training.
    discriminator_needs: ClassVar[tuple[str, ...]] = ("features",)
    #: pix2pixHD's weight of a scale's layers together: ``4 / (n_layers_D + 1)`` for each of them.
    layers_weight: ClassVar[float] = 4.0

    def __init__(self, *, criterion: str = "l1") -> None:
        super().__init__()
        self.distance = ReconstructionLoss(criterion=criterion)  # checks the criterion's name

    @full_precision
    def forward(self, fake: Features, real: Features) -> Tensor:
        """The weighted sum over scales and layers; ``real`` is detached (it is the target)."""
        fakes, reals = _scales(fake, "fake"), _scales(real, "real")
        if [len(s) for s in fakes] != [len(s) for s in reals]:
            raise GanzooError(f"feature matching: the discriminator gave {_count(fakes)} on fakes but "
                              f"{_count(reals)} on real inputs")
        total = fakes[0][0].new_zeros(())
        for fake_layers, real_layers in zip(fakes, reals):
            weight = self.layers_weight / len(fake_layers) / len(fakes)
            for f, r in zip(fake_layers, real_layers):
                total = total + weight * self.distance.distance(f, r.detach())
        return total


def _scales(features: Features, which: str) -> list[list[Tensor]]:
    """``features`` as one list of activations per scale (a single-scale list becomes one scale)."""
    if isinstance(features, (list, tuple)) and features and all(isinstance(f, Tensor) for f in features):
        return [list(features)]
    if (isinstance(features, (list, tuple)) and features
            and all(isinstance(s, (list, tuple)) and s and all(isinstance(f, Tensor) for f in s) for s in features)):
        return [list(s) for s in features]
    raise GanzooError(f"feature matching takes a discriminator's features(x): a non-empty list of tensors, or one "
                      f"such list per scale; got {type(features).__name__} on the {which} input")


def _count(scales: list[list[Tensor]]) -> str:
    return f"{len(scales)} scale(s) of {', '.join(str(len(s)) for s in scales)} activation(s)"
