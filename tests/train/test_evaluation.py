"""Evaluation during training: --eval-every, --keep-best, and that evaluating changes nothing in training."""

from __future__ import annotations

import csv
import json

import pytest
import torch

import ganzoo
from ganzoo.errors import UsageError
from ganzoo.train.engine import Trainer, TrainingInterrupted
from ganzoo.train.run import load_spec
from tests.train.test_engine import final_weights
from tests.train.tiny import ctrl_c_after, tiny_spec

EVAL = {"eval_every": 2, "eval_metrics": "toy", "keep_best": "shape_accuracy", "checkpoint_every": 2}


def metrics_rows(run_dir):
    with open(run_dir / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_eval_every_logs_beside_the_losses_and_keeps_the_best_as_a_bundle(tmp_path):
    spec = tiny_spec("cyclegan", steps=4, sets=EVAL)
    Trainer(spec, tmp_path, progress=False).run_training()

    evaluated = [r for r in metrics_rows(tmp_path) if r["toy_shape_accuracy_AtoB"]]
    assert [int(r["step"]) for r in evaluated] == [2, 4]
    assert all(r["toy_shape_accuracy_BtoA"] for r in evaluated)  # both directions of CycleGAN
    assert any(r["G_gan_AB"] for r in metrics_rows(tmp_path))  # the losses are still there
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert record["format"] == "ganzoo-metrics" and record["step"] == 4
    assert [h["step"] for h in record["history"]] == [2, 4]
    best = record["best"]
    assert best["metric"] == "shape_accuracy"
    assert best["value"] == max((h["toy_shape_accuracy_AtoB"] + h["toy_shape_accuracy_BtoA"]) / 2
                                for h in record["history"])

    model = ganzoo.Model.from_pretrained(tmp_path / "best")  # a bundle like any other
    assert model.config["training"]["steps"] == best["step"]
    assert model.config["evaluation"]["step"] == best["step"]
    y = model.translate(torch.zeros(1, 3, 32, 32))
    assert y.shape == (1, 3, 32, 32)
    page = (tmp_path / "index.html").read_text()
    assert "<h2>Evaluation</h2>" in page and "toy_shape_accuracy_AtoB" in page
    assert f"Best shape_accuracy: {best['value']:.4g} at step {best['step']}, kept as a bundle" in page


def test_evaluating_leaves_training_exactly_as_it_was(tmp_path):
    plain = tiny_spec("dcgan", steps=4, sets={"deterministic": True})
    evaluated = tiny_spec("dcgan", steps=4, sets={"deterministic": True, "eval_every": 1, "eval_metrics": "toy"})
    Trainer(plain, tmp_path / "plain", progress=False).run_training()
    Trainer(evaluated, tmp_path / "evaluated", progress=False).run_training()
    a, b = final_weights(tmp_path / "plain"), final_weights(tmp_path / "evaluated")
    for name in a:
        for key in a[name]:
            assert torch.equal(a[name][key], b[name][key]), f"{name}:{key} differs when evaluating"


def test_a_resumed_run_keeps_its_evaluation_history(tmp_path, monkeypatch):
    spec = tiny_spec("pix2pix", steps=4, sets={**EVAL, "keep_best": None})
    with ctrl_c_after(2, monkeypatch), pytest.raises(TrainingInterrupted):
        Trainer(spec, tmp_path, progress=False).run_training()
    resumed = Trainer(load_spec(tmp_path), tmp_path, progress=False)
    assert resumed.resume() == 2
    resumed.run_training()
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert [h["step"] for h in record["history"]] == [2, 4]
    assert [int(r["step"]) for r in metrics_rows(tmp_path) if r["toy_shape_accuracy_AtoB"]] == [2, 4]


def test_keep_best_needs_evaluation_and_a_metric_the_run_computes(tmp_path):
    with pytest.raises(UsageError, match="keep_best=fid needs evaluation during training: add --eval-every N"):
        tiny_spec("cyclegan", sets={"keep_best": "fid"})
    with pytest.raises(UsageError, match="the run does not compute fid"):
        Trainer(tiny_spec("cyclegan", sets={**EVAL, "keep_best": "fid"}), tmp_path, progress=False)
    with pytest.raises(UsageError, match="choose fid, kid or a toy score"):
        Trainer(tiny_spec("cyclegan", sets={**EVAL, "keep_best": "beauty"}), tmp_path, progress=False)
    with pytest.raises(UsageError, match=r"eval_metrics=\S+: expected names from fid, kid, toy"):
        tiny_spec("cyclegan", sets={"eval_metrics": "fid,is"})


def test_missing_inception_weights_stop_the_run_before_it_trains(tmp_path):
    with pytest.raises(UsageError, match="ganzoo weights fetch inception"):
        Trainer(tiny_spec("cyclegan", sets={"eval_every": 2}), tmp_path, progress=False)
    assert not (tmp_path / "checkpoints").exists()


def fid_sets(path, **more):
    return {"eval_metrics": "fid,kid", "eval_weights": str(path), "eval_unverified_weights": True,
            "eval_max_images": 4, **more}


def test_fid_during_training_keeps_the_best_and_trains_as_without(tmp_path, inception_file, monkeypatch):
    plain = tiny_spec("dcgan", steps=4, sets={"deterministic": True})
    evaluated = tiny_spec("dcgan", steps=4, sets={"deterministic": True, "eval_every": 2, "keep_best": "fid",
                                                  **fid_sets(inception_file)})
    Trainer(plain, tmp_path / "plain", progress=False).run_training()
    trainer = Trainer(evaluated, tmp_path / "evaluated", progress=False)
    told = []
    original = trainer.events.notify
    monkeypatch.setattr(trainer.events, "notify",
                        lambda hook, **kw: (told.append(kw["scores"]) if hook == "ganzoo_evaluation" else None,
                                            original(hook, **kw))[1])
    trainer.run_training()
    a, b = final_weights(tmp_path / "plain"), final_weights(tmp_path / "evaluated")
    for name in a:  # building Inception and evaluating drew no random number of the run's
        for key in a[name]:
            assert torch.equal(a[name][key], b[name][key]), f"{name}:{key} differs when evaluating"

    record = json.loads((tmp_path / "evaluated" / "metrics.json").read_text())
    assert [h["step"] for h in record["history"]] == [2, 4]
    assert record["comparisons"]["sample"] == {**record["comparisons"]["sample"], "real_split": "train",
                                               "generated_images": 4, "real_images": 4}
    assert record["protocol"]["standard"] is False and record["protocol"]["image_size"] == 32
    fids = {h["step"]: h["fid_sample"] for h in record["history"]}
    assert record["best"] == {"metric": "fid", "value": min(fids.values()), "step": min(fids, key=fids.get)}
    card = (tmp_path / "evaluated" / "best" / "README.md").read_text()
    assert "## Evaluation" in card and "| sample |" in card and "## Metrics" not in card
    # loggers get {stage: {name: value}}, as for the toy scores (TensorBoard writes score/STAGE/NAME)
    assert told[0].keys() == {"evaluation"} and "fid_sample" in told[0]["evaluation"]
