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
