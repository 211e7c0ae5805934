"""``ganzoo.train(...)``: the Python door to training, what it returns, and the run's event hooks that
loggers (and any plugin) hear."""

import os
import signal
import subprocess
import sys
import types

import pytest
import torch
from safetensors.torch import load_file

import ganzoo
from ganzoo.train.engine import Trainer, TrainingDiverged, TrainingInterrupted
from ganzoo.train.run import Run
from ganzoo.losses.adversarial import BCELoss
from tests.train.tiny import TINY_SETS, ctrl_c_after, register_one_layer_generator

EVENTS = ("ganzoo_run_start", "ganzoo_log", "ganzoo_samples", "ganzoo_checkpoint", "ganzoo_evaluation",
          "ganzoo_run_end")


def has_logger_kind() -> bool:
    try:
        return "tensorboard" in ganzoo.list_components("logger")
    except ganzoo.GanzooError:
        return False


needs_logger_kind = pytest.mark.skipif(not has_logger_kind(), reason="the 'logger' registry kind is not there yet")


def test_train_returns_the_run(tmp_path):
    run = ganzoo.train("pix2pix", steps=2, out=tmp_path, name="x", progress=False, sets=TINY_SETS, batch_size=2)
    assert isinstance(run, Run) and run.run_dir == tmp_path / "pix2pix" / "x" and run.run_dir.is_dir()
    assert run.total_steps == 2 and run.spec.train.steps == 2 and run.spec.components["generator"].options["ngf"] == 8
    assert set(run.scores) == {"untrained", "trained"} and "psnr" in run.scores["trained"]
    assert [p.name for p in run.samples][-1] == "step-000002.png"
    y = run.model.translate(torch.rand(1, 3, 32, 32) * 2 - 1)
    assert y.shape == (1, 3, 32, 32) and y.abs().max() <= 1
    opened = Run.open(run.run_dir)
    assert opened.spec == run.spec and opened.scores == run.scores and opened.total_steps == 2
    with pytest.raises(ganzoo.GanzooError, match="already holds a run"):
        ganzoo.train("pix2pix", steps=2, out=tmp_path, name="x", progress=False, sets=TINY_SETS)


def test_resume_continues_a_run(tmp_path, monkeypatch):
    with ctrl_c_after(2, monkeypatch), pytest.raises(TrainingInterrupted):
        ganzoo.train("dcgan", steps=4, out=tmp_path, name="r", progress=False, sets=TINY_SETS, batch_size=2)
    run = ganzoo.resume(tmp_path / "dcgan" / "r", progress=False)
    assert run.total_steps == 4 and (run.run_dir / "checkpoints" / "latest").read_text().strip() == "step-000004"
    assert run.model.sample(2, seed=0).shape == (2, 3, 32, 32)


