"""The training loop every recipe shares: device, seeds, data, schedules, progress, logging, samples,
checkpoints, resume, Ctrl-C and divergence handling. A new recipe gets all of it by declaring a step.
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import torch
from torch.utils.data import Sampler

from ganzoo.data.loader import make_loader
from ganzoo.errors import GanzooError
from ganzoo.train import build, checkpoint, report
from ganzoo.train.config import steps_for_epochs
from ganzoo.train.schedules import make_scheduler


class TrainingDiverged(GanzooError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


class TrainingInterrupted(GanzooError):
    """Ctrl-C: the run saved a checkpoint and can be resumed."""


def choose_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then Apple's MPS, then the CPU; any other name is used as given."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise GanzooError(f"unknown device {name!r}: {exc}") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GanzooError("--device cuda was asked for, but CUDA is not available here")
    return device


def seed_everything(seed: int, *, deterministic: bool = False) -> None:
    random.seed(seed)
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False


class ResumableSampler(Sampler[int]):
    """A fresh permutation per epoch, drawn from (seed, epoch) alone, that can start mid-epoch: a
    resumed run sees exactly the batches the uninterrupted run would have seen."""

    def __init__(self, size: int, *, seed: int) -> None:
        self.size, self.seed = size, seed
        self.epoch, self.skip = 0, 0

    def set_position(self, epoch: int, skip: int) -> None:
        self.epoch, self.skip = epoch, skip

    def __iter__(self) -> Iterator[int]:
        order = torch.randperm(self.size, generator=torch.Generator().manual_seed(self.seed * 100003 + self.epoch))
        return iter(order[self.skip:].tolist())

    def __len__(self) -> int:
        return self.size - self.skip


def _to_device(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    return {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


class _StopRequests:
    """Ctrl-C (or SIGTERM) asks the loop to stop after the step in progress, so the checkpoint it saves
    is consistent; a second Ctrl-C stops at once."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> "_StopRequests":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


