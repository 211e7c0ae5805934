"""Checkpoints that are whole or absent: safetensors per network plus the training state.

Layout: ``checkpoints/step-000400/{NET}.safetensors`` and ``training_state.pt`` (optimizers,
schedulers, step, the step's own state such as image pools, RNG states), ``{NET}.ema.safetensors`` for
each averaged network of a run with ``--ema`` (a whole ``state_dict``: the averaged parameters with the
live buffers, so it loads into the network as the other file does), and ``checkpoints/latest`` naming
the newest. Everything is written into a hidden temporary folder, then renamed into place, and
``latest`` is replaced atomically after that: a crash or a kill at any moment leaves every ``step-*``
folder complete and ``latest`` pointing at one of them. Old checkpoints are renamed to hidden names
before they are deleted, so a kill mid-deletion never leaves a half ``step-*`` folder; a full disk
removes the half-written staging folder and says so in one line.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path
from typing import Any, Mapping

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from ganzoo.errors import GanzooError, first_line
from ganzoo.fsutil import OutputError, atomic_write, describe_os_error, fsync_dir

STATE_FILE = "training_state.pt"


class CheckpointError(GanzooError):
    """A checkpoint is missing, incomplete, or does not fit the networks."""


def step_dir_name(step: int) -> str:
    return f"step-{step:06d}"


def averaged_file(network: str) -> str:
    """The file of a network's moving average of weights (``--ema``) in a checkpoint folder."""
    return f"{network}.ema.safetensors"


def rng_state() -> dict[str, Any]:
    """The random streams a run draws from: the CPU's, Python's, and every visible GPU's."""
    state = {"torch": torch.get_rng_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Put the streams of :func:`rng_state` back; on a machine with fewer GPUs than the one that saved
    them (a checkpoint of 8 processes resumed in one), the GPUs there take the first ones' streams."""
    torch.set_rng_state(state["torch"])
    random.setstate(_as_tuple(state["python"]))
    if "cuda" in state and torch.cuda.is_available():
        for index, cuda_state in enumerate(state["cuda"][:torch.cuda.device_count()]):
            torch.cuda.set_rng_state(cuda_state, index)


def _as_tuple(value: Any) -> Any:
    return tuple(_as_tuple(v) for v in value) if isinstance(value, (list, tuple)) else value


def save_checkpoint(folder: Path, step: int, nets: dict[str, nn.Module], state: dict[str, Any], *,
                    keep: int = 3, averaged: Mapping[str, Mapping[str, torch.Tensor]] | None = None) -> Path:
    """Write ``folder/step-N`` atomically, point ``latest`` at it, and keep the newest ``keep``;
    ``averaged`` holds the ``state_dict`` of each network's moving average (``--ema``), if any."""
    final = folder / step_dir_name(step)
    staging = folder / f".{final.name}.tmp-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        for name, net in nets.items():
            _save_tensors(net.state_dict(), staging / f"{name}.safetensors")
        for name, tensors in (averaged or {}).items():
            _save_tensors(tensors, staging / averaged_file(name))
        torch.save(state, staging / STATE_FILE)
        _fsync_files(staging)
    except (OSError, SafetensorError) as exc:  # safetensors reports a full disk as its own error
        shutil.rmtree(staging, ignore_errors=True)
        reason = describe_os_error(exc) if isinstance(exc, OSError) else failure_reason(exc)
        raise OutputError(f"cannot write the checkpoint of step {step} in {folder}: {reason}; "
                          "the earlier checkpoints are intact") from exc
    if final.exists():  # re-saving a step (after a resume): replace it whole
        _discard(final)
    os.replace(staging, final)
    fsync_dir(folder)
    atomic_write(folder / "latest", final.name + "\n")
    for stale in sorted(p for p in folder.glob("step-*") if p.is_dir())[:-keep or None]:
        if stale != final:
            _discard(stale)
    return final


def _save_tensors(tensors: Mapping[str, torch.Tensor], path: Path) -> None:
    save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(path), metadata={"format": "pt"})


def _discard(step_dir: Path) -> None:
    """Delete a checkpoint folder, renaming it to a hidden name first: a kill during the deletion leaves
    a hidden folder that :func:`clean_staging` removes, never a visible half checkpoint."""
    trash = step_dir.with_name(f".{step_dir.name}.old-{os.getpid()}")
    shutil.rmtree(trash, ignore_errors=True)
    os.replace(step_dir, trash)
    shutil.rmtree(trash, ignore_errors=True)


