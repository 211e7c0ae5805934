"""The engine with every recipe: the recipe-by-loss matrix, the run folder, resume, Ctrl-C, divergence."""

import csv
import json
import math

import pytest
import torch
from safetensors.torch import load_file

import ganzoo
from ganzoo.losses.adversarial import LSGANLoss
from ganzoo.nn.contract import loss_role
from ganzoo.train.engine import Trainer, TrainingDiverged, TrainingInterrupted
from ganzoo.train.report import read_grids
from ganzoo.train.run import load_spec
from tests.train.tiny import ctrl_c_after, register_one_layer_generator, tiny_spec

RECIPES = ganzoo.list_components("recipe")
# A loss's role is read from its class (its contract), never from registration metadata.
ADVERSARIAL = [e.name for e in ganzoo.get_registry("loss") if loss_role(e.factory) == "adversarial"]


def test_the_matrix_covers_every_built_in_adversarial_loss():
    assert set(ADVERSARIAL) >= {"bce", "hinge", "lsgan", "wgan-gp"} and set(RECIPES) >= {"cyclegan", "pix2pix", "dcgan"}


def first_generator(spec):
    return next(name for name, net in spec.networks.items() if net.role == "generator")


@pytest.mark.parametrize("loss", ADVERSARIAL)
@pytest.mark.parametrize("recipe", RECIPES)
def test_every_recipe_trains_with_every_adversarial_loss(recipe, loss, tmp_path):
    spec = tiny_spec(recipe, loss=loss, steps=3)
    gen_name = first_generator(spec)
    before = {k: v.clone() for k, v in Trainer(spec, tmp_path / "probe", progress=False).nets[gen_name].state_dict().items()}
    run = Trainer(spec, tmp_path / "run", progress=False).run_training()
    assert run.total_steps == 3 and run.run_dir == tmp_path / "run"
    final = tmp_path / "run" / "checkpoints" / "step-000003"
    after = load_file(str(final / f"{gen_name}.safetensors"))
    assert any(not torch.equal(before[k], after[k]) for k in before if before[k].is_floating_point()), \
        "the generator was updated"
    assert set(run.scores) == {"untrained", "trained"}
    rows = list(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))
    assert [r["step"] for r in rows] == ["1", "2", "3"]
    for row in rows:  # the step's tensors are numbers by the time they are logged (a critic's G: some rows)
        losses = {k: v for k, v in row.items() if k.startswith(("G_", "D")) and v != ""}
        assert losses, row
        assert all(math.isfinite(float(v)) for v in losses.values()), row


DISCRIMINATORS = [e.example or e.name for e in ganzoo.get_registry("discriminator")]


def fitting_side(recipe, disc):
    """The smallest of the toy sides 32, 64, 128 that the discriminator takes with the recipe's settings for
    its slot (pix2pix's and CycleGAN's n_layers=3: three scales of it need 93 pixels); its fixed side if any."""
    from ganzoo.nn.contract import contract_of
    from tests.nn.sizing import build_tiny

    entry = ganzoo.get_entry("discriminator", disc)
    options = {k: v for k, v in ganzoo.get_recipe(recipe).slots["discriminator"].options.items()
               if k in entry.option_names()}
    with torch.device("meta"):
        contract = contract_of(build_tiny("discriminator", disc, **options))
    return contract.image_size or next(side for side in (32, 64, 128) if side >= contract.min_size)


def test_the_discriminator_matrix_covers_the_built_ins():
    assert {"patchgan", "pixel", "dc", "multiscale", "timm:test_resnet"} <= set(DISCRIMINATORS)


