"""Every value of a run specification is checked for type and range when the specification is built: from
``--set``, the options and ``--config`` (exit code 2, one line starting with "Error:" naming the key and the
value), from Python (:func:`build_spec`, ``ganzoo.train``: a :class:`UsageError` saying the same) and from a
hand-edited config.json. Good edge values still pass. Everything here stops at ``--dry-run`` or earlier."""

import dataclasses
import json

import pytest
from click.testing import CliRunner

import ganzoo
from ganzoo import Network, Recipe, Slot, Value
from ganzoo.cli import cli
from ganzoo.errors import UsageError
from ganzoo.train.config import DATA_FIELDS, TRAIN_FIELDS, build_spec, parse_sets
from ganzoo.train.spec import from_json

TINY = {"gen.ngf": 8, "disc.ndf": 8}
TINY_ARGS = [arg for key, value in TINY.items() for arg in ("--set", f"{key}={value}")]

#: (recipe, extra slot picks, ``--set`` item, the key the error must name).
BAD_SETS = [
    ("pix2pix", {}, "lr=abc", "lr"),
    ("pix2pix", {}, "lr=-1", "lr"),
    ("pix2pix", {}, "lr=0", "lr"),
    ("pix2pix", {}, "lr=NaN", "lr"),
    ("pix2pix", {}, "lr=Infinity", "lr"),
    ("pix2pix", {}, "lr=-Infinity", "lr"),
    ("pix2pix", {}, "lr=true", "lr"),
    ("pix2pix", {}, "lr_d=0", "lr_d"),
    ("pix2pix", {}, "optim.G.lr=-1", "optim.G.lr"),
    ("pix2pix", {}, "beta1=1.5", "beta1"),
    ("pix2pix", {}, "beta2=-1", "beta2"),
    ("pix2pix", {}, "beta2=1", "beta2"),
    ("pix2pix", {}, "batch_size=0", "batch_size"),
    ("pix2pix", {}, "batch_size=true", "batch_size"),
    ("pix2pix", {}, "batch_size=2.5", "batch_size"),
    ("pix2pix", {}, "steps=0", "steps"),
    ("pix2pix", {}, "steps=-1", "steps"),
    ("pix2pix", {}, "steps=true", "steps"),
    ("pix2pix", {}, "epochs=0", "epochs"),
    ("pix2pix", {}, "lr_policy=foo", "lr_policy"),
    ("pix2pix", {}, "decay_start=2", "decay_start"),
    ("pix2pix", {}, "decay_start=-0.1", "decay_start"),
    ("pix2pix", {}, "init_type=foo", "init_type"),
    ("pix2pix", {}, "init_gain=0", "init_gain"),
    ("pix2pix", {}, "seed=-1", "seed"),
    ("pix2pix", {}, "seed=x", "seed"),
    ("pix2pix", {}, "device=quantum", "device"),
    ("pix2pix", {}, "device=cuda:x", "device"),
    ("pix2pix", {}, "deterministic=1", "deterministic"),
    ("pix2pix", {}, "log_every=0", "log_every"),
    ("pix2pix", {}, "checkpoint_every=0", "checkpoint_every"),
    ("pix2pix", {}, "sample_every=-3", "sample_every"),
    ("pix2pix", {}, "keep_checkpoints=0", "keep_checkpoints"),
    ("pix2pix", {}, "workers=-1", "workers"),
    ("pix2pix", {}, "score_samples=0", "score_samples"),
    ("pix2pix", {}, "ema=1", "ema"),
    ("pix2pix", {}, "ema=-0.1", "ema"),
    ("pix2pix", {}, "loggers=nosuch", "loggers"),
    ("pix2pix", {}, "loggers=3", "loggers"),
    ("pix2pix", {}, "data.direction=XtoY", "direction"),
    ("pix2pix", {}, "direction=XtoY", "direction"),
    ("pix2pix", {}, "image_size=3", "image_size"),
    ("pix2pix", {}, "image_size=48", "image_size"),  # the 5-level U-Net needs sides divisible by 32
    ("pix2pix", {}, "load_size=16", "load_size"),  # smaller than the 32 crop
    ("pix2pix", {}, "preprocess=foo", "preprocess"),
    ("pix2pix", {}, 'flip="yes"', "flip"),
    ("pix2pix", {}, "flip=1", "flip"),
    ("pix2pix", {}, "max_size=0", "max_size"),
    ("pix2pix", {}, "size=0", "size"),
    ("pix2pix", {}, "in_channels=0", "in_channels"),
    ("pix2pix", {}, "out_channels=0", "out_channels"),
    ("pix2pix", {}, "l1=-1", "l1"),
    ("pix2pix", {}, "l1=abc", "l1"),
    ("pix2pix", {}, "l1.criterion=l3", "l1.criterion"),
    ("pix2pix", {}, "gen.ngf=0", "gen.ngf"),
    ("pix2pix", {}, "gen.ngf=abc", "gen.ngf"),
    ("pix2pix", {}, "gen.num_downs=3", "gen.num_downs"),
    ("pix2pix", {}, "gen.norm=foo", "gen.norm"),
    ("pix2pix", {}, "disc.ndf=0", "disc.ndf"),
    ("pix2pix", {}, "disc.n_layers=0", "disc.n_layers"),
    ("pix2pix", {}, "loss.real_label=2", "loss.real_label"),
    ("pix2pix", {}, "loss.fake_label=abc", "loss.fake_label"),
    ("cyclegan", {}, "pool_size=-1", "pool_size"),
    ("cyclegan", {}, "pool_size=abc", "pool_size"),
    ("cyclegan", {}, "pool_size=1.5", "pool_size"),
    ("cyclegan", {}, "cycle=-1", "cycle"),
    ("cyclegan", {}, "identity=NaN", "identity"),
    ("cyclegan", {"loss": "wgan-gp"}, "loss.gp_weight=abc", "loss.gp_weight"),
    ("cyclegan", {"loss": "wgan-gp"}, "loss.gp_weight=-1", "loss.gp_weight"),
    ("cyclegan", {"loss": "wgan-gp"}, "loss.constant=0", "loss.constant"),
    ("dcgan", {}, "gen.nz=0", "gen.nz"),
    ("dcgan", {}, "image_size=48", "image_size"),
]

