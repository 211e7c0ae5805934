"""Using a finished (or interrupted) run folder: its configuration and trained networks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganzoo.errors import GanzooError
from ganzoo.train import build, checkpoint


def load_config(run_dir: str | Path) -> dict[str, Any]:
    path = Path(run_dir) / "config.json"
    if not path.exists():
        raise GanzooError(f"{run_dir} is not a run folder (no config.json)")
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise GanzooError(f"{path} is not valid JSON: {exc}") from exc


def load_generators(run_dir: str | Path, *, device: torch.device | str = "cpu",
                    only: tuple[str, ...] | None = None) -> tuple[dict[str, Any], dict[str, nn.Module]]:
    """The run's configuration and its generators from the latest checkpoint, in eval mode."""
    run_dir = Path(run_dir)
    config = load_config(run_dir)
    latest = checkpoint.latest_checkpoint(run_dir / "checkpoints")
    if latest is None:
        raise GanzooError(f"{run_dir} has no checkpoint yet")
    nets = build.build_networks(config, device=torch.device(device), roles=("generator",), only=only, init=False)
    checkpoint.load_networks(latest, nets)
    for net in nets.values():
        net.eval()
    return config, nets


def translation_generator(config: dict[str, Any], direction: str) -> str:
    """Which generator translates in ``direction`` (relative to the direction the run trained)."""
    names = build.network_names(config)
    gens = [n for n, role in names.items() if role == "generator"]
    if direction == "AtoB":
        return gens[0]
    if len(gens) < 2:
        raise GanzooError(f"this {config['recipe']} run trained one direction only; use --direction AtoB")
    return gens[1]
