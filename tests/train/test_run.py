"""The run folder under faults: locked while in use, checked before work starts, damaged files named in
one line, runs that stopped early restartable, divergence caught before it reaches a checkpoint."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import ganzoo
from ganzoo.errors import GanzooError, UsageError
from ganzoo.fsutil import LockHeld, OutputError, exclusive_lock
from ganzoo.train.checkpoint import CheckpointError
from ganzoo.train.engine import Trainer, TrainingDiverged, TrainingInterrupted
from ganzoo.train.run import LOCK_FILE, fit, load_spec, resume
from tests.train.tiny import TINY_SETS, tiny_spec


def tiny_run(tmp_path, name="r", steps=3, **kwargs):
    return ganzoo.train("pix2pix", steps=steps, out=tmp_path, name=name, progress=False, batch_size=2,
                        sets={**TINY_SETS, "gen.num_downs": 5, **kwargs.pop("sets", {})}, **kwargs)


def at_iteration(monkeypatch, step, action):
    """Run ``action(trainer)`` right after the step-th iteration's losses are summed (the moment a
    Ctrl-C or a blow-up would strike); returns a function that undoes the patch."""
    original = Trainer._accumulate

    def patched(self, logs):
        original(self, logs)
        if self.step.iteration == step:
            action(self)

    monkeypatch.setattr(Trainer, "_accumulate", patched)
    return lambda: monkeypatch.setattr(Trainer, "_accumulate", original)


def ctrl_c(trainer):
    os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C sends


# -- the lock --------------------------------------------------------------------------------------


def test_a_run_folder_in_use_is_refused_naming_the_holder(tmp_path):
    run_dir = tmp_path / "pix2pix" / "r"
    with exclusive_lock(run_dir / LOCK_FILE, what="x"):  # as another process training there would hold it
        with pytest.raises(LockHeld, match=rf"the run folder {run_dir} is in use by another ganzoo process "
                                           rf"\(pid {os.getpid()}\)"):
            tiny_run(tmp_path)
        assert (run_dir / LOCK_FILE).exists(), "the refused process took the holder's lock file away"
    assert not (run_dir / "config.json").exists(), "the second process wrote nothing"
    assert tiny_run(tmp_path).total_steps == 3, "the lock is gone with its holder"


# -- where the run goes ------------------------------------------------------------------------------


@pytest.mark.parametrize("place", ["under_a_file", "proc"])
def test_an_unwritable_output_folder_fails_before_anything_is_built(tmp_path, monkeypatch, place):
    import ganzoo.train.engine as engine

    def never(*args, **kwargs):
        raise AssertionError("networks were built")

    monkeypatch.setattr(engine.Trainer, "__init__", never)
    if place == "under_a_file":
        (tmp_path / "file").write_text("x")
        out = tmp_path / "file" / "runs"
    else:
        out = Path("/proc/ganzoo-runs")
    with pytest.raises(OutputError, match=r"cannot write the run folder .*: (Not a directory|No such file)"):
        ganzoo.train("pix2pix", steps=1, out=out, name="r", progress=False)


@pytest.mark.parametrize("name", ["r", None])
def test_a_new_run_refused_while_it_is_built_leaves_no_folder(tmp_path, name):
    refused = {**TINY_SETS, "out_channels": 1, "pretrain_steps": 1}  # CycleGAN's step refuses it, in one line
    with pytest.raises(UsageError, match="pretrain_steps needs as many channels on both sides"):
        ganzoo.train("cyclegan", steps=1, out=tmp_path, name=name, progress=False, sets=refused)
    assert list((tmp_path / "cyclegan").iterdir()) == [], "an empty run folder was left behind"


def test_a_refused_start_keeps_the_run_already_in_the_folder(tmp_path):
    run = tiny_run(tmp_path)
    before = sorted(p.relative_to(run.run_dir) for p in run.run_dir.rglob("*"))
    with pytest.raises(UsageError, match="already holds a run"):
        tiny_run(tmp_path)
    assert sorted(p.relative_to(run.run_dir) for p in run.run_dir.rglob("*")) == before


# -- a run that stopped before its first checkpoint --------------------------------------------------


def test_a_run_without_checkpoint_restarts_with_resume_or_overwrite(tmp_path):
    run = tiny_run(tmp_path)
    import shutil

    shutil.rmtree(run.run_dir / "checkpoints")  # as if killed after config.json, before the first checkpoint
    with pytest.raises(UsageError, match="stopped before its first checkpoint; start it over with `ganzoo run "
                                         "--resume .*` or --overwrite"):
        tiny_run(tmp_path)
    again = resume(run.run_dir, progress=False)
    assert again.total_steps == 3 and "trained" in again.scores
    from ganzoo.train.report import MetricsLog

    assert [r["step"] for r in MetricsLog(run.run_dir / "metrics.csv").rows()] == ["1", "2", "3"]
    with pytest.raises(UsageError, match="already holds a run; continue it with `ganzoo run --resume"):
        tiny_run(tmp_path)
    (run.run_dir / "samples" / "extra.png").write_bytes(b"old")
    replaced = tiny_run(tmp_path, overwrite=True, steps=2)
    assert replaced.total_steps == 2 and not (run.run_dir / "samples" / "extra.png").exists()
    assert sorted(p.name for p in run.run_dir.iterdir() if not p.name.startswith(".")) == \
        ["checkpoints", "config.json", "index.html", "metrics.csv", "samples", "scores.json"]


# -- damaged files -----------------------------------------------------------------------------------


@pytest.fixture
def interrupted(tmp_path, monkeypatch):
    """A pix2pix run of 6 steps with checkpoints at 2 and 4, interrupted after step 4."""
    undo = at_iteration(monkeypatch, 4, ctrl_c)
    with pytest.raises(TrainingInterrupted):
        tiny_run(tmp_path, steps=6, sets={"checkpoint_every": 2})
    undo()
    run_dir = tmp_path / "pix2pix" / "r"
    assert (run_dir / "checkpoints" / "latest").read_text().strip() == "step-000004"
    return run_dir


@pytest.mark.parametrize("damage", ["empty", "garbage", "missing_folder"])
def test_a_broken_latest_falls_back_to_the_newest_complete_checkpoint(interrupted, damage):
    pointer = interrupted / "checkpoints" / "latest"
    pointer.write_text({"empty": "", "garbage": "\x00\x17step-\n", "missing_folder": "step-000099\n"}[damage])
    (interrupted / "checkpoints" / "step-000006").mkdir()  # a folder without its training state is not complete
    trainer = Trainer(load_spec(interrupted), interrupted, progress=False)
    assert trainer.resume() == 4


@pytest.mark.parametrize("damage", ["truncated", "zero_bytes", "foreign_pickle", "foreign_tensor", "text"])
def test_a_damaged_training_state_is_one_line_saying_what_to_do(interrupted, damage):
    state = interrupted / "checkpoints" / "step-000004" / "training_state.pt"
    if damage == "truncated":
        state.write_bytes(state.read_bytes()[: state.stat().st_size // 2])
    elif damage == "zero_bytes":
        state.write_bytes(b"")
    elif damage == "foreign_pickle":
        torch.save([1, 2, 3], state)
    elif damage == "foreign_tensor":
        torch.save({"step": 4, "optimizers": {"G": torch.zeros(2)}}, state)
    else:
        state.write_text("hello")
    with pytest.raises(CheckpointError) as caught:
        resume(interrupted, progress=False)
    message = str(caught.value)
    assert "\n" not in message and "step-000004" in message
    assert "delete the folder" in message and "to resume from the checkpoint before it" in message


@pytest.mark.parametrize("content", ["[]", "{}", '{"format": "ganzoo-run"}', "not json"])
def test_a_damaged_config_is_one_line(interrupted, content):
    (interrupted / "config.json").write_text(content)
    with pytest.raises(GanzooError) as caught:
        resume(interrupted, progress=False)
    assert "\n" not in str(caught.value) and "config.json" in str(caught.value)


def test_torn_and_garbage_metrics_rows_are_dropped_on_resume(interrupted):
    metrics = interrupted / "metrics.csv"
    with open(metrics, "a") as f:
        f.write("garbage,row\n5,0.5,1.0,0.0002,0.0002,0.7,1.2,3")  # a junk line and a row torn by a kill
    run = resume(interrupted, progress=False)
    from ganzoo.train.report import MetricsLog

    assert [r["step"] for r in MetricsLog(metrics).rows()] == ["1", "2", "3", "4", "5", "6"]
    assert run.total_steps == 6


def test_metrics_that_are_not_csv_are_one_line(interrupted):
    (interrupted / "metrics.csv").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(GanzooError, match="metrics.csv is not a .*move it away"):
        resume(interrupted, progress=False)


# -- a full or read-only disk ------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs (room for the config, samples and metrics, not for a checkpoint), where the test
    may mount one (root on Linux); skipped elsewhere."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {made.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_stops_in_one_line_and_leaves_no_half_checkpoint(small_disk):
    with pytest.raises(OutputError, match=r"cannot write the checkpoint of step 2 .*No space left on device"):
        ganzoo.train("pix2pix", steps=4, out=small_disk, name="r", progress=False, batch_size=2,
                     sets={**TINY_SETS, "gen.num_downs": 5, "gen.ngf": 32, "checkpoint_every": 2})
    checkpoints = small_disk / "pix2pix" / "r" / "checkpoints"
    assert not [p for p in checkpoints.iterdir()] if checkpoints.exists() else True, "no staging folder is left"
    assert json.loads((small_disk / "pix2pix" / "r" / "config.json").read_text())["recipe"] == "pix2pix"


def test_a_read_only_output_folder_is_refused_before_training(small_disk):
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    with pytest.raises(OutputError, match="cannot write the run folder .*Read-only file system"):
        ganzoo.train("pix2pix", steps=1, out=small_disk, name="r", progress=False)


def test_a_full_disk_during_a_checkpoint_keeps_the_earlier_ones(interrupted, monkeypatch):
    import errno

    import ganzoo.train.checkpoint as ckpt

    def full(obj, path, *args, **kwargs):
        Path(path).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ckpt.torch, "save", full)
    with pytest.raises(OutputError, match="cannot write the checkpoint of step 6 .*the earlier checkpoints are intact"):
        resume(interrupted, progress=False)
    names = sorted(p.name for p in (interrupted / "checkpoints").iterdir())
    assert names == ["latest", "step-000002", "step-000004"]
    assert (interrupted / "checkpoints" / "latest").read_text().strip() == "step-000004"


# -- divergence -------------------------------------------------------------------------------------


def assert_every_checkpoint_finite(run_dir):
    for weights in (run_dir / "checkpoints").glob("step-*/*.safetensors"):
        for key, tensor in load_file(str(weights)).items():
            assert torch.isfinite(tensor).all(), f"{weights}:{key} is not finite"


def test_an_exploding_learning_rate_stops_the_run(tmp_path):
    with pytest.raises(TrainingDiverged, match=r"(grew from .* to|became (nan|inf)|non-finite values in).*stopped"):
        ganzoo.train("dcgan", steps=40, out=tmp_path, name="d", progress=False, batch_size=4, lr=1e9,
                     sets={**TINY_SETS, "checkpoint_every": 5})
    assert_every_checkpoint_finite(tmp_path / "dcgan" / "d")


def test_non_finite_buffers_are_never_checkpointed(tmp_path, monkeypatch):
    def poison(trainer):
        norm = next(m for m in trainer.nets["disc"].modules() if isinstance(m, torch.nn.BatchNorm2d))
        with torch.no_grad():
            norm.running_var.fill_(float("inf"))  # a batch-norm statistic blows up

    at_iteration(monkeypatch, 3, poison)
    with pytest.raises(TrainingDiverged, match=r"network disc has non-finite values in .*running_var at "
                                               r"step 4; stopped, the last good checkpoint is .*step-000002"):
        tiny_run(tmp_path, steps=6, sets={"checkpoint_every": 2})
    run_dir = tmp_path / "pix2pix" / "r"
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["latest", "step-000002"]
    assert_every_checkpoint_finite(run_dir)


# -- metrics across a resume -------------------------------------------------------------------------


def test_metrics_after_a_resume_equal_the_uninterrupted_runs(tmp_path, monkeypatch):
    """Interrupted mid-way through a metrics row (log_every 4, stopped at step 3): the resumed run's
    step-4 row still averages steps 1 to 4, as the uninterrupted run's does."""
    sets = {"log_every": 4, "deterministic": True}
    whole = tiny_run(tmp_path, name="whole", steps=8, sets=sets)
    undo = at_iteration(monkeypatch, 3, ctrl_c)
    with pytest.raises(TrainingInterrupted, match="interrupted at step 3"):
        tiny_run(tmp_path, name="cut", steps=8, sets=sets)
    undo()
    cut = resume(tmp_path / "pix2pix" / "cut", progress=False)
    from ganzoo.train.report import MetricsLog

    def rows(run):
        return [{k: v for k, v in r.items() if k != "images_per_s"} for r in MetricsLog(run.run_dir / "metrics.csv").rows()]

    assert [r["step"] for r in rows(cut)] == ["4", "8"]
    assert rows(cut) == rows(whole)


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path, monkeypatch):
    import time

    from ganzoo.train.run import new_run_dir

    monkeypatch.setattr(time, "strftime", lambda fmt: "20261201-120000")
    folders = [new_run_dir(tmp_path, "pix2pix", None) for _ in range(3)]
    assert [f.name for f in folders] == ["20261201-120000", "20261201-120000-2", "20261201-120000-3"]
    assert all(f.is_dir() for f in folders)
    first, second = tiny_run(tmp_path, name=None), tiny_run(tmp_path, name=None)
    assert first.run_dir != second.run_dir and second.run_dir.name == "20261201-120000-5"
