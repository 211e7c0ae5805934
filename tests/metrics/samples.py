"""Small test images in ganzoo's range, shared by the FID/KID tests and the test network's calibration."""

from __future__ import annotations

import torch


def images(n: int, size: int = 32, seed: int = 0, channels: int = 3) -> torch.Tensor:
    """Smooth colour fields with noise, in [-1, 1]: something between flat and white noise."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, channels, 4, 4, generator=g) * 2 - 1
    fields = torch.nn.functional.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)
    return (fields + 0.2 * torch.randn(n, channels, size, size, generator=g)).clamp(-1, 1)


def pale(x: torch.Tensor) -> torch.Tensor:
    """The same kind of images, paler and with less contrast: another distribution."""
    return (x * 0.5 + 0.3).clamp(-1, 1)
