"""The Python API: create_* by name and alias, options, families, and clear errors."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import ganzoo
from ganzoo.errors import InvalidOptionError, UnknownComponentError

FIXTURES = Path(__file__).parent / "fixtures" / "reference"


def test_create_by_alias_gives_same_network():
    a = ganzoo.create_generator("unet_128", ngf=4)
    b = ganzoo.create_generator("unet128", ngf=4)
    assert type(a) is type(b)
    assert [k for k in a.state_dict()] == [k for k in b.state_dict()]


def test_list_components_with_pattern():
    assert ganzoo.list_components("generator", "unet*") == ["unet128", "unet256"]
    assert "vanilla" not in ganzoo.list_components("loss")  # aliases are not separate components


def test_unknown_option_names_valid_ones():
    with pytest.raises(InvalidOptionError, match="valid options: in_channels, ndf, norm"):
        ganzoo.create_discriminator("pixel", n_layers=3)


def test_family_needs_a_member():
    with pytest.raises(UnknownComponentError, match="timm-unet:NAME, for example timm-unet:test_resnet"):
        ganzoo.create_generator("timm-unet")


def test_pretrained_timm_weights_offline_fail_in_one_line():
    code = (
        "import ganzoo\n"
        "try:\n"
        "    ganzoo.create_discriminator('timm:test_resnet', pretrained=True)\n"
        "except ganzoo.GanzooError as exc:\n"
        "    print(exc)\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and "could not get pretrained weights for timm model 'test_resnet'" in lines[0]


def test_an_option_given_as_none_keeps_the_default():
    import torch

    net = ganzoo.create_generator("resnet9", ngf=None, n_blocks=1, init_type=None)
    first = next(m for m in net.modules() if isinstance(m, torch.nn.Conv2d))
    assert first.out_channels == 64
    assert ganzoo.create_loss("wgan-gp", gp_weight=None).gp_weight == 10.0


def test_network_is_for_saved_models_only():
    with pytest.raises(InvalidOptionError, match="network= picks one network of a saved model"):
        ganzoo.create_generator("resnet9", network="gen_ba")


@pytest.fixture
def bundle(tmp_path):
    """A bundle of one unet128 generator (batch norm, no dropout), converted from a reference checkpoint."""
    from ganzoo.hub.convert import convert_checkpoint

    return convert_checkpoint(FIXTURES / "unet_128_batch_ngf4.pth", role="generator", name="unet128",
                              out=tmp_path / "bundle", image_size=128, domains={"A": "edges", "B": "shapes"})


def test_weights_combine_with_options(bundle):
    import torch

    from ganzoo.train.checkpoint import CheckpointError

    class Weights:
        @ganzoo.hookimpl
        def ganzoo_register_generators(self, register):
            register("ganzoo.nn.unet:UnetGenerator", name="unet128t", defaults={"num_downs": 7},
                     summary="unet128 with named weights", pretrained={"shapes": str(bundle)})

    ganzoo.register_plugin(Weights(), name="weights")
    saved = ganzoo.create_generator(str(bundle))
    tagged = ganzoo.create_generator("unet128t.shapes", dropout=True)  # dropout keeps every tensor's shape
    assert not tagged.training and not saved.training
    assert not any(isinstance(m, torch.nn.Dropout) for m in saved.modules())
    assert any(isinstance(m, torch.nn.Dropout) for m in tagged.modules()), "the caller's option won"
    assert all(torch.equal(a, b) for a, b in zip(saved.state_dict().values(), tagged.state_dict().values()))
    with pytest.raises(CheckpointError, match="does not fit gen_ab: mis-shaped"):
        ganzoo.create_generator("unet128t.shapes", ngf=8)
    with pytest.raises(ganzoo.GanzooError, match="has no generator 'gen_ba'"):
        ganzoo.create_generator(str(bundle), network="gen_ba")
