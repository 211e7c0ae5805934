"""CycleGAN (plugins/ganzoo_cyclegan): the generators' pre-training (``pretrain_steps``) before the adversarial game,
and cycles run through flipped translations (``cycle_flips``)."""

import csv

import pytest
import torch
import torch.nn.functional as F

from ganzoo.errors import GanzooError
from ganzoo.train.engine import Trainer
from tests.train.tiny import tiny_spec


def snapshot(trainer, name):
    return [p.detach().clone() for p in trainer.nets[name].parameters()]


def changed(before, net):
    return any(not torch.equal(a, b) for a, b in zip(before, net.parameters()))


def test_pretraining_trains_the_generators_alone_then_hands_over(tmp_path):
    trainer = Trainer(tiny_spec("cyclegan", sets={"pretrain_steps": 2}), tmp_path / "run", progress=False)
    batches = trainer.device_batches(0)
    before = {name: snapshot(trainer, name) for name in trainer.nets}
    for _ in range(2):
        logs = trainer.iteration(next(batches))
        assert set(logs) == {"G_pretrain_A", "G_pretrain_B"}
    for name in ("gen_ab", "gen_ba"):
        assert changed(before[name], trainer.nets[name]), f"{name} did not learn in pre-training"
    for name in ("disc_a", "disc_b"):
        assert not changed(before[name], trainer.nets[name]), f"{name} moved in pre-training"
    assert len(trainer.step.pool_a.images) == 0 and len(trainer.step.pool_b.images) == 0
    logs = trainer.iteration(next(batches))
    assert {"G_gan_AB", "G_cycle_A", "D_A", "D_B"} <= set(logs), "the third iteration is the paper's step"
    assert changed(before["disc_a"], trainer.nets["disc_a"])


def test_pretraining_brings_each_generator_towards_giving_its_input_back(tmp_path):
    spec = tiny_spec("cyclegan", steps=30, sets={"pretrain_steps": 30, "deterministic": True}, lr=2e-3)
    trainer = Trainer(spec, tmp_path / "run", progress=False)
    batch = next(trainer.device_batches(0))

    def distance():
        with torch.no_grad():
            return (F.l1_loss(trainer.nets["gen_ab"](batch["A"]), batch["A"]).item(),
                    F.l1_loss(trainer.nets["gen_ba"](batch["B"]), batch["B"]).item())

    start = distance()
    for _ in range(30):
        trainer.iteration(batch)
    end = distance()
    assert end[0] < 0.5 * start[0] and end[1] < 0.5 * start[1], (start, end)


def test_pretraining_refuses_sides_with_different_channels(tmp_path):
    spec = tiny_spec("cyclegan", sets={"pretrain_steps": 1, "out_channels": 1})
    with pytest.raises(GanzooError, match="pretrain_steps needs as many channels on both sides .A has 3, B 1."):
        Trainer(spec, tmp_path / "run", progress=False)
    Trainer(tiny_spec("cyclegan", sets={"out_channels": 1}), tmp_path / "without", progress=False)


def test_the_papers_settings_have_neither_phase_nor_flipped_cycles():
    from ganzoo.train.config import build_spec

    spec = build_spec("cyclegan", data="toy:day2night")  # data named: the paper's settings, not the toy's
    assert (spec.hparams["pretrain_steps"], spec.hparams["gen_warmup_steps"]) == (0, 0)
    assert spec.hparams["cycle_flips"] is False, "the paper's plain cycle"
    assert spec.hparams["identity_boost_steps"] == 0, "the paper's identity weight throughout"


def test_a_plateau_schedule_does_not_judge_the_pretraining_losses(tmp_path):
    spec = tiny_spec("cyclegan", steps=8, sets={"pretrain_steps": 8}, lr_policy="plateau")
    trainer = Trainer(spec, tmp_path / "run", progress=False)
    trainer.run_training()
    assert trainer.step.monitor({"G_pretrain_A": 0.1, "G_pretrain_B": 0.1}) is None
    for name, sched in trainer.schedulers.items():
        assert sched.best == float("inf"), f"{name}'s plateau took a pre-training loss as its best"
    assert trainer.step.monitor({"G_gan_AB": 0.5, "G_cycle_A": 0.25, "D_A": 1.0}) == 0.75


def test_the_generators_rate_climbs_after_pretraining_and_the_log_shows_it(tmp_path):
    spec = tiny_spec("cyclegan", steps=6, sets={"pretrain_steps": 2, "gen_warmup_steps": 3}, lr_policy="constant",
                     lr=0.01)
    trainer = Trainer(spec, tmp_path / "run", progress=False)
    scales = []
    for _ in range(6):
        scales.append((trainer.step.lr_scale("G"), trainer.step.lr_scale("D")))
        trainer.step.iteration += 1
    assert scales == [(1.0, 1.0), (1.0, 1.0), (1 / 3, 1.0), (2 / 3, 1.0), (1.0, 1.0), (1.0, 1.0)]

    trainer = Trainer(spec, tmp_path / "logged", progress=False)
    trainer.run_training()
    rows = list(csv.DictReader(open(tmp_path / "logged" / "metrics.csv")))
    logged = [float(row["lr_G"]) / 0.01 for row in rows]  # the rate of the update after each step
    assert logged == pytest.approx([1.0, 1 / 3, 2 / 3, 1.0, 1.0, 1.0])
    assert all(float(row["lr_D"]) == pytest.approx(0.01) for row in rows)
    assert trainer.optimizers["G"].param_groups[0]["lr"] == pytest.approx(0.01), "the schedule's own rate"


