"""The resize-convolution U-Net: imported the first time a ``resize-unet`` is built, never by ``ganzoo list``."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

import ganzoo


class ResizeUnetGenerator(nn.Module):
    """U-Net that upsamples by resizing and convolving, free of checkerboard artefacts.

    A transposed convolution whose kernel is not a multiple of its stride overlaps unevenly and paints a
    checkerboard on the output; nearest-neighbour upsampling followed by a 3x3 convolution cannot
    (Odena, Dumoulin, Olah, "Deconvolution and Checkerboard Artifacts", Distill 2016,
    https://distill.pub/2016/deconv-checkerboard/). Each decoder level sees the encoder's output of the
    same size (the U-Net's skips), so details of the input reach the output directly.

    Args:
        in_channels: channels of the input image.
        out_channels: channels of the output image (in [-1, 1], after tanh).
        ngf: channels of the full-size level; each level down doubles them, up to 8 * ngf.
        depth: how many times the encoder halves the image; sides must be multiples of 2**depth.
        norm: ``instance``, ``batch`` or ``none``.
    """

    input_kind = "image"

    def __init__(self, *, in_channels: int = 3, out_channels: int = 3, ngf: int = 32, depth: int = 4,
                 norm: str = "instance") -> None:
        super().__init__()
        for option, value in (("in_channels", in_channels), ("out_channels", out_channels), ("ngf", ngf),
                              ("depth", depth)):
            if not isinstance(value, int) or value < 1:
                raise ganzoo.InvalidOptionError(f"{option} must be a whole number of at least 1, got {value!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.size_multiple = 2 ** depth
        self.min_size = 2 ** (depth + 1)  # instance norm needs more than one pixel at the deepest level
        self.encoder_layers = ("stem", *(f"down{i}" for i in range(1, depth + 1)))
        norm_of = ganzoo.norm_layer(norm)
        widths = [ngf * min(2 ** level, 8) for level in range(depth + 1)]
        self.stem = nn.Sequential(nn.Conv2d(in_channels, ngf, 3, padding=1), norm_of(ngf), nn.LeakyReLU(0.2))
        self.downs = nn.ModuleList(
            nn.Sequential(nn.Conv2d(widths[i], widths[i + 1], 4, stride=2, padding=1), norm_of(widths[i + 1]),
                          nn.LeakyReLU(0.2))
            for i in range(depth))
        # ups[i] brings level i + 1 back to level i: resize, then a 3x3 convolution over it and the skip.
        self.ups = nn.ModuleList(
            nn.Sequential(nn.Conv2d(widths[i + 1] + widths[i], widths[i], 3, padding=1), norm_of(widths[i]),
                          nn.ReLU())
            for i in range(depth))
        self.head = nn.Conv2d(ngf, out_channels, 3, padding=1)

    def encode(self, x: Tensor, layers: list[str]) -> list[Tensor]:
        """The outputs of the named encoder layers (``stem``, ``down1`` ... ``downN``, each the activation
        after that level's norm), in the order asked for; the decoder never runs."""
        unknown = [name for name in layers if name not in self.encoder_layers]
        if unknown:
            raise ganzoo.GanzooError(f"resize-unet has no encoder layer {unknown[0]!r}; its layers: "
                                     f"{', '.join(self.encoder_layers)}")
        deepest = max(self.encoder_layers.index(name) for name in layers) if layers else -1
        outputs = self._encoder(x, levels=deepest)
        return [outputs[self.encoder_layers.index(name)] for name in layers]

    def _encoder(self, x: Tensor, *, levels: int) -> list[Tensor]:
        """The stem's output and those of the first ``levels`` downsamplings (all of them: ``len(downs)``)."""
        if levels < 0:
            return []
        outputs = [self.stem(x)]
        for down in self.downs[:levels]:
            outputs.append(down(outputs[-1]))
        return outputs

    def forward(self, x: Tensor) -> Tensor:
        skips = self._encoder(x, levels=len(self.downs))
        y = skips.pop()
        for up in reversed(self.ups):
            y = up(torch.cat([F.interpolate(y, scale_factor=2, mode="nearest"), skips.pop()], dim=1))
        return torch.tanh(self.head(y))
