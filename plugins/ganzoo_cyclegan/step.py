"""One CycleGAN iteration, in the reference code's order: both generators, then both discriminators."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ganzoo import ImagePool, InvalidOptionError, Step


class CycleGANStep(Step):
    """G_AB: A -> B and G_BA: B -> A; D_B judges B images, D_A judges A images."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        size = int(self.hparams.get("pool_size", 50))
        self.pool_a, self.pool_b = ImagePool(size), ImagePool(size)
        self.pretrain_steps = int(self.hparams.get("pretrain_steps", 0))
        self.gen_warmup_steps = int(self.hparams.get("gen_warmup_steps", 0))
        self.cycle_flips = bool(self.hparams.get("cycle_flips", False))
        self.identity_boost = float(self.hparams.get("identity_boost", 1.0))
        self.identity_boost_steps = int(self.hparams.get("identity_boost_steps", 0))
        gen = self.nets["gen_ab"]
        channels = getattr(gen, "in_channels", None), getattr(gen, "out_channels", None)
        if self.pretrain_steps and None not in channels and channels[0] != channels[1]:
            raise InvalidOptionError(channels_message(*channels))  # before training; a generator that
            # does not say its channels is checked at the first pre-training iteration

    def train_step(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        real_a, real_b = batch["A"], batch["B"]
        if self.iteration < self.pretrain_steps:
            return self._pretraining_step(real_a, real_b)
        g_ab, g_ba, d_a, d_b = (self.nets[k] for k in ("gen_ab", "gen_ba", "disc_a", "disc_b"))
        logs: dict[str, Tensor] = {}
        turn = self.generator_turn
        with torch.set_grad_enabled(turn):
            fake_b, fake_a = g_ab(real_a), g_ba(real_b)
        if turn:
            with self.frozen(d_a, d_b):
                losses = self._generator_losses(real_a, real_b, fake_a, fake_b)
                self.update("G", sum(losses.values()))
            logs.update({k: v.detach() for k, v in losses.items()})
        loss_d_b = self.discriminator_loss(d_b, real_b, self.pool_b.query(fake_b))
        loss_d_a = self.discriminator_loss(d_a, real_a, self.pool_a.query(fake_a))
        self.update("D", loss_d_a + loss_d_b)
        logs.update({"D_A": loss_d_a.detach(), "D_B": loss_d_b.detach()})
        return logs

    def lr_scale(self, group: str) -> float:
        """The generators' warm-up (``gen_warmup_steps``, n): their rate climbs linearly from 1/n of the
        schedule's at the first iteration after pre-training to all of it at the n-th (iterations, not
        updates: with a critic's extra steps the generators update on fewer of them). Why: on the toy, at
        full rate, the first updates against untrained discriminators undid the pre-training
        (docs/recipes/cyclegan.md, "Pre-training and a warm-up on the toy")."""
        if group != "G" or not self.gen_warmup_steps or self.game_iteration < 0:
            return 1.0
        return min(1.0, (self.game_iteration + 1) / self.gen_warmup_steps)

    @property
    def game_iteration(self) -> int:
        """Iterations since the adversarial game began: 0 at its first, after any pre-training; negative
        while the generators pre-train. The clock of the game's ramps (the warm-up, the identity boost)."""
        return self.iteration - self.pretrain_steps

    def _pretraining_step(self, real_a: Tensor, real_b: Tensor) -> dict[str, Tensor]:
        """An iteration of the generators' pre-training (``pretrain_steps``; CartoonGAN's initialization
        phase, Chen, Lai, Liu, CVPR 2018, with the pixels' L1 where CartoonGAN compares VGG features):
        each generator learns to give its own input back while the discriminators rest and the pools
        stay empty, so that the adversarial game starts from the identity map, where every region keeps
        its outline, rather than from random weights, which may settle on two kinds of object trading
        colours and outlines (a permutation the cycle loss accepts; docs/recipes/cyclegan.md)."""
        if real_a.shape[1] != real_b.shape[1]:
            raise InvalidOptionError(channels_message(real_a.shape[1], real_b.shape[1]))
        # in float32 whatever the run's precision, as ganzoo's own losses are
        losses = {"G_pretrain_A": F.l1_loss(self.nets["gen_ab"](real_a).float(), real_a.float()),
                  "G_pretrain_B": F.l1_loss(self.nets["gen_ba"](real_b).float(), real_b.float())}
        self.update("G", sum(losses.values()))
        return {k: v.detach() for k, v in losses.items()}

    def _generator_losses(self, real_a: Tensor, real_b: Tensor, fake_a: Tensor, fake_b: Tensor) -> dict[str, Tensor]:
        g_ab, g_ba, d_a, d_b = (self.nets[k] for k in ("gen_ab", "gen_ba", "disc_a", "disc_b"))
        losses = {
            "G_gan_AB": self.adversarial.generator_loss(d_b(fake_b)),
            "G_gan_BA": self.adversarial.generator_loss(d_a(fake_a)),
            "G_cycle_A": self._cycle_loss(g_ba, fake_b, real_a, offset=0),
            "G_cycle_B": self._cycle_loss(g_ab, fake_a, real_b, offset=2),
        }
        if self.has_aux("feature_matching"):  # each translation against the real images of its domain
            losses["G_feat_AB"] = self.feature_matching(d_b, fake_b, real_b)
            losses["G_feat_BA"] = self.feature_matching(d_a, fake_a, real_a)
        if self.has_aux("identity") and real_a.shape[1] == real_b.shape[1]:
            # The reference scales identity by the cycle weight (lambda_identity * lambda_A).
            cycle_weight = self.aux["cycle"].weight if "cycle" in self.aux else 1.0
            scale = cycle_weight * self.identity_factor()
            losses["G_idt_A"] = self.weighted("identity", g_ab(real_b), real_b, scale=scale)
            losses["G_idt_B"] = self.weighted("identity", g_ba(real_a), real_a, scale=scale)
        return losses

    def identity_factor(self) -> float:
        """How many times its weight the identity term counts now: ``identity_boost`` at the adversarial
        game's first iteration (after any pre-training), falling linearly to 1 at the
        ``identity_boost_steps``-th. Why: on the toy a run's colours settle in its first few hundred
        steps, and some seeds settled two kinds' colours swapped (a permutation the cycle undoes); the
        identity term, which holds each colour that is already right, is what keeps them, so it counts
        more while they settle (docs/recipes/cyclegan.md, "An early identity boost with flipped
        cycles")."""
        if not self.identity_boost_steps:
            return 1.0
        left = max(0.0, 1.0 - max(0, self.game_iteration) / self.identity_boost_steps)
        return 1.0 + (self.identity_boost - 1.0) * left

    def _cycle_loss(self, back: Any, translated: Tensor, real: Tensor, *, offset: int) -> Tensor:
        """The cycle term: ``back`` (the other generator) should give ``real`` back from its translation.

        With ``cycle_flips`` each translation is flipped before it goes back, and compared with its input
        flipped alike: image i of the batch at the generators' t-th update by code (i + t + offset) % 4
        (none, left-right, up-down, both), so every image meets every flip and a resumed run repeats them.
        Why: a translation drawn off by part of a pixel is undone by the other generator drawing back the
        other way, which the plain cycle accepts; through a flip along the shift's axis the two shifts add
        up instead (half the codes flip along each axis). (A kin of GcGAN's geometry
        consistency, Fu et al., CVPR 2019, at no extra cost: no generator runs more often.) On the toy the
        generators had drawn the shapes' rims off so (docs/recipes/cyclegan.md)."""
        if not self.cycle_flips:
            return self.weighted("cycle", back(translated), real)
        codes = (torch.arange(real.shape[0], device=real.device) + self.generator_turns + offset) % 4
        return self.weighted("cycle", back(flipped(translated, codes)), flipped(real, codes))

    def sample_rows(self, fixed: dict[str, Any]) -> dict[str, Tensor]:
        real_a, real_b = fixed["A"], fixed["B"]
        g_ab, g_ba = self.nets["gen_ab"], self.nets["gen_ba"]
        fake_b, fake_a = g_ab(real_a), g_ba(real_b)
        return {"input A": real_a, "translated to B": fake_b, "reconstructed A": g_ba(fake_b),
                "input B": real_b, "translated to A": fake_a, "reconstructed B": g_ab(fake_a)}

    def monitor(self, means: dict[str, float]) -> float | None:
        """The generators' losses (what a plateau schedule should watch); None over an interval with
        pre-training in it, whose reconstruction losses are no baseline for the adversarial ones."""
        if any(k.startswith("G_pretrain") for k in means):
            return None
        return sum(v for k, v in means.items() if k.startswith("G_"))

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "pool_a": self.pool_a.state_dict(), "pool_b": self.pool_b.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.pool_a.load_state_dict(state["pool_a"], device=self.device)
        self.pool_b.load_state_dict(state["pool_b"], device=self.device)


def flipped(images: Tensor, codes: Tensor) -> Tensor:
    """Each image flipped by its code: 0 none, 1 left-right, 2 up-down, 3 both."""
    view = (-1,) + (1,) * (images.dim() - 1)
    horizontal = (codes % 2 == 1).view(view)
    vertical = (codes >= 2).view(view)
    images = torch.where(horizontal, images.flip(-1), images)
    return torch.where(vertical, images.flip(-2), images)


def channels_message(a: int, b: int) -> str:
    return f"pretrain_steps needs as many channels on both sides (A has {a}, B {b}): set pretrain_steps=0"