def test_the_training_package_is_callable_however_it_was_reached(tmp_path):
    assert isinstance(ganzoo.train, types.ModuleType) and callable(ganzoo.train)
    assert ganzoo.train is sys.modules["ganzoo.train"]
    code = ("import ganzoo.train.engine\n"
            "import ganzoo\n"
            f"run = ganzoo.train('dcgan', steps=1, out={str(tmp_path)!r}, name='c', progress=False, batch_size=2,\n"
            f"                   sets={TINY_SETS!r})\n"
            "print(type(run).__name__, run.total_steps, ganzoo.train.run.Run is type(run))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["Run", "1", "True"]


def test_a_third_party_generator_trains_in_cyclegan_and_is_updated(tmp_path):
    name = register_one_layer_generator()
    sets = {k: v for k, v in TINY_SETS.items() if k != "gen.ngf"}
    run = ganzoo.train("cyclegan", gen=name, steps=2, out=tmp_path, name="p", progress=False, sets=sets, batch_size=2)
    assert run.spec.components["generator"].name == name
    initial = Trainer(run.spec, tmp_path / "probe", progress=False).nets  # the same seed: the same init
    final = run.run_dir / "checkpoints" / "step-000002"
    for net in ("gen_ab", "gen_ba"):
        after = load_file(str(final / f"{net}.safetensors"))
        before = initial[net].state_dict()
        assert before.keys() == after.keys() == {"conv.weight", "conv.bias"}
        assert not torch.equal(before["conv.weight"], after["conv.weight"]), f"{net} was not updated"
    assert run.model.translate(torch.zeros(1, 3, 32, 32)).shape == (1, 3, 32, 32)


class AlwaysNaN(BCELoss):
    """An adversarial loss whose generator term is NaN: a run diverges at its first logging row."""

    def generator_loss(self, fake):
        return super().generator_loss(fake) * float("nan")


def diverge(tmp_path, name):
    """A tiny DCGAN run that diverges at step 1."""
    ganzoo.register_loss(AlwaysNaN, name="always-nan", role="adversarial", summary="test loss")
    with pytest.raises(TrainingDiverged, match="became nan by step 1"):
        ganzoo.train("dcgan", loss="always-nan", steps=2, out=tmp_path, name=name, progress=False, sets=TINY_SETS,
                     batch_size=2)


# -- event hooks -----------------------------------------------------------------------------------


class Spy:
    """A plugin that records the run's events."""

    def __init__(self):
        self.calls = []

    @ganzoo.hookimpl
    def ganzoo_run_start(self, run):
        self.calls.append(("ganzoo_run_start", {"run": run}))

    @ganzoo.hookimpl
    def ganzoo_log(self, run, step, metrics):
        self.calls.append(("ganzoo_log", {"step": step, "metrics": metrics}))

    @ganzoo.hookimpl
    def ganzoo_samples(self, run, step, path):
        self.calls.append(("ganzoo_samples", {"step": step, "path": path}))

    @ganzoo.hookimpl
    def ganzoo_checkpoint(self, run, step, path):
        self.calls.append(("ganzoo_checkpoint", {"step": step, "path": path}))

    @ganzoo.hookimpl
    def ganzoo_evaluation(self, run, step, scores):
        self.calls.append(("ganzoo_evaluation", {"step": step, "scores": scores}))

    @ganzoo.hookimpl
    def ganzoo_run_end(self, run, status, error):
        self.calls.append(("ganzoo_run_end", {"status": status, "error": error}))

    def of(self, hook):
        return [kwargs for name, kwargs in self.calls if name == hook]


@pytest.fixture
def spy():
    spy = Spy()
    ganzoo.register_plugin(spy, name="spy")
    yield spy
    ganzoo.unregister_plugin("spy")


def test_every_event_reaches_a_plugin(spy, tmp_path):
    run = ganzoo.train("pix2pix", steps=2, out=tmp_path, name="e", progress=False, sets=TINY_SETS, batch_size=2)
    assert {name for name, _ in spy.calls} == set(EVENTS)
    assert spy.calls[0][0] == "ganzoo_run_start" and spy.calls[-1][0] == "ganzoo_run_end"
    assert spy.of("ganzoo_run_start")[0]["run"].run_dir == run.run_dir
    assert [c["step"] for c in spy.of("ganzoo_log")] == [1, 2]
    assert all(isinstance(v, (int, float)) for c in spy.of("ganzoo_log") for v in c["metrics"].values())
    assert [c["path"].name for c in spy.of("ganzoo_samples")][-1] == "step-000002.png"
    assert all(c["path"].exists() for c in spy.of("ganzoo_samples") + spy.of("ganzoo_checkpoint"))
    assert spy.of("ganzoo_checkpoint")[-1]["step"] == 2
    assert set(spy.of("ganzoo_evaluation")[0]["scores"]) == {"untrained", "trained"}
    assert spy.of("ganzoo_run_end") == [{"status": "completed", "error": None}]


def test_a_diverged_run_ends_with_its_status(spy, tmp_path):
    diverge(tmp_path, "nan")
    (end,) = spy.of("ganzoo_run_end")
    assert end["status"] == "diverged" and isinstance(end["error"], TrainingDiverged)


def test_an_interrupted_run_ends_with_its_status(spy, tmp_path, monkeypatch):
    original = Trainer._flush

    def interrupt_at_1(self, step):
        original(self, step)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(Trainer, "_flush", interrupt_at_1)
    with pytest.raises(TrainingInterrupted):
        ganzoo.train("dcgan", steps=3, out=tmp_path, name="i", progress=False, sets=TINY_SETS, batch_size=2)
    (end,) = spy.of("ganzoo_run_end")
    assert end["status"] == "interrupted" and isinstance(end["error"], TrainingInterrupted)


# -- the TensorBoard logger, with a stand-in writer (tensorboard need not be installed) --------------


class FakeWriter:
    """Records what a ``SummaryWriter`` is asked to write."""

    made = []

    def __init__(self, log_dir):
        self.log_dir, self.scalars, self.images, self.closed = log_dir, [], [], False
        FakeWriter.made.append(self)

    def add_scalar(self, tag, value, step):
        assert not self.closed
        self.scalars.append((tag, value, step))

    def add_image(self, tag, image, step, dataformats="CHW"):
        assert not self.closed
        self.images.append((tag, image.shape, step, dataformats))

    def close(self):
        self.closed = True


@pytest.fixture
def fake_tensorboard(monkeypatch):
    """``torch.utils.tensorboard`` with :class:`FakeWriter` as its SummaryWriter."""
    module = types.ModuleType("torch.utils.tensorboard")
    module.SummaryWriter = FakeWriter
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", module)
    FakeWriter.made = []
    return FakeWriter


@pytest.fixture
def tensorboard_plugin(fake_tensorboard):
    from ganzoo.loggers.tensorboard import TensorBoardLogger

    logger = TensorBoardLogger()
    ganzoo.register_plugin(logger, name="tb")
    yield logger
    ganzoo.unregister_plugin("tb")


def test_tensorboard_logger_writes_and_closes(tensorboard_plugin, tmp_path):
    run = ganzoo.train("pix2pix", steps=2, out=tmp_path, name="tb", progress=False, sets=TINY_SETS, batch_size=2)
    (writer,) = FakeWriter.made
    assert writer.log_dir == str(run.run_dir / "tensorboard")
    tags = {tag for tag, _, _ in writer.scalars}
    assert {"G_gan", "G_l1", "D", "lr_G", "lr_D"} <= tags and "step" not in tags
    assert {"score/trained/psnr", "score/untrained/psnr"} <= tags
    assert [s for t, _, s in writer.scalars if t == "D"] == [1, 2]
    assert writer.images and writer.images[-1][2] == 2
    assert writer.closed and tensorboard_plugin.writer is None


def test_tensorboard_logger_closes_on_divergence_and_ctrl_c(tensorboard_plugin, tmp_path, monkeypatch):
    diverge(tmp_path, "nan")
    original = Trainer._flush

    def interrupt(self, step):
        original(self, step)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(Trainer, "_flush", interrupt)
    with pytest.raises(TrainingInterrupted):
        ganzoo.train("dcgan", steps=3, out=tmp_path, name="int", progress=False, sets=TINY_SETS, batch_size=2)
    assert len(FakeWriter.made) == 2 and all(w.closed for w in FakeWriter.made)
    assert FakeWriter.made[1].scalars, "the interrupted run logged its first row"


def test_tensorboard_logger_missing_package_is_an_import_error(monkeypatch):
    from ganzoo.loggers.tensorboard import TensorBoardLogger

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails as if not installed
    with pytest.raises(ImportError):
        TensorBoardLogger()


@needs_logger_kind
def test_the_tensorboard_logger_by_name(fake_tensorboard, tmp_path):
    from ganzoo.plugins import get_host

    run = ganzoo.train("pix2pix", steps=2, out=tmp_path, name="n", progress=False, sets=TINY_SETS, batch_size=2,
                       loggers=["tensorboard"])
    assert run.spec.train.loggers == ("tensorboard",)
    (writer,) = FakeWriter.made
    assert writer.scalars and writer.closed
    assert not [name for name, _ in get_host().pm.list_name_plugin() if "tensorboard" in name], \
        "the run's logger leaves with the run"
    again = ganzoo.train("pix2pix", steps=1, out=tmp_path, name="m", progress=False, sets=TINY_SETS, batch_size=2)
    assert again.spec.train.loggers == () and len(FakeWriter.made) == 1, "a logger is on only for the runs that name it"


@needs_logger_kind
def test_the_tensorboard_logger_from_the_command_line(fake_tensorboard, tmp_path):
    from click.testing import CliRunner

    from ganzoo.cli import cli

    result = CliRunner().invoke(cli, ["run", "pix2pix", "--steps", "2", "--batch-size", "2", "--set", "gen.ngf=8",
                                      "--set", "disc.ndf=8", "--set", "score_samples=8", "--logger", "tensorboard",
                                      "--quiet", "--out", str(tmp_path), "--name", "cli"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (writer,) = FakeWriter.made
    assert writer.log_dir == str(tmp_path / "pix2pix" / "cli" / "tensorboard") and writer.closed


@needs_logger_kind
def test_an_unknown_logger_is_refused_before_training(tmp_path):
    with pytest.raises(ganzoo.GanzooError, match="tensorbord"):
        ganzoo.train("pix2pix", steps=1, out=tmp_path, name="u", progress=False, sets=TINY_SETS,
                     loggers=["tensorbord"])
    assert not (tmp_path / "pix2pix" / "u" / "checkpoints").exists()