def _fsync_files(folder: Path) -> None:
    for file in folder.iterdir():
        with open(file, "rb") as f:
            os.fsync(f.fileno())


def clean_staging(folder: Path) -> None:
    """Remove half-written staging folders a killed process left behind (never a ``step-*`` folder)."""
    for stale in folder.glob(".step-*"):
        shutil.rmtree(stale, ignore_errors=True)


def latest_checkpoint(folder: Path) -> Path | None:
    """The checkpoint ``latest`` names; where ``latest`` is missing, empty or names no folder, the
    newest complete ``step-*`` folder (one that holds its training state)."""
    pointer = folder / "latest"
    try:
        named = pointer.read_text().strip()
    except (OSError, UnicodeDecodeError):
        named = ""
    if named and "/" not in named and (folder / named / STATE_FILE).is_file():
        return folder / named
    steps = sorted(p for p in folder.glob("step-*") if (p / STATE_FILE).is_file())
    return steps[-1] if steps else None


def load_networks(checkpoint: Path, nets: dict[str, nn.Module]) -> None:
    """Load each network's safetensors from a checkpoint folder strictly, with a clear error for what does not fit."""
    for name, net in nets.items():
        path = checkpoint / f"{name}.safetensors"
        if not path.exists():
            raise CheckpointError(f"checkpoint {checkpoint} has no weights for {name!r}")
        load_network_file(path, net, name=name)


def load_network_file(path: Path, net: nn.Module, *, name: str) -> None:
    """Load one safetensors file into ``net`` strictly: every tensor present, none extra, all shapes equal."""
    net.load_state_dict(read_network_file(path, net, name=name), strict=True)


def read_network_file(path: Path, net: nn.Module, *, name: str) -> dict[str, torch.Tensor]:
    """The tensors of one safetensors file, checked to fit ``net`` exactly (:func:`check_state_fits`)."""
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"{path} is not a readable safetensors file: {exc}") from exc
    check_state_fits(tensors, net.state_dict(), what=f"{path} does not fit {name}")
    return tensors


def load_averaged(checkpoint: Path, nets: Mapping[str, nn.Module]) -> dict[str, dict[str, torch.Tensor]]:
    """The moving averages (``--ema``) of ``nets`` in a checkpoint folder, each checked strictly against
    its network, for :meth:`ganzoo.train.ema.WeightAverage.load_state_dicts`."""
    averaged = {}
    for name, net in nets.items():
        path = checkpoint / averaged_file(name)
        if not path.exists():
            raise CheckpointError(f"checkpoint {checkpoint} has no averaged weights for {name!r} ({path.name}), "
                                  "though the run trains with ema")
        averaged[name] = read_network_file(path, net, name=name)
    return averaged


def check_state_fits(tensors: dict[str, torch.Tensor], expected: dict[str, torch.Tensor], *, what: str) -> None:
    """Raise one error naming the missing, unexpected and mis-shaped tensors (the first few of each)."""
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    wrong = sorted(k for k in set(expected) & set(tensors) if expected[k].shape != tensors[k].shape)
    if missing or extra or wrong:
        parts = [f"missing {missing[:3]}" if missing else "", f"unexpected {extra[:3]}" if extra else "",
                 f"mis-shaped {[f'{k} {tuple(tensors[k].shape)} != {tuple(expected[k].shape)}' for k in wrong[:3]]}"
                 if wrong else ""]
        raise CheckpointError(f"{what}: " + "; ".join(p for p in parts if p))


def load_state(checkpoint: Path) -> dict[str, Any]:
    """The training state, loaded with ``weights_only=True`` (nothing arbitrary is unpickled)."""
    path = checkpoint / STATE_FILE
    if not path.exists():
        raise CheckpointError(f"checkpoint {checkpoint} has no {STATE_FILE}")
    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:  # noqa: BLE001 - damaged bytes make the unpickler raise any of a dozen types
        raise CheckpointError(f"{path} is damaged or not a ganzoo training state ({failure_reason(exc)}); "
                              f"delete the folder {checkpoint} to resume from the checkpoint before it") from exc
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} is not a ganzoo training state; delete the folder {checkpoint} to resume "
                              "from the checkpoint before it")
    return state


def failure_reason(exc: BaseException) -> str:
    """``exc`` as a short phrase for a one-line error: its type and the first line of its message."""
    text = first_line(exc)
    return (text if text == type(exc).__name__ else f"{type(exc).__name__}: {text}")[:160]