#: (a ``--config`` document, words the error must hold); every one applies to pix2pix.
BAD_CONFIGS = [
    ([1, 2], ["array"]),
    ("x", ["string"]),
    (3, ["number"]),
    ({"bogus": 1}, ["bogus"]),
    ({"set": [1, 2]}, ["set"]),
    ({"train": []}, ["train", "array"]),
    ({"hparams": 3}, ["hparams"]),
    ({"components": {"generator": 3}}, ["components.generator"]),
    ({"components": {"generator": {"name": 3}}}, ["components.generator.name", "3"]),
    ({"components": {"generator": {"options": []}}}, ["components.generator.options"]),
    ({"components": {"nosuch": {"name": "unet128"}}}, ["nosuch"]),
    ({"aux": {"l1": 5}}, ["aux.l1"]),
    ({"aux": {"l1": {"weight": -1}}}, ["l1", "-1"]),
    ({"optimizers": {"G": {"lr": -1}}}, ["optim.G.lr", "-1"]),
    ({"train": {"steps": 0}}, ["steps", "0"]),
    ({"data": {"direction": "XtoY"}}, ["direction", "XtoY"]),
    ({"data": {"source": 7}}, ["data.source"]),
    ({"recipe": "cyclegan"}, ["cyclegan"]),
]


def cli_error(args):
    """Run ``ganzoo ARGS`` and return its one line of output, after checking the exit code is 2."""
    result = CliRunner().invoke(cli, [str(a) for a in args])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.output
    return lines[0]


def value_text(item):
    """The value of a ``--set KEY=VALUE`` item as the error shows it (JSON, so a string in quotes)."""
    return item.partition("=")[2].strip('"')


@pytest.mark.parametrize("recipe, picks, item, key", BAD_SETS, ids=lambda v: v if isinstance(v, str) else "")
def test_a_bad_set_value_is_one_line_with_exit_code_2(recipe, picks, item, key):
    slot_args = [arg for role, name in picks.items() for arg in (f"--{role}", name)]
    line = cli_error(["run", recipe, *TINY_ARGS, *slot_args, "--set", item, "--dry-run"])
    assert key in line and value_text(item) in line, line


@pytest.mark.parametrize("recipe, picks, item, key", BAD_SETS, ids=lambda v: v if isinstance(v, str) else "")
def test_a_bad_value_from_python_is_a_usage_error_naming_the_key(recipe, picks, item, key):
    with pytest.raises(UsageError) as info:
        build_spec(recipe, slots=picks, sets={**TINY, **parse_sets([item])})
    message = str(info.value)
    assert "\n" not in message and key in message and value_text(item) in message, message


@pytest.mark.parametrize("option, value", [("--steps", "0"), ("--steps", "-1"), ("--steps", "abc"), ("--epochs", "0"),
                                           ("--batch-size", "0"), ("--image-size", "3"), ("--lr", "-1"),
                                           ("--lr", "0"), ("--seed", "-1"), ("--device", "quantum"), ("--ema", "1.5")])
