"""encode(x, layers) on the image generators: named encoder taps, stopping before the decoder."""

import pytest
import torch
from torch import nn

from ganzoo.errors import GanzooError
from ganzoo.nn.contract import contract_of
from ganzoo.nn.resnet import ResnetGenerator
from ganzoo.nn.timm_backbones import TimmUnetGenerator
from ganzoo.nn.unet import UnetGenerator


def resnet():
    net = ResnetGenerator(ngf=8, n_blocks=3)
    modules = {"input": net.model[0], "stem": net.model[3], "down1": net.model[6], "down2": net.model[9],
               **{f"block{k}": net.model[9 + k] for k in (1, 2, 3)}}
    shapes = {"input": (3, 38), "stem": (8, 32), "down1": (16, 16), "down2": (32, 8),
              "block1": (32, 8), "block2": (32, 8), "block3": (32, 8)}
    return net, modules, shapes, [net.model[13], net.model[-1]]


def unet():
    net = UnetGenerator(ngf=4, num_downs=5)
    levels = [net.model]
    while not levels[-1].innermost:
        levels.append(levels[-1].model[1 if levels[-1].outermost else 3])
    # outermost: the down-convolution; middle levels: its norm; innermost: its down-convolution
    modules = {"down1": levels[0].model[0], **{f"down{k}": levels[k - 1].model[2] for k in (2, 3, 4)},
               "down5": levels[4].model[1]}
    shapes = {"down1": (4, 16), "down2": (8, 8), "down3": (16, 4), "down4": (32, 2), "down5": (32, 1)}
    return net, modules, shapes, [levels[4].model[3], net.model.model[-1]]


def timm_unet():
    net = TimmUnetGenerator("test_resnet", ngf=8)
    names = net.encoder.feature_info.module_name()
    modules = {f"reduction{2 ** (i + 1)}": net.encoder.get_submodule(name) for i, name in enumerate(names)}
    shapes = {"reduction2": (32, 16), "reduction4": (32, 8), "reduction8": (48, 4), "reduction16": (192, 2),
              "reduction32": (96, 1)}
    return net, modules, shapes, [net.head, net.skip_blocks[0]]


GENERATORS = {"resnet": resnet, "unet": unet, "timm-unet": timm_unet}


def build(case):
    torch.manual_seed(0)
    return (*GENERATORS[case](), torch.rand(2, 3, 32, 32) * 2 - 1)


@pytest.mark.parametrize("case", sorted(GENERATORS))
def test_encoder_layers_are_named_and_in_the_contract(case):
    net, modules, _, _, _ = build(case)
    assert net.encoder_layers == tuple(modules)
    assert contract_of(net).encoder_layers == tuple(modules)


@pytest.mark.parametrize("case", sorted(GENERATORS))
def test_encode_gives_the_documented_shapes_in_the_order_asked(case):
    net, _, shapes, _, x = build(case)
    layers = list(reversed(net.encoder_layers))
    outputs = net.encode(x, layers)
    assert [(o.shape[0], o.shape[1], o.shape[-2], o.shape[-1]) for o in outputs] == \
        [(2, shapes[name][0], shapes[name][1], shapes[name][1]) for name in layers]


@pytest.mark.parametrize("case", sorted(GENERATORS))
def test_encode_equals_what_hooks_on_the_tapped_modules_capture(case):
    net, modules, _, _, x = build(case)
    net.eval()  # batch norm then uses fixed statistics, so the two passes see the same function
    seen = {}

    def keep(name):
        def hook(module, inputs, output):
            # a copy: the U-Net's next level applies its LeakyReLU in place to what the hook saw
            seen[name] = output.clone()
        return hook

    hooks = [module.register_forward_hook(keep(name)) for name, module in modules.items()]
    with torch.no_grad():
        net(x)
    for hook in hooks:
        hook.remove()
    with torch.no_grad():
        outputs = net.encode(x, net.encoder_layers)
    assert set(seen) == set(net.encoder_layers)
    for name, output in zip(net.encoder_layers, outputs):
        assert torch.equal(output, seen[name]), name


@pytest.mark.parametrize("case", sorted(GENERATORS))
def test_encode_never_runs_the_decoder(case):
    net, _, _, decoder, x = build(case)
    calls = []
    hooks = [module.register_forward_hook(lambda *args: calls.append(1)) for module in decoder]
    net.encode(x, net.encoder_layers)
    assert calls == []
    net(x)
    assert len(calls) == len(decoder), "the hooks do fire when the decoder runs"
    for hook in hooks:
        hook.remove()


@pytest.mark.parametrize("case, shallow, deeper", [("resnet", "down1", 7), ("unet", "down2", "down3")])
def test_encode_stops_at_the_deepest_layer_asked_for(case, shallow, deeper):
    net, modules, _, _, x = build(case)
    after = net.model[deeper] if isinstance(deeper, int) else modules[deeper]
    calls = []
    hook = after.register_forward_hook(lambda *args: calls.append(1))
    net.encode(x, [shallow])
    hook.remove()
    assert calls == []


@pytest.mark.parametrize("case", sorted(GENERATORS))
def test_encoded_features_backpropagate_into_the_encoder(case):
    net, _, _, _, x = build(case)
    deepest = net.encode(x, [net.encoder_layers[-1]])[0]
    deepest.square().mean().backward()
    first_conv = next(m for m in net.modules() if isinstance(m, nn.Conv2d))
    assert first_conv.weight.grad is not None and first_conv.weight.grad.abs().sum() > 0


def test_encode_of_no_layers_is_empty():
    net, _, _, _, x = build("resnet")
    assert net.encode(x, []) == []


@pytest.mark.parametrize("case", sorted(GENERATORS))
def test_unknown_layers_are_an_error_listing_the_valid_ones(case):
    net, modules, _, _, x = build(case)
    with pytest.raises(GanzooError, match=f"no encoder layer 'bottleneck'; valid layers: {', '.join(modules)}"):
        net.encode(x, [next(iter(modules)), "bottleneck"])
    with pytest.raises(GanzooError, match="sequence of layer names, not the string"):
        net.encode(x, next(iter(modules)))
