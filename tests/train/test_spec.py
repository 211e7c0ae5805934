"""The run specification: one typed tree, each fact in one field, JSON at the edges, and the run folders
and bundles ganzoo 0.1.0 wrote still loading, resuming and translating."""

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

import ganzoo
from ganzoo.errors import GanzooError
from ganzoo.train.config import build_spec
from ganzoo.train.spec import FORMAT, FORMAT_VERSION, RunSpec, from_json
from tests.train.tiny import TINY_SETS

RECIPES = ganzoo.list_components("recipe")
V010 = Path(__file__).parent.parent / "fixtures" / "v010"


def paths_of(doc, key, prefix=""):
    """Every dotted path in a JSON tree whose last part is ``key``."""
    found = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            path = f"{prefix}{k}"
            if k == key:
                found.append(path)
            found += paths_of(v, key, path + ".")
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            found += paths_of(v, key, f"{prefix}{i}.")
    return found


def one_line_error(call, *words):
    with pytest.raises(GanzooError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message.strip(), message
    for word in words:
        assert word in message, f"{word!r} not in: {message}"
    return message


# -- JSON round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("recipe", RECIPES)
@pytest.mark.parametrize("data", [None, "some/folder"])
def test_json_round_trip(recipe, data):
    spec = build_spec(recipe, data=data)
    doc = json.loads(json.dumps(spec.to_json()))
    assert doc["format"] == FORMAT and doc["format_version"] == FORMAT_VERSION
    again = from_json(doc)
    assert isinstance(again, RunSpec) and again == spec
    assert again.to_json() == spec.to_json()


@pytest.mark.parametrize("recipe", RECIPES)
def test_a_whole_config_json_round_trips_through_config(recipe):
    for spec in (build_spec(recipe, sets=TINY_SETS, steps=3, lr=1e-3, seed=7),
                 build_spec(recipe, data="some/folder", batch_size=3, sets={"data.preprocess": "crop"})):
        doc = json.loads(json.dumps(spec.to_json()))
        assert build_spec(recipe, config=doc) == spec


def test_a_spec_is_frozen():
    spec = build_spec("pix2pix")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.train.steps = 5  # type: ignore[misc]


def test_from_json_refuses_what_is_not_a_run_configuration():
    one_line_error(lambda: from_json([1, 2]), "not a run configuration")
    one_line_error(lambda: from_json({"recipe": "cyclegan"}), "not a ganzoo run configuration")
    newer = {**build_spec("pix2pix").to_json(), "format_version": FORMAT_VERSION + 1}
    one_line_error(lambda: from_json(newer), "upgrade ganzoo")
    doc = build_spec("pix2pix").to_json()
    doc["train"]["stepz"] = 3
    one_line_error(lambda: from_json(doc), "stepz")


# -- each fact in one place ------------------------------------------------------------------------


@pytest.mark.parametrize("data", [None, "some/folder"])
def test_set_epochs_is_the_one_length_of_the_run(data):
    """0.1.0 wrote train.epochs=5 beside hparams.epochs=200: two answers to one question."""
    spec = build_spec("cyclegan", data=data, sets={"epochs": 5})
    assert spec.train.epochs == 5 and spec.train.steps is None
    doc = spec.to_json()
    assert paths_of(doc, "epochs") == ["train.epochs"]
    assert "epochs" not in spec.hparams
    later = build_spec("cyclegan", data=data, sets={"epochs": 5, "steps": 30})
    assert (later.train.steps, later.train.epochs) == (30, None), "steps, when given, is the length"


def test_each_fact_lives_in_one_field():
    spec = build_spec("cyclegan", data="some/folder")
    assert dict(spec.hparams) == {"pool_size": 50, "pretrain_steps": 0, "gen_warmup_steps": 0, "cycle_flips": False,
                                  "identity_boost": 1.0, "identity_boost_steps": 0}
    assert dict(build_spec("pix2pix", data="x").hparams) == {} and dict(build_spec("dcgan", data="x").hparams) == {}
    doc = spec.to_json()
    for key, where in [("epochs", ["train.epochs"]), ("steps", ["train.steps"]), ("batch_size", ["train.batch_size"]),
                       ("lr_policy", ["train.lr_policy"]), ("image_size", ["data.image_size"]),
                       ("pool_size", ["hparams.pool_size"]), ("lr", ["optimizers.G.lr", "optimizers.D.lr"]),
                       ("beta1", ["optimizers.G.beta1", "optimizers.D.beta1"])]:
        assert paths_of(doc, key) == where, key


# -- auxiliary losses ------------------------------------------------------------------------------


def test_an_aux_option_lands_in_the_role_and_reaches_the_loss():
    import torch

    from ganzoo.train.build import build_losses

    spec = build_spec("pix2pix", sets={"l1.criterion": "l2"})
    assert dict(spec.aux["l1"].options) == {"criterion": "l2"} and spec.aux["l1"].loss == "l1"
    _, aux = build_losses(spec, device=torch.device("cpu"))
    assert aux["l1"].loss.criterion == "l2" and aux["l1"].weight == 100.0


def test_an_unknown_aux_option_is_one_line():
    one_line_error(lambda: build_spec("pix2pix", sets={"l1.criterio": "l2"}), "criterio")
    one_line_error(lambda: build_spec("pix2pix", sets={"l1.criterion": "l3"}), "l3")


def test_another_reconstruction_loss_can_fill_a_role_but_not_an_adversarial_one():
    spec = build_spec("pix2pix", aux={"l1": "cycle"})
    assert spec.aux["l1"].loss == "cycle" and spec.aux["l1"].weight == 100.0
    one_line_error(lambda: build_spec("pix2pix", aux={"l1": "lsgan"}), "lsgan", "reconstruction")
    one_line_error(lambda: build_spec("pix2pix", aux={"cycle": "l1"}), "cycle", "l1")
    one_line_error(lambda: build_spec("pix2pix", aux={"l1": "l2loss"}), "l2loss")


def test_an_aux_weight_of_zero_switches_the_term_off():
    spec = build_spec("cyclegan", sets={"identity": 0})
    assert spec.aux["identity"].weight == 0.0 and spec.aux["cycle"].weight == 10.0


# -- bad values ------------------------------------------------------------------------------------


@pytest.mark.parametrize("sets, key", [
    ({"lr": "abc"}, "lr"),
    ({"steps": 1.5}, "steps"),
    ({"deterministic": "yes"}, "deterministic"),
    ({"batch_size": "two"}, "batch_size"),
    ({"cycle": "ten"}, "cycle"),
    ({"lr_d": float("nan")}, "lr_d"),
    ({"image_size": True}, "image_size"),
    ({"nonsense": 1}, "nonsense"),
    ({"gen.nonsense": 1}, "nonsense"),
])
def test_bad_values_are_one_line_naming_the_key(sets, key):
    one_line_error(lambda: build_spec("cyclegan", sets=sets), key)


def test_good_values_are_coerced_to_the_fields_types():
    spec = build_spec("cyclegan", sets={"steps": 4.0, "lr": 1, "deterministic": True, "loggers": "tensorboard, "})
    assert spec.train.steps == 4 and isinstance(spec.train.steps, int)
    assert spec.optimizers["G"].lr == 1.0 and isinstance(spec.optimizers["G"].lr, float)
    assert spec.train.deterministic is True and spec.train.loggers == ("tensorboard",)


# -- optimizers ------------------------------------------------------------------------------------


def test_learning_rate_per_optimizer_group():
    spec = build_spec("cyclegan", data="toy:day2night", sets={"lr_d": 1e-3})  # the paper's lr, not the toy's
    assert (spec.optimizers["D"].lr, spec.optimizers["G"].lr) == (1e-3, 2e-4)
    spec = build_spec("cyclegan", sets={"lr": 1e-3})
    assert spec.optimizers["D"].lr == spec.optimizers["G"].lr == 1e-3
    spec = build_spec("pix2pix", sets={"optim.G.lr": 5e-4, "optim.D.beta1": 0.0})
    assert (spec.optimizers["G"].lr, spec.optimizers["D"].lr, spec.optimizers["D"].beta1) == (5e-4, 2e-4, 0.0)
    one_line_error(lambda: build_spec("pix2pix", sets={"optim.X.lr": 1e-3}), "optim.X.lr")


def test_lr_then_lr_d_in_one_layer():
    spec = build_spec("cyclegan", lr=1e-3, sets={"lr_d": 4e-4})
    assert (spec.optimizers["G"].lr, spec.optimizers["D"].lr) == (1e-3, 4e-4)


# -- configurations as layers ----------------------------------------------------------------------


def test_a_partial_config_dict_applies():
    spec = build_spec("pix2pix", config={"components": {"generator": {"name": "unet128"}}, "train": {"steps": 9}})
    assert spec.components["generator"].name == "unet128" and spec.train.steps == 9
    assert spec.components["discriminator"].name == "patchgan", "what the config leaves out keeps its default"
    assert spec.data.toy and spec.data.source == "toy:edges2shapes"
    later = build_spec("pix2pix", config={"train": {"steps": 9}}, steps=4, slots={"gen": "unet128"})
    assert later.train.steps == 4, "arguments win over the config"


def test_a_config_for_another_recipe_or_with_unknown_keys_is_refused():
    one_line_error(lambda: build_spec("pix2pix", config=build_spec("cyclegan").to_json()), "cyclegan", "pix2pix")
    one_line_error(lambda: build_spec("pix2pix", config={"trian": {"steps": 9}}), "trian")
    one_line_error(lambda: build_spec("pix2pix", config={"train": 9}), "train")


# -- ganzoo 0.1.0 ----------------------------------------------------------------------------------


def v010_run(tmp_path):
    copy = tmp_path / "runs" / "cyclegan" / "tiny"
    shutil.copytree(V010 / "cyclegan-run", copy)
    return copy


def check_v010_spec(spec):
    assert spec.recipe == "cyclegan"
    assert spec.components["generator"].name == "resnet9"
    assert spec.components["generator"].options["ngf"] == 4 and spec.components["generator"].options["n_blocks"] == 1
    assert spec.components["discriminator"].name == "patchgan" and spec.components["discriminator"].options["ndf"] == 4
    assert spec.components["loss"].name == "lsgan"
    on = {k: (a.loss, a.weight) for k, a in spec.aux.items() if k in ("cycle", "identity")}
    assert on == {"cycle": ("cycle", 10.0), "identity": ("identity", 0.5)}
    added = {k: a.weight for k, a in spec.aux.items() if k not in on}
    assert set(added) <= {"feature_matching"} and set(added.values()) <= {0.0}, "a role added since 0.1.0 stays off"
    assert list(spec.networks) == ["gen_ab", "gen_ba", "disc_a", "disc_b"]
    assert spec.inference == {"AtoB": "gen_ab", "BtoA": "gen_ba"}
    assert spec.hparams["pool_size"] == 50
    later = {k: v for k, v in spec.hparams.items() if k != "pool_size"}
    off = {"pretrain_steps": 0, "gen_warmup_steps": 0, "cycle_flips": False, "identity_boost": 1.0,
           "identity_boost_steps": 0}
    assert set(later) <= set(off) and all(later[k] == off[k] for k in later), \
        "a phase or term added since 0.1.0 stays off"
    assert spec.optimizers["G"].lr == spec.optimizers["D"].lr == 2e-4
    assert (spec.train.steps, spec.train.batch_size, spec.train.keep_checkpoints, spec.train.score_samples) == (2, 2, 1, 4)
    assert (spec.data.source, spec.data.mode, spec.data.image_size, spec.data.toy) == ("toy:day2night", "unpaired", 32, True)


def test_a_v010_run_folder_loads():
    from ganzoo.train.run import Run, load_spec

    raw = json.loads((V010 / "cyclegan-run" / "config.json").read_text())
    assert "format" not in raw and "adversarial_loss" in raw["components"], "the fixture is 0.1.0's format"
    check_v010_spec(load_spec(V010 / "cyclegan-run"))
    run = Run.open(V010 / "cyclegan-run")
    assert set(run.scores) == {"untrained", "trained"} and run.total_steps == 2


def test_a_v010_run_folder_resumes_and_translates(tmp_path):
    import torch
    from safetensors.torch import load_file

    from ganzoo.train.engine import Trainer
    from ganzoo.train.run import load_spec

    run_dir = v010_run(tmp_path)
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    model = ganzoo.Model.from_pretrained(run_dir)
    assert model.translate(x).shape == (1, 3, 32, 32) and model.translate(x, direction="BtoA").shape == (1, 3, 32, 32)
    before = load_file(str(run_dir / "checkpoints" / "step-000002" / "gen_ab.safetensors"))

    spec = load_spec(run_dir)
    longer = dataclasses.replace(spec, train=dataclasses.replace(spec.train, steps=4))
    trainer = Trainer(longer, run_dir, progress=False)
    assert trainer.resume() == 2
    assert len(trainer.step.pool_a.images) == 4, "the image pool (2 steps of 2 fakes) came back from 0.1.0"
    run = trainer.run_training()
    assert run.total_steps == 4 and set(run.scores) == {"untrained", "trained"}
    assert (run_dir / "checkpoints" / "latest").read_text().strip() == "step-000004"
    after = load_file(str(run_dir / "checkpoints" / "step-000004" / "gen_ab.safetensors"))
    assert any(not torch.equal(before[k], after[k]) for k in before if before[k].is_floating_point())
    assert json.loads((run_dir / "config.json").read_text())["format"] == FORMAT, "rewritten in today's format"
    check_v010_spec(dataclasses.replace(load_spec(run_dir), train=spec.train))
    again = ganzoo.Model.from_pretrained(run_dir)
    assert again.translate(x).shape == (1, 3, 32, 32)


def test_a_v010_bundle_loads_translates_and_repeats_its_training():
    import torch
    from safetensors.torch import load_file

    config = json.loads((V010 / "cyclegan-bundle" / "config.json").read_text())
    assert config["format_version"] == 1 and "adversarial_loss" in config["training"]["config"]["components"]
    model = ganzoo.Model.from_pretrained(V010 / "cyclegan-bundle")
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    y = model.translate(x)
    assert y.shape == (2, 3, 32, 32) and y.abs().max() <= 1
    assert model.translate(x, direction="BtoA").shape == (2, 3, 32, 32)
    spec = build_spec("cyclegan", config=config["training"]["config"])
    check_v010_spec(spec)
    gen = spec.components["generator"]
    repeated = ganzoo.create_generator(gen.name, **gen.options)  # today's toy schedule has one downsampling
    repeated.load_state_dict(load_file(str(V010 / "cyclegan-bundle" / "gen_ab.safetensors")))  # strict
