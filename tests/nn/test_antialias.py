"""Anti-aliased resampling and the ResNet generator built with it, checked against CUT's own code
(contrastive-unpaired-translation, models/networks.py: Downsample, Upsample, ResnetGenerator), transcribed
here in its own terms."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import ganzoo
from ganzoo.nn.antialias import BlurDownsample, BlurUpsample, binomial_filter
from ganzoo.nn.resnet import ResnetGenerator


def cut_filter(filt_size):
    a = {1: [1.0], 2: [1.0, 1.0], 3: [1.0, 2.0, 1.0], 4: [1.0, 3.0, 3.0, 1.0], 5: [1.0, 4.0, 6.0, 4.0, 1.0]}[filt_size]
    filt = torch.Tensor(np.array(a)[:, None] * np.array(a)[None, :])
    return filt / torch.sum(filt)


def cut_downsample(inp, filt_size=3, stride=2):
    channels = inp.shape[1]
    filt = cut_filter(filt_size)[None, None, :, :].repeat((channels, 1, 1, 1))
    pad = torch.nn.ReflectionPad2d([1, 1, 1, 1])
    return F.conv2d(pad(inp), filt, stride=stride, groups=inp.shape[1])


def cut_upsample(inp, filt_size=4, stride=2):
    channels = inp.shape[1]
    pad_size = int((filt_size - 1) / 2)
    filt = (cut_filter(filt_size) * (stride ** 2))[None, None, :, :].repeat((channels, 1, 1, 1))
    pad = torch.nn.ReplicationPad2d([1, 1, 1, 1])
    ret_val = F.conv_transpose2d(pad(inp), filt, stride=stride, padding=1 + pad_size, groups=inp.shape[1])[:, :, 1:, 1:]
    return ret_val if filt_size % 2 == 1 else ret_val[:, :, :-1, :-1]


def test_binomial_filters():
    assert torch.equal(binomial_filter(3) * 16, torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]]))
    assert torch.allclose(binomial_filter(4), cut_filter(4))


def test_resampling_matches_cut():
    torch.manual_seed(0)
    x = torch.randn(2, 5, 12, 10)
    assert torch.allclose(BlurDownsample(5)(x), cut_downsample(x), atol=1e-6)
    assert torch.allclose(BlurUpsample(5)(x), cut_upsample(x), atol=1e-6)
    assert BlurUpsample(5)(x).shape[-2:] == (24, 20) and BlurDownsample(5)(x).shape[-2:] == (6, 5)
    flat = torch.full((1, 2, 6, 6), 0.3)
    assert torch.allclose(BlurUpsample(2)(flat), torch.full((1, 2, 12, 12), 0.3)), "brightness kept"


def test_the_layout_and_taps_are_cuts():
    gen = ResnetGenerator(ngf=8, antialias=True)
    kinds = [type(m).__name__ for m in gen.model]
    # CUT: pad, conv, norm, relu, [conv, norm, relu, Downsample] x2, 9 blocks, [Upsample, conv, norm, relu] x2, ...
    assert kinds[:12] == ["ReflectionPad2d", "Conv2d", "InstanceNorm2d", "ReLU", "Conv2d", "InstanceNorm2d", "ReLU",
                          "BlurDownsample", "Conv2d", "InstanceNorm2d", "ReLU", "BlurDownsample"]
    assert kinds[12:21] == ["ResnetBlock"] * 9
    assert kinds[21:29] == ["BlurUpsample", "Conv2d", "InstanceNorm2d", "ReLU"] * 2
    assert gen.model[4].stride == (1, 1) and gen.model[8].stride == (1, 1)
    assert {"model.7.filt", "model.11.filt", "model.21.filt", "model.25.filt"} <= set(gen.state_dict())
    # CUT's nce_layers 0, 4, 8, 12, 16: what its encode_only returns after each of those model indices
    x = torch.randn(1, 3, 32, 32)
    taps = gen.encode(x, ["input", "down1", "down2", "block1", "block5"])
    expected, feat = [], x
    for index, layer in enumerate(gen.model):
        feat = layer(feat)
        if index in (0, 4, 8, 12, 16):
            expected.append(feat)
        if index == 16:
            break
    for got, want in zip(taps, expected):
        assert torch.equal(got, want)
    assert [t.shape[1:] for t in taps] == [(3, 38, 38), (16, 32, 32), (32, 16, 16), (32, 8, 8), (32, 8, 8)]
    assert gen(x).shape == x.shape


def test_options_come_back_from_the_state_dict_and_the_registry_builds_it():
    gen = ganzoo.create_generator("resnet9", ngf=8, antialias=True, n_downsampling=1)
    options = ResnetGenerator.options_from_state_dict(gen.state_dict())
    assert options["antialias"] is True and options["n_downsampling"] == 1 and options["ngf"] == 8
    assert ResnetGenerator.options_from_state_dict(ResnetGenerator(ngf=8).state_dict())["antialias"] is False
    rebuilt = ResnetGenerator(**options)
    rebuilt.load_state_dict(gen.state_dict())
    with pytest.raises(ganzoo.InvalidOptionError):
        ganzoo.create_generator("resnet9", antialias="yes")


def test_the_patchgan_blur_pools_as_cuts_discriminator():
    from ganzoo.nn.patchgan import PatchDiscriminator

    disc = PatchDiscriminator(ndf=4, antialias=True)
    kinds = [type(m).__name__ for m in disc.model]
    # CUT's NLayerDiscriminator with antialiasing: conv(s1), lrelu, Downsample, then per level
    # conv(s1), norm, lrelu, Downsample; the last level and the logit convolution keep stride 1.
    assert kinds == ["Conv2d", "LeakyReLU", "BlurDownsample"] + ["Conv2d", "InstanceNorm2d", "LeakyReLU",
                                                                 "BlurDownsample"] * 2 + \
        ["Conv2d", "InstanceNorm2d", "LeakyReLU", "Conv2d"]
    assert all(m.stride == (1, 1) for m in disc.model if isinstance(m, torch.nn.Conv2d))
    for side in (24, 31, 32, 70):  # the same patch grid as the strided PatchGAN's, so min_size holds
        x = torch.randn(1, 3, side, side)
        assert disc(x).shape == PatchDiscriminator(ndf=4)(x).shape
    assert PatchDiscriminator.options_from_state_dict(disc.state_dict()) == {
        "in_channels": 3, "ndf": 4, "n_layers": 3, "norm": "instance", "antialias": True}
    assert ganzoo.get_recipe("cut").slots["discriminator"].options["antialias"] is True
