"""pix2pixHD's discriminator side in the built-in recipes: the multi-scale discriminator, feature matching
through ``--aux feature_matching=WEIGHT``, and the one-line refusal for a discriminator without features."""

import csv
import json

import pytest
from click.testing import CliRunner

import ganzoo
from ganzoo.cli import cli

#: 32x32 toy images: three scales of 1-layer PatchGANs fit (the recipes' n_layers=3 needs 93 pixels).
TINY = ["--steps", "2", "--batch-size", "2", "--set", "gen.ngf=8", "--set", "disc.ndf=8", "--set", "disc.n_layers=1",
        "--set", "score_samples=8", "--set", "log_every=1", "--quiet"]


def metrics(run_dir):
    return list(csv.DictReader(open(run_dir / "metrics.csv")))


def test_pix2pix_with_pix2pixhds_discriminator_side_through_the_cli(tmp_path):
    result = CliRunner().invoke(cli, ["run", "pix2pix", "--disc", "multiscale", "--aux", "feature_matching=10", *TINY,
                                      "--out", str(tmp_path), "--name", "hd"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    run_dir = tmp_path / "pix2pix" / "hd"
    config = json.loads((run_dir / "config.json").read_text())
    assert config["components"]["discriminator"]["name"] == "multiscale"
    assert config["aux"]["feature_matching"] == {"loss": "feature_matching", "weight": 10, "options": {}}
    rows = metrics(run_dir)
    assert [r["step"] for r in rows] == ["1", "2"] and all(float(r["G_feat"]) > 0 for r in rows)


def test_pix2pix_is_unchanged_without_the_weight(tmp_path):
    run = ganzoo.train("pix2pix", disc="multiscale", steps=1, batch_size=2, out=tmp_path, progress=False,
                       sets={"gen.ngf": 8, "disc.ndf": 8, "disc.n_layers": 1, "score_samples": 8, "log_every": 1})
    assert "G_feat" not in metrics(run.run_dir)[0], "feature matching is off unless weighted"


@pytest.mark.parametrize("weight", [0, 10])
def test_cyclegan_trains_with_the_multiscale_discriminator(weight, tmp_path):
    run = ganzoo.train("cyclegan", disc="multiscale", steps=3, batch_size=2, out=tmp_path, progress=False,
                       sets={"gen.ngf": 8, "disc.ndf": 8, "disc.n_layers": 1, "score_samples": 8, "log_every": 1,
                             "feature_matching": weight})
    assert run.total_steps == 3
    rows = metrics(run.run_dir)
    assert ("G_feat_AB" in rows[0] and "G_feat_BA" in rows[0]) == bool(weight)
    if weight:
        assert all(float(r["G_feat_AB"]) > 0 and float(r["G_feat_BA"]) > 0 for r in rows)


def test_feature_matching_with_a_discriminator_without_features_is_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["run", "pix2pix", "--disc", "timm:test_resnet", "--aux", "feature_matching=10",
                                      "--steps", "1", "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.strip().splitlines() if line.startswith("Error")]
    assert len(lines) == 1 and "feature_matching=10: loss feature_matching reads the discriminator's features(x), " \
        "which 'timm:test_resnet' does not have; pick a discriminator that has it (" in lines[0], result.output
    assert "multiscale" in lines[0] and "or set feature_matching=0" in lines[0]
    assert not (tmp_path / "pix2pix").exists(), "refused before anything was built"
    from ganzoo.train.config import build_spec

    spec = build_spec("pix2pix", slots={"disc": "timm:test_resnet"}, steps=1, sets={"gen.ngf": 8})
    assert spec.aux["feature_matching"].weight == 0, "at weight 0 the role needs nothing of the discriminator"