@pytest.mark.parametrize("disc", DISCRIMINATORS)
@pytest.mark.parametrize("recipe", RECIPES)
def test_every_recipe_trains_with_every_discriminator(recipe, disc, tmp_path):
    """With the recipe's own loss; where the recipe has pix2pixHD's feature-matching role, switched on
    for a discriminator with features(x), and refused in one line for one without."""
    from ganzoo.nn.contract import contract_of

    side = fitting_side(recipe, disc)
    sets = {"image_size": side, "size": 16}  # 16 toy scenes: rendering DCGAN's 6000 at 128 pixels takes seconds
    if "ndf" not in ganzoo.get_entry("discriminator", disc).option_names():
        sets["disc.ndf"] = None  # a tiny setting it does not take (timm's width is the model's)
    if "feature_matching" in ganzoo.get_recipe(recipe).aux:
        sets["feature_matching"] = 10
    with torch.device("meta"):
        has_features = contract_of(ganzoo.create_discriminator(disc)).features
    if "feature_matching" in sets and not has_features:
        with pytest.raises(ganzoo.GanzooError, match=r"feature_matching=10: .* does not have; pick a disc") as caught:
            tiny_spec(recipe, disc=disc, steps=2, sets=sets)
        assert "\n" not in str(caught.value)
        sets["feature_matching"] = 0
    spec = tiny_spec(recipe, disc=disc, steps=2, sets=sets)
    run = Trainer(spec, tmp_path / "run", progress=False).run_training()
    assert run.total_steps == 2 and spec.data.image_size == side
    rows = list(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))
    feature_columns = [k for k in rows[0] if k.startswith("G_feat")]
    assert bool(feature_columns) == bool(sets.get("feature_matching")), feature_columns
    for row in rows:
        assert all(math.isfinite(float(v)) for k, v in row.items() if k.startswith(("G_", "D")) and v != ""), row
        assert all(float(row[k]) > 0 for k in feature_columns), "fakes and real images differ inside D"


@pytest.mark.parametrize("recipe", RECIPES)
def test_the_step_returns_scalar_tensors(recipe, tmp_path):
    trainer = Trainer(tiny_spec(recipe), tmp_path / "run", progress=False)
    batch = {k: v.to(trainer.device) if isinstance(v, torch.Tensor) else v for k, v in next(iter(trainer.loader)).items()}
    logs = trainer.step.train_step(batch)
    assert logs and all(isinstance(v, torch.Tensor) and v.dim() == 0 for v in logs.values()), logs
    assert not any(v.requires_grad for v in logs.values()), "logged losses hold no graph"


