"""Recipes are data; steps are the algorithm of one training iteration.

A :class:`Recipe` declares its slots (data mode, generator, discriminator, adversarial loss), their
defaults, the auxiliary losses with weights, the hyper-parameters of the paper, and the :class:`Step`
class that trains. Any registered component that fits a slot can be put in it. A variant of a recipe is
``dataclasses.replace(recipe, ...)``.

A step gets its networks, losses and optimizers built by the engine and returns a dict of scalar logs. It
never branches on a component's name: losses and networks are used through their interfaces.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any, Callable, ClassVar, Iterable, Mapping

import torch
from torch import Tensor, nn

from ganzoo.losses.adversarial import AdversarialLoss


@dataclasses.dataclass(frozen=True)
class Slot:
    """A place in a recipe that any fitting component can fill.

    Attributes:
        kind: the registry kind (``generator``, ``discriminator``, ``loss``, ``data_mode``).
        default: the registry name used unless the user picks another.
        options: the recipe's settings for whatever component fills the slot (``norm="instance"``);
            options the chosen component does not take are dropped, the user's ``--set`` wins.
        copies: names of the instances the step uses (CycleGAN has ``gen_ab`` and ``gen_ba``).
        choices: for data modes, the values the recipe can use (empty: only the default).
    """

    kind: str
    default: str
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    copies: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A GAN training recipe, declared as data.

    Attributes:
        name: what users type after ``ganzoo run``.
        summary: one line.
        paper: link to the paper.
        data_mode, generator, discriminator, adversarial_loss: the slots.
        step: the :class:`Step` subclass that trains one iteration.
        aux_losses: reconstruction losses by registry name, with their weights.
        hparams: the paper's hyper-parameters (``lr``, ``beta1``, ``batch_size``, ``image_size``, ...).
        toy: what changes when training on the embedded toy set: ``data``, ``steps``, ``hparams``, and
            options under ``generator``, ``discriminator``, ``loss`` and ``data_options`` (each applied
            where the chosen component takes it): a schedule that learns in minutes on a CPU.
    """

    name: str
    summary: str
    paper: str
    data_mode: Slot
    generator: Slot
    discriminator: Slot
    adversarial_loss: Slot
    step: type["Step"]
    aux_losses: Mapping[str, float] = dataclasses.field(default_factory=dict)
    hparams: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    toy: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def slots(self) -> dict[str, Slot]:
        """The slots by role, in the order the CLI shows them."""
        return {
            "generator": self.generator,
            "discriminator": self.discriminator,
            "adversarial_loss": self.adversarial_loss,
            "data_mode": self.data_mode,
        }


class Step:
    """One training iteration; subclasses implement :meth:`train_step` and what to show and score.

    Class attributes declare what the engine must build:

    - ``generator_input``: ``"image"`` (translation) or ``"noise"``.
    - ``optimizer_groups``: optimizer name -> the networks it updates.
    """

    generator_input: ClassVar[str] = "image"
    optimizer_groups: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init__(self, *, nets: dict[str, nn.Module], adversarial: AdversarialLoss,
                 aux: dict[str, tuple[Callable[[Tensor, Tensor], Tensor], float]],
                 optimizers: dict[str, torch.optim.Optimizer], hparams: Mapping[str, Any],
                 device: torch.device) -> None:
        self.nets, self.adversarial, self.aux = nets, adversarial, aux
        self.optimizers, self.hparams, self.device = optimizers, hparams, device
        self.iteration = 0

    # -- what the engine asks ------------------------------------------------------------------

    @staticmethod
    def discriminator_channels(in_channels: int, out_channels: int) -> int:
        """Channels the discriminator sees (conditional discriminators see input and output)."""
        return out_channels

    def train_step(self, batch: dict[str, Any]) -> dict[str, float]:
        """Run one iteration on a batch already on the device; return scalar logs."""
        raise NotImplementedError

    def sample_rows(self, fixed: dict[str, Any]) -> list[Tensor]:
        """Rows of images (each (N, C, H, W) in [-1, 1]) for the sample grid of fixed inputs."""
        raise NotImplementedError

    def inference(self, direction: str = "AtoB") -> Callable[..., Tensor]:
        """The model as a function: ``f(inputs)`` for translation, ``f(n)`` for sampling.

        ``AtoB`` goes from the input side to the target side as trained (the data's ``direction``
        already decided which domain is the input); ``BtoA`` goes back, where the recipe can."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """Extra state to checkpoint (image pools, ...)."""
        return {"iteration": self.iteration}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.iteration = int(state["iteration"])

    # -- helpers for subclasses ----------------------------------------------------------------

    @property
    def generator_turn(self) -> bool:
        """Whether this iteration updates the generator (a critic may take several steps per one)."""
        return self.iteration % max(1, self.adversarial.critic_steps) == 0

    @staticmethod
    def requires_grad(nets: Iterable[nn.Module], flag: bool) -> None:
        """Freeze or unfreeze networks (discriminators are frozen during the generator's update)."""
        for net in nets:
            for p in net.parameters():
                p.requires_grad_(flag)

    @contextlib.contextmanager
    def frozen(self, *nets: nn.Module):
        """Discriminators take no gradient inside (during the generator's update), and do again after."""
        self.requires_grad(nets, False)
        try:
            yield
        finally:
            self.requires_grad(nets, True)

    def update(self, group: str, loss: Tensor) -> None:
        """One optimizer step of ``group`` on ``loss``."""
        optimizer = self.optimizers[group]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def discriminator_loss(self, disc: nn.Module, real: Tensor, fake: Tensor, *, scale: float = 0.5) -> Tensor:
        """The adversarial loss on real and (detached) fake inputs, times ``scale`` (the reference
        halves it to slow the discriminator), plus the loss's penalty."""
        fake = fake.detach()
        loss = scale * self.adversarial.discriminator_loss(disc(real), disc(fake))
        return loss + self.adversarial.penalty(disc, real, fake)

    def weighted(self, name: str, output: Tensor, target: Tensor, *, scale: float = 1.0) -> Tensor:
        """An auxiliary loss times its weight (and ``scale``); zero when the recipe's weight is 0."""
        loss, weight = self.aux[name]
        if weight * scale == 0:
            return output.new_zeros(())
        return loss(output, target) * weight * scale

    def has_aux(self, name: str) -> bool:
        return name in self.aux and self.aux[name][1] != 0

    def eval_mode(self):
        """A context in which every network is in eval mode (restored afterwards)."""
        return _EvalMode(self.nets.values())


class _EvalMode:
    def __init__(self, nets: Iterable[nn.Module]) -> None:
        self.nets = list(nets)
        self.modes: list[bool] = []

    def __enter__(self) -> None:
        self.modes = [n.training for n in self.nets]
        for n in self.nets:
            n.eval()

    def __exit__(self, *exc: Any) -> None:
        for n, mode in zip(self.nets, self.modes):
            n.train(mode)
