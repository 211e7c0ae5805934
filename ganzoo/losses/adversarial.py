"""Adversarial losses behind one interface, so a recipe never branches on the loss's name.

Every loss takes the discriminator's raw outputs (logits or critic scores, any shape) and gives:

- :meth:`AdversarialLoss.discriminator_loss` (real and fake predictions),
- :meth:`AdversarialLoss.generator_loss` (predictions on fakes),
- :meth:`AdversarialLoss.penalty` (a regulariser that needs the critic itself; zero for most losses).

Class attributes tell a recipe what the loss needs: ``critic_steps`` (discriminator updates per generator
update) and ``allows_batch_norm`` (a per-sample gradient penalty is wrong with batch statistics).
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganzoo.errors import InvalidOptionError


class AdversarialLoss(nn.Module):
    """Base class: subclasses implement the two losses and, if they have one, the penalty."""

    #: Discriminator (critic) updates per generator update that the loss was designed for.
    critic_steps: int = 1
    #: Whether the discriminator may use batch normalisation with this loss.
    allows_batch_norm: bool = True

    def discriminator_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        """Loss of the discriminator given its outputs on real and on generated samples."""
        raise NotImplementedError

    def generator_loss(self, fake: Tensor) -> Tensor:
        """Loss of the generator given the discriminator's outputs on generated samples."""
        raise NotImplementedError

    def penalty(self, critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor) -> Tensor:
        """A regulariser added to the discriminator loss; zero unless the loss defines one."""
        return real.new_zeros(())

    def forward(self, prediction: Tensor, target_is_real: bool) -> Tensor:
        """The reference code's ``criterionGAN(pred, target_is_real)`` form, for ported training code."""
        raise NotImplementedError(f"{type(self).__name__} has no single-target form")


class _LabelLoss(AdversarialLoss):
    """A loss of the predictions against constant real/fake labels (BCE, least squares)."""

    def __init__(self, *, real_label: float = 1.0, fake_label: float = 0.0) -> None:
        super().__init__()
        self.register_buffer("real_label", torch.tensor(float(real_label)), persistent=False)
        self.register_buffer("fake_label", torch.tensor(float(fake_label)), persistent=False)

    def criterion(self, prediction: Tensor, target: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, prediction: Tensor, target_is_real: bool) -> Tensor:
        label = self.real_label if target_is_real else self.fake_label
        return self.criterion(prediction, label.to(prediction.dtype).expand_as(prediction))

    def discriminator_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        return self(real, True) + self(fake, False)

    def generator_loss(self, fake: Tensor) -> Tensor:
        # The non-saturating form: the generator wants its fakes labelled real.
        return self(fake, True)


class BCELoss(_LabelLoss):
    """The original GAN loss: binary cross-entropy on logits (non-saturating for the generator).

    Args:
        real_label: target for real samples (below 1 for one-sided label smoothing).
        fake_label: target for fake samples.
    """

    def criterion(self, prediction: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(prediction, target)


class LSGANLoss(_LabelLoss):
    """Least-squares GAN loss: mean squared error to the real/fake labels (CycleGAN's default).

    Args:
        real_label: target for real samples.
        fake_label: target for fake samples.
    """

    def criterion(self, prediction: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(prediction, target)


class WGANGPLoss(AdversarialLoss):
    """Wasserstein loss with gradient penalty: the critic's score gap, and a penalty that keeps the
    critic's gradient norm near ``constant`` on points between real and fake samples.

    Args:
        gp_weight: weight of the gradient penalty (lambda, 10 in the paper).
        constant: target gradient norm.
        interpolation: where the penalty is taken: ``mixed`` (random points between real and fake, the
            paper's), ``real`` or ``fake``.
    """

    critic_steps = 5
    allows_batch_norm = False

    def __init__(self, *, gp_weight: float = 10.0, constant: float = 1.0, interpolation: str = "mixed") -> None:
        super().__init__()
        if interpolation not in ("mixed", "real", "fake"):
            raise InvalidOptionError(f"unknown interpolation {interpolation!r}; valid: mixed, real, fake")
        self.gp_weight, self.constant, self.interpolation = gp_weight, constant, interpolation

    def discriminator_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        return fake.mean() - real.mean()

    def generator_loss(self, fake: Tensor) -> Tensor:
        return -fake.mean()

    def penalty(self, critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor) -> Tensor:
        real, fake = real.detach(), fake.detach()
        if self.interpolation == "real":
            points = real
        elif self.interpolation == "fake":
            points = fake
        else:
            alpha = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
            points = alpha * real + (1 - alpha) * fake
        points = points.requires_grad_(True)
        scores = critic(points)
        (grad,) = torch.autograd.grad(scores.sum(), points, create_graph=True)
        norms = (grad.flatten(1) + 1e-16).norm(2, dim=1)
        return self.gp_weight * ((norms - self.constant) ** 2).mean()


class HingeLoss(AdversarialLoss):
    """Hinge loss (Geometric GAN, SAGAN, BigGAN): a margin of 1 for the discriminator, the negative
    score for the generator."""

    def discriminator_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()

    def generator_loss(self, fake: Tensor) -> Tensor:
        return -fake.mean()
