"""Checkpoints that are whole or absent: safetensors per network plus the training state.

Layout: ``checkpoints/step-000400/{NET}.safetensors`` and ``training_state.pt`` (optimizers,
schedulers, step, the step's own state such as image pools, RNG states), and ``checkpoints/latest``
naming the newest. Everything is written into a hidden temporary folder, then renamed into place, and
``latest`` is replaced atomically after that: a crash or a kill at any moment leaves every ``step-*``
folder complete and ``latest`` pointing at one of them.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ganzoo.errors import GanzooError

STATE_FILE = "training_state.pt"


class CheckpointError(GanzooError):
    """A checkpoint is missing, incomplete, or does not fit the networks."""


def step_dir_name(step: int) -> str:
    return f"step-{step:06d}"


def rng_state() -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(_as_tuple(state["python"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _as_tuple(value: Any) -> Any:
    return tuple(_as_tuple(v) for v in value) if isinstance(value, (list, tuple)) else value


def save_checkpoint(folder: Path, step: int, nets: dict[str, nn.Module], state: dict[str, Any], *,
                    keep: int = 3) -> Path:
    """Write ``folder/step-N`` atomically, point ``latest`` at it, and keep the newest ``keep``."""
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / step_dir_name(step)
    staging = folder / f".{final.name}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    for name, net in nets.items():
        tensors = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
        save_file(tensors, str(staging / f"{name}.safetensors"), metadata={"format": "pt"})
    torch.save(state, staging / STATE_FILE)
    _fsync_dir(staging)
    if final.exists():  # re-saving a step (after a resume): replace it whole
        old = folder / f".{final.name}.old-{os.getpid()}"
        os.replace(final, old)
        os.replace(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, final)
    _write_atomic(folder / "latest", final.name + "\n")
    for stale in sorted(p for p in folder.glob("step-*") if p.is_dir())[:-keep or None]:
        if stale != final:
            shutil.rmtree(stale, ignore_errors=True)
    return final


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def _fsync_dir(folder: Path) -> None:
    for file in folder.iterdir():
        with open(file, "rb") as f:
            os.fsync(f.fileno())


def clean_staging(folder: Path) -> None:
    """Remove half-written staging folders a killed process left behind (never a ``step-*`` folder)."""
    for stale in folder.glob(".step-*"):
        shutil.rmtree(stale, ignore_errors=True)


def latest_checkpoint(folder: Path) -> Path | None:
    """The checkpoint ``latest`` names (or the highest step, if ``latest`` is missing)."""
    pointer = folder / "latest"
    if pointer.exists():
        candidate = folder / pointer.read_text().strip()
        if candidate.is_dir():
            return candidate
    steps = sorted(p for p in folder.glob("step-*") if p.is_dir())
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
    from safetensors import SafetensorError

    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"{path} is not a readable safetensors file: {exc}") from exc
    check_state_fits(tensors, net.state_dict(), what=f"{path} does not fit {name}")
    net.load_state_dict(tensors, strict=True)


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
    return torch.load(path, weights_only=True, map_location="cpu")
