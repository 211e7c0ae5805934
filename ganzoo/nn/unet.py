"""U-Net generator of pix2pix: an encoder-decoder with skip connections between mirrored layers.

Paper: https://arxiv.org/abs/1611.07004 (pix2pix), after https://arxiv.org/abs/1505.04597 (U-Net).
Built recursively from the innermost block outwards, with the reference code's module layout
(``model.model.1.model.3...``) so that its checkpoints load with their own key names.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Sequence

import torch
from torch import Tensor, nn

from ganzoo.nn.contract import check_encoder_layers
from ganzoo.nn.layers import check_option, conv_bias, norm_layer, run_to_taps, weight_of
from ganzoo.recipe import Value


class UnetSkipBlock(nn.Module):
    """One level: downsample, the inner levels, upsample, then concatenate with the level's input.

    The outermost level maps the image to the output and returns it without a skip connection.
    """

    def __init__(self, outer: int, inner: int, *, in_channels: int | None = None,
                 submodule: nn.Module | None = None, outermost: bool = False, innermost: bool = False,
                 norm: str = "batch", dropout: bool = False) -> None:
        super().__init__()
        self.outermost, self.innermost = outermost, innermost
        make_norm, bias = norm_layer(norm), conv_bias(norm)
        in_channels = outer if in_channels is None else in_channels
        down_conv = nn.Conv2d(in_channels, inner, kernel_size=4, stride=2, padding=1, bias=bias)
        if outermost:
            up_conv = nn.ConvTranspose2d(inner * 2, outer, kernel_size=4, stride=2, padding=1)
            layers = [down_conv, submodule, nn.ReLU(True), up_conv, nn.Tanh()]
        elif innermost:
            up_conv = nn.ConvTranspose2d(inner, outer, kernel_size=4, stride=2, padding=1, bias=bias)
            layers = [nn.LeakyReLU(0.2, True), down_conv, nn.ReLU(True), up_conv, make_norm(outer)]
        else:
            up_conv = nn.ConvTranspose2d(inner * 2, outer, kernel_size=4, stride=2, padding=1, bias=bias)
            layers = [nn.LeakyReLU(0.2, True), down_conv, make_norm(inner), submodule,
                      nn.ReLU(True), up_conv, make_norm(outer)]
            if dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)

    def encoder_steps(self, level: int) -> Iterator[tuple[nn.Module, str | None]]:
        """This level's downsampling layers, then the inner levels', each with the tap name of its
        output (``down{level}`` after the last one). A generator, so that nothing deeper is visited once
        the caller stops."""
        n_down = 1 if self.outermost else 2 if self.innermost else 3  # (LeakyReLU,) conv (, norm)
        for i, layer in enumerate(self.model[:n_down]):
            yield layer, (f"down{level}" if i == n_down - 1 else None)
        if not self.innermost:
            yield from self.model[n_down].encoder_steps(level + 1)


class UnetGenerator(nn.Module):
    """U-Net generator: ``num_downs`` stride-2 levels, so a side of ``2**num_downs`` reaches 1x1.

    Args:
        in_channels: channels of the input image.
        out_channels: channels of the output image.
        ngf: width of the outermost level; inner levels double it up to ``8 * ngf``.
        num_downs: downsamplings (8 for 256x256 images, 7 for 128x128); at least 5.
        norm: ``batch`` (pix2pix), ``instance`` or ``none``.
        dropout: dropout 0.5 in the innermost ``8 * ngf`` levels (pix2pix's only source of noise).

    :meth:`encode` taps the contracting path (``encoder_layers``): ``down1`` ... ``down{num_downs}``,
    level K's downsampled output at 1/2**K of the input side: its stride-2 convolution, followed by its
    norm where the level has one (levels 2 to ``num_downs - 1``), taken before level K+1's LeakyReLU
    (which the reference applies in place, also to the skip connection). ``down{num_downs}`` is the 1x1
    bottleneck at the matching input size.
    """

    input_kind = "image"

    def __init__(self, *, in_channels: int = 3, out_channels: int = 3, ngf: int = 64, num_downs: int = 8,
                 norm: str = "batch", dropout: bool = False) -> None:
        super().__init__()
        for name, value in {"in_channels": in_channels, "out_channels": out_channels, "ngf": ngf}.items():
            check_option(name, value)
        check_option("num_downs", num_downs, Value(int, min=5))
        self.in_channels, self.out_channels = in_channels, out_channels
        #: Each level halves the side, so it must divide by 2**num_downs, and that is also the smallest
        #: side (the innermost level then works on 1x1 maps).
        self.size_multiple = self.min_size = 2**num_downs
        block = UnetSkipBlock(ngf * 8, ngf * 8, innermost=True, norm=norm)
        for _ in range(num_downs - 5):
            block = UnetSkipBlock(ngf * 8, ngf * 8, submodule=block, norm=norm, dropout=dropout)
        for mult in (4, 2, 1):
            block = UnetSkipBlock(ngf * mult, ngf * mult * 2, submodule=block, norm=norm)
        self.model = UnetSkipBlock(out_channels, ngf, in_channels=in_channels, submodule=block,
                                   outermost=True, norm=norm)
        #: The names :meth:`encode` accepts, outermost level first.
        self.encoder_layers: tuple[str, ...] = tuple(f"down{k}" for k in range(1, num_downs + 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)

    def encode(self, x: Tensor, layers: Sequence[str]) -> list[Tensor]:
        """The outputs of the named levels (see the class docstring), in the order asked for.

        Runs only the contracting path, and only down to the deepest level asked for.

        Raises:
            GanzooError: a name is not in ``encoder_layers`` (the message lists them).
        """
        check_encoder_layers(self, layers)
        return run_to_taps(self.model.encoder_steps(1), x, layers)

    @classmethod
    def options_from_state_dict(cls, state: Mapping[str, Tensor]) -> dict[str, Any]:
        """The options that rebuild the network a state dict came from (reference checkpoints included).

        The depth is the number of nested levels (each level's block sits at ``.model.3`` of the one
        outside it, its down-convolution at ``.model.1``). Dropout leaves no trace in the tensors (its
        module comes last in a level), so it is reported off; it changes nothing in eval mode.
        """
        down = weight_of(state, "model.model.0.weight", ndim=4)
        up = weight_of(state, "model.model.3.weight", ndim=4)
        depth, prefix = 1, "model.model.1"
        while f"{prefix}.model.1.weight" in state:
            depth, prefix = depth + 1, f"{prefix}.model.3"
        return {
            "in_channels": down.shape[1],
            "out_channels": up.shape[1],
            "ngf": down.shape[0],
            "num_downs": depth,
            "norm": "batch" if "model.model.1.model.2.weight" in state else "instance",
            "dropout": False,
        }
