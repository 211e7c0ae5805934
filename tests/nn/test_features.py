"""features(x) on the discriminators: the activations feature matching compares, without the logits."""

import pytest
import torch
from torch import nn

from ganzoo.nn.contract import contract_of
from ganzoo.nn.dcgan import DCGANDiscriminator
from ganzoo.nn.patchgan import PatchDiscriminator, PixelDiscriminator

# (network, its nn.Sequential, input side, expected (channels, side) of each feature)
CASES = {
    "patchgan": (lambda: PatchDiscriminator(ndf=8, n_layers=3), "model", 64,
                 [(8, 32), (16, 16), (32, 8), (64, 7)]),
    "patchgan-batch": (lambda: PatchDiscriminator(ndf=8, n_layers=2, norm="batch", in_channels=6), "model", 32,
                       [(8, 16), (16, 8), (32, 7)]),
    "pixel": (lambda: PixelDiscriminator(ndf=8), "net", 16, [(8, 16), (16, 16)]),
    "dc": (lambda: DCGANDiscriminator(ndf=8, image_size=32, norm="none"), "main", 32,
           [(8, 16), (16, 8), (32, 4)]),
}


def build(case):
    torch.manual_seed(0)
    make, body, side, shapes = CASES[case]
    net = make()
    return net, getattr(net, body), torch.randn(2, contract_of(net).in_channels, side, side), shapes


@pytest.mark.parametrize("case", sorted(CASES))
def test_features_have_one_map_per_block(case):
    net, _, x, shapes = build(case)
    assert contract_of(net).features
    assert [(f.shape[1], f.shape[-1]) for f in net.features(x)] == shapes
    assert all(f.shape[0] == 2 for f in net.features(x))


@pytest.mark.parametrize("case", sorted(CASES))
def test_features_are_what_hooks_on_the_activations_see(case):
    net, body, x, _ = build(case)
    seen = []
    hooks = [m.register_forward_hook(lambda m, i, out: seen.append(out.clone()))
             for m in body if isinstance(m, nn.LeakyReLU)]
    logits = net(x)
    for hook in hooks:
        hook.remove()
    features = net.features(x)
    assert len(features) == len(seen)
    assert all(torch.equal(f, s) for f, s in zip(features, seen))
    # the logits are the last layer on the last feature: nothing between them is skipped
    assert torch.allclose(body[-1](features[-1]).reshape(logits.shape), logits)


@pytest.mark.parametrize("case", sorted(CASES))
def test_features_backpropagate_to_every_layer_but_the_last(case):
    net, body, x, _ = build(case)
    sum(f.mean() for f in net.features(x)).backward()
    convs = [m for m in body if isinstance(m, nn.Conv2d)]
    assert all(c.weight.grad is not None and c.weight.grad.abs().sum() > 0 for c in convs[:-1])
    assert convs[-1].weight.grad is None


def test_dcgan_features_check_the_size_like_forward():
    net = DCGANDiscriminator(ndf=8, image_size=32)
    with pytest.raises(ValueError, match="built for 32x32"):
        net.features(torch.randn(1, 3, 64, 64))
