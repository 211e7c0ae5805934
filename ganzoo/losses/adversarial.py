"""Adversarial losses behind one interface, so a recipe never branches on the loss's name.

Every loss takes the discriminator's raw outputs (logits or critic scores, any shape) and gives:

- :meth:`AdversarialLoss.discriminator_loss` (real and fake predictions),
- :meth:`AdversarialLoss.generator_loss` (predictions on fakes),
- :meth:`AdversarialLoss.penalty` (a regulariser that needs the critic itself; zero for most losses).

A discriminator may return one logit map or a list of them, one per scale (pix2pixHD's multi-scale
discriminator). The loss of a list is the SUM of the per-scale losses, as pix2pixHD's ``GANLoss`` does
(https://github.com/NVIDIA/pix2pixHD, models/networks.py, ``GANLoss.__call__``), so a multi-scale
discriminator weighs each scale like a single-scale one; subclasses implement the loss of one map
(:meth:`~AdversarialLoss.scale_discriminator_loss`, :meth:`~AdversarialLoss.scale_generator_loss`).

Attributes tell a recipe what the loss needs: ``role`` (``"adversarial"``, the slot it fills),
``critic_steps`` (discriminator updates per generator update), ``allows_batch_norm`` (a per-sample
gradient penalty is wrong with batch statistics; :func:`ganzoo.nn.contract.uses_batch_norm` finds them)
and ``input_gradient_penalty`` (the penalty differentiates the critic twice, which torch.compile cannot).
The last two are set per instance where an option decides them (``r1_weight``, ``gp_weight``).

The label losses and the hinge loss take R1 (``r1_weight``, Mescheder et al. 2018,
https://arxiv.org/abs/1801.04406): a penalty on the discriminator's gradient at real samples, the
regulariser StyleGAN2 pairs with the logistic (BCE) loss; ``r1_interval`` takes it lazily, every that
many iterations and that many times as strong, added to that iteration's discriminator loss (StyleGAN2
takes it every 16th, in an optimizer step of its own with Adam's rate and betas adjusted by k/(k+1);
this simpler form does not adjust them).
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganzoo.errors import GanzooError, InvalidOptionError
from ganzoo.nn.contract import as_logit_list
from ganzoo.nn.layers import check_option
from ganzoo.precision import full_precision, wrap_full_precision
from ganzoo.recipe import Value

#: What a discriminator returns: one logit map, or one per scale.
Logits = Union[Tensor, Sequence[Tensor]]

#: The methods that run in float32 whatever precision the forward passes ran in.
FULL_PRECISION = ("discriminator_loss", "generator_loss", "penalty", "forward")


class AdversarialLoss(nn.Module):
    """Base class: subclasses implement the two losses on one logit map and, if they have one, the penalty."""

    #: The slot this loss fills; read from the class by slot fitting (:func:`ganzoo.nn.contract.loss_role`).
    role: ClassVar[str] = "adversarial"
    #: Discriminator (critic) updates per generator update that the loss was designed for.
    critic_steps: ClassVar[int] = 1
    #: Whether the discriminator may use batch normalisation with this loss.
    allows_batch_norm: bool = True
    #: What keeps batch norm out, for the error that refuses it (a per-sample gradient penalty).
    penalty_name: str = "gradient penalty"
    #: Whether :meth:`penalty` differentiates the critic's input gradient, a second backward through the
    #: critic: torch.compile cannot do that, so ``--compile`` leaves such a critic eager
    #: (:func:`ganzoo.train.fast.networks_to_compile`).
    input_gradient_penalty: bool = False
    #: R1's weight (gamma); 0 leaves it out. Set by the losses that offer it (:meth:`_set_r1`).
    r1_weight: float = 0.0
    #: The penalty is taken every this many iterations and multiplied by it (lazy regularisation: about the
    #: same strength for a fraction of the cost); :meth:`ganzoo.step.Step.discriminator_loss` applies it,
    #: so calling :meth:`penalty` directly takes it every time.
    penalty_interval: int = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A subclass's own versions of these run in float32 too (ganzoo.precision): reductions and
        # gradient penalties in reduced precision lose digits or overflow.
        super().__init_subclass__(**kwargs)
        wrap_full_precision(cls, FULL_PRECISION)

    @full_precision
    def discriminator_loss(self, real_out: Logits, fake_out: Logits) -> Tensor:
        """Loss of the discriminator given its outputs on real and on generated samples (summed over scales)."""
        reals, fakes = as_logit_list(real_out), as_logit_list(fake_out)
        if len(reals) != len(fakes):
            raise GanzooError(f"the discriminator gave {len(reals)} scale(s) on real samples but "
                              f"{len(fakes)} on fakes")
        return _sum(self.scale_discriminator_loss(real, fake) for real, fake in zip(reals, fakes))

    @full_precision
    def generator_loss(self, fake_out: Logits) -> Tensor:
        """Loss of the generator given the discriminator's outputs on generated samples (summed over scales)."""
        return _sum(self.scale_generator_loss(fake) for fake in as_logit_list(fake_out))

    def scale_discriminator_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        """The discriminator's loss on one logit map."""
        raise NotImplementedError

    def scale_generator_loss(self, fake: Tensor) -> Tensor:
        """The generator's loss on one logit map."""
        raise NotImplementedError

    @full_precision
    def penalty(self, critic: Callable[[Tensor], Any], real: Tensor, fake: Tensor) -> Tensor:
        """A regulariser added to the discriminator loss: R1 where ``r1_weight`` is set, else zero
        unless the loss defines its own."""
        if self.r1_weight:
            return r1_penalty(critic, real, weight=self.r1_weight)
        return real.new_zeros(())

    def _set_r1(self, r1_weight: float, r1_interval: int) -> None:
        """Check and keep the R1 options of a loss that offers them."""
        self.r1_weight = check_option("r1_weight", r1_weight, Value(float, min=0))
        self.penalty_interval = check_option("r1_interval", r1_interval, Value(int, min=1))
        if self.penalty_interval > 1 and not self.r1_weight:
            # an interval with nothing to space out is a forgotten weight, not a choice
            raise InvalidOptionError(f"r1_interval={self.penalty_interval}: R1 is off (r1_weight 0), so there is "
                                     "nothing to space out; set r1_weight too, or leave r1_interval at 1")
        if self.r1_weight:
            self.allows_batch_norm = False  # a per-sample gradient: batch statistics would couple the samples
            self.penalty_name = f"R1 penalty (r1_weight={self.r1_weight:g})"
            self.input_gradient_penalty = True

    def forward(self, prediction: Logits, target_is_real: bool) -> Tensor:
        """The reference code's ``criterionGAN(pred, target_is_real)`` form, for ported training code."""
        raise NotImplementedError(f"{type(self).__name__} has no single-target form")


