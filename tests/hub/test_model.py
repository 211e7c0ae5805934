"""``ganzoo.Model``: from a run folder to a bundle and back, translate and sample, strict loading."""

import json

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

import ganzoo
from ganzoo.errors import GanzooError
from ganzoo.hub import BundleError, Model
from ganzoo.train.checkpoint import CheckpointError
from ganzoo.train.engine import Trainer
from tests.train.tiny import register_one_layer_generator, tiny_spec


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A finished tiny CycleGAN run and DCGAN run (trained once for the module)."""
    root = tmp_path_factory.mktemp("runs")
    for recipe in ("cyclegan", "dcgan"):
        Trainer(tiny_spec(recipe, steps=2, sets={"sample_every": 2}), root / recipe, progress=False).run_training()
    return root


def test_run_folder_translates_with_its_latest_generator(runs):
    model = Model.from_pretrained(runs / "cyclegan")
    assert model.config["recipe"] == "cyclegan" and model.network_names == ["gen_ab", "gen_ba", "disc_a", "disc_b"]
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    y = model.translate(x)
    gen = ganzoo.create_generator("resnet9", init_type=None, **model.config["networks"]["gen_ab"]["options"])
    # the toy schedule averages the generators (--ema): a run folder gives the average
    weights = "gen_ab.ema.safetensors" if model.config["training"].get("ema") else "gen_ab.safetensors"
    gen.load_state_dict(load_file(str(runs / "cyclegan" / "checkpoints" / "step-000002" / weights)))
    with torch.no_grad():
        assert torch.equal(y, gen.eval()(x))
    assert y.shape == x.shape and y.abs().max() <= 1
    assert list(model._networks) == ["gen_ab"], "only the generator used is built and loaded"
    assert not model.network("gen_ab").training
    assert model.translate(x[0], direction="BtoA").shape == (3, 32, 32)
    assert set(model._networks) == {"gen_ab", "gen_ba"}


def test_bundle_round_trip_and_its_files(runs, tmp_path):
    model = Model.from_pretrained(runs / "cyclegan")
    folder = model.save_pretrained(tmp_path / "bundle")
    files = sorted(p.name for p in folder.iterdir())
    assert files == ["README.md", "config.json", "disc_a.safetensors", "disc_b.safetensors", "gen_ab.safetensors",
                     "gen_ba.safetensors", "samples.png"]
    config = json.loads((folder / "config.json").read_text())
    assert config["format"] == "ganzoo-bundle" and config["library_name"] == "ganzoo"
    assert config["networks"]["gen_ab"]["name"] == "resnet9" and config["networks"]["gen_ab"]["options"]["ngf"] == 8
    assert config["networks"]["disc_a"]["name"] == "patchgan"
    assert config["image_size"] == 32 and config["normalization"] == {"mean": 0.5, "std": 0.5, "range": [-1.0, 1.0]}
    assert config["domains"] == {"A": "day", "B": "night"} and config["directions"] == {"AtoB": "gen_ab", "BtoA": "gen_ba"}
    assert set(config["metrics"]) == {"untrained", "trained"} and "psnr" in config["metrics"]["trained"]
    assert config["training"]["config"]["recipe"] == "cyclegan" and config["training"]["steps"] == 2
    card = (folder / "README.md").read_text()
    header = card.split("---")[1]
    assert "library_name: ganzoo" in header and "- cyclegan" in header and "pipeline_tag: image-to-image" in header
    for words in ("Model.from_pretrained", "![samples](samples.png)", "| trained |", "ganzoo run cyclegan --gen resnet9"):
        assert words in card
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    again = Model.from_pretrained(folder)
    assert torch.equal(again.translate(x, direction="BtoA"), model.translate(x, direction="BtoA"))


def test_images_and_paths_give_images(runs, tmp_path):
    model = Model.from_pretrained(runs / "cyclegan")
    Image.new("RGB", (51, 29), (250, 200, 30)).save(tmp_path / "day.png")
    out = model.translate([tmp_path / "day.png", Image.new("L", (40, 40), 128)])
    assert [im.size for im in out] == [(32, 32), (32, 32)] and out[0].mode == "RGB"
    kept = model.translate(str(tmp_path / "day.png"), keep_size=True)
    multiple = model.network("gen_ab").size_multiple  # 2**n_downsampling: 2 in the toy schedule
    assert multiple > 1 and kept[0].size == (round(51 / multiple) * multiple, round(29 / multiple) * multiple)


def test_bad_inputs_get_clear_errors(runs):
    model = Model.from_pretrained(runs / "cyclegan")
    with pytest.raises(GanzooError, match="takes 3-channel images, got 1"):
        model.translate(torch.zeros(1, 1, 32, 32))
    multiple = model.network("gen_ab").size_multiple
    with pytest.raises(GanzooError, match=f"multiples of {multiple}"):
        model.translate(torch.zeros(1, 3, 8 * multiple + 1, 32))
    with pytest.raises(GanzooError, match="direction must be AtoB or BtoA"):
        model.translate(torch.zeros(1, 3, 32, 32), direction="sideways")
    with pytest.raises(BundleError, match="use translate"):
        model.sample(4)
    with pytest.raises(GanzooError, match="neither a run folder nor a model bundle"):
        Model.from_pretrained(runs)
    with pytest.raises(GanzooError, match="hf-hub:ORG/NAME"):
        Model.from_pretrained(runs / "nowhere")


def test_sample_is_seeded(runs, tmp_path):
    model = Model.from_pretrained(runs / "dcgan")
    a, b, c = model.sample(4, seed=1), model.sample(4, seed=1), model.sample(4, seed=2)
    assert a.shape == (4, 3, 32, 32) and torch.equal(a, b) and not torch.equal(a, c)
    assert a.abs().max() <= 1
    with pytest.raises(BundleError, match="use sample"):
        model.translate(torch.zeros(1, 3, 32, 32))
    bundle = model.save_pretrained(tmp_path / "dc")
    assert "pipeline_tag: unconditional-image-generation" in (bundle / "README.md").read_text()
    assert torch.equal(Model.from_pretrained(bundle).sample(4, seed=1), a)


@pytest.fixture
def bundle(runs, tmp_path):
    return Model.from_pretrained(runs / "cyclegan").save_pretrained(tmp_path / "bundle")


@pytest.mark.parametrize("change, message", [
    (lambda t: {k: v for k, v in t.items() if k != "model.1.weight"}, r"missing \['model.1.weight'\]"),
    (lambda t: {**t, "model.99.weight": torch.zeros(1)}, r"unexpected \['model.99.weight'\]"),
    (lambda t: {**t, "model.1.bias": torch.zeros(3)}, r"mis-shaped \['model.1.bias \(3,\) != \(8,\)'\]"),
])
def test_weights_that_do_not_fit_are_named(bundle, change, message):
    path = bundle / "gen_ab.safetensors"
    save_file(change(load_file(str(path))), str(path))
    with pytest.raises(CheckpointError, match=message):
        Model.from_pretrained(bundle).translate(torch.zeros(1, 3, 32, 32))


def test_a_damaged_weights_file_is_an_error(bundle):
    (bundle / "gen_ab.safetensors").write_bytes(b"\x00" * 16)
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        Model.from_pretrained(bundle).network("gen_ab")
    (bundle / "gen_ba.safetensors").unlink()
    with pytest.raises(BundleError, match="no weights for 'gen_ba'"):
        Model.from_pretrained(bundle).network("gen_ba")


def test_a_component_no_plugin_provides_names_the_plugin_to_install(bundle):
    config = json.loads((bundle / "config.json").read_text())
    config["networks"]["gen_ab"].update(name="stylegan9", plugin="stylegan", distribution="ganzoo-stylegan")
    (bundle / "config.json").write_text(json.dumps(config))
    with pytest.raises(BundleError, match="needs the generator 'stylegan9' from plugin 'stylegan', which no "
                                          "installed plugin provides: pip install ganzoo-stylegan"):
        Model.from_pretrained(bundle)
    (bundle / "config.json").write_text(json.dumps({"recipe": "cyclegan"}))
    with pytest.raises(BundleError, match="not a ganzoo model bundle"):
        Model.from_pretrained(bundle)


def test_a_third_party_network_records_its_plugin(tmp_path):
    name = register_one_layer_generator()
    run = tmp_path / "run"
    Trainer(tiny_spec("pix2pix", gen=name, steps=1, sets={"gen.ngf": None}), run, progress=False).run_training()
    spec = Model.from_pretrained(run).config["networks"]["gen"]
    assert spec["name"] == name and spec["plugin"] == "__session__"


def test_bundle_config_repeats_the_training(bundle):
    from click.testing import CliRunner

    from ganzoo.cli import cli
    from ganzoo.train.config import build_spec

    training = json.loads((bundle / "config.json").read_text())["training"]["config"]
    spec = build_spec("cyclegan", config=training)
    assert spec.components["generator"].name == "resnet9" and spec.components["generator"].options["ngf"] == 8
    assert spec.train.steps == 2
    result = CliRunner().invoke(cli, ["run", "cyclegan", "--config", str(bundle / "config.json"), "--dry-run"])
    assert result.exit_code == 0, result.output
    repeated = json.loads(result.output.split("\n}\n")[0] + "}")
    assert repeated["components"]["generator"]["options"]["ngf"] == 8 and repeated["train"]["steps"] == 2


def test_named_pretrained_weights(bundle):
    """``resnet9.TAG`` builds the architecture with the tag's weights, timm style."""
    ganzoo.register_generator(ganzoo.get_entry("generator", "resnet9").factory, name="resnet9x",
                              defaults={"n_blocks": 9}, pretrained={"daynight": {"source": str(bundle),
                                                                                 "summary": "toy"}})
    net = ganzoo.create_generator("resnet9x.daynight")
    expected = Model.from_pretrained(bundle).network("gen_ab")
    assert not net.training
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), expected.state_dict().values()))
    with pytest.raises(ganzoo.UnknownComponentError, match="no pretrained weights 'daynigt'.*resnet9x.daynight"):
        ganzoo.create_generator("resnet9x.daynigt")
    with pytest.raises(CheckpointError, match="mis-shaped"):  # a tag combines with options; these do not fit
        ganzoo.create_generator("resnet9x.daynight", ngf=16)
    ganzoo.register_generator(ganzoo.get_entry("generator", "unet256").factory, name="unetx",
                              pretrained={"daynight": str(bundle)})
    with pytest.raises(BundleError, match="has no generator 'gen_ab' of unetx's architecture"):
        ganzoo.create_generator("unetx.daynight")


def test_sample_checks_its_output_place_before_it_works(runs, tmp_path):
    from click.testing import CliRunner

    from ganzoo.cli import cli

    (tmp_path / "file").write_text("a regular file")
    result = CliRunner().invoke(cli, ["sample", str(runs / "dcgan"), "--out", str(tmp_path / "file" / "grid.png")])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: cannot write the output folder ")
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("emulated", [True, False])
def test_sample_in_bf16_on_a_cpu_that_emulates_it_says_so(runs, tmp_path, monkeypatch, emulated):
    from click.testing import CliRunner

    from ganzoo.cli import cli
    from ganzoo.train import config

    monkeypatch.setattr(config, "_cpu_has_bf16", lambda: not emulated)
    grid = tmp_path / "grid.png"
    result = CliRunner().invoke(cli, ["sample", str(runs / "dcgan"), "-n", "4", "--precision", "bf16",
                                      "--out", str(grid)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(grid) and grid.is_file()  # stdout still lists only the file
    notes = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
    assert len(notes) == emulated and all("emulated" in n and "--precision fp32" in n for n in notes)
