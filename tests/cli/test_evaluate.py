"""``ganzoo eval`` and ``ganzoo weights``: what a user types, what they see, what is written."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_ganzoo
from tests.train.tiny import tiny_spec


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A CycleGAN run folder of two tiny steps on the toy set."""
    from ganzoo.train.engine import Trainer

    run_dir = tmp_path_factory.mktemp("run") / "cyclegan"
    Trainer(tiny_spec("cyclegan", steps=2), run_dir, progress=False).run_training()
    return run_dir


def one_line_error(result) -> str:
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_toy_scores_alone_need_no_weights(trained_run):
    result = run_ganzoo("eval", str(trained_run), "--metric", "toy")
    assert result.returncode == 0, result.stderr
    assert "SHAPE ACCURACY (HIGHER BETTER)" in result.stdout and "AtoB" in result.stdout and "BtoA" in result.stdout
    record = json.loads((trained_run / "metrics.json").read_text())
    assert record["format"] == "ganzoo-metrics" and record["step"] == 2 and record["data"] == "toy:day2night"
    assert 0 <= record["results"]["AtoB"]["toy"]["shape_accuracy"] <= 1


def test_without_weights_the_error_says_how_to_get_them(trained_run):
    line = one_line_error(run_ganzoo("eval", str(trained_run)))
    assert "ganzoo weights fetch inception" in line and "GANZOO_INCEPTION_WEIGHTS" in line


def test_a_weights_file_that_is_not_the_pinned_one_is_refused_unless_asked(trained_run, inception_file):
    line = one_line_error(run_ganzoo("eval", str(trained_run), "--weights", str(inception_file)))
    assert "SHA-256" in line and "--unverified-weights" in line

    out = trained_run / "fid.json"
    result = run_ganzoo("eval", str(trained_run), "--metric", "fid,kid", "--weights", str(inception_file),
                        "--unverified-weights", "--max-images", "4", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "FID (LOWER BETTER)" in result.stdout and "NOT the standard weights" in result.stdout
    assert "AtoB: 4 generated vs 4 real (test, night side)" in result.stdout
    record = json.loads(out.read_text())
    for output in ("AtoB", "BtoA"):
        assert record["results"][output]["fid"] > 0 and "kid_std" in record["results"][output]
        assert record["comparisons"][output]["real_images"] == 4
    protocol = record["protocol"]
    assert protocol["standard"] is False and protocol["resize"] == "tf1" and protocol["image_size"] == 32
    assert len(protocol["sha256"]) == 64


def test_the_evaluation_of_a_run_travels_into_its_bundle_and_card(trained_run, inception_file, tmp_path):
    import ganzoo

    result = run_ganzoo("eval", str(trained_run), "--metric", "fid", "--weights", str(inception_file),
                        "--unverified-weights", "--max-images", "4")
    assert result.returncode == 0, result.stderr
    model = ganzoo.Model.from_pretrained(trained_run)
    assert model.config["evaluation"]["results"]["AtoB"]["fid"] > 0
    card = (model.save_pretrained(tmp_path / "bundle") / "README.md").read_text()
    assert "## Evaluation" in card and "not the standard weights" in card


def test_bad_input_is_one_line(trained_run, tmp_path):
    assert "unknown metric 'is'" in one_line_error(run_ganzoo("eval", str(trained_run), "--metric", "fid,is"))
    assert "timm:NAME" in one_line_error(run_ganzoo("eval", str(trained_run), "--features", "vgg"))
    assert "neither a run folder nor a model bundle" in one_line_error(run_ganzoo("eval", str(tmp_path)))


def test_weights_list_says_what_is_cached():
    result = run_ganzoo("weights", "list")
    assert result.returncode == 0, result.stderr
    assert "inception" in result.stdout and "no" in result.stdout and "weights-inception-2015-12-05" in result.stdout


def test_weights_fetch_downloads_and_refuses_a_file_that_is_not_the_pinned_one():
    from ganzoo.testing.servers import FileServer

    with FileServer({"/weights.pth": b"not the inception weights"}) as server:
        result = run_ganzoo("weights", "fetch", "inception", "--from", f"{server.url}/weights.pth")
        assert ("GET", "/weights.pth", None) in server.requests
    assert result.returncode != 0 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]  # after the progress bar
    assert len(errors) == 1 and "is 25 bytes, not the published 95628359; deleted it" in errors[0]
    from ganzoo.metrics.weights import INCEPTION, weights_dir

    assert not (weights_dir() / INCEPTION.filename).exists()  # nothing unverified is kept
    assert "unknown weights 'vgg'" in one_line_error(run_ganzoo("weights", "fetch", "vgg"))


def test_evaluating_a_run_again_keeps_its_training_history(tmp_path):
    from ganzoo.train.engine import Trainer

    spec = tiny_spec("pix2pix", steps=2, sets={"eval_every": 1, "eval_metrics": "toy", "keep_best": "shape_accuracy"})
    Trainer(spec, tmp_path, progress=False).run_training()
    before = json.loads((tmp_path / "metrics.json").read_text())
    result = run_ganzoo("eval", str(tmp_path), "--metric", "toy")
    assert result.returncode == 0, result.stderr
    after = json.loads((tmp_path / "metrics.json").read_text())
    assert after["history"] == before["history"] and after["best"] == before["best"]
    assert after["evaluated"] >= before["evaluated"]


def test_a_bundle_is_evaluated_in_place_and_carries_the_record(trained_run, tmp_path):
    import ganzoo

    bundle = ganzoo.Model.from_pretrained(trained_run).save_pretrained(tmp_path / "bundle")
    result = run_ganzoo("eval", str(bundle), "--metric", "toy")
    assert result.returncode == 0, result.stderr
    assert json.loads((bundle / "metrics.json").read_text())["results"]["BtoA"]["toy"]
    assert ganzoo.Model.from_pretrained(bundle).config["evaluation"]["step"] == 2
