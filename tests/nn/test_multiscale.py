"""pix2pixHD's multi-scale discriminator: its scales, its inputs, its features and the sizes it takes."""

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo.nn.contract import Contract, contract_of
from ganzoo.nn.multiscale import MultiscaleDiscriminator
from ganzoo.nn.patchgan import PatchDiscriminator


def tiny(**options):
    torch.manual_seed(0)
    return ganzoo.create_discriminator("multiscale", ndf=8, **options)


def test_one_logit_map_per_scale_full_scale_first():
    net = tiny(n_layers=2, num_scales=3)
    maps = net(torch.randn(2, 3, 64, 64))
    # each scale sees 64, 32, 16; a 2-layer PatchGAN takes a side s to s / 4 - 2
    assert [tuple(m.shape) for m in maps] == [(2, 1, 14, 14), (2, 1, 6, 6), (2, 1, 2, 2)]
    assert len(net.scales) == 3 and all(isinstance(s, PatchDiscriminator) for s in net.scales)


def test_each_scale_judges_the_input_average_pooled_as_pix2pixhd_does():
    net = tiny(n_layers=1, num_scales=3, norm="none")
    x = torch.randn(2, 6 - 3, 33, 33)  # an odd side: the pooling's padding shows
    pool = nn.AvgPool2d(3, stride=2, padding=[1, 1], count_include_pad=False)  # the reference's downsample
    inputs = [x, pool(x), pool(pool(x))]
    assert [i.shape[-1] for i in inputs] == [33, 17, 9]
    for scale, x_i, y in zip(net.scales, inputs, net(x)):
        assert torch.allclose(scale(x_i), y)


def test_features_per_scale_are_the_blocks_before_each_logit_map():
    net = tiny(n_layers=2, num_scales=2, norm="instance")
    x = torch.randn(2, 3, 48, 48)
    features, maps = net.features(x), net(x)
    assert len(features) == 2, "one list per scale"
    # n_layers + 1 = 3 activations per scale: (channels, side) at inputs 48 and 24
    assert [[(f.shape[1], f.shape[-1]) for f in scale] for scale in features] == [
        [(8, 24), (16, 12), (32, 11)], [(8, 12), (16, 6), (32, 5)]]
    for scale, layers, logits in zip(net.scales, features, maps):
        assert torch.allclose(scale.model[-1](layers[-1]), logits), "the logit map is the last layer on them"


def test_min_size_is_what_the_coarsest_scale_needs():
    for n_layers, num_scales, expected in [(3, 3, 93), (3, 1, 24), (1, 3, 21), (2, 2, 23)]:
        net = MultiscaleDiscriminator(ndf=2, n_layers=n_layers, num_scales=num_scales, norm="none")
        assert net.min_size == expected
        with torch.no_grad():
            assert all(m.numel() > 0 for m in net(torch.randn(1, 3, expected, expected)))
            with pytest.raises(RuntimeError):  # one pixel less: the coarsest scale has no patch left
                net(torch.randn(1, 3, expected - 1, expected - 1))


def test_contract():
    with torch.device("meta"):
        net = MultiscaleDiscriminator(in_channels=6, ndf=8, n_layers=2, num_scales=2, norm="batch")
    assert contract_of(net) == Contract("image", 6, 1, min_size=23, batch_norm=True, features=True)


def test_a_run_too_small_for_the_coarsest_scale_is_a_one_line_error():
    from ganzoo.train.config import build_spec

    with pytest.raises(ganzoo.GanzooError, match=r"image_size=32: discriminator multiscale needs images of at "
                                                 r"least 93x93") as caught:
        build_spec("pix2pix", slots={"disc": "multiscale"}, steps=1, sets={"gen.ngf": 8, "disc.ndf": 8})
    assert "\n" not in str(caught.value)
    spec = build_spec("pix2pix", slots={"disc": "multiscale"}, steps=1,
                      sets={"gen.ngf": 8, "disc.ndf": 8, "disc.n_layers": 1})
    assert spec.components["discriminator"].name == "multiscale"
    assert spec.components["discriminator"].options["n_layers"] == 1, "the user's depth beats the recipe's 3"


def test_num_scales_is_checked():
    with pytest.raises(ganzoo.InvalidOptionError, match="num_scales=0"):
        ganzoo.create_discriminator("multiscale", num_scales=0)
