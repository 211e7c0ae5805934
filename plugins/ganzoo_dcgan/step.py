"""One DCGAN iteration: the discriminator on real and generated images, then the generator."""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import Tensor

from ganzoo.recipe import Step


class DCGANStep(Step):
    """G: noise -> image; D: image -> logit."""

    generator_input = "noise"
    optimizer_groups = {"G": ("gen",), "D": ("disc",)}

    def train_step(self, batch: dict[str, Any]) -> dict[str, float]:
        real = batch["image"]
        gen, disc = self.nets["gen"], self.nets["disc"]
        turn = self.generator_turn
        with torch.set_grad_enabled(turn):
            fake = gen(gen.noise(real.shape[0], device=real.device))
        loss_d = self.discriminator_loss(disc, real, fake, scale=1.0)
        self.update("D", loss_d)
        logs = {"D": loss_d.item()}
        if turn:
            with self.frozen(disc):
                loss_g = self.adversarial.generator_loss(disc(fake))
                self.update("G", loss_g)
            logs["G_gan"] = loss_g.item()
        return logs

    def sample_rows(self, fixed: dict[str, Any]) -> list[Tensor]:
        images = self.nets["gen"](fixed["noise"])
        side = max(1, int(len(images) ** 0.5))
        return [images[i:i + side] for i in range(0, side * side, side)]

    def inference(self, direction: str = "AtoB") -> Callable[[int], Tensor]:
        gen = self.nets["gen"]
        device = next(gen.parameters()).device

        def sample(n: int, *, seed: int = 0) -> Tensor:
            noise = gen.noise(n, generator=torch.Generator().manual_seed(seed)).to(device)
            return gen(noise)

        return sample