class Trainer:
    """Runs (or resumes) one training run in ``run_dir`` from its resolved configuration."""

    def __init__(self, config: dict[str, Any], run_dir: Path, *, progress: bool = True) -> None:
        self.config, self.run_dir, self.progress = config, Path(run_dir), progress
        self.recipe = build.recipe_of(config)
        train = config["train"]
        self.device = choose_device(train["device"])
        seed_everything(int(train["seed"]), deterministic=bool(train["deterministic"]))
        self.nets = build.build_networks(config, device=self.device)
        self.adversarial, self.aux = build.build_losses(config, device=self.device)
        self.optimizers = build.build_optimizers(self.recipe, config, self.nets)
        self.step = self.recipe.step(nets=self.nets, adversarial=self.adversarial, aux=self.aux,
                                     optimizers=self.optimizers, hparams=config["hparams"], device=self.device)
        # Image sides the networks take (4 for ResNets, 2**num_downs for U-Nets): the data rounds to it.
        self.size_multiple = max(getattr(n, "size_multiple", 1) for n in self.nets.values())
        self.dataset = build.build_dataset(config, size_multiple=self.size_multiple)
        self.batch_size = min(int(config["hparams"]["batch_size"]), len(self.dataset))
        self.batches_per_epoch = max(1, len(self.dataset) // self.batch_size)
        self.total_steps = int(train["steps"] or steps_for_epochs(int(train["epochs"]), len(self.dataset), self.batch_size))
        hp = config["hparams"]
        self.schedulers = {name: make_scheduler(opt, policy=hp.get("lr_policy", "linear"), total_steps=self.total_steps,
                                                decay_start=hp.get("decay_start", 0.5))
                           for name, opt in self.optimizers.items()}
        self.sampler = ResumableSampler(len(self.dataset), seed=int(train["seed"]))
        # The loader's own generator (re-seeded each epoch) seeds its workers: creating an iterator then
        # draws nothing from the global RNG, so a resumed run's random numbers match the uninterrupted run's.
        self.loader_rng = torch.Generator()
        self.loader = make_loader(self.dataset, batch_size=self.batch_size, sampler=self.sampler,
                                  generator=self.loader_rng, persistent=False, device=self.device,
                                  workers=None if train["workers"] is None else int(train["workers"]))
        self.fixed = self._fixed_inputs()
        self.toy = self._toy()
        self.scores: dict[str, Any] = {}
        self.start_step = 0
        self.checkpoints = self.run_dir / "checkpoints"
        checkpoint.clean_staging(self.checkpoints)
        self.metrics = report.MetricsLog(self.run_dir / "metrics.csv")
        self.writer = self._tensorboard()

    # -- set-up helpers ------------------------------------------------------------------------

    def _fixed_inputs(self) -> dict[str, Any]:
        """The same few inputs for every sample grid, so progress can be compared by eye."""
        if self.recipe.step.generator_input == "noise":
            generator = torch.Generator().manual_seed(1234)
            gen = next(iter(self.nets.values()))
            return {"noise": torch.randn(16, gen.nz, 1, 1, generator=generator).to(self.device)}
        test = build.build_test_dataset(self.config, size_multiple=self.size_multiple)
        items = [test[i] for i in range(min(6, len(test)))]
        return _to_device({k: torch.stack([it[k] for it in items]) for k in ("A", "B")}, self.device)

    def _toy(self):
        if not self.config["data"]["toy"]:
            return None
        from ganzoo.data.sources import toy_set

        return toy_set(self.config["data"]["spec"])

    def _tensorboard(self):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            return None
        return SummaryWriter(str(self.run_dir / "tensorboard"))

    # -- scoring, samples, checkpoints ---------------------------------------------------------

    def score(self) -> dict[str, float] | None:
        """The toy set's score of the current model (None when training on real data)."""
        if self.toy is None:
            return None
        with self.step.eval_mode(), torch.no_grad():
            fn = self.step.inference("AtoB")  # from the input side to the target side, as trained
            model = (lambda x: fn(x.to(self.device)).cpu()) if self.toy.mode != "single" else (lambda n: fn(n).cpu())
            scores = self.toy.score(model, image_size=self.config["data"]["image_size"],
                                    direction=self.config["data"]["options"].get("direction", "AtoB"),
                                    n=int(self.config["train"]["score_samples"]))
        return {k: round(v, 4) for k, v in scores.items()}

    def save_samples(self, step: int) -> Path:
        with self.step.eval_mode(), torch.no_grad():
            rows = self.step.sample_rows(self.fixed)
        return report.save_grid(rows, self.run_dir / "samples" / f"step-{step:06d}.png")

    def save_checkpoint(self, step: int) -> Path:
        state = {
            "step": step,
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "schedulers": {k: s.state_dict() for k, s in self.schedulers.items()},
            "step_state": self.step.state_dict(),
            "rng": checkpoint.rng_state(),
            "scores": {k: v for k, v in self.scores.items() if k == "untrained"},
        }
        return checkpoint.save_checkpoint(self.checkpoints, step, self.nets, state,
                                          keep=int(self.config["train"]["keep_checkpoints"]))

    def resume(self) -> int:
        """Load the latest checkpoint; return the step it was taken at."""
        latest = checkpoint.latest_checkpoint(self.checkpoints)
        if latest is None:
            raise GanzooError(f"{self.run_dir} has no checkpoint to resume from")
        checkpoint.load_networks(latest, self.nets)
        state = checkpoint.load_state(latest)
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        for name, sched in self.schedulers.items():
            sched.load_state_dict(state["schedulers"][name])
        self.step.load_state_dict(state["step_state"])
        checkpoint.set_rng_state(state["rng"])
        self.scores.update(state.get("scores", {}))
        self.start_step = int(state["step"])
        self.metrics.truncate_after(self.start_step)
        return self.start_step

    # -- the loop ------------------------------------------------------------------------------

    def _batches(self, start: int) -> Iterator[dict[str, Any]]:
        epoch, skip = divmod(start, self.batches_per_epoch)
        while True:
            self.sampler.set_position(epoch, skip * self.batch_size)
            self.loader_rng.manual_seed(int(self.config["train"]["seed"]) * 7919 + epoch)
            for batch in self.loader:
                yield batch
            epoch, skip = epoch + 1, 0

    def _intervals(self) -> tuple[int, int, int]:
        train = self.config["train"]
        total = self.total_steps
        log_every = max(1, min(int(train["log_every"]), total))
        sample_every = int(train["sample_every"] or max(1, math.ceil(total / 5)))
        checkpoint_every = int(train["checkpoint_every"] or max(1, math.ceil(total / 2)))
        return log_every, sample_every, checkpoint_every

    def run(self) -> dict[str, Any]:
        """Train to the end (from ``start_step``); returns the summary also written to scores.json."""
        from tqdm.auto import tqdm

        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "config.json").write_text(json.dumps(self.config, indent=2, default=str))
        if self.start_step == 0 and self.toy is not None:
            self.scores["untrained"] = self.score()
        log_every, sample_every, checkpoint_every = self._intervals()
        if self.start_step == 0:
            self.save_samples(0)
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        started, images = time.perf_counter(), 0
        bar = tqdm(total=self.total_steps, initial=self.start_step, disable=not self.progress, unit="step",
                   desc=f"{self.config['recipe']}", dynamic_ncols=True)
        batches = self._batches(self.start_step)
        with _StopRequests() as stop:
            for step in range(self.start_step + 1, self.total_steps + 1):
                batch = _to_device(next(batches), self.device)
                logs = self.step.train_step(batch)
                self.step.iteration += 1
                self._check_finite(logs, step)
                for sched in self.schedulers.values():
                    if not isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
                        sched.step()
                for key, value in logs.items():
                    sums[key] = sums.get(key, 0.0) + value
                    counts[key] = counts.get(key, 0) + 1
                images += self.batch_size
                rate = images / max(1e-9, time.perf_counter() - started)
                bar.set_postfix({**{k: f"{v:.3f}" for k, v in logs.items()}, "img/s": f"{rate:.1f}"}, refresh=False)
                bar.update(1)
                if step % log_every == 0 or step == self.total_steps:
                    self._log(step, {k: v / counts[k] for k, v in sums.items()}, rate)
                    sums, counts = {}, {}
                if step % sample_every == 0 or step == self.total_steps:
                    self.save_samples(step)
                    report.write_index(self.run_dir, config=self.config, scores=self.scores)
                if step % checkpoint_every == 0 and step != self.total_steps:
                    self.save_checkpoint(step)
                if stop.requested and step != self.total_steps:
                    bar.close()
                    path = self.save_checkpoint(step)
                    report.write_index(self.run_dir, config=self.config, scores=self.scores)
                    raise TrainingInterrupted(f"interrupted at step {step}; saved {path}; "
                                              f"continue with: ganzoo run --resume {self.run_dir}")
        bar.close()
        self.save_checkpoint(self.total_steps)
        if self.toy is not None:
            self.scores["trained"] = self.score()
        summary = {"steps": self.total_steps, "run_dir": str(self.run_dir), "scores": self.scores,
                   "samples": str(self.run_dir / "samples")}
        (self.run_dir / "scores.json").write_text(json.dumps(summary, indent=2))
        report.write_index(self.run_dir, config=self.config, scores=self.scores)
        if self.writer is not None:
            self.writer.close()
        return summary

    def _check_finite(self, logs: dict[str, float], step: int) -> None:
        for key, value in logs.items():
            if not math.isfinite(value):
                latest = checkpoint.latest_checkpoint(self.checkpoints)
                kept = f"the last good checkpoint is {latest}" if latest else "no checkpoint was written yet"
                raise TrainingDiverged(f"loss {key} became {value} at step {step}; stopped, {kept} "
                                       "(try a lower --lr)")

    def _log(self, step: int, means: dict[str, float], rate: float) -> None:
        lrs = {f"lr_{name}": opt.param_groups[0]["lr"] for name, opt in self.optimizers.items()}
        row = {"step": step, "epoch": round(step / self.batches_per_epoch, 3), "images_per_s": round(rate, 2),
               **lrs, **means}
        self.metrics.append(row)
        for sched in self.schedulers.values():
            if isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
                sched.step(sum(v for k, v in means.items() if k.startswith("G_")))
        if self.writer is not None:
            for key, value in row.items():
                if key != "step":
                    self.writer.add_scalar(key, value, step)