def test_the_warmed_up_update_moves_the_generators_by_the_scaled_rate(tmp_path):
    moved = {}
    for warmup in (0, 4):
        spec = tiny_spec("cyclegan", sets={"gen_warmup_steps": warmup}, lr_policy="constant", lr=0.01,
                         beta1=0.0, beta2=0.0)
        trainer = Trainer(spec, tmp_path / f"w{warmup}", progress=False)
        before = snapshot(trainer, "gen_ab")
        trainer.step.train_step(next(trainer.device_batches(0)))
        moved[warmup] = max((a - b).abs().max().item() for a, b in zip(before, trainer.nets["gen_ab"].parameters()))
    # beta2 0: Adam's update is the rate times the gradient's sign, so the largest move is the rate itself
    assert moved[0] == pytest.approx(0.01, rel=1e-3)
    assert moved[4] == pytest.approx(0.01 / 4, rel=1e-3)


def test_flipped_turns_each_image_by_its_code():
    from ganzoo_cyclegan.step import flipped

    images = torch.arange(4 * 2 * 3 * 5, dtype=torch.float32).view(4, 2, 3, 5)
    out = flipped(images, torch.tensor([0, 1, 2, 3]))
    expected = [images[0], images[1].flip(-1), images[2].flip(-2), images[3].flip(-1).flip(-2)]
    for got, want in zip(out, expected):
        assert torch.equal(got, want)


@pytest.mark.parametrize("flips", [False, True])
def test_cycle_flips_catch_a_shift_the_other_generator_undoes(tmp_path, flips):
    """A translation drawn one pixel to the right and a way back that moves it one pixel left: the plain
    cycle loss sees nothing; with ``cycle_flips`` the way back runs on flipped translations and, on the
    updates whose flip is left-right, does not undo the shift."""
    trainer = Trainer(tiny_spec("cyclegan", sets={"cycle_flips": flips}), tmp_path / "run", progress=False)
    real = torch.rand(1, 3, 8, 8)
    translated = torch.roll(real, 1, dims=-1)
    caught = []
    for iteration in range(8):  # one image meets the codes 0, 1, 2, 3, 0, ... on successive updates
        trainer.step.iteration = iteration
        loss = trainer.step._cycle_loss(lambda x: torch.roll(x, -1, dims=-1), translated, real, offset=0)
        caught.append(bool(loss > 0))
    assert caught == ([False, True, False, True] * 2 if flips else [False] * 8)


def test_each_image_meets_every_flip_over_the_generators_updates(tmp_path, monkeypatch):
    import ganzoo_cyclegan.step as cyclegan_step

    trainer = Trainer(tiny_spec("cyclegan", sets={"cycle_flips": True}), tmp_path / "run", progress=False)
    seen = []
    monkeypatch.setattr(cyclegan_step, "flipped", lambda images, codes: seen.append(codes.tolist()) or images)
    real = torch.rand(2, 3, 8, 8)
    for iteration in range(3):
        trainer.step.iteration = iteration
        trainer.step._cycle_loss(lambda x: x, real, real, offset=0)
        trainer.step._cycle_loss(lambda x: x, real, real, offset=2)
    assert seen[::2] == seen[1::2], "the translation and its input are flipped alike"
    codes = seen[::2]  # A's cycle, then B's, at each update
    assert codes[::2] == [[0, 1], [1, 2], [2, 3]]
    assert codes[1::2] == [[2, 3], [3, 0], [0, 1]], "B's cycle takes the same image through another flip"


def test_the_identity_boost_falls_to_the_terms_own_weight(tmp_path):
    spec = tiny_spec("cyclegan", sets={"identity_boost": 3.0, "identity_boost_steps": 4, "pretrain_steps": 2})
    trainer = Trainer(spec, tmp_path / "run", progress=False)
    factors = []
    for iteration in range(8):
        trainer.step.iteration = iteration
        factors.append(trainer.step.identity_factor())
    assert factors == pytest.approx([3.0, 3.0, 3.0, 2.5, 2.0, 1.5, 1.0, 1.0])  # counted from the game's start


def test_the_boost_weighs_the_identity_loss_and_nothing_else(tmp_path):
    logged = {}
    for boost in (1.0, 3.0):
        spec = tiny_spec("cyclegan", sets={"identity_boost": boost, "identity_boost_steps": 10, "deterministic": True})
        trainer = Trainer(spec, tmp_path / f"b{boost}", progress=False)
        logged[boost] = trainer.step.train_step(next(trainer.device_batches(0)))
    assert {"G_idt_A", "G_idt_B", "G_cycle_A", "D_A"} <= set(logged[1.0]), "the terms compared are there"
    for key, value in logged[1.0].items():
        factor = 3.0 if key.startswith("G_idt") else 1.0
        assert logged[3.0][key].item() == pytest.approx(factor * value.item(), rel=1e-5), key
