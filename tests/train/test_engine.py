"""The engine with every recipe: the recipe-by-loss matrix, the run folder, resume, Ctrl-C, divergence."""

import json
import os
import signal

import pytest
import torch
from safetensors.torch import load_file

import ganzoo
from ganzoo.losses.adversarial import LSGANLoss
from ganzoo.train.engine import Trainer, TrainingDiverged, TrainingInterrupted
from tests.train.tiny import register_one_layer_generator, tiny_config

RECIPES = ganzoo.list_components("recipe")
ADVERSARIAL = [e.name for e in ganzoo.get_registry("loss") if e.metadata.get("role") == "adversarial"]


@pytest.mark.parametrize("loss", ADVERSARIAL)
@pytest.mark.parametrize("recipe", RECIPES)
def test_every_recipe_trains_with_every_adversarial_loss(recipe, loss, tmp_path):
    config = tiny_config(recipe, loss=loss, steps=3)
    before = {k: v.clone() for k, v in Trainer(config, tmp_path / "probe", progress=False).nets["gen" if recipe != "cyclegan" else "gen_ab"].state_dict().items()}
    summary = Trainer(config, tmp_path / "run", progress=False).run()
    assert summary["steps"] == 3
    final = tmp_path / "run" / "checkpoints" / "step-000003"
    gen_name = "gen" if recipe != "cyclegan" else "gen_ab"
    after = load_file(str(final / f"{gen_name}.safetensors"))
    assert any(not torch.equal(before[k], after[k]) for k in before if before[k].is_floating_point()), \
        "the generator was updated"
    scores = summary["scores"]
    assert set(scores) == {"untrained", "trained"}


def test_run_folder_layout(tmp_path):
    run = tmp_path / "run"
    Trainer(tiny_config("pix2pix", steps=4, sets={"sample_every": 2, "checkpoint_every": 2}), run, progress=False).run()
    assert sorted(p.name for p in run.iterdir()) == ["checkpoints", "config.json", "index.html", "metrics.csv",
                                                      "samples", "scores.json"]
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step-000000.png", "step-000002.png", "step-000004.png"]
    assert (run / "checkpoints" / "latest").read_text().strip() == "step-000004"
    config = json.loads((run / "config.json").read_text())
    assert config["components"]["generator"]["name"] == "unet256" and "torch" in config["versions"]
    rows = (run / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("step,epoch,images_per_s,lr_G,lr_D") and len(rows) == 5
    page = (run / "index.html").read_text()
    assert "samples/step-000004.png" in page and "<svg" in page and "untrained" in page


def final_weights(run):
    latest = run / "checkpoints" / (run / "checkpoints" / "latest").read_text().strip()
    return {f.name: load_file(str(f)) for f in sorted(latest.glob("*.safetensors"))}


@pytest.mark.parametrize("recipe", ["cyclegan", "dcgan"])
def test_resume_after_ctrl_c_matches_uninterrupted_run(recipe, tmp_path, monkeypatch):
    config = tiny_config(recipe, steps=6, sets={"deterministic": True, "pool_size": 3} if recipe == "cyclegan"
                         else {"deterministic": True})
    Trainer(config, tmp_path / "a", progress=False).run()

    original = Trainer._check_finite

    def interrupt_at_3(self, logs, step):
        original(self, logs, step)
        if step == 3:
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C sends

    monkeypatch.setattr(Trainer, "_check_finite", interrupt_at_3)
    with pytest.raises(TrainingInterrupted, match="interrupted at step 3.*--resume"):
        Trainer(config, tmp_path / "b", progress=False).run()
    monkeypatch.setattr(Trainer, "_check_finite", original)
    assert (tmp_path / "b" / "checkpoints" / "latest").read_text().strip() == "step-000003"

    resumed = Trainer(json.loads((tmp_path / "b" / "config.json").read_text()), tmp_path / "b", progress=False)
    assert resumed.resume() == 3
    resumed.run()
    a, b = final_weights(tmp_path / "a"), final_weights(tmp_path / "b")
    assert a.keys() == b.keys()
    for name in a:
        for key in a[name]:
            assert torch.equal(a[name][key], b[name][key]), f"{name}:{key} differs after resume"
    assert (tmp_path / "a" / "metrics.csv").read_text().splitlines()[-1].split(",")[3:] == \
        (tmp_path / "b" / "metrics.csv").read_text().splitlines()[-1].split(",")[3:]


class NaNAfterTwo(LSGANLoss):
    """An adversarial loss that turns NaN at the third generator update."""

    calls = 0

    def generator_loss(self, fake):
        NaNAfterTwo.calls += 1
        loss = super().generator_loss(fake)
        return loss * float("nan") if NaNAfterTwo.calls > 2 * 2 else loss  # two generator losses per step


def test_nan_stops_with_the_loss_and_step_and_keeps_the_last_good_checkpoint(tmp_path):
    ganzoo.register_loss(NaNAfterTwo, name="nan-after-two", role="adversarial", summary="test loss")
    NaNAfterTwo.calls = 0
    config = tiny_config("cyclegan", loss="nan-after-two", steps=6, sets={"checkpoint_every": 1})
    with pytest.raises(TrainingDiverged) as info:
        Trainer(config, tmp_path / "run", progress=False).run()
    message = str(info.value)
    assert "loss G_gan_AB became nan at step 3" in message and "step-000002" in message
    assert (tmp_path / "run" / "checkpoints" / "latest").read_text().strip() == "step-000002"


def test_step_schedule_from_epochs(tmp_path):
    config = tiny_config("pix2pix", steps=None, epochs=1, batch_size=200)
    trainer = Trainer(config, tmp_path / "run", progress=False)
    assert trainer.total_steps == len(trainer.dataset) // 200 == 3


def test_a_third_party_generator_trains_in_any_image_recipe(tmp_path):
    name = register_one_layer_generator()
    for recipe in ("cyclegan", "pix2pix"):
        config = tiny_config(recipe, gen=name, steps=2, sets={"gen.ngf": None})
        assert Trainer(config, tmp_path / recipe, progress=False).run()["steps"] == 2
