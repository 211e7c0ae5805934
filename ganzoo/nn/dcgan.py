"""DCGAN generator and discriminator (Radford et al.).

Paper: https://arxiv.org/abs/1511.06434. Strided (transposed) convolutions instead of pooling, batch
norm everywhere but the generator's output and the discriminator's input, ReLU in the generator and
LeakyReLU(0.2) in the discriminator. The 64x64 layout is the paper's; 32 and 128 drop or add one level.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ganzoo.errors import InvalidOptionError
from ganzoo.nn.layers import activations_after, check_option, conv_bias, norm_layer, spectrally_normalised
from ganzoo.recipe import Value

IMAGE_SIZES: tuple[int, ...] = (32, 64, 128)
#: How the generator doubles the side: the paper's transposed convolution, or resizing and a convolution.
UPSAMPLING: tuple[str, ...] = ("transposed", "nearest", "bilinear")


def _levels(image_size: int) -> int:
    if image_size not in IMAGE_SIZES:
        sizes = ", ".join(map(str, IMAGE_SIZES))
        raise InvalidOptionError(f"DCGAN networks take image_size {sizes}, got {image_size}")
    return image_size.bit_length() - 1 - 2  # stride-2 levels between 4x4 and the image


class DCGANGenerator(nn.Module):
    """Noise-to-image generator: project noise to 4x4, then double the side until ``image_size``.

    Args:
        nz: length of the noise vector.
        ngf: width of the last hidden layer; each level towards the noise doubles it.
        out_channels: channels of the generated image.
        image_size: 32, 64 (the paper's) or 128.
        norm: ``batch`` (the paper's), ``instance`` or ``none``.
        upsample: how each level doubles the side: ``transposed`` (the paper's 4x4 stride-2 transposed
            convolution) or ``nearest``/``bilinear`` resizing and a 3x3 convolution (Odena et al. 2016,
            https://distill.pub/2016/deconv-checkerboard/: no checkerboard pattern, which a transposed
            convolution whose kernel the stride does not divide evenly paints; the weights then have
            other shapes, so a ``transposed`` checkpoint does not load into it).
    """

    input_kind = "noise"

    def __init__(self, *, nz: int = 100, ngf: int = 64, out_channels: int = 3, image_size: int = 64,
                 norm: str = "batch", upsample: str = "transposed") -> None:
        super().__init__()
        for name, value in {"nz": nz, "ngf": ngf, "out_channels": out_channels}.items():
            check_option(name, value)
        check_option("upsample", upsample, Value(str, choices=UPSAMPLING))
        self.nz, self.out_channels, self.image_size = nz, out_channels, image_size
        levels = _levels(image_size)
        make_norm, bias = norm_layer(norm), conv_bias(norm)
        width = ngf * 2 ** (levels - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(nz, width, kernel_size=4, stride=1, padding=0, bias=bias),
            make_norm(width),
            nn.ReLU(True),
        ]
        for _ in range(levels - 1):
            layers += [
                _doubling(width, width // 2, upsample=upsample, bias=bias),
                make_norm(width // 2),
                nn.ReLU(True),
            ]
            width //= 2
        layers += [_doubling(width, out_channels, upsample=upsample, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def noise(self, n: int, *, generator: torch.Generator | None = None,
              device: torch.device | str | None = None) -> Tensor:
        """A batch of ``n`` standard normal noise vectors shaped for :meth:`forward`."""
        return torch.randn(n, self.nz, 1, 1, generator=generator, device=device)

    def forward(self, z: Tensor) -> Tensor:
        if z.dim() == 2:
            z = z[:, :, None, None]
        return self.main(z)


def _doubling(in_channels: int, out_channels: int, *, upsample: str, bias: bool) -> nn.Module:
    """One of the generator's levels: twice the side, ``out_channels`` channels."""
    if upsample == "transposed":
        return nn.ConvTranspose2d(in_channels, out_channels, kernel_size=4, stride=2, padding=1, bias=bias)
    resize = nn.Upsample(scale_factor=2, mode=upsample, **({"align_corners": False} if upsample == "bilinear" else {}))
    return nn.Sequential(resize, nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=bias))


class DCGANDiscriminator(nn.Module):
    """Image-to-score discriminator: halve the side down to 4x4, then one 4x4 convolution to a logit.

    Args:
        in_channels: channels of the input image.
        ndf: width of the first layer; each level doubles it.
        image_size: 32, 64 (the paper's) or 128.
        norm: ``batch`` (the paper's), ``instance`` or ``none`` (``none`` for a WGAN-GP critic).
        spectral_norm: divide each convolution's weight by its largest singular value (Miyato et al.
            2018, https://arxiv.org/abs/1802.05957), which keeps the discriminator 1-Lipschitz per
            layer so it cannot win outright; usually with ``norm="none"`` and the hinge loss.

    Returns logits of shape (N, 1); no sigmoid (the losses take logits).
    """

    #: One logit per image.
    out_channels = 1

    def __init__(self, *, in_channels: int = 3, ndf: int = 64, image_size: int = 64,
                 norm: str = "batch", spectral_norm: bool = False) -> None:
        super().__init__()
        check_option("in_channels", in_channels)
        check_option("ndf", ndf)
        self.in_channels, self.image_size, self.min_size = in_channels, image_size, image_size
        levels = _levels(image_size)
        make_norm, bias = norm_layer(norm), conv_bias(norm)
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, ndf, kernel_size=4, stride=2, padding=1, bias=False),
            nn.LeakyReLU(0.2, True),
        ]
        width = ndf
        for _ in range(levels - 1):
            layers += [
                nn.Conv2d(width, width * 2, kernel_size=4, stride=2, padding=1, bias=bias),
                make_norm(width * 2),
                nn.LeakyReLU(0.2, True),
            ]
            width *= 2
        layers.append(nn.Conv2d(width, 1, kernel_size=4, stride=1, padding=0, bias=False))
        if spectral_norm:
            layers = spectrally_normalised(layers)
        self.main = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        self._check_size(x)
        return self.main(x).flatten(1)

    def features(self, x: Tensor) -> list[Tensor]:
        """The output of each stride-2 block (every LeakyReLU in ``main``), from ``image_size / 2`` down
        to 4x4, for feature matching; the logit (``main[-1]`` applied to the last) is not included."""
        self._check_size(x)
        return activations_after(self.main[:-1], x, kind=nn.LeakyReLU)

    def _check_size(self, x: Tensor) -> None:
        if x.shape[-1] != self.image_size or x.shape[-2] != self.image_size:
            raise ValueError(f"DCGAN discriminator built for {self.image_size}x{self.image_size} images, "
                             f"got {tuple(x.shape[-2:])}")
