"""One Pix2Pix iteration, in the reference code's order: the discriminator, then the generator."""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import Tensor

from ganzoo.recipe import Step


class Pix2PixStep(Step):
    """G: A -> B; D judges (A, B) pairs, the input concatenated with a real or generated output."""

    optimizer_groups = {"G": ("gen",), "D": ("disc",)}

    @staticmethod
    def discriminator_channels(in_channels: int, out_channels: int) -> int:
        return in_channels + out_channels

    def train_step(self, batch: dict[str, Any]) -> dict[str, float]:
        real_a, real_b = batch["A"], batch["B"]
        gen, disc = self.nets["gen"], self.nets["disc"]
        turn = self.generator_turn
        with torch.set_grad_enabled(turn):
            fake_b = gen(real_a)
        loss_d = self.discriminator_loss(disc, torch.cat([real_a, real_b], 1), torch.cat([real_a, fake_b], 1))
        self.update("D", loss_d)
        logs = {"D": loss_d.item()}
        if turn:
            with self.frozen(disc):
                loss_gan = self.adversarial.generator_loss(disc(torch.cat([real_a, fake_b], 1)))
                loss_l1 = self.weighted("l1", fake_b, real_b)
                self.update("G", loss_gan + loss_l1)
            logs.update({"G_gan": loss_gan.item(), "G_l1": loss_l1.item()})
        return logs

    def sample_rows(self, fixed: dict[str, Any]) -> list[Tensor]:
        return [fixed["A"], self.nets["gen"](fixed["A"]), fixed["B"]]

    def inference(self, direction: str = "AtoB") -> Callable[[Tensor], Tensor]:
        if direction != "AtoB":
            from ganzoo.errors import GanzooError

            raise GanzooError("pix2pix trains one direction; train with --set direction=BtoA for the other")
        return self.nets["gen"]