def test_run_folder_layout(tmp_path):
    run = tmp_path / "run"
    Trainer(tiny_spec("pix2pix", steps=4, sets={"sample_every": 2, "checkpoint_every": 2}), run,
            progress=False).run_training()
    assert sorted(p.name for p in run.iterdir()) == ["checkpoints", "config.json", "index.html", "metrics.csv",
                                                      "samples", "scores.json"]
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step-000000.png", "step-000002.png", "step-000004.png"]
    assert (run / "checkpoints" / "latest").read_text().strip() == "step-000004"
    config = json.loads((run / "config.json").read_text())
    assert config["format"] == "ganzoo-run" and isinstance(config["format_version"], int)
    assert config["components"]["generator"]["name"] == "unet256" and "torch" in config["versions"]
    assert load_spec(run).components["generator"].name == "unet256"
    rows = (run / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("step,epoch,images_per_s,lr_G,lr_D") and len(rows) == 5
    page = (run / "index.html").read_text()
    assert "samples/step-000004.png" in page and "<svg" in page and "untrained (step 0)" in page
    assert ">trained (step 4)<" in page, "the engine tells the page how far the run goes"


#: What each first-party recipe's sample grid rows show, top to bottom ("" continues a block).
ROW_LABELS = {
    "cyclegan": ["input A", "translated to B", "reconstructed A", "input B", "translated to A", "reconstructed B"],
    "pix2pix": ["input", "translation", "target (truth)"],
    "dcgan": ["samples", "", "", ""],
}


@pytest.mark.parametrize("recipe", sorted(ROW_LABELS))
def test_sample_grids_name_their_rows(recipe, tmp_path):
    trainer = Trainer(tiny_spec(recipe), tmp_path / "run", progress=False)
    (grid,) = read_grids(trainer.save_samples(0).parent)
    assert grid.labels == ROW_LABELS[recipe]


def final_weights(run):
    latest = run / "checkpoints" / (run / "checkpoints" / "latest").read_text().strip()
    return {f.name: load_file(str(f)) for f in sorted(latest.glob("*.safetensors"))}


@pytest.mark.parametrize("recipe, sets", [
    ("cyclegan", {"pool_size": 3}),
    # stopped in the generators' warm-up, after their pre-training: both phases count from the iteration kept
    ("cyclegan", {"pool_size": 3, "pretrain_steps": 1, "gen_warmup_steps": 3}),
    ("dcgan", {}),
    # R1 every 3rd iteration: the resumed run must take it at iteration 3, not count from 0 again
    ("dcgan", {"loss.r1_weight": 1.0, "loss.r1_interval": 3}),
])
def test_resume_after_ctrl_c_matches_uninterrupted_run(recipe, sets, tmp_path, monkeypatch):
    spec = tiny_spec(recipe, steps=4, sets={"deterministic": True, **sets})
    Trainer(spec, tmp_path / "a", progress=False).run_training()

    with ctrl_c_after(2, monkeypatch), pytest.raises(TrainingInterrupted, match="interrupted at step 2.*--resume"):
        Trainer(spec, tmp_path / "b", progress=False).run_training()
    assert (tmp_path / "b" / "checkpoints" / "latest").read_text().strip() == "step-000002"

    resumed = Trainer(load_spec(tmp_path / "b"), tmp_path / "b", progress=False)
    assert resumed.resume() == 2
    resumed.run_training()
    a, b = final_weights(tmp_path / "a"), final_weights(tmp_path / "b")
    assert a.keys() == b.keys()
    for name in a:
        for key in a[name]:
            assert torch.equal(a[name][key], b[name][key]), f"{name}:{key} differs after resume"
    assert (tmp_path / "a" / "metrics.csv").read_text().splitlines()[-1].split(",")[3:] == \
        (tmp_path / "b" / "metrics.csv").read_text().splitlines()[-1].split(",")[3:]


class NaNAfterTwo(LSGANLoss):
    """An adversarial loss that turns NaN at the third generator update of CycleGAN."""

    calls = 0
    losses_per_step = 2  # CycleGAN's two generators

    def generator_loss(self, fake):
        NaNAfterTwo.calls += 1
        loss = super().generator_loss(fake)
        return loss * float("nan") if NaNAfterTwo.calls > 2 * self.losses_per_step else loss


class NaNAfterTwoSteps(NaNAfterTwo):
    """The same for a recipe with one generator."""

    losses_per_step = 1


def register_nan_loss(cls=NaNAfterTwo):
    ganzoo.register_loss(cls, name="nan-after-two", role="adversarial", summary="test loss")
    NaNAfterTwo.calls = 0
    return "nan-after-two"


def test_nan_stops_with_the_loss_and_step_and_keeps_the_last_good_checkpoint(tmp_path):
    spec = tiny_spec("cyclegan", loss=register_nan_loss(), steps=6, sets={"checkpoint_every": 1})
    with pytest.raises(TrainingDiverged) as info:
        Trainer(spec, tmp_path / "run", progress=False).run_training()
    message = str(info.value)
    assert "loss G_gan_AB became nan by step 3" in message and "step-000002" in message
    assert "\n" not in message
    assert (tmp_path / "run" / "checkpoints" / "latest").read_text().strip() == "step-000002"


def test_nan_between_log_rows_is_caught_before_a_checkpoint(tmp_path):
    """Losses are read at the logging interval only; a checkpoint in between still refuses NaN weights."""
    spec = tiny_spec("pix2pix", loss=register_nan_loss(NaNAfterTwoSteps), steps=6,
                     sets={"log_every": 5, "checkpoint_every": 2})
    with pytest.raises(TrainingDiverged, match="became nan by step 4"):
        Trainer(spec, tmp_path / "run", progress=False).run_training()
    assert (tmp_path / "run" / "checkpoints" / "latest").read_text().strip() == "step-000002"


def test_step_schedule_from_epochs(tmp_path):
    spec = tiny_spec("pix2pix", steps=None, epochs=1, batch_size=200)
    assert spec.train.steps is None and spec.train.epochs == 1
    trainer = Trainer(spec, tmp_path / "run", progress=False)
    assert trainer.total_steps == len(trainer.dataset) // 200 == 3


def test_a_third_party_generator_trains_in_any_image_recipe(tmp_path):
    name = register_one_layer_generator()
    for recipe in ("cyclegan", "pix2pix"):
        spec = tiny_spec(recipe, gen=name, steps=2, sets={"gen.ngf": None})
        assert spec.components["generator"].name == name
        assert Trainer(spec, tmp_path / recipe, progress=False).run_training().total_steps == 2


def test_cuda_device_trains_there(tmp_path):
    if not torch.cuda.is_available():
        pytest.skip("CUDA is not available here")
    spec = tiny_spec("pix2pix", steps=2, device="cuda")
    trainer = Trainer(spec, tmp_path / "run", progress=False)
    assert all(p.is_cuda for net in trainer.nets.values() for p in net.parameters())
    assert trainer.run_training().total_steps == 2