def r1_penalty(critic: Callable[[Tensor], Any], real: Tensor, *, weight: float) -> Tensor:
    """``weight / 2 * E[|grad_x D(x)|^2]`` at the real samples ``x`` (R1).

    The input gradient of the sum of the critic's outputs (every patch of a patch map, every scale of a
    multi-scale critic), squared and summed per sample, averaged over the batch, as StyleGAN2's
    ``r1_penalty``; kept in the graph so the discriminator's update minimises it. StyleGAN2's critic has
    one logit a sample: on a patch map the sum weighs the penalty up with the number of patches, so a
    ``weight`` tuned for one logit is too strong there.
    """
    points = real.detach().requires_grad_(True)
    scores = _sum(s.sum() for s in as_logit_list(critic(points)))
    (grad,) = torch.autograd.grad(scores, points, create_graph=True)
    return 0.5 * weight * grad.pow(2).flatten(1).sum(1).mean()


def _sum(losses: Any) -> Tensor:
    # sum() would start from the int 0; starting from the first loss keeps a 0-dim tensor of its dtype.
    losses = iter(losses)
    total = next(losses)
    for loss in losses:
        total = total + loss
    return total


class _LabelLoss(AdversarialLoss):
    """A loss of the predictions against constant real/fake labels (BCE, least squares)."""

    #: What a label may be (a finite number; BCE's are probabilities).
    label_value: ClassVar[Value] = Value(float)

    def __init__(self, *, real_label: float = 1.0, fake_label: float = 0.0, r1_weight: float = 0.0,
                 r1_interval: int = 1) -> None:
        super().__init__()
        self._set_r1(r1_weight, r1_interval)
        real_label = check_option("real_label", real_label, self.label_value)
        fake_label = check_option("fake_label", fake_label, self.label_value)
        self.register_buffer("real_label", torch.tensor(real_label), persistent=False)
        self.register_buffer("fake_label", torch.tensor(fake_label), persistent=False)

    def criterion(self, prediction: Tensor, target: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, prediction: Logits, target_is_real: bool) -> Tensor:
        label = self.real_label if target_is_real else self.fake_label
        return _sum(self.criterion(p, label.to(p.dtype).expand_as(p)) for p in as_logit_list(prediction))

    def scale_discriminator_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        return self(real, True) + self(fake, False)

    def scale_generator_loss(self, fake: Tensor) -> Tensor:
        # The non-saturating form: the generator wants its fakes labelled real.
        return self(fake, True)


