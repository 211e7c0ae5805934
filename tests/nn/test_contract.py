"""The component contract, read from built networks (real and meta-device) and from factories."""

import functools

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo.errors import GanzooError
from ganzoo.nn.contract import Contract, as_logit_list, contract_of, input_kind_of, uses_batch_norm
from ganzoo.nn.dcgan import DCGANDiscriminator, DCGANGenerator
from ganzoo.nn.patchgan import PatchDiscriminator, PixelDiscriminator
from ganzoo.nn.resnet import ResnetGenerator
from ganzoo.nn.timm_backbones import TimmDiscriminator, TimmUnetGenerator
from ganzoo.nn.unet import UnetGenerator
from tests.nn.sizing import build_tiny

RESNET_LAYERS = ("input", "stem", "down1", "down2", "block1", "block2")
TIMM_LAYERS = ("reduction2", "reduction4", "reduction8", "reduction16", "reduction32")

# (class, tiny options, the contract it must report)
BUILT_IN = {
    "resnet": (ResnetGenerator, {"ngf": 8, "n_blocks": 2},
               Contract("image", 3, 3, size_multiple=4, min_size=8, encoder_layers=RESNET_LAYERS)),
    "resnet-batch": (ResnetGenerator, {"ngf": 8, "n_blocks": 2, "norm": "batch", "in_channels": 1},
                     Contract("image", 1, 3, size_multiple=4, min_size=8, batch_norm=True,
                              encoder_layers=RESNET_LAYERS)),
    "unet": (UnetGenerator, {"ngf": 8, "num_downs": 5},
             Contract("image", 3, 3, size_multiple=32, min_size=32, batch_norm=True,
                      encoder_layers=("down1", "down2", "down3", "down4", "down5"))),
    "dcgan": (DCGANGenerator, {"nz": 16, "ngf": 8, "image_size": 32, "out_channels": 1},
              Contract("noise", None, 1, image_size=32, batch_norm=True)),
    "dc": (DCGANDiscriminator, {"ndf": 8, "image_size": 32, "norm": "none"},
           Contract("image", 3, 1, min_size=32, image_size=32, features=True)),
    "patchgan": (PatchDiscriminator, {"ndf": 8, "n_layers": 2, "in_channels": 6},
                 Contract("image", 6, 1, min_size=12, features=True)),
    "pixel": (PixelDiscriminator, {"ndf": 8, "norm": "batch"},
              Contract("image", 3, 1, batch_norm=True, features=True)),
    "timm-unet": (TimmUnetGenerator, {"model": "test_resnet", "ngf": 8, "norm": "instance"},
                  Contract("image", 3, 3, size_multiple=32, min_size=32, batch_norm=True,
                           encoder_layers=TIMM_LAYERS)),
    "timm": (TimmDiscriminator, {"model": "test_resnet"},
             Contract("image", 3, 1, batch_norm=True)),
}


@pytest.mark.parametrize("case", sorted(BUILT_IN))
def test_built_in_networks_report_their_contract(case):
    cls, options, expected = BUILT_IN[case]
    assert contract_of(cls(**options)) == expected


@pytest.mark.parametrize("case", sorted(BUILT_IN))
def test_contract_reads_the_same_on_the_meta_device(case):
    cls, options, expected = BUILT_IN[case]
    with torch.device("meta"):
        net = cls(**options)
    assert next(net.parameters()).is_meta
    assert contract_of(net) == expected


@pytest.mark.parametrize("kind", ["generator", "discriminator"])
def test_every_registered_network_has_a_readable_contract(kind):
    """Plugins' networks included: the contract must be readable without running the network."""
    for name in ganzoo.list_components(kind):
        contract = contract_of(build_tiny(kind, name))
        assert contract.input_kind == input_kind_of(ganzoo.get_entry(kind, name).factory), name
        assert contract.size_multiple >= 1 and contract.min_size >= 1, name


def test_the_timm_unet_takes_its_backbone_batch_norm_into_account():
    """The decoder has no batch norm here, but the timm encoder does: inspection finds it."""
    net = TimmUnetGenerator("test_resnet", ngf=8, norm="none")
    assert not any(isinstance(m, nn.BatchNorm2d) for block in net.init_targets() for m in block.modules())
    assert contract_of(net).batch_norm