def test_a_bad_option_value_is_one_line_with_exit_code_2(option, value):
    line = cli_error(["run", "pix2pix", *TINY_ARGS, option, value, "--dry-run"])
    assert option.lstrip("-").replace("-", "_") in line and value in line, line


@pytest.mark.parametrize("doc, words", BAD_CONFIGS, ids=lambda v: json.dumps(v)[:40] if not isinstance(v, list) or
                         not all(isinstance(w, str) for w in v) else "")
def test_a_bad_config_file_is_one_line_with_exit_code_2(doc, words, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(doc))
    line = cli_error(["run", "pix2pix", *TINY_ARGS, "--config", path, "--dry-run"])
    assert "--config" in line and all(w in line for w in words), line


@pytest.mark.parametrize("doc, words", BAD_CONFIGS, ids=lambda v: json.dumps(v)[:40] if not isinstance(v, list) or
                         not all(isinstance(w, str) for w in v) else "")
def test_a_bad_config_from_python_is_a_usage_error(doc, words):
    with pytest.raises(UsageError) as info:
        build_spec("pix2pix", config=doc, sets=TINY)
    assert all(w in str(info.value) for w in words), str(info.value)


@pytest.mark.parametrize("text", ["null", "", "{not json"])
def test_a_config_file_of_null_or_not_json_is_refused(text, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(text)
    assert str(path) in cli_error(["run", "pix2pix", *TINY_ARGS, "--config", path, "--dry-run"])


def good_config():
    return build_spec("pix2pix", sets=TINY, steps=2).to_json()


@pytest.mark.parametrize("section, key, value", [("train", "steps", -1), ("train", "lr_policy", "foo"),
                                                 ("data", "direction", "XtoY"), ("optimizers", "G", {"lr": -1}),
                                                 ("train", "batch_size", 0)])
def test_a_hand_edited_config_json_is_refused_when_read(section, key, value, tmp_path):
    doc = good_config()
    doc[section][key] = value
    with pytest.raises(UsageError) as info:
        from_json(doc, where="config.json")
    assert f"config.json: {section}" in str(info.value) and "\n" not in str(info.value)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps(doc))
    line = cli_error(["run", "--resume", run_dir])
    assert "config.json" in line and json.dumps(value if section != "optimizers" else -1) in line, line
    line = cli_error(["run", "pix2pix", "--config", run_dir / "config.json", "--dry-run"])
    assert "--config" in line


