"""pix2pixHD's multi-scale discriminator: the same PatchGAN at several image scales.

Wang, Liu, Zhu, Tao, Kautz, Catanzaro, "High-Resolution Image Synthesis and Semantic Manipulation with
Conditional GANs", CVPR 2018 (https://arxiv.org/abs/1711.11585), section 3.2. One PatchGAN sees the
full image and judges fine detail; the next sees it halved and so on, so the coarsest one's patches
cover most of the image and judge global layout, without a deeper (and harder to train) network.

Reference code: https://github.com/NVIDIA/pix2pixHD, models/networks.py, ``MultiscaleDiscriminator``.
What carries over: ``num_D`` PatchGANs of one layout (``num_scales`` here, 3 as in the paper; the
reference's training option defaults to 2), each on the input average-pooled once more than the last
(``AvgPool2d(3, stride=2, padding=1, count_include_pad=False)``), the outputs listed full scale first.
What differs: each scale is ganzoo's (and pix2pix's) :class:`~ganzoo.nn.patchgan.PatchDiscriminator`,
whose 4x4 convolutions pad by 1 where pix2pixHD's ``NLayerDiscriminator`` pads by 2 (its logit maps are
a few cells wider), whose width is capped at ``8 * ndf`` (pix2pixHD caps at 512: the same at ``ndf=64``)
and whose convolutions before a batch norm have no bias. The module names differ too: the scale the
reference calls ``layer{num_D - 1 - i}`` (``scale{num_D - 1 - i}_layer{j}`` with ``getIntermFeat``),
the one run at the i-th scale, is ``scales.{i}`` here.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from ganzoo.nn.layers import check_option
from ganzoo.nn.patchgan import PatchDiscriminator, patch_min_size


def halved(x: Tensor) -> Tensor:
    """pix2pixHD's downsampling between scales: a 3x3 average, stride 2, over the pixels inside the image
    only (``count_include_pad=False``, so the border is not darkened); a side ``s`` becomes ``ceil(s / 2)``."""
    return F.avg_pool2d(x, kernel_size=3, stride=2, padding=1, count_include_pad=False)


def multiscale_min_size(scale_min_size: int, num_scales: int) -> int:
    """The smallest side at which every scale, the coarsest included, still gives at least one patch.

    The coarsest scale sees ``ceil(s / 2**(num_scales - 1))`` (each halving takes ``s`` to ``ceil(s / 2)``),
    which reaches ``scale_min_size`` from ``(scale_min_size - 1) * 2**(num_scales - 1) + 1`` up.
    """
    return (scale_min_size - 1) * 2 ** (num_scales - 1) + 1


class MultiscaleDiscriminator(nn.Module):
    """``num_scales`` PatchGANs, the i-th judging the input halved i times; a list of logit maps.

    Args:
        in_channels: input channels (6 for pix2pix, which feeds input and output together).
        ndf: width of each PatchGAN's first layer.
        n_layers: depth of each PatchGAN (pix2pixHD's ``n_layers_D``; 3 gives 70x70 patches at each scale).
        num_scales: how many PatchGANs (pix2pixHD's ``num_D``; the paper uses 3).
        norm: ``instance`` (pix2pixHD's), ``batch`` or ``none``.
        spectral_norm: spectral normalisation of every convolution of every scale (see
            :class:`~ganzoo.nn.patchgan.PatchDiscriminator`).

    ``min_size`` is the smallest side every scale takes (:func:`multiscale_min_size`): a scale that
    would get no patch at all is refused rather than dropped, so the network is what its options say.
    At 256x256 with ``n_layers=3`` any ``num_scales`` up to 4 fits; a tiny 32x32 run needs fewer layers
    or scales (``n_layers=1``, or ``n_layers=2`` with ``num_scales=2``).
    """

    #: One logit channel per patch, at every scale.
    out_channels = 1

    def __init__(self, *, in_channels: int = 3, ndf: int = 64, n_layers: int = 3, num_scales: int = 3,
                 norm: str = "instance", spectral_norm: bool = False) -> None:
        super().__init__()
        check_option("num_scales", num_scales)
        self.scales = nn.ModuleList(
            PatchDiscriminator(in_channels=in_channels, ndf=ndf, n_layers=n_layers, norm=norm,
                               spectral_norm=spectral_norm)
            for _ in range(num_scales))
        self.in_channels = in_channels
        self.min_size = multiscale_min_size(patch_min_size(n_layers), num_scales)

    def pyramid(self, x: Tensor) -> list[Tensor]:
        """The input at each scale, full size first."""
        inputs = [x]
        for _ in range(len(self.scales) - 1):
            inputs.append(halved(inputs[-1]))
        return inputs

    def forward(self, x: Tensor) -> list[Tensor]:
        """One logit map per scale, full scale first (the reference's ``result[i][-1]``)."""
        return [scale(x_i) for scale, x_i in zip(self.scales, self.pyramid(x))]

    def features(self, x: Tensor) -> list[list[Tensor]]:
        """For each scale (full scale first), the ``n_layers + 1`` intermediate activations, shallowest first.

        Each inner list is :meth:`PatchDiscriminator.features` of that scale: the output of every
        LeakyReLU, i.e. of the reference's blocks ``model0`` ... ``model{n_layers}``. With
        ``getIntermFeat`` the reference's ``forward`` returns, per scale, those blocks' outputs and then
        the logit map (``model{n_layers + 1}``); this is that list without its last entry, the entries
        pix2pixHD's feature matching compares (``pred_fake[i][j]`` for ``j < len(pred_fake[i]) - 1``).
        The logit maps are :meth:`forward`'s.
        """
        return [scale.features(x_i) for scale, x_i in zip(self.scales, self.pyramid(x))]
