"""Every registered generator and discriminator, forward and backward at tiny sizes.

Parametrized from the registry itself: a new entry (from ganzoo or an installed plugin) is tested here
without writing a test.
"""

import pytest
import torch

import ganzoo
from ganzoo.errors import GanzooError, InvalidOptionError
from ganzoo.nn.contract import as_logit_list, contract_of
from tests.nn.sizing import build_tiny, generator_input, input_side

GENERATORS = ganzoo.list_components("generator")
DISCRIMINATORS = ganzoo.list_components("discriminator")


def assert_all_parameters_get_finite_gradients(net):
    for name, param in net.named_parameters():
        if param.requires_grad:
            assert param.grad is not None, f"{name} got no gradient"
            assert torch.isfinite(param.grad).all(), f"{name} has a non-finite gradient"


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_forward_backward(name):
    torch.manual_seed(0)
    net = build_tiny("generator", name)
    x = generator_input(net)
    y = net(x)
    contract = contract_of(net)
    if contract.input_kind == "image":
        assert y.shape == (x.shape[0], contract.out_channels, *x.shape[-2:])
    else:
        assert y.shape == (x.shape[0], contract.out_channels, contract.image_size, contract.image_size)
    assert y.abs().max() <= 1.0, "generators end in tanh: outputs in [-1, 1]"
    y.square().mean().backward()
    assert_all_parameters_get_finite_gradients(net)


@pytest.mark.parametrize("name", DISCRIMINATORS)
def test_discriminator_forward_backward(name):
    torch.manual_seed(0)
    net = build_tiny("discriminator", name)
    side = input_side(net)
    contract = contract_of(net)
    x = torch.randn(2, contract.in_channels, side, side, requires_grad=True)
    maps = as_logit_list(net(x))  # one logit map, or one per scale (multiscale)
    assert contract.out_channels in (1, None), "a discriminator that declares out_channels declares 1"
    for y in maps:
        assert y.shape[0] == 2 and y.shape[1] == 1, f"one logit channel per sample, got {tuple(y.shape)}"
    sum(y.mean() for y in maps).backward()
    assert_all_parameters_get_finite_gradients(net)
    assert x.grad is not None and x.grad.abs().sum() > 0


@pytest.mark.parametrize("name", [n for n in GENERATORS if n != "dcgan"])
def test_image_generators_take_other_channel_counts(name):
    net = build_tiny("generator", name, in_channels=1, out_channels=2)
    y = net(generator_input(net))
    assert y.shape[1] == 2


@pytest.mark.parametrize("name", DISCRIMINATORS)
def test_discriminators_take_six_channels(name):
    """pix2pix feeds input and output together."""
    net = build_tiny("discriminator", name, in_channels=6)
    side = input_side(net)
    assert all(y.shape[1] == 1 for y in as_logit_list(net(torch.randn(2, 6, side, side))))


@pytest.mark.parametrize("name", DISCRIMINATORS)
def test_discriminator_features_line_up_with_the_logit_maps(name):
    """What feature matching reads: features(x) has the structure of forward(x), a list (of
    activations) for a single map and one such list per map for a multi-scale discriminator."""
    net = build_tiny("discriminator", name)
    if not contract_of(net).features:
        pytest.skip(f"{name} has no features(x)")
    side = input_side(net)
    x = torch.randn(2, contract_of(net).in_channels, side, side)
    out, features = net(x), net.features(x)
    per_map = features if isinstance(out, (list, tuple)) else [features]
    assert len(per_map) == len(as_logit_list(out))
    for layers in per_map:
        assert layers and all(isinstance(f, torch.Tensor) and f.shape[0] == 2 for f in layers), name


@pytest.mark.parametrize("norm", ["batch", "instance", "none"])
@pytest.mark.parametrize("padding", ["reflect", "replicate", "zero"])
def test_resnet_norm_and_padding_variants(norm, padding):
    net = ganzoo.create_generator("resnet6", ngf=8, n_blocks=2, norm=norm, padding=padding, dropout=True)
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 3, 32, 32)
    norms = [m for m in net.modules() if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.InstanceNorm2d))]
    assert (len(norms) > 0) == (norm != "none")
    assert any(isinstance(m, torch.nn.Dropout) for m in net.modules())


@pytest.mark.parametrize("levels", [0, 1, 3])
def test_resnet_downsampling_levels(levels):
    """Fewer levels keep small images' detail (the toy schedule's choice); the sizes it takes follow."""
    net = ganzoo.create_generator("resnet9", ngf=4, n_blocks=1, n_downsampling=levels)
    assert net(torch.randn(1, 3, 16, 16)).shape == (1, 3, 16, 16)
    assert net.size_multiple == 2**levels and net.min_size == 2 ** (levels + 1)
    strided = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d) and m.stride == (2, 2)]
    assert len(strided) == levels
    rebuilt = type(net).options_from_state_dict(net.state_dict())
    assert rebuilt["n_downsampling"] == levels and rebuilt["n_blocks"] == 1 and rebuilt["ngf"] == 4