def test_ganzoo_train_refuses_a_bad_value_before_writing_anything(tmp_path):
    with pytest.raises(UsageError, match="steps=-1"):
        ganzoo.train("pix2pix", steps=-1, out=tmp_path, sets=TINY, progress=False)
    with pytest.raises(UsageError, match="direction"):
        ganzoo.train("pix2pix", steps=1, out=tmp_path, sets={**TINY, "data.direction": "XtoY"}, progress=False)
    with pytest.raises(UsageError, match="data=3"):
        ganzoo.train("pix2pix", data=3, steps=1, out=tmp_path, sets=TINY, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_a_spec_checks_itself_when_changed():
    spec = build_spec("pix2pix", sets=TINY, steps=2)
    with pytest.raises(UsageError, match="steps=0"):
        dataclasses.replace(spec.train, steps=0)
    with pytest.raises(UsageError, match="load_size=8"):
        dataclasses.replace(spec.data, load_size=8, preprocess="resize_and_crop")
    assert dataclasses.replace(spec.data, load_size=8, preprocess="crop").load_size == 8  # crop does not resize


GOOD = [("pix2pix", "lr=1e-5"), ("pix2pix", "lr=1"), ("pix2pix", "batch_size=1"), ("pix2pix", "steps=1"),
        ("pix2pix", "decay_start=0"), ("pix2pix", "decay_start=1"), ("pix2pix", "beta1=0"), ("pix2pix", "workers=0"),
        ("pix2pix", "seed=4294967295"), ("pix2pix", "init_type=null"), ("pix2pix", "device=cuda:1"),
        ("pix2pix", "device=cpu"), ("pix2pix", "load_size=32"), ("pix2pix", "data.direction=BtoA"),
        ("pix2pix", "l1=0"), ("pix2pix", "steps=3.0"), ("pix2pix", "loggers=tensorboard"), ("pix2pix", "ema=0"),
        ("pix2pix", "ema=0.9999"),
        ("cyclegan", "pool_size=0"), ("cyclegan", "cycle=0")]


@pytest.mark.parametrize("recipe, item", GOOD, ids=lambda v: v)
def test_good_edge_values_pass(recipe, item):
    key, _, _ = item.partition("=")
    spec = build_spec(recipe, sets={**TINY, **parse_sets([item])})
    assert spec.to_json()  # and it is JSON again
    result = CliRunner().invoke(cli, ["run", recipe, *TINY_ARGS, "--set", item, "--dry-run"])
    assert result.exit_code == 0, result.output


def test_the_allowed_names_come_from_their_owners():
    from ganzoo.data.folders import DIRECTIONS
    from ganzoo.data.transforms import PREPROCESS_MODES
    from ganzoo.nn.layers import INIT_TYPES
    from ganzoo.train.schedules import SCHEDULES

    assert TRAIN_FIELDS["lr_policy"].names() == SCHEDULES
    assert TRAIN_FIELDS["init_type"].names() == INIT_TYPES
    assert DATA_FIELDS["direction"].names() == DIRECTIONS
    assert DATA_FIELDS["preprocess"].names() == PREPROCESS_MODES


# -- the declaration -------------------------------------------------------------------------------


@pytest.mark.parametrize("allowed, value, expected", [
    (Value(int, min=1), 3.0, 3),
    (Value(int | None, min=0), None, None),
    (Value(float, min=0, min_open=True), 2, 2.0),
    (Value(tuple[str, ...]), "a, b,", ("a", "b")),
    (Value(str, choices=("x", "y")), "y", "y"),
    (Value(bool), False, False),
])
def test_value_takes_and_normalises(allowed, value, expected):
    got = allowed.check("k", value)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("allowed, value, words", [
    (Value(int, min=1), 0, ["k=0", "a whole number >= 1"]),
    (Value(int), True, ["k=true", "a whole number"]),
    (Value(float, max=1, max_open=True), 1, ["k=1", "a number < 1"]),
    (Value(float, min=0, max=1), float("inf"), ["k=Infinity", ">= 0 and <= 1"]),
    (Value(str, choices=("x", "y")), "z", ['k="z"', "one of x, y"]),
    (Value(str), "", ['k=""', "a name"]),
    (Value(bool | None), "yes", ['k="yes"', "true or false, or null"]),
    (Value(tuple[str, ...]), [1], ["k=[1]", "a list of names"]),
])
def test_value_refuses_naming_key_value_and_what_is_allowed(allowed, value, words):
    with pytest.raises(UsageError) as info:
        allowed.check("k", value)
    assert all(w in str(info.value) for w in words), str(info.value)


def make_recipe(**kwargs):
    return Recipe(name="r", summary="s", paper="p", slots={"generator": Slot("generator", "resnet9")},
                  networks=(Network("gen", "generator", "G"),), step="x:Y", data_modes=("paired",),
                  inference={"AtoB": "gen"}, **kwargs)


def test_a_recipe_declaration_must_fit_its_own_hparams():
    assert make_recipe(hparams={"k": 2}, hparam_values={"k": Value(int, min=0)}).hparam_values["k"].min == 0
    with pytest.raises(ValueError, match="no hparam 'other'"):
        make_recipe(hparams={"k": 2}, hparam_values={"other": Value(int)})
    with pytest.raises(ValueError, match="k=-2"):
        make_recipe(hparams={"k": -2}, hparam_values={"k": Value(int, min=0)})
    with pytest.raises(ValueError, match="not a ganzoo.Value"):
        make_recipe(hparams={"k": 2}, hparam_values={"k": int})


def test_first_party_recipes_declare_every_hparam():
    from ganzoo.train.config import get_recipe

    for name in ("cyclegan", "pix2pix", "dcgan"):
        recipe = get_recipe(name)
        assert set(recipe.hparam_values) == set(recipe.hparams), name


def test_toy_targets_are_numbers_of_a_recipe_with_a_toy_schedule():
    assert make_recipe(toy={"steps": 2}, toy_targets={"shape_accuracy": 0.9}).toy_targets["shape_accuracy"] == 0.9
    with pytest.raises(ValueError, match="no toy schedule"):
        make_recipe(toy_targets={"shape_accuracy": 0.9})
    with pytest.raises(ValueError, match="must be a number"):
        make_recipe(toy={"steps": 2}, toy_targets={"shape_accuracy": "high"})


def test_first_party_recipes_state_toy_targets_in_known_scores():
    from ganzoo.metrics.toy import SCORES
    from ganzoo.train.config import get_recipe

    for name in ("cyclegan", "pix2pix", "dcgan"):
        targets = get_recipe(name).toy_targets
        assert targets and set(targets) <= set(SCORES), name
