"""Networks built on any timm backbone: a U-Net generator with a timm encoder, and a timm discriminator.

timm (https://github.com/huggingface/pytorch-image-models) brings hundreds of architectures, with
ImageNet weights when the network allows. Random initialisation is the default so that everything works
offline; ``pretrained=True`` downloads the backbone's weights from the Hugging Face Hub.
"""

from __future__ import annotations

import difflib
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganzoo.errors import GanzooError, UnknownComponentError
from ganzoo.nn.contract import check_encoder_layers
from ganzoo.nn.layers import check_option, conv_bias, norm_layer


def create_timm_model(model: str, *, pretrained: bool, **kwargs: Any) -> nn.Module:
    """``timm.create_model`` with ganzoo's errors: unknown names list close matches, and a failed
    weight download says so in one line instead of a stack of retries."""
    import timm

    if not timm.is_model(model):
        close = difflib.get_close_matches(model, timm.list_models(), n=5, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `timm.list_models()` lists them"
        raise UnknownComponentError(f"unknown timm model {model!r}{hint}")
    try:
        return timm.create_model(model, pretrained=pretrained, **kwargs)
    except Exception as exc:
        if pretrained:
            raise GanzooError(
                f"could not get pretrained weights for timm model {model!r} (is the network reachable, "
                f"or HF_HUB_OFFLINE set?): {type(exc).__name__}: {exc}".splitlines()[0]
            ) from exc
        raise


class _ImageNetInput(nn.Module):
    """Maps images in [-1, 1] to the mean/std normalisation a pretrained backbone was trained with."""

    def __init__(self, cfg: dict[str, Any], channels: int) -> None:
        super().__init__()
        mean = torch.tensor(cfg.get("mean", (0.5,) * channels), dtype=torch.float32)
        std = torch.tensor(cfg.get("std", (0.5,) * channels), dtype=torch.float32)
        if mean.numel() != channels:  # in_chans changed: timm adapted the stem; use the average statistics
            mean, std = mean.mean().expand(channels), std.mean().expand(channels)
        self.register_buffer("mean", mean.view(1, -1, 1, 1).clone(), persistent=False)
        self.register_buffer("std", std.view(1, -1, 1, 1).clone(), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        return ((x + 1) / 2 - self.mean) / self.std


def _conv_block(cin: int, cout: int, norm: str) -> nn.Sequential:
    make_norm, bias = norm_layer(norm), conv_bias(norm)
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel_size=3, padding=1, bias=bias), make_norm(cout), nn.ReLU(True),
        nn.Conv2d(cout, cout, kernel_size=3, padding=1, bias=bias), make_norm(cout), nn.ReLU(True),
    )


