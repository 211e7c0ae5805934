"""Training on several processes (ganzoo/train/distributed.py): torchrun with gloo and 2 CPU processes.

Each test starts real processes (``torch.distributed.run``, as ``torchrun`` and ``ganzoo run --nproc``
do), so the networks, the DistributedDataParallel wrapping and the collectives are the real ones.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ganzoo.train.distributed import World, first_cause
from ganzoo.train.engine import ResumableSampler

WORKER = Path(__file__).with_name("ddp_worker.py")
ROOT = Path(__file__).resolve().parents[2]
TINY = ["--set", "gen.ngf=8", "--set", "disc.ndf=8", "--set", "score_samples=8", "--set", "log_every=1",
        "--quiet"]


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GANZOO_DIST_TIMEOUT": "120", **extra}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "plugins"), env.get("PYTHONPATH", "")])
    return env


def torchrun(*args: str, nproc: int = 2, timeout: int = 240) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}", *args]
    return subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=timeout)


def worker(scenario: str, out: Path, *, nproc: int | None, **options) -> list[dict]:
    """Run tests/train/ddp_worker.py on ``nproc`` processes (None: one plain process, no torchrun)."""
    out.mkdir(parents=True, exist_ok=True)
    args = [str(WORKER), scenario, str(out), json.dumps(options)]
    if nproc is None:
        done = subprocess.run([sys.executable, *args], env=_env(), capture_output=True, text=True, timeout=240)
    else:
        done = torchrun(*args, nproc=nproc)
    assert done.returncode == 0, done.stdout + done.stderr
    return [json.loads((out / f"rank-{r}.json").read_text()) for r in range(nproc or 1)]


def ganzoo(*args: str, timeout: int = 240, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ganzoo", *args], env=_env(**env), capture_output=True, text=True,
                          timeout=timeout)


def _close(a: dict[str, list[float]], b: dict[str, list[float]], *, atol: float) -> None:
    assert a.keys() == b.keys()
    for name in a:
        difference = (torch.tensor(a[name]) - torch.tensor(b[name])).abs().max().item()
        assert difference <= atol, f"{name}: parameters differ by up to {difference}"


# -- without processes ---------------------------------------------------------------------------


def test_the_sampler_gives_each_process_its_own_shard_and_resumes_within_it():
    shards = [ResumableSampler(10, seed=3, rank=r, world_size=2) for r in range(2)]
    orders = [list(s) for s in shards]
    assert set(orders[0]).isdisjoint(orders[1]) and len(set(orders[0]) | set(orders[1])) == 10
    assert len(shards[0]) == 5
    shards[1].set_position(0, 2)  # two items of its shard already trained on
    assert list(shards[1]) == orders[1][2:]
    shards[1].set_position(1, 0)
    assert list(shards[1]) != orders[1]  # a new epoch, a new permutation
    # the whole permutation is the single process's: two processes split what one would see
    single = list(ResumableSampler(10, seed=3))
    assert orders[0] == single[0::2] and orders[1] == single[1::2]


def test_a_single_process_world_does_nothing():
    here = World()
    assert not here.distributed and here.is_main
    assert here.any(True) and not here.any(False)
    assert here.gather(3) == [3]
    assert here.on_main(lambda: 5) == 5


def test_the_failure_reported_is_the_cause_not_the_peer_that_lost_contact():
    class Failure:
        def __init__(self, message, lost, at):
            self.message, self.exitcode, self.timestamp = message, 1, int(at)
            self.error_file_data = {"message": message, "ganzoo": {"lost_peer": lost, "time": at}}

    failures = {0: Failure("rank 0: lost contact with the other processes", True, 10.1),
                1: Failure("rank 1: boom\nmore", False, 10.4)}
    assert first_cause(failures) == (1, "rank 1: boom")


def test_nproc_is_refused_from_python(tmp_path):
    from click.testing import CliRunner

    from ganzoo.cli import cli

    result = CliRunner().invoke(cli, ["run", "pix2pix", "--steps", "1", "--nproc", "2", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "torchrun --nproc_per_node" in result.output


# -- real processes --------------------------------------------------------------------------------


@pytest.mark.parametrize("recipe, options", [
    ("pix2pix", {}),
    # a gradient penalty takes the discriminator's input gradient (create_graph) inside the wrapped network,
    # on the fast path's bf16 and channels-last
    ("dcgan", {"loss": "wgan-gp", "sets": {"precision": "bf16", "channels_last": True}}),
    # compiled networks inside the wrappers (slow: a minute or two of compiling per process on a CPU)
    pytest.param("dcgan", {"sets": {"compile": "default", "precision": "bf16"}}, marks=pytest.mark.slow),
    ("cyclegan", {}),
    # discriminators that run no forward pass while the generators pre-train, then a warmed-up rate
    ("cyclegan", {"sets": {"pretrain_steps": 2, "gen_warmup_steps": 2}}),
    # a third network (the projector), the generator's taps through encode(), two groups in one update
    ("cut", {}),
])
def test_every_process_ends_with_the_same_parameters(tmp_path, recipe, options):
    ranks = worker("train", tmp_path, nproc=2, recipe=recipe, steps=3, **options)
    assert ranks[0]["world_size"] == 2
    assert set(ranks[0]["first_batch"]).isdisjoint(ranks[1]["first_batch"])  # each trained on its own shard
    assert ranks[0]["parameters"] == ranks[1]["parameters"]
    run = tmp_path / "run"
    assert (run / "checkpoints" / "latest").exists() and (run / "index.html").exists()
    config = json.loads((run / "config.json").read_text())
    assert config["distributed"]["world_size"] == 2 and config["distributed"]["batch_size_total"] == 2


@pytest.mark.parametrize("recipe, loss, steps, sets", [
    ("pix2pix", None, 3, {"gen.norm": "none", "disc.norm": "none", "gen.dropout": False}),
    ("dcgan", None, 3, {"gen.norm": "none", "disc.norm": "none", "ema": 0}),
    # the gradient penalty, taken at the real images (no random mixing, so both ways take it at the same
    # points), through the wrapped critic: five critic steps, then the generator's
    ("dcgan", "wgan-gp", 6, {"gen.norm": "none", "disc.norm": "none", "ema": 0, "loss.interpolation": "real"}),
])
def test_two_processes_of_batch_one_train_as_one_process_of_batch_two(tmp_path, recipe, loss, steps, sets):
    options = {"recipe": recipe, "loss": loss, "steps": steps, "sets": sets}
    two = worker("same_batches", tmp_path / "two", nproc=2, **options)
    one = worker("same_batches", tmp_path / "one", nproc=None, **options)
    assert two[0]["parameters"] == two[1]["parameters"]
    _close(two[0]["parameters"], one[0]["parameters"], atol=2e-5)
    # the wrapping alone (one process under torchrun, DDP at world size 1) changes nothing
    wrapped = worker("same_batches", tmp_path / "wrapped", nproc=1, **options)
    assert wrapped[0]["parameters"] == one[0]["parameters"]
    # and not trivially: a process alone on its item of the batch ends elsewhere
    alone = worker("same_batches", tmp_path / "alone", nproc=None, alone=True, **options)
    with pytest.raises(AssertionError):
        _close(alone[0]["parameters"], one[0]["parameters"], atol=2e-5)


FAULTY_PLUGIN = '''
"""A third party's recipe (Pix2Pix's networks, through GANZOO_PLUGINS_DIR) whose step fails on request:
at iteration FAULTY_FAIL_AT, in the process of rank FAULTY_RANK (a single process is rank 0)."""
import dataclasses
import os

import ganzoo
from ganzoo_pix2pix import PIX2PIX
from ganzoo_pix2pix.step import Pix2PixStep


class FaultyStep(Pix2PixStep):
    def train_step(self, batch):
        fail_at = int(os.environ.get("FAULTY_FAIL_AT", "0"))
        here = os.environ.get("RANK", "0") == os.environ.get("FAULTY_RANK", "1")
        if fail_at and here and self.iteration + 1 == fail_at:
            raise ganzoo.GanzooError("the faulty step failed on purpose")
        return super().train_step(batch)


@ganzoo.hookimpl
def ganzoo_register_recipes(register):
    recipe = dataclasses.replace(PIX2PIX, name="faulty", step=FaultyStep)
    register(lambda: recipe, name="faulty", summary="pix2pix that fails on request")
'''


def test_a_failing_rank_ends_the_run_in_one_line_and_its_checkpoints_resume_in_any_world(tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "faulty_recipe.py").write_text(FAULTY_PLUGIN)
    out, run = tmp_path / "runs", tmp_path / "runs" / "faulty" / "r"
    started = time.monotonic()
    failed = ganzoo("run", "faulty", "--steps", "12", "--set", "checkpoint_every=4", "--batch-size", "1",
                    "--out", str(out), "--name", "r", "--nproc", "2", *TINY,
                    GANZOO_PLUGINS_DIR=str(plugins), FAULTY_FAIL_AT="6", FAULTY_RANK="1")
    assert failed.returncode != 0 and time.monotonic() - started < 120
    errors = [line for line in failed.stderr.splitlines() if line.startswith("Error:")]
    assert errors[-1] == "Error: rank 1 of 2 failed: the faulty step failed on purpose", failed.stderr
    assert "Traceback" not in failed.stderr
    checkpoints = run / "checkpoints"
    assert (checkpoints / "step-000004").is_dir() and not (checkpoints / "step-000008").exists()
    # the two processes' checkpoint, resumed in one process (which fails in its turn at step 10)
    single = ganzoo("run", "--resume", str(run), "--quiet", GANZOO_PLUGINS_DIR=str(plugins),
                    FAULTY_FAIL_AT="10", FAULTY_RANK="0")
    assert single.returncode == 1 and "at step 4 of 12" in single.stdout, single.stderr
    assert "Error: the faulty step failed on purpose" in single.stderr
    assert (checkpoints / "step-000008").is_dir()
    # the single process's checkpoint, resumed on two processes, to the end
    resumed = ganzoo("run", "--resume", str(run), "--nproc", "2", "--quiet", GANZOO_PLUGINS_DIR=str(plugins))
    assert resumed.returncode == 0, resumed.stderr
    assert "at step 8 of 12" in resumed.stdout and resumed.stdout.count("samples:") == 1  # rank 0 alone speaks
    steps = [int(line.split(",")[0]) for line in (run / "metrics.csv").read_text().splitlines()[1:]]
    assert steps == list(range(1, 13))
    state = torch.load(checkpoints / "step-000012" / "training_state.pt", weights_only=False)
    assert state["step"] == 12 and len(state["ranks"]) == 1  # rank 1's random streams and step state


def test_ctrl_c_stops_every_process_at_the_same_step_with_a_checkpoint(tmp_path):
    out = tmp_path / "runs"
    command = [sys.executable, "-m", "ganzoo", "run", "pix2pix", "--steps", "5000", "--batch-size", "1",
               "--out", str(out), "--name", "r", "--nproc", "2", *TINY]
    process = subprocess.Popen(command, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    metrics = out / "pix2pix" / "r" / "metrics.csv"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not metrics.exists() or len(metrics.read_text().splitlines()) < 4):
        time.sleep(0.5)
    os.killpg(process.pid, signal.SIGINT)  # what the terminal does: every process of the group gets it
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "interrupted at step" in stderr and "continue with: ganzoo run --resume" in stderr and "--nproc 2" in stderr
    assert "Traceback" not in stderr
    from ganzoo.train.checkpoint import latest_checkpoint

    latest = latest_checkpoint(out / "pix2pix" / "r" / "checkpoints")
    step = int(latest.name.split("-")[1])
    assert 3 <= step < 5000
    state = torch.load(latest / "training_state.pt", weights_only=False)
    assert state["step"] == step and len(state["ranks"]) == 1


def test_sync_bn_on_the_cpu_is_a_one_line_error(tmp_path):
    done = ganzoo("run", "pix2pix", "--steps", "1", "--sync-bn", "--nproc", "2", "--out", str(tmp_path), *TINY)
    assert done.returncode != 0
    assert "Error: rank 0 of 2 failed: --sync-bn needs GPUs" in done.stderr or \
        "Error: rank 1 of 2 failed: --sync-bn needs GPUs" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_torchrun_itself_runs_ganzoo_and_rank_zero_alone_writes(tmp_path):
    done = torchrun("-m", "ganzoo", "run", "dcgan", "--steps", "2", "--batch-size", "2", "--out", str(tmp_path),
                    "--name", "d", *TINY)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("distributed: 2 processes (gloo); batch 2 per process, 4 in all") == 1
    run = tmp_path / "dcgan" / "d"
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step-000000.png", "step-000001.png",
                                                                   "step-000002.png"]