@pytest.mark.parametrize("module, expected", [
    (nn.Sequential(nn.Conv2d(3, 4, 3), nn.SyncBatchNorm(4)), True),
    (nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)), True),
    (nn.Sequential(nn.Conv3d(3, 4, 3), nn.BatchNorm3d(4)), True),
    (nn.Sequential(nn.Conv2d(3, 4, 3), nn.LazyBatchNorm2d()), True),
    (nn.Sequential(nn.Conv2d(3, 4, 3), nn.InstanceNorm2d(4, affine=True, track_running_stats=True)), False),
    (nn.Sequential(nn.Conv2d(3, 4, 3), nn.GroupNorm(2, 4), nn.LayerNorm([4])), False),
    (nn.Sequential(nn.Sequential(nn.Sequential(nn.BatchNorm2d(2)))), True),
])
def test_uses_batch_norm(module, expected):
    assert uses_batch_norm(module) is expected


def test_batch_norm_follows_the_norm_option_not_the_class():
    assert uses_batch_norm(PatchDiscriminator(ndf=8, norm="batch"))
    assert not uses_batch_norm(PatchDiscriminator(ndf=8, norm="instance"))
    assert not uses_batch_norm(DCGANDiscriminator(ndf=8, image_size=32, norm="none"))


class Unbuildable(nn.Module):
    """Building it fails, so a test that passes proves nothing was built."""

    input_kind = "noise"

    def __init__(self) -> None:
        raise AssertionError("input_kind_of must not instantiate")


def noise_factory(**options):
    raise AssertionError("input_kind_of must not call the factory")


noise_factory.input_kind = "noise"


def test_input_kind_of_reads_without_building():
    assert input_kind_of(Unbuildable) == "noise"
    assert input_kind_of(functools.partial(Unbuildable)) == "noise"
    assert input_kind_of(noise_factory) == "noise"
    assert input_kind_of(lambda **options: None) == "image"
    assert input_kind_of(DCGANGenerator) == "noise"
    assert input_kind_of(ResnetGenerator) == input_kind_of(PatchDiscriminator) == "image"


def test_an_unknown_input_kind_is_an_error():
    class Text(nn.Module):
        input_kind = "text"

    with pytest.raises(GanzooError, match="input_kind 'text'; valid: image, noise"):
        input_kind_of(Text)
    with pytest.raises(GanzooError, match="valid: image, noise"):
        contract_of(Text())


def test_a_noise_network_without_noise_method_is_an_error():
    class Silent(nn.Module):
        input_kind = "noise"

    with pytest.raises(GanzooError, match="Silent takes noise but has no noise"):
        contract_of(Silent())


def test_a_submodule_named_features_is_not_the_features_method():
    net = nn.Module()
    net.features = nn.Sequential(nn.Conv2d(3, 4, 3))
    assert contract_of(net).features is False


def test_noise_matches_the_contract_signature():
    net = DCGANGenerator(nz=16, ngf=8, image_size=32)
    a = net.noise(3, generator=torch.Generator().manual_seed(1), device="cpu")
    b = net.noise(3, generator=torch.Generator().manual_seed(1))
    assert a.shape == (3, 16, 1, 1) and torch.equal(a, b)
    assert net(a).shape == (3, 3, 32, 32)


def test_as_logit_list_normalises_one_map_or_several():
    small, big = torch.zeros(2, 1, 2, 2), torch.zeros(2, 1, 4, 4)
    assert as_logit_list(small)[0] is small and len(as_logit_list(small)) == 1
    assert as_logit_list((small, big)) == [small, big]
    assert as_logit_list([small, big])[1] is big


@pytest.mark.parametrize("output, named", [
    (None, "NoneType"),
    ({"logits": torch.zeros(1)}, "dict"),
    ([], "list of nothing"),
    ([torch.zeros(1), [torch.zeros(1)]], "list of Tensor, list"),
])
def test_as_logit_list_names_what_it_got(output, named):
    with pytest.raises(GanzooError, match=f"returned a {named}"):
        as_logit_list(output)


def test_encoder_layers_without_encode_are_not_in_the_contract():
    net = nn.Conv2d(3, 3, 1)
    net.encoder_layers = ("a",)
    assert contract_of(net).encoder_layers == ()
