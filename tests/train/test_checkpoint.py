"""Checkpoints: written whole or not at all, loaded strictly, old ones pruned."""

import pytest
import torch
from torch import nn

from ganzoo.train.checkpoint import (CheckpointError, latest_checkpoint, load_networks, load_state,
                                     rng_state, save_checkpoint, set_rng_state)


def nets():
    torch.manual_seed(0)
    return {"gen": nn.Linear(3, 2), "disc": nn.Sequential(nn.Linear(2, 1), nn.BatchNorm1d(1))}


def test_round_trip_and_latest(tmp_path):
    original = nets()
    state = {"step": 5, "rng": rng_state(), "optimizers": {}}
    path = save_checkpoint(tmp_path, 5, original, state)
    assert path.name == "step-000005" and latest_checkpoint(tmp_path) == path
    assert sorted(p.name for p in path.iterdir()) == ["disc.safetensors", "gen.safetensors", "training_state.pt"]
    fresh = {"gen": nn.Linear(3, 2), "disc": nn.Sequential(nn.Linear(2, 1), nn.BatchNorm1d(1))}
    load_networks(path, fresh)
    assert torch.equal(fresh["gen"].weight, original["gen"].weight)
    assert load_state(path)["step"] == 5


def test_rng_state_restores_python_and_torch(tmp_path):
    import random

    save_checkpoint(tmp_path, 1, {}, {"rng": rng_state()})
    expected = (random.random(), torch.rand(1).item())
    set_rng_state(load_state(tmp_path / "step-000001")["rng"])
    assert (random.random(), torch.rand(1).item()) == expected


def test_keeps_newest_and_leaves_no_staging(tmp_path):
    for step in (1, 2, 3, 4):
        save_checkpoint(tmp_path, step, nets(), {}, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "step-000003", "step-000004"]


def test_resaving_a_step_replaces_it_whole(tmp_path):
    save_checkpoint(tmp_path, 2, nets(), {"v": 1})
    save_checkpoint(tmp_path, 2, nets(), {"v": 2})
    assert load_state(tmp_path / "step-000002")["v"] == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_latest_falls_back_to_the_highest_complete_step(tmp_path):
    save_checkpoint(tmp_path, 1, nets(), {})
    save_checkpoint(tmp_path, 2, nets(), {})
    (tmp_path / "latest").unlink()
    (tmp_path / ".step-000003.tmp-99").mkdir()  # a staging folder from a killed process is ignored
    assert latest_checkpoint(tmp_path).name == "step-000002"


def test_mismatched_weights_are_a_clear_error(tmp_path):
    save_checkpoint(tmp_path, 1, {"gen": nn.Linear(3, 2)}, {})
    with pytest.raises(CheckpointError, match=r"mis-shaped \['bias \(2,\) != \(5,\)', 'weight \(2, 3\) != \(5, 4\)'\]"):
        load_networks(tmp_path / "step-000001", {"gen": nn.Linear(4, 5)})
    with pytest.raises(CheckpointError, match="no weights for 'disc'"):
        load_networks(tmp_path / "step-000001", {"disc": nn.Linear(3, 2)})
    with pytest.raises(CheckpointError, match="missing"):
        load_networks(tmp_path / "step-000001", {"gen": nn.Sequential(nn.Linear(3, 2))})


def test_clean_staging_removes_only_half_written_folders(tmp_path):
    from ganzoo.train.checkpoint import clean_staging

    save_checkpoint(tmp_path, 1, nets(), {})
    (tmp_path / ".step-000002.tmp-123").mkdir()
    clean_staging(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "step-000001"]