class TimmUnetGenerator(nn.Module):
    """U-Net whose encoder is a timm backbone (``features_only``) and whose decoder upsamples back to the
    input size, concatenating the encoder's feature map at each scale.

    Args:
        model: the timm model name (from the registry name ``timm-unet:MODEL``).
        in_channels: channels of the input image.
        out_channels: channels of the output image.
        ngf: decoder width at full resolution; it doubles per scale up to ``8 * ngf``.
        norm: the decoder's normalisation: ``batch``, ``instance`` or ``none``.
        pretrained: load the backbone's ImageNet weights (needs the network or a filled Hub cache).

    :meth:`encode` taps the backbone's feature maps the decoder uses, one per scale, named by how much
    they reduce the side: ``reduction2``, ``reduction4``, ... (``encoder_layers``; which exist depends
    on the backbone).
    """

    input_kind = "image"

    def __init__(self, model: str, *, in_channels: int = 3, out_channels: int = 3, ngf: int = 32,
                 norm: str = "batch", pretrained: bool = False) -> None:
        super().__init__()
        for name, value in {"in_channels": in_channels, "out_channels": out_channels, "ngf": ngf}.items():
            check_option(name, value)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.encoder = create_timm_model(model, pretrained=pretrained, features_only=True,
                                         in_chans=in_channels)
        self.input_norm = _ImageNetInput(self.encoder.pretrained_cfg, in_channels) if pretrained else nn.Identity()
        levels: dict[int, tuple[int, int]] = {}  # reduction -> (feature index, channels); deepest wins
        for index, (channels, reduction) in enumerate(
                zip(self.encoder.feature_info.channels(), self.encoder.feature_info.reduction())):
            levels[reduction] = (index, channels)
        self.reductions = sorted(levels, reverse=True)
        self.feature_indices = [levels[r][0] for r in self.reductions]
        # The deepest feature map must come out whole: sides divide by its reduction, which is also the
        # smallest side (1x1 at the deepest level).
        self.size_multiple = self.min_size = self.reductions[0]
        #: The names :meth:`encode` accepts, finest scale first.
        self.encoder_layers: tuple[str, ...] = tuple(f"reduction{r}" for r in reversed(self.reductions))

        def width(reduction: int) -> int:
            return min(ngf * max(reduction // 2, 1), ngf * 8)

        current = levels[self.reductions[0]][1]
        self.skip_blocks = nn.ModuleList()
        for reduction in self.reductions[1:]:
            self.skip_blocks.append(_conv_block(current + levels[reduction][1], width(reduction), norm))
            current = width(reduction)
        self.final_blocks = nn.ModuleList()
        reduction = self.reductions[-1]
        while reduction > 1:
            reduction //= 2
            self.final_blocks.append(_conv_block(current, width(reduction), norm))
            current = width(reduction)
        self.head = nn.Sequential(nn.Conv2d(current, out_channels, kernel_size=1), nn.Tanh())

    def init_targets(self) -> list[nn.Module]:
        """The parts ganzoo initialises; the timm encoder keeps timm's own (or pretrained) weights."""
        return [self.skip_blocks, self.final_blocks, self.head]

    def encode(self, x: Tensor, layers: Sequence[str]) -> list[Tensor]:
        """The named backbone feature maps (see the class docstring), in the order asked for.

        The decoder does not run; the timm encoder runs whole, as timm returns its features together.

        Raises:
            GanzooError: a name is not in ``encoder_layers`` (the message lists them).
        """
        check_encoder_layers(self, layers)
        if not layers:
            return []
        features = self.encoder(self.input_norm(x))
        by_name = {f"reduction{r}": features[i] for r, i in zip(self.reductions, self.feature_indices)}
        return [by_name[name] for name in layers]

    def forward(self, x: Tensor) -> Tensor:
        features = self.encoder(self.input_norm(x))
        features = [features[i] for i in self.feature_indices]
        y = features[0]
        for block, skip in zip(self.skip_blocks, features[1:]):
            y = F.interpolate(y, size=skip.shape[-2:], mode="nearest")
            y = block(torch.cat([y, skip], 1))
        for block in self.final_blocks:
            y = block(F.interpolate(y, scale_factor=2, mode="nearest"))
        if y.shape[-2:] != x.shape[-2:]:
            y = F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return self.head(y)


class TimmDiscriminator(nn.Module):
    """A timm classifier with one output logit per image as the discriminator body.

    Args:
        model: the timm model name (from the registry name ``timm:MODEL``).
        in_channels: input channels (6 for a conditional discriminator).
        pretrained: load ImageNet weights (needs the network or a filled Hub cache).

    Returns logits of shape (N, 1).
    """

    out_channels = 1

    def __init__(self, model: str, *, in_channels: int = 3, pretrained: bool = False) -> None:
        super().__init__()
        check_option("in_channels", in_channels)
        self.in_channels = in_channels
        self.body = create_timm_model(model, pretrained=pretrained, num_classes=1, in_chans=in_channels)
        self.input_norm = _ImageNetInput(self.body.pretrained_cfg, in_channels) if pretrained else nn.Identity()

    def init_targets(self) -> list[nn.Module]:
        """timm initialises its own models; ganzoo leaves them alone."""
        return []

    def forward(self, x: Tensor) -> Tensor:
        return self.body(self.input_norm(x))
