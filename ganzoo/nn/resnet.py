"""ResNet generator of Johnson et al., as CycleGAN uses it.

Paper: https://arxiv.org/abs/1603.08155 (perceptual losses), used by CycleGAN
(https://arxiv.org/abs/1703.10593). The module layout (``model.N``, ``model.N.conv_block.M``) is the
reference code's, so its checkpoints load with their own key names.
"""

from __future__ import annotations

import re

from typing import Any, Mapping, Sequence

from torch import Tensor, nn

from ganzoo.nn.antialias import BlurDownsample, BlurUpsample
from ganzoo.nn.contract import check_encoder_layers
from ganzoo.nn.layers import check_option, conv_bias, norm_layer, padding_layer, run_to_taps, weight_of
from ganzoo.recipe import Value


class ResnetBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection (optional dropout between them)."""

    def __init__(self, dim: int, *, padding: str, norm: str, dropout: bool) -> None:
        super().__init__()
        make_norm, bias = norm_layer(norm), conv_bias(norm)

        def padded_conv() -> list[nn.Module]:
            pad, p = padding_layer(padding, 1)
            return [*pad, nn.Conv2d(dim, dim, kernel_size=3, padding=p, bias=bias), make_norm(dim)]

        layers = [*padded_conv(), nn.ReLU(True), *([nn.Dropout(0.5)] if dropout else []), *padded_conv()]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """ResNet image-to-image generator: 7x7 stem, stride-2 downsamplings (two in the paper), residual
    blocks, as many transposed-convolution upsamplings, 7x7 head with tanh.

    Args:
        in_channels: channels of the input image.
        out_channels: channels of the output image.
        ngf: width of the first layer; the blocks run at ``2**n_downsampling * ngf``.
        n_blocks: residual blocks (9 for 256x256 images, 6 for 128x128 in the paper).
        n_downsampling: stride-2 levels before the blocks (the paper's 2; pix2pixHD's global generator
            takes 3 or 4). Fewer keep more detail in small images: the blocks run at 1/2**n of the side.
        norm: ``instance`` (CycleGAN), ``batch`` or ``none``.
        dropout: dropout 0.5 inside each residual block.
        padding: ``reflect`` (the paper's), ``replicate`` or ``zero``.
        antialias: resample with blur pooling, as CUT's generator does (:mod:`ganzoo.nn.antialias`): each
            level down is a stride-1 3x3 convolution, norm, ReLU, then a blurred 2x downsampling; each
            level up a blurred 2x upsampling, then a 3x3 convolution, norm, ReLU. The layout (``model.N``
            and the filters' ``filt`` buffers) is CUT's, not the reference CycleGAN's.

    :meth:`encode` taps the encoder half (``encoder_layers``), each tap the output of one ``model.N``:

    - ``input``: the reflection-padded input (``model.0``);
    - ``stem``: the 7x7 convolution block, after its ReLU (``model.3``), ``ngf`` channels at full size;
    - ``down1``, ``down2``: the stride-2 blocks, after their ReLUs (``model.6``, ``model.9``), ``2 * ngf``
      channels at 1/2 and ``4 * ngf`` at 1/4 of the size (one per level of ``n_downsampling``);
    - ``block1`` ... ``blockN``: the residual blocks' outputs (``model.10`` ... ``model.{9 + N}`` with
      two levels).

    CUT (https://github.com/taesungp/contrastive-unpaired-translation, models/networks.py) feeds PatchNCE
    ``nce_layers`` 0, 4, 8, 12, 16 of its own (anti-aliased) generator: the padded input, the two
    downsampling levels and the first and fifth of nine residual blocks, which here are ``input, down1,
    down2, block1, block5``. CUT taps each level at its convolution's output, before the norm and the
    blur-pool downsampling (so at twice ganzoo's resolution). With ``antialias`` the ``downN`` taps are
    those convolutions' outputs, exactly CUT's layers 4 and 8; without it ganzoo taps whole blocks,
    after the ReLU.
    """

    #: What the generator consumes: an image batch (N, C, H, W).
    input_kind = "image"
    #: Input sides must be multiples of this so that downsampling and upsampling restore the size
    #: (``2**n_downsampling``: the paper's 4 here, the instance's own when built with another depth).
    size_multiple = 4
    #: The smallest side: the residual blocks' maps need more than one pixel to normalise.
    min_size = 8

    def __init__(self, *, in_channels: int = 3, out_channels: int = 3, ngf: int = 64, n_blocks: int = 9,
                 norm: str = "instance", dropout: bool = False, padding: str = "reflect",
                 n_downsampling: int = 2, antialias: bool = False) -> None:
        super().__init__()
        for name, value in {"in_channels": in_channels, "out_channels": out_channels, "ngf": ngf}.items():
            check_option(name, value)
        check_option("n_blocks", n_blocks, Value(int, min=0))
        check_option("n_downsampling", n_downsampling, Value(int, min=0, max=6))
        check_option("antialias", antialias, Value(bool))
        self.size_multiple, self.min_size = 2**n_downsampling, 2 ** (n_downsampling + 1)
        self.in_channels, self.out_channels = in_channels, out_channels
        make_norm, bias = norm_layer(norm), conv_bias(norm)
        taps: dict[int, str] = {}  # index in self.model -> the tap name of its output

        def tap(name: str) -> None:
            taps[len(layers) - 1] = name

        layers: list[nn.Module] = [nn.ReflectionPad2d(3)]
        tap("input")
        layers += [nn.Conv2d(in_channels, ngf, kernel_size=7, padding=0, bias=bias), make_norm(ngf), nn.ReLU(True)]
        tap("stem")
        n_down = n_downsampling
        for i in range(n_down):
            mult = 2**i
            if antialias:
                layers.append(nn.Conv2d(ngf * mult, ngf * mult * 2, kernel_size=3, stride=1, padding=1, bias=bias))
                tap(f"down{i + 1}")
                layers += [make_norm(ngf * mult * 2), nn.ReLU(True), BlurDownsample(ngf * mult * 2)]
                continue
            layers += [
                nn.Conv2d(ngf * mult, ngf * mult * 2, kernel_size=3, stride=2, padding=1, bias=bias),
                make_norm(ngf * mult * 2),
                nn.ReLU(True),
            ]
            tap(f"down{i + 1}")
        width = ngf * 2**n_down
        for i in range(n_blocks):
            layers.append(ResnetBlock(width, padding=padding, norm=norm, dropout=dropout))
            tap(f"block{i + 1}")
        for i in range(n_down):
            mult = 2 ** (n_down - i)
            if antialias:
                layers += [BlurUpsample(ngf * mult),
                           nn.Conv2d(ngf * mult, ngf * mult // 2, kernel_size=3, stride=1, padding=1, bias=bias),
                           make_norm(ngf * mult // 2), nn.ReLU(True)]
                continue
            layers += [
                nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, kernel_size=3, stride=2, padding=1,
                                   output_padding=1, bias=bias),
                make_norm(ngf * mult // 2),
                nn.ReLU(True),
            ]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, kernel_size=7, padding=0), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        self._taps = taps
        #: The names :meth:`encode` accepts, input side first.
        self.encoder_layers: tuple[str, ...] = tuple(taps.values())

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)

    def encode(self, x: Tensor, layers: Sequence[str]) -> list[Tensor]:
        """The outputs of the named encoder layers (see the class docstring), in the order asked for.

        Runs the network only as far as the deepest layer asked for; the decoder never runs.

        Raises:
            GanzooError: a name is not in ``encoder_layers`` (the message lists them).
        """
        check_encoder_layers(self, layers)
        return run_to_taps(((layer, self._taps.get(i)) for i, layer in enumerate(self.model)), x, layers)

    @classmethod
    def options_from_state_dict(cls, state: Mapping[str, Tensor]) -> dict[str, Any]:
        """The options that rebuild the network a state dict came from (reference checkpoints included).

        Widths and channels come from the stem and the head, the depth from the residual blocks present,
        the norm from whether batch-norm weights exist, and dropout from the block layout: a Dropout
        module shifts the block's second convolution from ``conv_block.5`` to ``conv_block.6``.
        """
        stem = weight_of(state, "model.1.weight", ndim=4)
        blocks = sorted({int(m.group(1)) for key in state if (m := re.match(r"model\.(\d+)\.conv_block\.", key))})
        head = max((int(m.group(1)) for key in state if (m := re.fullmatch(r"model\.(\d+)\.weight", key))
                    and state[key].ndim == 4), default=None)
        if head is None:
            raise ValueError("no output convolution (model.N.weight) found")
        second_conv = state.get(f"model.{blocks[0]}.conv_block.6.weight") if blocks else None
        # Each level has one 3x3 convolution down and one 3x3 transposed convolution up; stem and head are 7x7.
        levels = sum(1 for key, w in state.items() if re.fullmatch(r"model\.\d+\.weight", key)
                     and w.ndim == 4 and w.shape[-1] == 3) // 2
        return {
            "in_channels": stem.shape[1],
            "out_channels": state[f"model.{head}.weight"].shape[0],
            "ngf": stem.shape[0],
            "n_blocks": len(blocks),
            "norm": "batch" if "model.2.weight" in state else "instance",
            "dropout": second_conv is not None and second_conv.ndim == 4,
            "n_downsampling": levels,
            "antialias": any(key.endswith(".filt") for key in state),
        }
