"""Training on several processes (GPUs, nodes) with torch.distributed, as torchrun starts them.

``torchrun --nproc_per_node N -m ganzoo run RECIPE ...`` starts N copies of the command; each reads
its rank from the environment torchrun sets, and :func:`session` joins them into one process group
(NCCL for CUDA tensors, gloo for CPU ones). The engine then wraps each network of the recipe once in
:class:`DistributedNetwork` (DistributedDataParallel), so every recipe, first-party or third-party,
trains data-parallel with no code of its own: the gradients of every update are averaged across the
processes during the backward pass.

Who does what (the rest of the engine asks :class:`World`):

- every process trains on its own shard of each epoch's order (:class:`ganzoo.train.engine.ResumableSampler`),
  with its own random streams (noise, image pools, flips) and its own image pool;
- rank 0 alone writes the run folder: config.json, samples, metrics, the HTML page, checkpoints, toy
  scores and evaluations (run on rank 0 alone, on the unwrapped networks);
- every process resumes from the same checkpoint, which holds each rank's random state and step state;
- a stop request (Ctrl-C) is agreed on by all processes after each step, so they stop at the same step;
- a process that fails ends the run: its error is one line, its peers stop at their next collective
  (torchrun also stops them), and the process group is destroyed on every way out.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import os
from typing import Any, Callable, Iterator, Mapping, TypeVar

import torch
from torch import Tensor, nn

from ganzoo.errors import GanzooError, first_line
from ganzoo.nn.contract import uses_batch_norm

T = TypeVar("T")

#: Seconds a collective waits for the other processes before the run fails (instead of hanging). Rank
#: 0 evaluating alone keeps the others waiting at their next collective: raise it for long evaluations.
TIMEOUT_ENV = "GANZOO_DIST_TIMEOUT"
DEFAULT_TIMEOUT_S = 1800

#: What torchrun (and any launcher of torch.distributed's env:// rendezvous) sets in each process.
LAUNCH_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


class DistributedError(GanzooError):
    """A distributed run cannot start, or lost one of its processes."""


def launched() -> bool:
    """Whether this process was started by torchrun (or another env:// launcher)."""
    return all(name in os.environ for name in ("RANK", "WORLD_SIZE"))


@dataclasses.dataclass(frozen=True)
class World:
    """This process's place among the run's processes; a single process is ``World()`` (rank 0 of 1,
    not distributed), and every method then does nothing."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    backend: str = ""

    @property
    def distributed(self) -> bool:
        """Whether a process group is in use (world size 1 under torchrun included: the DDP path)."""
        return bool(self.backend)

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that writes the run folder and prints."""
        return self.rank == 0

    def describe(self) -> str:
        return f"{self.size} process{'es' if self.size != 1 else ''} ({self.backend})"

    # -- collectives (no-ops in a single process) ----------------------------------------------

    def barrier(self) -> None:
        if self.distributed:
            torch.distributed.barrier()

    def any(self, flag: bool) -> bool:
        """True on every process when ``flag`` is true on any (a small CPU all-reduce)."""
        if not self.distributed:
            return flag
        value = torch.tensor([int(flag)], dtype=torch.int32)
        torch.distributed.all_reduce(value, op=torch.distributed.ReduceOp.MAX)
        return bool(value.item())

    def mean(self, values: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Each scalar averaged over the processes (one all-reduce for all of them)."""
        if not self.distributed or not values:
            return dict(values)
        keys = sorted(values)
        stacked = torch.stack([values[k].detach().float().reshape(()) for k in keys])
        torch.distributed.all_reduce(stacked)
        stacked /= self.size
        return {k: stacked[i] for i, k in enumerate(keys)}

    def agree(self, value: Any, *, what: str) -> None:
        """Refuse to go on (on every process, in one line) unless every process has the same ``value``."""
        if not self.distributed:
            return
        found: list[Any] = [None] * self.size
        torch.distributed.all_gather_object(found, value)
        if any(v != found[0] for v in found):
            raise DistributedError(f"the processes disagree on {what}: " +
                                   ", ".join(f"rank {r} {v}" for r, v in enumerate(found)))

    def gather(self, obj: Any) -> list[Any] | None:
        """Every process's ``obj``, in rank order, on rank 0 (None elsewhere)."""
        if not self.distributed:
            return [obj]
        found: list[Any] | None = [None] * self.size if self.is_main else None
        torch.distributed.gather_object(obj, found, dst=0)
        return found

    def on_main(self, fn: Callable[[], T]) -> T:
        """``fn()`` on rank 0, its result given to every process; an error it raises is raised on every
        process (so none waits for a rank 0 that has given up)."""
        if not self.distributed:
            return fn()
        box: list[Any] = [None]
        if self.is_main:
            try:
                box[0] = ("ok", fn())
            except Exception as exc:
                known = isinstance(exc, GanzooError)
                box[0] = ("error", type(exc) if known else DistributedError,
                          str(exc) if known else f"rank 0 failed: {type(exc).__name__}: {first_line(exc)}")
                torch.distributed.broadcast_object_list(box, src=0)
                raise
        torch.distributed.broadcast_object_list(box, src=0)
        if box[0][0] == "error":
            _, kind, message = box[0]
            raise kind(message) if issubclass(kind, GanzooError) else GanzooError(message)
        return box[0][1]


def world() -> World:
    """The world of this process: from the initialised process group, else a single process."""
    dist = torch.distributed
    if not (dist.is_available() and dist.is_initialized()):
        return World()
    return World(rank=dist.get_rank(), size=dist.get_world_size(),
                 local_rank=int(os.environ.get("LOCAL_RANK", "0")), backend=str(dist.get_backend()))


def timeout() -> datetime.timedelta:
    """The collectives' timeout, from ``GANZOO_DIST_TIMEOUT`` (seconds)."""
    raw = os.environ.get(TIMEOUT_ENV, "")
    try:
        seconds = float(raw) if raw else DEFAULT_TIMEOUT_S
    except ValueError:
        raise DistributedError(f"{TIMEOUT_ENV} must be a number of seconds, not {raw!r}") from None
    if seconds <= 0:
        raise DistributedError(f"{TIMEOUT_ENV} must be positive, not {raw!r}")
    return datetime.timedelta(seconds=seconds)


def backend_for(device: str) -> str:
    """gloo for CPU tensors always (small control messages go through it), NCCL for CUDA tensors where
    the run may use a GPU."""
    wants_cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    if wants_cuda and torch.distributed.is_nccl_available():
        return "cpu:gloo,cuda:nccl"
    return "gloo"


@contextlib.contextmanager
def session(*, device: str = "auto") -> Iterator[World]:
    """The process group for the duration of a run: joined here when torchrun started this process
    (and destroyed on the way out, however the run ends), the existing one when the caller set it up,
    none for a plain single process."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        yield world()
        return
    if not launched():
        yield World()
        return
    if not dist.is_available():
        raise DistributedError("this PyTorch was built without torch.distributed: train in one process")
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    backend = backend_for(device)
    try:
        if "nccl" in backend:
            torch.cuda.set_device(local_rank)  # before the group: NCCL binds each process to its own GPU
        dist.init_process_group(backend=backend, timeout=timeout())
    except (RuntimeError, ValueError) as exc:
        raise DistributedError(f"cannot join the other processes ({backend}): {first_line(exc)}") from exc
    try:
        yield world()
    finally:
        with contextlib.suppress(Exception):
            dist.destroy_process_group()


def device_for(device: torch.device, here: World) -> torch.device:
    """A distributed run's CUDA device is the process's own GPU (``cuda:LOCAL_RANK``) unless one was named."""
    if here.distributed and device.type == "cuda":
        if device.index is not None and here.size > 1:
            raise DistributedError(f"--device {device} names one GPU for all {here.size} processes: give cuda "
                                   "(or auto), and each process takes its own (CUDA_VISIBLE_DEVICES picks which)")
        return torch.device("cuda", here.local_rank)
    return device


class DistributedNetwork(nn.parallel.DistributedDataParallel):
    """DistributedDataParallel that lends the wrapped network's own attributes and methods (``noise``,
    ``encode``, ``features``, a projector's ``layers``), so a step uses the wrapped network as it used
    the network.

    Only calling the network itself goes through DDP: the gradients of everything computed in an
    iteration in which the network was called (its taps through ``encode`` included) are averaged.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.module, name)


def wrap(nets: Mapping[str, nn.Module], *, device: torch.device, sync_bn: bool) -> dict[str, nn.Module]:
    """Each network with trainable weights wrapped once in :class:`DistributedDataParallel` (its
    weights and buffers copied from rank 0 now); with ``sync_bn`` batch norm computes its statistics
    over the whole batch of all processes (torch's SyncBatchNorm, which runs on GPUs only).

    The networks themselves are unchanged (no ``module.`` prefix in their state dicts): checkpoints,
    samples and exports use them, and a checkpoint moves between distributed and single-process runs.
    """
    if sync_bn and device.type != "cuda":
        raise DistributedError("--sync-bn needs GPUs: torch's SyncBatchNorm runs on CUDA only (train without it "
                               "on the CPU: each process keeps its own batch statistics)")
    ids = [device.index] if device.type == "cuda" else None
    wrapped: dict[str, nn.Module] = {}
    for name, net in nets.items():
        if not any(p.requires_grad for p in net.parameters()):
            wrapped[name] = net
            continue
        if sync_bn and uses_batch_norm(net):
            # each batch norm layer replaced inside the network by one that shares its parameters and
            # buffers: the optimizers still hold the same parameters, the state dict keeps its keys
            net = nn.SyncBatchNorm.convert_sync_batchnorm(net)
        wrapped[name] = DistributedNetwork(net, device_ids=ids)
    return wrapped


def lost_peer(exc: BaseException) -> bool:
    """Whether an error is the communication failing (a peer died, or a collective timed out)."""
    dist_error = getattr(torch.distributed, "DistError", None)
    if dist_error is not None and isinstance(exc, dist_error):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and any(
        mark in text for mark in ("Connection closed by peer", "Connection reset by peer", "gloo", "NCCL",
                                  "Timed out", "timed out", "ProcessGroup"))


# -- the command line's side: the error each process leaves for torchrun, and ``ganzoo run --nproc`` ----

#: Where torchrun asks each process to write why it failed (torch.distributed.elastic's error file).
ERROR_FILE_ENV = "TORCHELASTIC_ERROR_FILE"
#: Seconds ``ganzoo run --nproc`` gives its processes after Ctrl-C to finish their step and checkpoint
#: before torchrun kills them (torchrun's own default is 30).
SHUTDOWN_GRACE_S = 120
#: Set by ``ganzoo run --nproc`` for its processes: it reports their failure itself, in one line.
REPORTER_ENV = "GANZOO_NPROC_REPORTS"


def record_failure(message: str, *, exc: BaseException | None = None) -> None:
    """Leave ``message`` (one line) where torchrun looks for a failed process's error, so its report
    (and ``ganzoo run --nproc``) says it; a lost peer is marked so the cause is reported before it."""
    import json
    import time
    import traceback

    path = os.environ.get(ERROR_FILE_ENV)
    if not path:
        return
    data = {"message": message, "timestamp": int(time.time()),
            "ganzoo": {"time": time.time(), "lost_peer": isinstance(exc, DistributedError) and
                       "lost contact" in str(exc), "traceback": traceback.format_exc() if exc else ""}}
    with contextlib.suppress(OSError):
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f)


