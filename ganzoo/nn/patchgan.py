"""PatchGAN discriminators of pix2pix: a grid of real/fake logits, one per overlapping image patch.

Paper: https://arxiv.org/abs/1611.07004. ``n_layers=3`` gives 70x70 patches, the paper's default.
The pixel discriminator (1x1 patches) looks at colour statistics only. Module layouts (``model.N``,
``net.N``) are the reference code's, so its checkpoints load with their own key names.
"""

from __future__ import annotations

from typing import Any, Mapping

from torch import Tensor, nn

from ganzoo.nn.antialias import BlurDownsample
from ganzoo.nn.layers import (activations_after, check_option, conv_bias, norm_layer, spectrally_normalised,
                              weight_of)
from ganzoo.recipe import Value


def patch_min_size(n_layers: int) -> int:
    """The smallest input side a PatchGAN of depth ``n_layers`` takes and still gives one patch.

    Its ``n_layers`` stride-2 4x4 convolutions (padding 1) take a side ``s`` to ``floor(s / 2**n_layers)``
    and its two stride-1 ones take 1 off each, so one patch is left from ``3 * 2**n_layers`` up (also
    measured for n_layers 1 to 5, every norm).
    """
    return 3 * 2**n_layers


class PatchDiscriminator(nn.Module):
    """PatchGAN: ``n_layers`` stride-2 4x4 convolutions, one stride-1, then a 1-channel logit map.

    Args:
        in_channels: input channels (6 for pix2pix, which feeds input and output together).
        ndf: width of the first layer; it doubles per layer up to ``8 * ndf``.
        n_layers: depth; the receptive field grows with it (3 -> 70x70 patches).
        norm: ``instance`` (CycleGAN), ``batch`` (pix2pix) or ``none`` (a WGAN-GP critic).
        spectral_norm: divide each convolution's weight by its largest singular value (Miyato et al.
            2018, https://arxiv.org/abs/1802.05957), so no layer can sharpen the discriminator's verdict
            beyond a fixed slope; usually with ``norm="none"`` and the hinge loss. The module names stay
            the same (``model.N``), the weight moving behind ``model.N.parametrizations.weight``.
        antialias: downsample with blur pooling, as CUT's discriminator does (``no_antialias`` off in
            https://github.com/taesungp/contrastive-unpaired-translation): each stride-2 convolution becomes
            a stride-1 one followed, after its LeakyReLU, by a blurred 2x downsampling
            (:class:`~ganzoo.nn.antialias.BlurDownsample`). The output sizes are the same; the module
            indices are CUT's.
    """

    #: One logit channel per patch.
    out_channels = 1

    def __init__(self, *, in_channels: int = 3, ndf: int = 64, n_layers: int = 3,
                 norm: str = "instance", spectral_norm: bool = False, antialias: bool = False) -> None:
        super().__init__()
        for name, value in {"in_channels": in_channels, "ndf": ndf, "n_layers": n_layers}.items():
            check_option(name, value)
        check_option("antialias", antialias, Value(bool))
        self.in_channels = in_channels
        self.min_size = patch_min_size(n_layers)  # blur pooling after a stride-1 4x4 gives the same sides
        make_norm, bias = norm_layer(norm), conv_bias(norm)
        step = 1 if antialias else 2

        def down(width: int) -> list[nn.Module]:
            return [BlurDownsample(width)] if antialias else []

        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, ndf, kernel_size=4, stride=step, padding=1),
            nn.LeakyReLU(0.2, True),
            *down(ndf),
        ]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2**n, 8)
            halves = n < n_layers
            layers += [
                nn.Conv2d(ndf * prev, ndf * mult, kernel_size=4, stride=step if halves else 1, padding=1, bias=bias),
                make_norm(ndf * mult),
                nn.LeakyReLU(0.2, True),
                *(down(ndf * mult) if halves else []),
            ]
        layers.append(nn.Conv2d(ndf * mult, 1, kernel_size=4, stride=1, padding=1))
        self.model = nn.Sequential(*(spectrally_normalised(layers) if spectral_norm else layers))

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)

    def features(self, x: Tensor) -> list[Tensor]:
        """The activations pix2pixHD's feature matching compares: the output of each of the
        ``n_layers + 1`` convolution blocks, i.e. of every LeakyReLU (``model.1``, ``model.4``, ...,
        ``model.{3 * n_layers + 1}``), shallowest first. The logit map is not included; it is
        ``model[-1]`` applied to the last one, should a caller want both from one pass."""
        return activations_after(self.model[:-1], x, kind=nn.LeakyReLU)

    @classmethod
    def options_from_state_dict(cls, state: Mapping[str, Tensor]) -> dict[str, Any]:
        """The options that rebuild the network a state dict came from: the first and last convolutions
        bracket ``n_layers`` middle ones, batch norm shows as weights right after the second, and blur
        pooling as its ``filt`` buffers."""
        first = weight_of(state, "model.0.weight", ndim=4)
        convs = sorted(int(key.split(".")[1]) for key, value in state.items()
                       if key.startswith("model.") and key.endswith(".weight") and value.ndim == 4)
        second = convs[1] if len(convs) > 1 else 0
        return {
            "in_channels": first.shape[1],
            "ndf": first.shape[0],
            "n_layers": len(convs) - 2,
            "norm": "batch" if f"model.{second + 1}.weight" in state else "instance",
            "antialias": any(key.endswith(".filt") for key in state),
        }


class PixelDiscriminator(nn.Module):
    """1x1 PatchGAN ("PixelGAN"): judges each pixel's colour, not its structure.

    Args:
        in_channels: input channels.
        ndf: width of the first layer (the second is ``2 * ndf``).
        norm: ``instance``, ``batch`` or ``none``.
    """

    out_channels = 1
    min_size = 1

    def __init__(self, *, in_channels: int = 3, ndf: int = 64, norm: str = "instance") -> None:
        super().__init__()
        check_option("in_channels", in_channels)
        check_option("ndf", ndf)
        self.in_channels = in_channels
        make_norm, bias = norm_layer(norm), conv_bias(norm)
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, ndf, kernel_size=1, stride=1, padding=0),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, kernel_size=1, stride=1, padding=0, bias=bias),
            make_norm(ndf * 2),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 2, 1, kernel_size=1, stride=1, padding=0, bias=bias),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)

    def features(self, x: Tensor) -> list[Tensor]:
        """The output of both hidden 1x1 blocks (the LeakyReLUs ``net.1`` and ``net.4``), for feature
        matching; the logit map (``net.5`` applied to the last) is not included."""
        return activations_after(self.net[:-1], x, kind=nn.LeakyReLU)

    @classmethod
    def options_from_state_dict(cls, state: Mapping[str, Tensor]) -> dict[str, Any]:
        """The options that rebuild the network a state dict came from."""
        first = weight_of(state, "net.0.weight", ndim=4)
        return {"in_channels": first.shape[1], "ndf": first.shape[0],
                "norm": "batch" if "net.3.weight" in state else "instance"}