def test_resnet_downsampling_is_checked():
    with pytest.raises(ganzoo.GanzooError, match="n_downsampling"):
        ganzoo.create_generator("resnet9", n_downsampling=-1)


@pytest.mark.parametrize("name, options, side", [
    ("dc", {"image_size": 32}, 32),
    ("patchgan", {"n_layers": 2}, 32),
    ("multiscale", {"n_layers": 1, "num_scales": 3}, 32),
])
def test_spectral_norm_bounds_every_convolution(name, options, side):
    from ganzoo.nn.layers import init_weights

    torch.manual_seed(0)
    disc = init_weights(ganzoo.create_discriminator(name, ndf=8, norm="none", spectral_norm=True, **options),
                        gain=1.0)
    convs = [m for m in disc.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(torch.nn.utils.parametrize.is_parametrized(m, "weight") for m in convs)
    disc.train()
    for _ in range(20):  # power iterations run in training forwards
        disc(torch.randn(2, 3, side, side))
    sigmas = [torch.linalg.matrix_norm(m.weight.flatten(1), ord=2).item() for m in convs]
    assert sigmas == pytest.approx([1.0] * len(convs), abs=0.05)
    plain = ganzoo.create_discriminator(name, ndf=8, norm="none", **options)
    assert not any(torch.nn.utils.parametrize.is_parametrized(m) for m in plain.modules())
    named = [n for n, _ in disc.named_modules() if "parametrizations" not in n]
    assert named == [n for n, _ in plain.named_modules()], "the same module names, with or without"


@pytest.mark.parametrize("size", [32, 64, 128])
def test_dcgan_sizes(size):
    gen = ganzoo.create_generator("dcgan", nz=16, ngf=8, image_size=size)
    disc = ganzoo.create_discriminator("dc", ndf=8, image_size=size)
    fake = gen(torch.randn(2, 16))  # flat noise is accepted too
    assert fake.shape == (2, 3, size, size)
    assert disc(fake).shape == (2, 1)


@pytest.mark.parametrize("upsample", ["nearest", "bilinear"])
def test_dcgan_generator_can_double_by_resizing_and_a_convolution(upsample):
    """Resize-convolutions (no checkerboard): every stride-2 transposed convolution becomes resizing and a
    3x3 convolution; only the projection of the noise to 4x4 stays transposed."""
    gen = ganzoo.create_generator("dcgan", nz=16, ngf=8, image_size=64, upsample=upsample)
    assert [m.stride for m in gen.modules() if isinstance(m, torch.nn.ConvTranspose2d)] == [(1, 1)]
    assert [m.mode for m in gen.modules() if isinstance(m, torch.nn.Upsample)] == [upsample] * 4
    assert [m.kernel_size for m in gen.modules() if isinstance(m, torch.nn.Conv2d)] == [(3, 3)] * 4
    assert gen(torch.randn(2, 16)).shape == (2, 3, 64, 64)


def test_dcgan_generator_is_the_papers_by_default():
    """``transposed`` keeps the paper's layers, so checkpoints written before the option still load."""
    gen = ganzoo.create_generator("dcgan", nz=16, ngf=8, image_size=32)
    shapes = {k: tuple(v.shape) for k, v in gen.state_dict().items() if k.endswith("weight") and v.dim() == 4}
    assert shapes == {"main.0.weight": (16, 32, 4, 4), "main.3.weight": (32, 16, 4, 4),
                      "main.6.weight": (16, 8, 4, 4), "main.9.weight": (8, 3, 4, 4)}
    with pytest.raises(InvalidOptionError, match="upsample"):
        ganzoo.create_generator("dcgan", upsample="cubic")


def test_dcgan_rejects_other_sizes():
    with pytest.raises(InvalidOptionError, match="32, 64, 128"):
        ganzoo.create_generator("dcgan", image_size=48)


def test_patchgan_depth_changes_patch_grid():
    shallow = ganzoo.create_discriminator("patchgan", ndf=8, n_layers=2)
    deep = ganzoo.create_discriminator("n_layers", ndf=8, n_layers=4)
    x = torch.randn(2, 3, 64, 64)
    assert shallow(x).shape[-1] > deep(x).shape[-1]


def test_unknown_norm_is_a_clear_error():
    with pytest.raises(InvalidOptionError, match="valid choices: batch, instance, none"):
        ganzoo.create_generator("resnet9", norm="group")


def test_unknown_timm_model_suggests_close_names():
    with pytest.raises(GanzooError, match="did you mean.*test_resnet"):
        ganzoo.create_discriminator("timm:test_resnt")


def test_timm_unet_keeps_timm_init_for_encoder():
    torch.manual_seed(0)
    net = ganzoo.create_generator("timm-unet:test_resnet", ngf=8)
    head = net.head[0].weight
    assert abs(head.std().item() - 0.02) < 0.01, "decoder gets ganzoo's normal(0, 0.02) init"
    encoder_bn = [m for m in net.encoder.modules() if isinstance(m, torch.nn.BatchNorm2d)][0]
    assert torch.all(encoder_bn.weight == 1), "the timm encoder keeps timm's own initialisation"
