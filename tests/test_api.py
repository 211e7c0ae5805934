"""The Python API: create_* by name and alias, options, families, and clear errors."""

import os
import subprocess
import sys

import pytest

import ganzoo
from ganzoo.errors import InvalidOptionError, UnknownComponentError


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
