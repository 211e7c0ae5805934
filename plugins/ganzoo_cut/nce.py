"""PatchNCE, CUT's contrastive loss, and the network that samples and projects the patches it compares.

Park, Efros, Zhang, Zhu, "Contrastive Learning for Unpaired Image-to-Image Translation", ECCV 2020
(https://arxiv.org/abs/2007.15651); reference code: github.com/taesungp/contrastive-unpaired-translation,
models/patchnce.py (PatchNCELoss) and models/networks.py (PatchSampleF).

A patch of the translation should be closer to the patch of the input at the same place than to the
input's other patches. Both images go through the generator's encoder (its named taps, ``encode``); at
each tapped layer the same random positions are taken from both, each feature goes through a two-layer
MLP and is L2-normalised, and a softmax over "the same place" against "every other sampled place of the
same image" (temperature 0.07) is the loss.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganzoo import GanzooError, InvalidOptionError
from ganzoo_cut import NCE_LAYERS


class PatchNCELoss(nn.Module):
    """The InfoNCE loss of each query patch against its key (same place) and the other keys of the same
    image, averaged over every patch of the batch.

    ``query`` and ``key`` are (batch, patches, channels) and already normalised; the batch size is read
    from them (the reference takes it from its options), so the last, smaller batch of an epoch is
    right. The keys are detached: the input's features are the target, not something to move.

    Args:
        temperature: the softmax temperature (the paper's 0.07).
    """

    #: The auxiliary role it fills: CUT's ``nce`` role asks for a contrastive loss.
    role = "contrastive"

    def __init__(self, *, temperature: float = 0.07) -> None:
        super().__init__()
        if not temperature > 0:
            raise InvalidOptionError(f"temperature must be > 0, got {temperature}")
        self.temperature = temperature

    def forward(self, query: Tensor, key: Tensor) -> Tensor:
        if query.dim() != 3 or query.shape != key.shape:
            raise GanzooError(f"PatchNCE compares two (batch, patches, channels) tensors of one shape, got "
                              f"{tuple(query.shape)} and {tuple(key.shape)}")
        query, key = query.float(), key.detach().float()  # the softmax in float32 under autocast
        positive = (query * key).sum(dim=2, keepdim=True)  # (B, P, 1)
        negative = torch.bmm(query, key.transpose(1, 2))  # (B, P, P): every key of the same image
        same_place = torch.eye(query.shape[1], dtype=torch.bool, device=query.device)
        negative = negative.masked_fill(same_place, -10.0)  # the positive is not its own negative
        logits = torch.cat([positive, negative], dim=2).flatten(0, 1) / self.temperature
        target = torch.zeros(logits.shape[0], dtype=torch.long, device=logits.device)
        return F.cross_entropy(logits, target)


class PatchSampler(nn.Module):
    """CUT's ``PatchSampleF``: at each tapped layer, the features at random positions, each through a
    two-layer MLP (Linear, ReLU, Linear) and L2-normalised.

    Built eagerly: the generator is run once on a blank image to read each tap's channels, so every
    parameter exists before the optimizer is made and before a checkpoint is loaded (the reference
    creates its MLPs on the first batch). The MLPs are named ``mlp_0``, ``mlp_1``, ... as the
    reference's are.

    Args:
        networks: the recipe's networks built so far (the engine passes them); ``source`` names the one
            whose taps are sampled.
        layers: the generator's tap names (``encoder_layers``), comma-separated or a sequence.
        width: the MLP's hidden and output width (the paper's 256).
        patches: positions sampled per layer and image (the paper's 256; all of them when a layer has
            fewer).
        source: the network whose ``encode`` gives the features.
    """

    def __init__(self, *, networks: Mapping[str, nn.Module], layers: str | Sequence[str] = NCE_LAYERS,
                 width: int = 256, patches: int = 256, source: str = "gen") -> None:
        super().__init__()
        names = tuple(v.strip() for v in (layers.split(",") if isinstance(layers, str) else layers) if v.strip())
        if not names:
            raise InvalidOptionError("layers names no generator tap")
        for option, value in {"width": width, "patches": patches}.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidOptionError(f"{option} must be a whole number >= 1, got {value!r}")
        if source not in networks:
            raise GanzooError(f"the patch sampler reads the taps of network {source!r}, which the recipe does not "
                              f"build before it ({', '.join(networks) or 'none'})")
        self.layers, self.width, self.patches = names, width, patches
        for index, channels in enumerate(tap_channels(networks[source], names)):
            setattr(self, f"mlp_{index}", nn.Sequential(nn.Linear(channels, width), nn.ReLU(), nn.Linear(width, width)))

    def forward(self, features: Sequence[Tensor], *,
                positions: Sequence[Tensor] | None = None) -> tuple[list[Tensor], list[Tensor]]:
        """Sample and project each layer's (B, C, H, W) features; give ``positions`` (as returned by an
        earlier call) to take the same places. Returns (B, P, width) tensors and the positions used."""
        if len(features) != len(self.layers):
            raise GanzooError(f"the patch sampler was built for {len(self.layers)} layers, got {len(features)}")
        projected, used = [], []
        for index, feature in enumerate(features):
            flat = feature.flatten(2).transpose(1, 2)  # (B, H*W, C)
            if positions is None:
                where = torch.randperm(flat.shape[1], device=feature.device)[: min(self.patches, flat.shape[1])]
            else:
                where = positions[index]
            sample = getattr(self, f"mlp_{index}")(flat[:, where, :])
            projected.append(F.normalize(sample, dim=2, eps=1e-7))
            used.append(where)
        return projected, used


def tap_channels(generator: nn.Module, layers: Sequence[str]) -> list[int]:
    """The channels of each named tap, read by running the generator once on a blank image in eval mode
    (so no batch-norm statistics move and no dropout draws random numbers)."""
    if not callable(getattr(generator, "encode", None)):
        raise GanzooError(f"CUT needs a generator with named encoder taps (encode); {type(generator).__name__} "
                          "has none: resnet9 and resnet6 have them")
    offered = tuple(getattr(generator, "encoder_layers", ()))
    unknown = [name for name in layers if name not in offered]
    if unknown:
        raise GanzooError(f"projector.layers: {type(generator).__name__} has no tap {', '.join(map(repr, unknown))}; "
                          f"its taps: {', '.join(offered)}")
    multiple = int(getattr(generator, "size_multiple", 1))
    side = multiple * -(-int(getattr(generator, "min_size", 1)) // multiple)
    parameter = next(generator.parameters())
    blank = torch.zeros(1, int(getattr(generator, "in_channels", 3)), side, side, device=parameter.device,
                        dtype=parameter.dtype)
    was_training = generator.training
    generator.eval()
    try:
        with torch.no_grad():
            return [int(t.shape[1]) for t in generator.encode(blank, list(layers))]
    finally:
        generator.train(was_training)
