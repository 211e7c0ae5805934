"""Anti-aliased resampling (Zhang, "Making Convolutional Networks Shift-Invariant Again", ICML 2019,
https://arxiv.org/abs/1904.11486), as CUT's ResNet generator uses it.

A strided convolution samples its input without first removing the frequencies that the coarser grid
cannot hold, so a one-pixel shift of the input changes the output; blurring with a small binomial filter
before taking every second pixel (and after inserting them, going up) fixes that. CUT (Park et al. 2020)
builds its generator this way; its modules are ``Downsample`` and ``Upsample`` in
https://github.com/taesungp/contrastive-unpaired-translation models/networks.py, each holding its filter
as a buffer named ``filt``. These keep that name and shape, so CUT's checkpoints hold the same tensors.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def binomial_filter(size: int) -> Tensor:
    """The normalised 2-D binomial filter of ``size`` taps (3: [1, 2, 1] x [1, 2, 1] / 16)."""
    row = torch.tensor([float(math.comb(size - 1, k)) for k in range(size)])
    kernel = row[:, None] * row[None, :]
    return kernel / kernel.sum()


class BlurDownsample(nn.Module):
    """Blur with a 3x3 binomial filter (reflection padding), then keep every second pixel: halves the side."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.pad = nn.ReflectionPad2d(1)
        self.register_buffer("filt", binomial_filter(3)[None, None].repeat(channels, 1, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(self.pad(x), self.filt.to(x.dtype), stride=2, groups=x.shape[1])


class BlurUpsample(nn.Module):
    """Insert zeros between pixels and blur with a 4x4 binomial filter (replication padding, gain 4 to
    keep the brightness): doubles the side. The transposed convolution and the crop are CUT's."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.pad = nn.ReplicationPad2d(1)
        self.register_buffer("filt", (binomial_filter(4) * 4)[None, None].repeat(channels, 1, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        up = F.conv_transpose2d(self.pad(x), self.filt.to(x.dtype), stride=2, padding=2, groups=x.shape[1])
        return up[:, :, 1:-1, 1:-1]
