"""``ganzoo list`` and ``ganzoo info`` in-process through click's runner."""

import json

from click.testing import CliRunner

from ganzoo.cli import cli


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_list_all_kinds_table():
    result = invoke("list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["KIND", "NAME", "ALIASES", "PLUGIN", "SUMMARY"]
    names = {line.split()[1] for line in lines[1:]}
    assert {"resnet9", "unet256", "patchgan", "pixel", "dc", "lsgan", "wgan-gp", "cycle", "timm:NAME"} <= names


def test_list_one_kind_with_pattern():
    result = invoke("list", "gen", "resnet*")
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.output.splitlines()[1:]] == ["resnet6", "resnet9"]


def test_toy_sets_are_listed_and_found_as_users_type_them():
    listed = [line.split()[0] for line in invoke("list", "dataset").output.splitlines()[1:]]
    assert {"toy:day2night", "toy:edges2shapes", "toy:shapes"} <= set(listed)
    assert "day2night" not in listed, "--data takes the toy: spelling the list shows"
    assert [line.split()[0] for line in invoke("list", "dataset", "toy:*").output.splitlines()[1:]] == [
        "toy:day2night", "toy:edges2shapes", "toy:shapes"]
    info = invoke("info", "toy:day2night")
    assert info.exit_code == 0 and info.output.startswith("toy:day2night (dataset)")
    assert invoke("info", "toy:nothing").exit_code != 0
    assert invoke("info", "hub:day2night").exit_code != 0, "only the entry's own prefix finds it"


def test_list_json():
    data = json.loads(invoke("list", "loss", "--json").output)
    by_name = {item["name"]: item for item in data}
    assert by_name["wgan-gp"]["aliases"] == ["wgangp"]
    assert by_name["wgan-gp"]["options"]["gp_weight"] == 10.0
    assert by_name["bce"]["metadata"] == {}, "what a loss is, its role, is read from its class"


def test_list_unknown_kind_is_one_line_error():
    result = invoke("list", "optimizers")
    assert result.exit_code == 2, "a usage error"
    assert result.output.strip().splitlines() == [
        "Error: unknown component kind 'optimizers'; valid kinds: generator, discriminator, loss, data_mode, dataset, "
        "recipe, logger"
    ]


def test_info_by_alias_shows_signature_paper_and_plugin():
    result = invoke("info", "resnet_9blocks")
    assert result.exit_code == 0
    assert result.output.startswith("resnet9 (generator) from plugin ganzoo")
    assert "https://arxiv.org/abs/1703.10593" in result.output
    assert "ngf=64" in result.output and "n_blocks=9" in result.output and "norm='instance'" in result.output


def test_info_family():
    result = invoke("info", "timm")
    assert result.exit_code == 0
    assert "timm:NAME (discriminator)" in result.output and "example: timm:test_resnet" in result.output


def test_info_unknown_suggests():
    result = invoke("info", "patchgna")
    assert result.exit_code == 2, "a usage error"
    assert "did you mean patchgan" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_info_json():
    data = json.loads(invoke("info", "dc", "--json").output)
    assert data[0]["kind"] == "discriminator" and data[0]["options"]["image_size"] == 64


def test_list_loggers():
    result = invoke("list", "loggers")
    assert result.exit_code == 0 and "tensorboard" in result.output


def test_info_recipe_shows_its_toy_schedule_and_targets():
    result = CliRunner().invoke(cli, ["info", "cyclegan"])
    assert result.exit_code == 0, result.output
    assert "toy schedule: data=toy:day2night" in result.output
    assert "toy targets: shape_accuracy >= 0.9" in result.output
