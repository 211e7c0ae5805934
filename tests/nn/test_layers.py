"""Weight initialisation and the layer choices shared by the families."""

import pytest
import torch

import ganzoo
from ganzoo.errors import InvalidOptionError
from ganzoo.nn.layers import init_weights


def conv_weights(net):
    return torch.cat([m.weight.flatten() for m in net.modules() if isinstance(m, torch.nn.Conv2d)])


def test_normal_init_is_reference_default():
    torch.manual_seed(0)
    net = ganzoo.create_generator("resnet6", ngf=16, norm="batch")
    assert conv_weights(net).std().item() == pytest.approx(0.02, rel=0.05)
    assert conv_weights(net).mean().item() == pytest.approx(0.0, abs=0.002)
    biases = [m.bias for m in net.modules() if isinstance(m, torch.nn.Conv2d) and m.bias is not None]
    assert biases and all(torch.all(b == 0) for b in biases)
    bn = torch.cat([m.weight for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)])
    assert bn.mean().item() == pytest.approx(1.0, abs=0.01) and bn.std().item() == pytest.approx(0.02, rel=0.2)


def test_orthogonal_init_gives_orthogonal_rows():
    layer = torch.nn.Linear(16, 8)
    init_weights(layer, init_type="orthogonal", gain=1.0)
    product = layer.weight @ layer.weight.T
    assert torch.allclose(product, torch.eye(8), atol=1e-5)


def test_xavier_and_kaiming_scale_with_fan_in():
    torch.manual_seed(0)
    wide, narrow = torch.nn.Linear(1024, 256), torch.nn.Linear(16, 256)
    for layer in (wide, narrow):
        init_weights(layer, init_type="kaiming")
    assert narrow.weight.std() > 4 * wide.weight.std()
    layer = torch.nn.Linear(512, 512)
    init_weights(layer, init_type="xavier", gain=1.0)
    assert layer.weight.std().item() == pytest.approx((2 / 1024) ** 0.5, rel=0.05)


def test_init_type_none_keeps_module_defaults():
    torch.manual_seed(0)
    net = ganzoo.create_discriminator("patchgan", ndf=8, init_type=None)
    assert conv_weights(net).std().item() > 0.03  # torch's kaiming-uniform default, not N(0, 0.02)


def test_unknown_init_type():
    with pytest.raises(InvalidOptionError, match="normal, xavier, kaiming, orthogonal"):
        ganzoo.create_generator("resnet6", ngf=8, init_type="uniform")


def spectral_norm_new(layer):
    return torch.nn.utils.parametrizations.spectral_norm(layer)


def spectral_norm_old(layer):
    return torch.nn.utils.spectral_norm(layer)


def original_weight(layer):
    if torch.nn.utils.parametrize.is_parametrized(layer, "weight"):
        return layer.parametrizations.weight.original
    return layer.weight_orig


def effective_spectral_norm(layer):
    dim = 1 if isinstance(layer, torch.nn.ConvTranspose2d) else 0
    return torch.linalg.matrix_norm(layer.weight.transpose(0, dim).flatten(1), ord=2).item()


@pytest.mark.parametrize("wrap", [spectral_norm_new, spectral_norm_old], ids=["parametrizations", "hook"])
@pytest.mark.parametrize("make", [lambda: torch.nn.Conv2d(64, 64, 3), lambda: torch.nn.ConvTranspose2d(64, 32, 4)],
                         ids=["conv", "transposed"])
def test_init_reaches_the_original_weight_of_spectrally_normalised_layers(wrap, make):
    torch.manual_seed(0)
    layer = wrap(make())
    layer(torch.randn(1, 64, 8, 8))  # after a forward, the old API's `weight` no longer shares storage
    original = original_weight(layer)
    assert original.std().item() < 0.05, "torch's default init, far from the one asked for below"
    init_weights(layer, init_type="normal", gain=0.5)
    assert original_weight(layer) is original, "the same parameter, so optimizers built before still see it"
    assert original.std().item() == pytest.approx(0.5, rel=0.03)
    assert original.mean().item() == pytest.approx(0.0, abs=0.01)
    assert torch.all(layer.bias == 0)


@pytest.mark.parametrize("wrap", [spectral_norm_new, spectral_norm_old], ids=["parametrizations", "hook"])
def test_spectral_norm_is_recomputed_for_the_new_weight(wrap):
    """The power-iteration vectors follow the new weight, so even before any training step (in eval mode,
    where no iteration runs) the layer's effective weight has a spectral norm of about 1."""
    torch.manual_seed(0)
    layer = wrap(torch.nn.Conv2d(16, 32, 3))
    init_weights(layer, init_type="normal", gain=1.0)
    layer.eval()
    layer(torch.randn(1, 16, 8, 8))  # the old API recomputes its weight in a pre-forward hook
    assert effective_spectral_norm(layer) == pytest.approx(1.0, abs=0.05)


def test_spectrally_normalised_network_is_initialised_through_ganzoo():
    torch.manual_seed(0)
    net = ganzoo.create_discriminator("patchgan", ndf=16, norm="none", init_type=None)
    for i, layer in enumerate(net.model):
        if isinstance(layer, torch.nn.Conv2d):
            net.model[i] = spectral_norm_new(layer)
    init_weights(net, init_type="normal", gain=0.02)
    originals = torch.cat([original_weight(m).flatten() for m in net.modules()
                           if isinstance(m, torch.nn.Conv2d)])
    assert originals.std().item() == pytest.approx(0.02, rel=0.05)
