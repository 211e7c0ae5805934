"""One DCGAN iteration: the discriminator on real and generated images, then the generator."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ganzoo import Step


class DCGANStep(Step):
    """G: noise -> image; D: image -> logit."""

    #: A 4x4 grid of samples.
    grid_size = 16

    def train_step(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        real = batch["image"]
        gen, disc = self.nets["gen"], self.nets["disc"]
        turn = self.generator_turn
        with torch.set_grad_enabled(turn):
            fake = gen(gen.noise(real.shape[0], device=real.device))
        loss_d = self.discriminator_loss(disc, real, fake, scale=1.0)
        self.update("D", loss_d)
        logs = {"D": loss_d.detach()}
        if turn:
            with self.frozen(disc):
                loss_g = self.adversarial.generator_loss(disc(fake))
                self.update("G", loss_g)
            logs["G_gan"] = loss_g.detach()
        return logs

    def fixed_inputs(self, data: Any) -> dict[str, Any]:
        """Seeded noise: the same 16 samples at every grid."""
        gen = self.nets["gen"]
        return {"noise": gen.noise(self.grid_size, generator=torch.Generator().manual_seed(1234)).to(self.device)}

    def sample_rows(self, fixed: dict[str, Any]) -> dict[str, list[Tensor]]:
        """One block: a square of samples from the fixed noise."""
        images = self.nets["gen"](fixed["noise"])
        side = max(1, int(len(images) ** 0.5))
        return {"samples": [images[i:i + side] for i in range(0, side * side, side)]}
