"""One iteration of the ``pairgan`` recipe: the discriminator, then the generator."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ganzoo import Step


class PairGANStep(Step):
    """G: A -> B; D judges B images alone (unconditional), and G also pays the reconstruction term."""

    def train_step(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        real_a, real_b = batch["A"], batch["B"]
        gen, disc = self.nets["gen"], self.nets["disc"]
        turn = self.generator_turn  # False on a critic's extra steps (wgan-gp): no graph through G
        with torch.set_grad_enabled(turn):
            fake_b = gen(real_a)
        loss_d = self.discriminator_loss(disc, real_b, fake_b)
        self.update("D", loss_d)
        logs = {"D": loss_d.detach()}
        if turn:
            with self.frozen(disc):
                loss_gan = self.adversarial.generator_loss(disc(fake_b))
                loss_rec = self.weighted("rec", fake_b, real_b)
                self.update("G", loss_gan + loss_rec)
            logs.update({"G_gan": loss_gan.detach(), "G_rec": loss_rec.detach()})
        return logs

    def sample_rows(self, fixed: dict[str, Any]) -> dict[str, Tensor]:
        return {"input": fixed["A"], "translation": self.nets["gen"](fixed["A"]), "target (truth)": fixed["B"]}

    def monitor(self, means: dict[str, float]) -> float:
        """The generator's losses (what a plateau schedule watches)."""
        return sum(v for k, v in means.items() if k.startswith("G_"))
