"""A run folder is read from its specification alone: no recipe plugin needed to translate, and a
missing plugin is an error that names the distribution to install."""

import shutil
import textwrap

import pytest
import torch
from PIL import Image

import ganzoo
from ganzoo.errors import GanzooError
from tests.conftest import run_ganzoo
from tests.train.tiny import tiny_spec


@pytest.fixture(scope="module")
def cyclegan_run(tmp_path_factory):
    from ganzoo import plugins
    from ganzoo.train.engine import Trainer

    plugins.reset()
    run_dir = tmp_path_factory.mktemp("runs") / "cyclegan"
    Trainer(tiny_spec("cyclegan", steps=2), run_dir, progress=False).run_training()
    plugins.reset()
    return run_dir


def test_run_folder_records_who_provides_each_part(cyclegan_run):
    spec = ganzoo.Run.open(cyclegan_run).spec
    assert spec.recipe_distribution == ganzoo.DISTRIBUTION == "torch-ganzoo", "what to pip install, not the package"
    assert {c.plugin for c in spec.components.values()} == {"ganzoo"}
    assert {c.distribution for c in spec.components.values()} == {ganzoo.DISTRIBUTION}


def test_run_folder_translates_without_its_recipe_plugin(cyclegan_run, monkeypatch):
    monkeypatch.setenv("GANZOO_DISABLE_PLUGINS", "cyclegan")
    assert "cyclegan" not in ganzoo.list_components("recipe")
    model = ganzoo.Model.from_pretrained(cyclegan_run)
    assert model.translate(torch.zeros(1, 3, 32, 32)).shape == (1, 3, 32, 32)
    assert model.config["directions"] == {"AtoB": "gen_ab", "BtoA": "gen_ba"}


def test_resuming_without_the_recipe_plugin_names_the_distribution(cyclegan_run, tmp_path, monkeypatch):
    copy = tmp_path / "run"
    shutil.copytree(cyclegan_run, copy)
    monkeypatch.setenv("GANZOO_DISABLE_PLUGINS", "cyclegan")
    with pytest.raises(GanzooError, match="recipe 'cyclegan', which no installed plugin provides: pip install torch-ganzoo$"):
        ganzoo.resume(copy, progress=False)


def test_a_missing_network_plugin_is_one_line_naming_the_distribution(tmp_path, plugin_factory):
    plugin_factory.install("tinynets", textwrap.dedent('''
        import ganzoo
        from torch import nn

        class Flat(nn.Module):
            """A one-convolution generator from a third-party distribution."""
            input_kind = "image"

            def __init__(self, *, in_channels=3, out_channels=3):
                super().__init__()
                self.in_channels, self.out_channels = in_channels, out_channels
                self.conv = nn.Conv2d(in_channels, out_channels, 1)

            def forward(self, x):
                return self.conv(x).tanh()

        @ganzoo.hookimpl
        def ganzoo_register_generators(register):
            register(Flat, name="flat")
    '''), version="2.1")
    run = ganzoo.train("pix2pix", gen="flat", steps=1, batch_size=2, out=tmp_path, name="r", progress=False,
                       sets={"disc.ndf": 8, "score_samples": 4})
    assert run.spec.components["generator"].distribution == "tinynets"
    env = {**plugin_factory.env(), "GANZOO_DISABLE_PLUGINS": "tinynets"}
    image = tmp_path / "in.png"
    Image.new("RGB", (32, 32)).save(image)
    result = run_ganzoo("translate", str(run.run_dir), str(image), "--out", str(tmp_path / "out"), env=env)
    assert result.returncode != 0
    assert "pip install tinynets" in result.stderr and "Traceback" not in result.stderr, result.stderr
