"""The training loop every recipe shares: device, seeds, data, schedules, progress, logging, samples,
checkpoints, resume, Ctrl-C and divergence handling, the moving average of weights (``--ema``), and the
event hooks loggers implement, and under torchrun data-parallel training on several processes
(ganzoo/train/distributed.py). A new recipe gets all of it by declaring a step.

The step returns scalar tensors; the loop adds them up on the device and turns them into numbers only
at the logging interval (and before a checkpoint), where it also checks they are finite: no host-device
synchronisation on every iteration. (A distributed run's processes agree after each step whether to
stop, with one small all-reduce of a CPU tensor: no GPU synchronisation either.)
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterator, Mapping

import torch
from torch import Tensor
from torch.utils.data import Sampler

from ganzoo.data.loader import make_loader
from ganzoo.errors import GanzooError, Interrupted, first_line
from ganzoo.fsutil import atomic_write
from ganzoo.precision import Precision
from ganzoo.step import labelled_rows
from ganzoo.train import build, checkpoint, distributed, fast, report
from ganzoo.train.config import fast_choices, get_recipe, steps_for_epochs
from ganzoo.train.ema import WeightAverage
from ganzoo.train.evaluation import BEST_DIR, TrainingEvaluation
from ganzoo.train.events import Events
from ganzoo.train.run import Run
from ganzoo.train.schedules import advance, make_scheduler
from ganzoo.train.spec import RunSpec


class TrainingDiverged(GanzooError):
    """A loss became NaN, infinite or exploded, or a network's weights did; the last good checkpoint is kept."""


#: A logged loss this many times larger (in magnitude) than its first logged value, or than 1 if that
#: was smaller, means the run has blown up even where every number is still finite (``--lr 1e9`` drives
#: losses to about 1e19 with the batch-norm statistics at inf).
LOSS_GROWTH_LIMIT = 1e6


#: What the processes of a distributed run must agree on when they resume (each reads the run folder).
RESUME_POINT = "the step to resume from (is the run folder shared by every machine?)"


class TrainingInterrupted(Interrupted):
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


def rank_seed(seed: int, rank: int, step: int) -> int:
    """The seed of a distributed run's process ``rank`` (> 0) from step ``step`` on: its own random
    streams, where rank 0 keeps the run's seed as a single process would."""
    return (seed * 1000003 + rank * 7919 + step) % 2**63


class ResumableSampler(Sampler[int]):
    """A fresh permutation per epoch, drawn from (seed, epoch) alone, that can start mid-epoch: a
    resumed run sees exactly the batches the uninterrupted run would have seen.

    In a distributed run every process draws the same permutation and takes its own shard of it (every
    ``world_size``-th item from its rank, the tail that does not divide evenly left out, as torch's
    DistributedSampler does); ``skip`` counts items of this process's shard.
    """

    def __init__(self, size: int, *, seed: int, rank: int = 0, world_size: int = 1) -> None:
        self.size, self.seed, self.rank, self.world_size = size, seed, rank, world_size
        self.epoch, self.skip = 0, 0

    def set_position(self, epoch: int, skip: int) -> None:
        self.epoch, self.skip = epoch, skip

    def shard(self) -> list[int]:
        order = torch.randperm(self.size, generator=torch.Generator().manual_seed(self.seed * 100003 + self.epoch))
        even = self.size - self.size % self.world_size
        return order[:even][self.rank::self.world_size].tolist()

    def __iter__(self) -> Iterator[int]:
        return iter(self.shard()[self.skip:])

    def __len__(self) -> int:
        return self.size // self.world_size - self.skip


class _StopRequests:
    """Ctrl-C (or SIGTERM) asks the loop to stop after the step in progress, so the checkpoint it saves
    is consistent; a second Ctrl-C stops at once."""

    def __init__(self, *, escalate: bool = True) -> None:
        self.requested = False
        self.escalate = escalate  # off under torchrun, which signals its processes after the terminal did
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested and self.escalate:
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


