"""Numerical equality with the reference CycleGAN/pix2pix networks.

tests/fixtures/reference/ holds checkpoints written by the reference code, with an input and the
reference's output for each (see its README). Each loads into the matching ganzoo network with the
reference's own key names and must reproduce the stored output to within 1e-5. At the default widths,
every parameter name, shape and the parameter counts must equal the reference's, so that the published
pretrained checkpoints load too.
"""

import json
from pathlib import Path

import pytest
import torch

import ganzoo

FIXTURES = Path(__file__).parent.parent / "fixtures" / "reference"
INDEX = json.loads((FIXTURES / "index.json").read_text())

# fixture name -> (kind, registry name as the reference calls it, options)
NETWORKS = {
    "resnet_6blocks_instance_ngf16": ("generator", "resnet_6blocks", {"ngf": 16, "norm": "instance"}),
    "resnet_9blocks_batch_dropout_ngf16": ("generator", "resnet_9blocks", {"ngf": 16, "norm": "batch", "dropout": True}),
    "unet_128_batch_ngf4": ("generator", "unet_128", {"ngf": 4, "norm": "batch"}),
    "unet_256_instance_ngf4": ("generator", "unet_256", {"ngf": 4, "norm": "instance"}),
    "basic_D_instance_in3_ndf16": ("discriminator", "basic", {"ndf": 16, "norm": "instance"}),
    "basic_D_batch_in6_ndf16": ("discriminator", "basic", {"ndf": 16, "norm": "batch", "in_channels": 6}),
    "n_layers5_D_instance_in3_ndf8": ("discriminator", "n_layers", {"ndf": 8, "n_layers": 5, "norm": "instance"}),
    "pixel_D_batch_in6_ndf16": ("discriminator", "pixel", {"ndf": 16, "norm": "batch", "in_channels": 6}),
}

DEFAULT_WIDTH_NETWORKS = {
    "resnet_9blocks_instance_ngf64": ("generator", "resnet9", {"norm": "instance"}),
    "resnet_6blocks_instance_ngf64": ("generator", "resnet6", {"norm": "instance"}),
    "unet_256_batch_dropout_ngf64": ("generator", "unet256", {"norm": "batch", "dropout": True}),
    "unet_128_batch_dropout_ngf64": ("generator", "unet128", {"norm": "batch", "dropout": True}),
    "basic_D_instance_in3_ndf64": ("discriminator", "patchgan", {"norm": "instance"}),
    "basic_D_batch_in6_ndf64": ("discriminator", "patchgan", {"norm": "batch", "in_channels": 6}),
    "pixel_D_batch_in6_ndf64": ("discriminator", "pixel", {"norm": "batch", "in_channels": 6}),
}


def build(kind, name, options):
    create = ganzoo.create_generator if kind == "generator" else ganzoo.create_discriminator
    return create(name, **options)


def test_every_fixture_is_mapped():
    assert set(NETWORKS) == set(INDEX["fixtures"])
    assert set(DEFAULT_WIDTH_NETWORKS) == set(INDEX["reference_defaults"])


@pytest.mark.parametrize("fixture", sorted(NETWORKS))
def test_reference_checkpoint_gives_reference_output(fixture):
    meta = INDEX["fixtures"][fixture]
    net = build(*NETWORKS[fixture])
    state = torch.load(FIXTURES / meta["checkpoint"], weights_only=True)
    net.load_state_dict(state, strict=True)
    io = torch.load(FIXTURES / meta["io"], weights_only=True)
    with torch.no_grad():
        output = net.eval()(io["input"])
    assert list(output.shape) == meta["output_shape"]
    assert sum(p.numel() for p in net.parameters()) == meta["parameters"]
    assert (output - io["output"]).abs().max().item() < 1e-5


@pytest.mark.parametrize("reference", sorted(DEFAULT_WIDTH_NETWORKS))
def test_default_widths_have_reference_names_shapes_and_counts(reference):
    meta = INDEX["reference_defaults"][reference]
    net = build(*DEFAULT_WIDTH_NETWORKS[reference])
    shapes = {key: list(value.shape) for key, value in net.state_dict().items()}
    assert shapes == meta["state_dict"]
    assert sum(p.numel() for p in net.parameters()) == meta["parameters"]


def test_issue_parameter_counts():
    assert sum(p.numel() for p in ganzoo.create_generator("resnet9", ngf=64, norm="instance").parameters()) == 11_378_179
    assert sum(p.numel() for p in ganzoo.create_discriminator("patchgan", n_layers=3, ndf=64, norm="instance").parameters()) == 2_764_737
