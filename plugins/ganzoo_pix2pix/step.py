"""One Pix2Pix iteration, in the reference code's order: the discriminator, then the generator."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ganzoo import Step


class Pix2PixStep(Step):
    """G: A -> B; D judges (A, B) pairs, the input concatenated with a real or generated output."""

    @staticmethod
    def discriminator_channels(in_channels: int, out_channels: int) -> int:
        return in_channels + out_channels

    def train_step(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        real_a, real_b = batch["A"], batch["B"]
        gen, disc = self.nets["gen"], self.nets["disc"]
        turn = self.generator_turn
        with torch.set_grad_enabled(turn):
            fake_b = gen(real_a)
        real_ab, fake_ab = torch.cat([real_a, real_b], 1), torch.cat([real_a, fake_b], 1)
        loss_d = self.discriminator_loss(disc, real_ab, fake_ab)
        self.update("D", loss_d)
        logs = {"D": loss_d.detach()}
        if turn:
            with self.frozen(disc):
                loss_gan = self.adversarial.generator_loss(disc(fake_ab))
                loss_l1 = self.weighted("l1", fake_b, real_b)
                loss_feat = self.feature_matching(disc, fake_ab, real_ab)  # pix2pixHD's; 0 unless weighted
                self.update("G", loss_gan + loss_l1 + loss_feat)
            logs.update({"G_gan": loss_gan.detach(), "G_l1": loss_l1.detach()})
            if self.has_aux("feature_matching"):
                logs["G_feat"] = loss_feat.detach()
        return logs

    def sample_rows(self, fixed: dict[str, Any]) -> dict[str, Tensor]:
        return {"input": fixed["A"], "translation": self.nets["gen"](fixed["A"]), "target (truth)": fixed["B"]}

    def monitor(self, means: dict[str, float]) -> float:
        return sum(v for k, v in means.items() if k.startswith("G_"))