def _recipe_of(spec: RunSpec) -> Any:
    """The run's recipe, or an error that names what to install when its plugin is missing."""
    from ganzoo.errors import UnknownComponentError

    try:
        return get_recipe(spec.recipe)
    except UnknownComponentError as exc:
        install = f": pip install {spec.recipe_distribution}" if spec.recipe_distribution else ""
        raise GanzooError(f"training needs the recipe {spec.recipe!r}, which no installed plugin provides{install}") from exc


class Trainer:
    """Runs (or resumes) one training run in ``run_dir`` from its specification."""

    def __init__(self, spec: RunSpec, run_dir: Path, *, progress: bool = True) -> None:
        self.spec, self.run_dir, self.progress = spec, Path(run_dir), progress
        self.recipe = _recipe_of(spec)
        train = spec.train
        # Under torchrun: this process's rank; rank 0 alone writes the run folder (ganzoo/train/distributed.py).
        self.world = distributed.world()
        self.main = self.world.is_main
        self.device = distributed.device_for(choose_device(train.device), self.world)
        self.events = Events(train.loggers, heard=self.main)
        seed_everything(train.seed, deterministic=train.deterministic)
        self.nets = build.build_networks(spec, device=self.device)
        # The fast path (all off by default): FAST_PATH says what the engine adds under --fast.
        self.fast_choices = fast_choices(str(self.device)) if train.fast else {}
        self.channels_last = fast.channels_last_networks(self.nets) if train.channels_last else []
        fast.to_channels_last(self.nets, self.channels_last)
        # --ema: the moving average of the inference networks (made after the layout change, so it has the
        # networks' layout); samples, scores and checkpoints' exported weights use it (averaged()).
        self.ema = (WeightAverage({name: self.nets[name] for name in spec.ema_networks()}, decay=train.ema)
                    if train.ema else None)
        if self.fast_choices.get("cudnn_benchmark") and not train.deterministic:
            torch.backends.cudnn.benchmark = True
        self.adversarial, self.aux = build.build_losses(spec, device=self.device)
        self.optimizers = build.build_optimizers(
            spec, self.nets, options=fast.adam_options(self.fast_choices.get("adam"), self.device))
        self.precision = Precision(train.precision, device_type=self.device.type, groups=tuple(self.optimizers))
        # Distributed: each network wrapped once in DistributedDataParallel for the step, which trains
        # through the wrappers; everything else (samples, scores, checkpoints, the average) uses the
        # networks themselves, the same parameters.
        self.train_nets = (distributed.wrap(self.nets, device=self.device, sync_bn=train.sync_bn)
                           if self.world.distributed else self.nets)
        self.step = self.recipe.step_class()(nets=self.train_nets, adversarial=self.adversarial, aux=self.aux,
                                             optimizers=self.optimizers, hparams=spec.hparams, device=self.device,
                                             inference=spec.inference)
        self.step.precision = self.precision
        if train.compile is not None:
            fast.compile_networks(self.nets, fast.networks_to_compile(spec.networks, self.adversarial),
                                  mode=train.compile)
        # Image sides the networks take (4 for ResNets, 2**num_downs for U-Nets): the data rounds to it.
        self.size_multiple = max(getattr(n, "size_multiple", 1) for n in self.nets.values())
        self.dataset = build.build_dataset(spec, size_multiple=self.size_multiple)
        # batch_size is per process: a distributed step trains on world-size times as many images
        shard = len(self.dataset) // self.world.size
        if shard < 1:
            raise distributed.DistributedError(f"the data set has {len(self.dataset)} items for {self.world.size} processes")
        self.batch_size = min(train.batch_size, shard)
        self.total_batch_size = self.batch_size * self.world.size
        self.batches_per_epoch = max(1, shard // self.batch_size)
        self.total_steps = int(train.steps or steps_for_epochs(int(train.epochs or 1), len(self.dataset),
                                                               self.total_batch_size))
        self.schedulers = {name: make_scheduler(opt, policy=train.lr_policy, total_steps=self.total_steps,
                                                decay_start=train.decay_start)
                           for name, opt in self.optimizers.items()}
        self.sampler = ResumableSampler(len(self.dataset), seed=train.seed, rank=self.world.rank,
                                        world_size=self.world.size)
        # The loader's own generator (re-seeded each epoch) seeds its workers: creating an iterator then
        # draws nothing from the global RNG, so a resumed run's random numbers match the uninterrupted run's.
        self.loader_rng = torch.Generator()
        self.loader = make_loader(self.dataset, batch_size=self.batch_size, sampler=self.sampler,
                                  generator=self.loader_rng, persistent=False, device=self.device,
                                  workers=train.workers)
        test = build.build_test_dataset(spec, size_multiple=self.size_multiple)
        self.fixed = self.step.fixed_inputs(test)
        self.toy = self._toy()
        # --eval-every: FID/KID (and toy scores) during training; its feature network loads now, so missing
        # weights stop the run before it trains. Rank 0 evaluates alone (on all of its images), the others wait.
        self.evaluation = (TrainingEvaluation(spec, self.run_dir, device=self.device)
                           if train.eval_every and self.main else None)
        self.run = Run(run_dir=self.run_dir, spec=spec, total_steps=self.total_steps)
        self.start_step = 0
        self.checkpoints = self.run_dir / "checkpoints"
        if self.main:
            checkpoint.clean_staging(self.checkpoints)
        self.metrics = report.MetricsLog(self.run_dir / "metrics.csv")
        self._sums: dict[str, Tensor] = {}  # losses summed on the device since the last metrics row
        self._count = 0
        self._first: dict[str, float] = {}  # each loss's first logged mean: the scale growth is judged by
        if self.world.rank:  # the other processes draw their own noise, flips and pool choices
            seed_everything(rank_seed(train.seed, self.world.rank, 0))

    @property
    def scores(self) -> dict[str, Any]:
        return self.run.scores

    def _toy(self):
        """The embedded toy set the run trains on, whose scorer knows the right answers (None for real data)."""
        from ganzoo.data.sources import resolve_data

        return resolve_data(self.spec.data.source, mode=self.spec.data.mode).toy

    # -- scoring, samples, checkpoints ---------------------------------------------------------

    @contextlib.contextmanager
    def exported(self) -> Iterator[None]:
        """The networks as the run exports them, for samples, scores and evaluation: the moving averages
        with ``--ema``, in eval mode, without gradients, and in a distributed run unwrapped (rank 0 draws
        them alone; a wrapped network would wait for the other processes)."""
        wrapped, self.step.nets = self.step.nets, dict(self.nets)
        try:
            with self.averaged(), self.step.eval_mode(), torch.no_grad():
                yield
        finally:
            self.step.nets = wrapped

    def averaged(self) -> contextlib.AbstractContextManager[Any]:
        """A context in which the networks hold the weights the run exports: the moving averages with
        ``--ema`` (the live weights are put back afterwards), the live weights otherwise."""
        return self.ema.swapped() if self.ema is not None else contextlib.nullcontext()

    def score(self) -> dict[str, float] | None:
        """The toy set's score of the current model (None when training on real data)."""
        if self.toy is None:
            return None
        with self.exported():
            fn = self.step.inference("AtoB")  # from the input side to the target side, as trained
            device = self.device

            def model(x: Any) -> Tensor:
                return fn(x.to(device) if isinstance(x, Tensor) else x).cpu()

            scores = self.toy.score(model, image_size=self.spec.data.image_size, direction=self.spec.data.direction,
                                    n=self.spec.train.score_samples)
        return {k: round(v, 4) for k, v in scores.items()}

    def save_samples(self, step: int) -> Path:
        with self.exported():
            labels, rows = labelled_rows(self.step.sample_rows(self.fixed))
        path = report.save_grid(rows, self.run_dir / "samples" / f"step-{step:06d}.png", labels=labels)
        self.events.notify("ganzoo_samples", run=self.run, step=step, path=path)
        return path

    def evaluate(self, step: int) -> dict[str, float]:
        """``--eval-every``: evaluate the exported networks now, log the numbers as a metrics row, write
        metrics.json, and with ``--keep-best`` the best model so far as a bundle. The random streams are
        put back afterwards, so a run with evaluation trains exactly as one without."""
        assert self.evaluation is not None
        started, rng = time.perf_counter(), checkpoint.rng_state()
        try:
            with self.exported():
                flat = self.evaluation.evaluate(self._inference_functions(), step=step)
                if self.evaluation.improved(step):
                    self._save_best(step)
        finally:
            checkpoint.set_rng_state(rng)
            self._started += time.perf_counter() - started  # the images/s logged are training's alone
        self.metrics.append({"step": step, **flat})
        self.evaluation.write()
        self.events.notify("ganzoo_evaluation", run=self.run, step=step, scores={"evaluation": dict(flat)})
        return flat

    def _inference_functions(self):
        """``make(output)`` for :func:`ganzoo.metrics.evaluate.evaluate`: the step's trained functions,
        taking and giving tensors on the CPU."""
        device = self.device

        def make(name: str):
            fn = self.step.inference(name)
            if name == "sample":
                return lambda n, seed=0: fn(n, seed=seed).cpu()
            return lambda x: fn(x.to(device)).cpu()

        return make

    def _save_best(self, step: int) -> Path:
        """The networks as they are now (the averages with ``--ema``) as a bundle in RUN/best."""
        from ganzoo.hub.bundle import bundle_config_from_run, write_bundle
        from ganzoo.hub.card import render_card

        assert self.evaluation is not None
        config = bundle_config_from_run(self.spec, step=step)
        config["evaluation"] = self.evaluation.latest
        weights = {name: self.nets[name].state_dict() for name in config["networks"]}
        card = render_card(config, has_samples=True)
        with tempfile.TemporaryDirectory(dir=self.run_dir) as scratch:  # the grid of this model, drawn now
            labels, rows = labelled_rows(self.step.sample_rows(self.fixed))
            samples = report.save_grid(rows, Path(scratch) / "samples.png", labels=labels)
            return write_bundle(self.run_dir / BEST_DIR, config, weights, card=card, samples=samples)

    def save_checkpoint(self, step: int) -> Path:
        """Write a checkpoint of ``step`` (rank 0 writes it; every process takes part, as it holds its own
        random streams and step state, which the checkpoint keeps per rank)."""
        if self._sums:
            self._means(step)  # never checkpoint after a loss went non-finite
        self._check_networks(step)
        ranks = self.world.gather({"rng": checkpoint.rng_state(), "step_state": self.step.state_dict(),
                                   "log": self._log_state()})
        path = self.checkpoints / checkpoint.step_dir_name(step)
        if self.main:
            path = self._write_checkpoint(step, ranks=ranks or [])
        return path

    def _write_checkpoint(self, step: int, *, ranks: list[dict[str, Any]]) -> Path:
        state = {
            "step": step,
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "schedulers": {k: s.state_dict() for k, s in self.schedulers.items()},
            "step_state": self.step.state_dict(),
            "scalers": self.precision.state_dict(),  # fp16's gradient scalers (empty otherwise)
            "rng": checkpoint.rng_state(),
            "scores": {k: v for k, v in self.scores.items() if k == "untrained"},
            "evaluation": self.evaluation.state_dict() if self.evaluation is not None else {},
            # the running means of the metrics row in progress: a resumed run logs the same row
            "log": self._log_state(),
            # a distributed run's other processes (rank 1 on): their random streams and step state (pools)
            "ranks": ranks[1:],
        }
        averaged = None
        if self.ema is not None:
            state["ema"] = self.ema.state_dict()
            averaged = self.ema.state_dicts()
        path = checkpoint.save_checkpoint(self.checkpoints, step, self.nets, state,
                                          keep=self.spec.train.keep_checkpoints, averaged=averaged)
        self.events.notify("ganzoo_checkpoint", run=self.run, step=step, path=path)
        return path

    def resume(self) -> int:
        """Load the latest complete checkpoint and return its step; with none yet (the run stopped
        before its first), start over from step 0."""
        latest = checkpoint.latest_checkpoint(self.checkpoints)
        if latest is None:
            self.world.agree(0, what=RESUME_POINT)
            if self.main:
                self.metrics.truncate_after(0)
            return 0
        checkpoint.load_networks(latest, self.nets)
        if self.ema is not None:
            self.ema.load_state_dicts(checkpoint.load_averaged(latest, self.ema.nets))
        state = checkpoint.load_state(latest)
        try:
            for name, opt in self.optimizers.items():
                opt.load_state_dict(state["optimizers"][name])
                fast.match_state_layout(opt)
            self.precision.load_state_dict(state.get("scalers", {}))
            for name, sched in self.schedulers.items():
                sched.load_state_dict(state["schedulers"][name])
            start = int(state["step"])
            own = self._own_state(state, start)
            self.step.load_state_dict(own["step_state"])
            if self.ema is not None:
                self.ema.load_state_dict(state["ema"])
            checkpoint.set_rng_state(own["rng"])
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError) as exc:
            raise checkpoint.CheckpointError(
                f"{latest / checkpoint.STATE_FILE} does not fit this run ({checkpoint.failure_reason(exc)}); delete the "
                f"folder {latest} to resume from the checkpoint before it") from exc
        self.scores.update(state.get("scores", {}))
        if self.evaluation is not None:
            self.evaluation.load_state_dict(state.get("evaluation", {}))
        log = own.get("log", state.get("log", {}))
        self._sums = {k: v.to(self.device) for k, v in log.get("sums", {}).items()}
        self._count, self._first = int(log.get("count", 0)), dict(log.get("first", {}))
        self.start_step = start
        # every process must have found the same checkpoint (a run folder not shared between machines, or a
        # stale copy, would put them at different steps and their collectives out of step)
        self.world.agree(start, what=RESUME_POINT)
        if self.main:
            self.metrics.truncate_after(self.start_step)
        return self.start_step

    def _log_state(self) -> dict[str, Any]:
        """The running means of the metrics row in progress (this process's): a resumed run logs the same row."""
        return {"sums": {k: v.detach().cpu() for k, v in self._sums.items()}, "count": self._count,
                "first": dict(self._first)}

    def _own_state(self, state: Mapping[str, Any], step: int) -> Mapping[str, Any]:
        """This process's random streams and step state from a checkpoint: rank 0's are the checkpoint's
        own (a single process reads them); another rank takes the one saved for it, or where the
        checkpoint came from fewer processes, rank 0's step state and fresh streams of its own."""
        rank = self.world.rank
        if rank == 0:
            return state
        others = state.get("ranks") or []
        if rank - 1 < len(others):
            return others[rank - 1]
        seed_everything(rank_seed(self.spec.train.seed, rank, step))
        return {"step_state": state["step_state"], "rng": checkpoint.rng_state()}

    # -- the loop ------------------------------------------------------------------------------

    def _batches(self, start: int) -> Iterator[dict[str, Any]]:
        epoch, skip = divmod(start, self.batches_per_epoch)
        while True:
            self.sampler.set_position(epoch, skip * self.batch_size)
            # the workers' seeds (crops, flips of real data): the epoch's, and each process its own
            self.loader_rng.manual_seed(self.spec.train.seed * 7919 + epoch + self.world.rank * 1000003)
            for batch in self.loader:
                yield batch
            epoch, skip = epoch + 1, 0

    def _intervals(self) -> tuple[int, int, int]:
        train, total = self.spec.train, self.total_steps
        log_every = max(1, min(train.log_every, total))
        sample_every = train.sample_every or max(1, math.ceil(total / 5))
        checkpoint_every = train.checkpoint_every or max(1, math.ceil(total / 2))
        return log_every, sample_every, checkpoint_every

    def run_training(self) -> Run:
        """Train to the end (from ``start_step``); returns the :class:`Run` also summarised in scores.json."""
        if self.main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            atomic_write(self.run_dir / "config.json", json.dumps(self.config_json(), indent=2) + "\n")
        self.events.start()
        status, error = "failed", None
        try:
            self.events.notify("ganzoo_run_start", run=self.run)
            self._loop()
            self.world.barrier()  # the others wait while rank 0 writes the end of the run, then all leave
            status = "completed"
        except TrainingInterrupted as exc:
            status, error = "interrupted", exc
            raise
        except TrainingDiverged as exc:
            status, error = "diverged", exc
            raise
        except BaseException as exc:
            error = exc
            if self.world.distributed and distributed.lost_peer(exc):
                latest = checkpoint.latest_checkpoint(self.checkpoints)
                kept = f"resume from {latest} with ganzoo run --resume {self.run_dir}" if latest else "no checkpoint yet"
                cause = first_line(exc)
                cause = "" if "closed by peer" in cause else f": {cause[:200]}"
                raise distributed.DistributedError(
                    f"lost contact with the other processes (another rank failed or was stopped; {kept}){cause}") from exc
            raise
        finally:
            self.events.notify("ganzoo_run_end", run=self.run, status=status, error=error)
            self.events.stop()
        return self.run

    def config_json(self) -> dict[str, Any]:
        """config.json: the run's specification, and for a distributed run how it was spread: the world
        size and the batch size per process and in all (the learning rates are the specification's, used
        as given: ganzoo does not scale them with the world size)."""
        doc = self.spec.to_json()
        if self.world.distributed:
            doc["distributed"] = {
                "world_size": self.world.size, "backend": self.world.backend,
                "batch_size_per_process": self.batch_size, "batch_size_total": self.total_batch_size,
                "lr": {group: self.spec.optimizers[group].lr for group in self.optimizers},
                "sync_bn": self.spec.train.sync_bn,
            }
        return doc

    def _loop(self) -> None:
        from tqdm.auto import tqdm

        main = self.main
        if self.start_step == 0 and self.toy is not None and main:
            self.scores["untrained"] = self.score()
        log_every, sample_every, checkpoint_every = self._intervals()
        if self.start_step == 0 and main:
            self.save_samples(0)
        self._started, self._images = time.perf_counter(), 0
        self._bar = tqdm(total=self.total_steps, initial=self.start_step, disable=not (self.progress and main),
                         unit="step", desc=self.spec.recipe, dynamic_ncols=True)
        batches = self.device_batches(self.start_step)
        with _StopRequests(escalate=not self.world.distributed) as stop:
            for step in range(self.start_step + 1, self.total_steps + 1):
                logs = self.iteration(next(batches))
                self._accumulate(logs)
                self._images += self.total_batch_size
                self._bar.update(1)
                if step % log_every == 0 or step == self.total_steps:
                    self._flush(step)
                sampled = main and (step % sample_every == 0 or step == self.total_steps)
                evaluated = self.evaluation is not None and self.evaluation.due(step, self.total_steps)
                if sampled:
                    self.save_samples(step)
                if evaluated:
                    self.evaluate(step)
                if sampled or evaluated:
                    report.write_index(self.run_dir, spec=self.spec, scores=self.scores, total_steps=self.total_steps)
                if step % checkpoint_every == 0 and step != self.total_steps:
                    self.save_checkpoint(step)
                # every process stops at the same step (a Ctrl-C reaches them at different moments)
                if self.world.any(stop.requested) and step != self.total_steps:
                    self._bar.close()
                    path = self.save_checkpoint(step)
                    if main:
                        report.write_index(self.run_dir, spec=self.spec, scores=self.scores, total_steps=self.total_steps)
                    again = f" --nproc {self.world.size}" if self.world.distributed else ""
                    raise TrainingInterrupted(f"interrupted at step {step}; saved {path}; "
                                              f"continue with: ganzoo run --resume {self.run_dir}{again}")
        self._bar.close()
        self.save_checkpoint(self.total_steps)
        if not main:
            return
        if self.toy is not None:
            self.scores["trained"] = self.score()
            self.events.notify("ganzoo_evaluation", run=self.run, step=self.total_steps, scores=dict(self.scores))
        summary = {"steps": self.total_steps, "run_dir": str(self.run_dir), "scores": self.scores,
                   "samples": str(self.run_dir / "samples")}
        atomic_write(self.run_dir / "scores.json", json.dumps(summary, indent=2) + "\n")
        report.write_index(self.run_dir, spec=self.spec, scores=self.scores, total_steps=self.total_steps)

    def device_batches(self, start: int = 0) -> Iterator[dict[str, Any]]:
        """The batches from position ``start`` on, on the device in the layout the networks take
        (prefetched one ahead on CUDA under ``--fast``), as :meth:`iteration` takes them."""
        def move(batch: Any) -> dict[str, Any]:
            return fast.batch_to(batch, self.device, channels_last=bool(self.channels_last))

        if self.fast_choices.get("prefetch"):
            return fast.prefetched(self._batches(start), move, self.device)
        return (move(batch) for batch in self._batches(start))

    def iteration(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """One training iteration on a batch already on the device, exactly as the loop runs it (the
        step's forward passes in the run's precision, the moving average with ``--ema``, then the
        schedules); returns the step's scalar tensors. Benchmarks time this."""
        with self.precision.forward():
            logs = self.step.train_step(batch)
        self.step.iteration += 1
        if self.ema is not None:
            self.ema.update()  # after every iteration (a critic's extra steps included: decay counts iterations)
        for sched in self.schedulers.values():
            if not isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
                advance(sched)
        return logs

    def _accumulate(self, logs: dict[str, Tensor]) -> None:
        for key, value in logs.items():
            value = value.detach() if isinstance(value, Tensor) else torch.tensor(float(value))
            self._sums[key] = self._sums[key] + value if key in self._sums else value.clone()
        self._count += 1

    def _means(self, step: int) -> dict[str, float]:
        """The summed losses as means (one synchronisation), checked to be finite and not exploding."""
        means = {k: float(v) / self._count for k, v in self.world.mean(self._sums).items()}  # over all processes
        for key, value in means.items():
            if not math.isfinite(value):
                self._diverged(f"loss {key} became {value} by step {step}")
            first = self._first.setdefault(key, value)
            if abs(value) > LOSS_GROWTH_LIMIT * max(abs(first), 1.0):
                self._diverged(f"loss {key} grew from {first:.4g} to {value:.4g} by step {step}")
        return means

    def _check_networks(self, step: int) -> None:
        """Refuse to checkpoint weights, buffers (batch-norm statistics) or moving averages that are no
        longer finite."""
        states = {name: net.state_dict() for name, net in self.nets.items()}
        if self.ema is not None:
            states.update({f"{name} (moving average)": state for name, state in self.ema.state_dicts().items()})
        for name, state in states.items():
            tensors = {k: t for k, t in state.items() if t.is_floating_point()}
            if not tensors:
                continue
            finite = torch.stack([torch.isfinite(t).all() for t in tensors.values()])
            if not bool(finite.all()):
                bad = next(k for k, ok in zip(tensors, finite.tolist()) if not ok)
                self._diverged(f"network {name} has non-finite values in {bad} at step {step}")

    def _diverged(self, what: str) -> None:
        latest = checkpoint.latest_checkpoint(self.checkpoints)
        kept = f"the last good checkpoint is {latest}" if latest else "no checkpoint was written yet"
        raise TrainingDiverged(f"{what}; stopped, {kept} (try a lower --lr)")

    def _flush(self, step: int) -> None:
        """Log a row of the means since the last one."""
        if not self._sums:
            return
        means = self._means(step)
        self._sums, self._count = {}, 0
        rate = self._images / max(1e-9, time.perf_counter() - self._started)
        self._bar.set_postfix({**{k: f"{v:.3f}" for k, v in means.items()}, "img/s": f"{rate:.1f}"}, refresh=False)
        self._log(step, means, rate)

    def _log(self, step: int, means: dict[str, float], rate: float) -> None:
        # the schedule's rate times the step's scale (a phase that holds a group back), before a plateau step
        lrs = {f"lr_{name}": opt.param_groups[0]["lr"] * self.step.lr_scale(name) for name, opt in self.optimizers.items()}
        row = {"step": step, "epoch": round(step / self.batches_per_epoch, 3), "images_per_s": round(rate, 2),
               **lrs, **means}
        watched = self.step.monitor(means)  # None: nothing a plateau should judge in this interval
        for sched in self.schedulers.values():  # on every process: the means are the same everywhere
            if isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau) and watched is not None:
                sched.step(watched)
        if self.main:
            self.metrics.append(row)
            self.events.notify("ganzoo_log", run=self.run, step=step, metrics=row)
