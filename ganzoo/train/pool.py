"""The image pool of Shrivastava et al. (https://arxiv.org/abs/1612.07828), as CycleGAN uses it: the
discriminator sees a mix of current fakes and fakes from earlier iterations, which steadies training."""

from __future__ import annotations

import random
from typing import Any

import torch
from torch import Tensor


class ImagePool:
    """Keeps up to ``size`` past fakes; each query returns, per image, the new one or (half the time,
    once the pool is full) a stored one, which the new one replaces. ``size=0`` returns the input."""

    def __init__(self, size: int = 50) -> None:
        self.size = size
        self.images: list[Tensor] = []

    def query(self, images: Tensor) -> Tensor:
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            image = image.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif random.random() > 0.5:
                index = random.randrange(self.size)
                out.append(self.images[index].clone())
                self.images[index] = image.clone()
            else:
                out.append(image)
        return torch.cat(out, 0)

    def state_dict(self) -> dict[str, Any]:
        # float32 whatever the run's precision stored (bf16 fakes), so a plain run resumes from it
        return {"size": self.size, "images": torch.cat(self.images).cpu().float() if self.images else torch.empty(0)}

    def load_state_dict(self, state: dict[str, Any], *, device: torch.device | str = "cpu") -> None:
        self.size = int(state["size"])
        images = state["images"]
        self.images = [img.unsqueeze(0).to(device) for img in images] if images.numel() else []