class BCELoss(_LabelLoss):
    """The original GAN loss: binary cross-entropy on logits (non-saturating for the generator).

    Args:
        real_label: target for real samples (below 1 for one-sided label smoothing).
        fake_label: target for fake samples.
        r1_weight: R1's weight on the discriminator's gradient at real samples (gamma; 0: none).
        r1_interval: take R1 every this many iterations, that many times as strong (only with r1_weight).
    """

    label_value: ClassVar[Value] = Value(float, min=0, max=1)

    def criterion(self, prediction: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(prediction, target)


class LSGANLoss(_LabelLoss):
    """Least-squares GAN loss: mean squared error to the real/fake labels (CycleGAN's default).

    Args:
        real_label: target for real samples.
        fake_label: target for fake samples.
        r1_weight: R1's weight on the discriminator's gradient at real samples (gamma; 0: none).
        r1_interval: take R1 every this many iterations, that many times as strong (only with r1_weight).
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

    critic_steps: ClassVar[int] = 5
    allows_batch_norm: bool = False

    def __init__(self, *, gp_weight: float = 10.0, constant: float = 1.0, interpolation: str = "mixed") -> None:
        super().__init__()
        gp_weight = check_option("gp_weight", gp_weight, Value(float, min=0))
        constant = check_option("constant", constant, Value(float, min=0, min_open=True))
        if interpolation not in ("mixed", "real", "fake"):
            raise InvalidOptionError(f"unknown interpolation {interpolation!r}; valid: mixed, real, fake")
        self.gp_weight, self.constant, self.interpolation = gp_weight, constant, interpolation
        self.input_gradient_penalty = gp_weight > 0

    def scale_discriminator_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        return fake.mean() - real.mean()

    def scale_generator_loss(self, fake: Tensor) -> Tensor:
        return -fake.mean()

    def penalty(self, critic: Callable[[Tensor], Any], real: Tensor, fake: Tensor) -> Tensor:
        """``gp_weight * E[(|grad_x D(x)| - constant)^2]`` at the interpolation points.

        As the reference code's ``cal_gradient_penalty``: the input gradient of the sum of the critic's
        outputs (every patch of a patch map, every scale of a multi-scale critic), taken per sample. For a
        critic with one score per sample (DCGAN, timm) that is the paper's penalty exactly.
        """
        real, fake = real.detach(), fake.detach()
        if self.interpolation == "real":
            points = real
        elif self.interpolation == "fake":
            points = fake
        else:
            alpha = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
            points = alpha * real + (1 - alpha) * fake
        points = points.requires_grad_(True)
        scores = _sum(s.sum() for s in as_logit_list(critic(points)))
        (grad,) = torch.autograd.grad(scores, points, create_graph=True)
        norms = (grad.flatten(1) + 1e-16).norm(2, dim=1)
        return self.gp_weight * ((norms - self.constant) ** 2).mean()


class HingeLoss(AdversarialLoss):
    """Hinge loss (Geometric GAN, SAGAN, BigGAN): a margin of 1 for the discriminator, the negative
    score for the generator.

    Args:
        r1_weight: R1's weight on the discriminator's gradient at real samples (gamma; 0: none).
        r1_interval: take R1 every this many iterations, that many times as strong (only with r1_weight).
    """

    def __init__(self, *, r1_weight: float = 0.0, r1_interval: int = 1) -> None:
        super().__init__()
        self._set_r1(r1_weight, r1_interval)

    def scale_discriminator_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()

    def scale_generator_loss(self, fake: Tensor) -> Tensor:
        return -fake.mean()