def first_cause(failures: Mapping[int, Any]) -> tuple[int, str]:
    """The failed process (global rank) and message that explain a run's failure: the earliest that
    did not merely lose contact with the others, else the earliest."""
    def key(item: tuple[int, Any]) -> tuple[bool, float, int]:
        rank, failure = item
        info = (failure.error_file_data or {}).get("ganzoo", {}) if isinstance(failure.error_file_data, dict) else {}
        return bool(info.get("lost_peer")), float(info.get("time", failure.timestamp)), rank

    rank, failure = min(failures.items(), key=key)
    message = failure.message if isinstance(failure.message, str) else failure.message.get("message", "")
    lines = str(message).strip().splitlines()
    return rank, lines[0] if lines else f"exit status {failure.exitcode}"


def launch(nproc: int, argv: list[str]) -> None:
    """``ganzoo ARGV`` on ``nproc`` processes of this machine, started by torchrun itself (its
    ``--standalone`` rendezvous on a free local port); returns when they all finished. A failure is one
    line naming the rank that caused it; Ctrl-C stops every process after its step, with a checkpoint."""
    import logging

    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    from ganzoo.errors import Interrupted

    if nproc < 1:
        raise DistributedError(f"--nproc must be 1 or more, not {nproc}")
    # torchrun's own log lines (its OMP_NUM_THREADS default, closing signals) would bury the one line
    logging.getLogger("torch.distributed.elastic").setLevel(logging.CRITICAL)
    args = get_args_parser().parse_args(["--standalone", f"--nproc-per-node={nproc}", "--module", "ganzoo"])
    args.training_script_args = list(argv)  # given whole: torchrun's parser would take --nproc for its own
    if hasattr(args, "shutdown_timeout") and "TORCH_ELASTIC_SHUTDOWN_TIMEOUT" not in os.environ:
        args.shutdown_timeout = SHUTDOWN_GRACE_S  # Ctrl-C: time to finish the step and write the checkpoint
    os.environ[REPORTER_ENV] = "1"  # the processes leave their errors to this one line, said once
    try:
        run(args)
    except ChildFailedError as exc:
        rank, message = first_cause(exc.failures)
        if message.startswith(f"rank {rank}: "):
            message = message[len(f"rank {rank}: "):]
        if "interrupted at step" in message or any(f.exitcode in (130, -2) for f in exc.failures.values()):
            raise Interrupted(message) from None
        raise DistributedError(f"rank {rank} of {nproc} failed: {message}") from None
    except KeyboardInterrupt:
        raise Interrupted("interrupted: the processes stopped at the same step, after a checkpoint (above)") from None
    except Exception as exc:  # torchrun's SignalException (Ctrl-C, SIGTERM), a rendezvous that failed
        if type(exc).__name__ == "SignalException":
            raise Interrupted("interrupted: the processes stopped at the same step, after a checkpoint (above)") from None
        raise DistributedError(f"torchrun could not run the processes: {first_line(exc)}") from exc
