"""The door, datasette-style: every hook is documented, and a third-party distribution with a real entry
point uses every one of them, a recipe with a third network, a data mode and a data set included."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import ganzoo
from ganzoo import hookspecs
from ganzoo.train.report import read_grids
from tests.conftest import run_ganzoo

PLUGIN = '''
import os
from pathlib import Path

import click
import torch
from torch import nn

import ganzoo
from ganzoo import AuxLoss, Network, Recipe, Slot, Step


class OneLayer(nn.Module):
    """A one-convolution image generator."""

    input_kind = "image"

    def __init__(self, *, in_channels: int = 3, out_channels: int = 3, width: int = 4):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)

    def forward(self, x):
        return self.conv(x).tanh()


class TwoScale(nn.Module):
    """A two-scale discriminator (pix2pixHD style): a list of logit maps, and its features."""

    min_size = 8

    def __init__(self, *, in_channels: int = 3, ndf: int = 4):
        super().__init__()
        self.in_channels = in_channels
        self.body = nn.Sequential(nn.Conv2d(in_channels, ndf, 3, padding=1), nn.LeakyReLU(0.2))
        self.head = nn.Conv2d(ndf, 1, 3, padding=1)

    def features(self, x):
        return [self.body(x), self.body(nn.functional.avg_pool2d(x, 2))]

    def forward(self, x):
        return [self.head(f) for f in self.features(x)]


class SquaredError(nn.Module):
    """Mean squared error, as a reconstruction loss."""

    role = "reconstruction"

    def __init__(self, *, scale: float = 1.0):
        super().__init__()
        self.scale = scale

    def forward(self, output, target):
        return self.scale * (output - target).pow(2).mean()


class ColourPairs(torch.utils.data.Dataset):
    """A data mode: pairs of flat colours read from ROOT/colours.txt (A a colour, B its negative)."""

    def __init__(self, *, root, phase: str = "train", crop_size: int = 32):
        self.colours = [[float(v) for v in line.split()] for line in Path(root, "colours.txt").read_text().splitlines()]
        self.size = crop_size

    def __len__(self):
        return len(self.colours)

    def __getitem__(self, i):
        a = torch.tensor(self.colours[i]).view(3, 1, 1).expand(3, self.size, self.size).clone()
        return {"A": a, "B": -a}


def colour_data(**_):
    root = Path(os.environ["THIRD_PARTY_DATA"])
    root.mkdir(parents=True, exist_ok=True)
    (root / "colours.txt").write_text("\\n".join(f"{i / 10:.1f} -0.5 0.3" for i in range(-8, 9)))
    return root


class Probe(nn.Module):
    """A third network, built after the others from their shapes (as CUT's feature sampler is)."""

    def __init__(self, *, networks, width: int = 4):
        super().__init__()
        channels = networks["gen"].out_channels
        self.mlp = nn.Sequential(nn.Linear(channels, width), nn.ReLU(), nn.Linear(width, 1))

    def forward(self, x):
        return self.mlp(x.mean(dim=(2, 3)))


class EchoStep(Step):
    def train_step(self, batch):
        real_a, real_b = batch["A"], batch["B"]
        gen, disc, probe = self.nets["gen"], self.nets["disc"], self.nets["probe"]
        fake_b = gen(real_a)
        loss_d = self.discriminator_loss(disc, real_b, fake_b)
        self.update("D", loss_d)
        with self.frozen(disc):
            loss_g = self.adversarial.generator_loss(disc(fake_b)) + self.weighted("rec", fake_b, real_b)
            self.update("G", loss_g)
        loss_p = probe(fake_b.detach()).pow(2).mean()
        self.update("P", loss_p)
        return {"D": loss_d.detach(), "G": loss_g.detach(), "P": loss_p.detach()}

    def sample_rows(self, fixed):
        return [fixed["A"], self.nets["gen"](fixed["A"]), fixed["B"]]


ECHO = Recipe(
    name="echo", summary="Learns the negative of a colour", paper="https://example.org/echo",
    slots={"generator": Slot("generator", "onelayer", requires={"input_kind": "image"}),
           "discriminator": Slot("discriminator", "twoscale"),
           "loss": Slot("loss", "lsgan", requires={"role": "adversarial"}),
           "probe": Slot("module", "thirdparty:Probe", options={"width": 4})},
    networks=(Network("gen", "generator", "G"), Network("disc", "discriminator", "D"),
              Network("probe", "probe", "P")),
    step=EchoStep, data_modes=("colours",), inference={"AtoB": "gen"},
    aux={"rec": AuxLoss("squared", 10.0)},
    defaults={"lr": 1e-3, "batch_size": 4, "image_size": 16, "steps": 4},
    toy={"data": "colourset", "steps": 4, "batch_size": 4, "image_size": 16},
)

EVENTS = []


class Spy:
    """A logger: writes every event it hears to RUN/spy.log."""

    def _write(self, run, line):
        with open(Path(run.run_dir) / "spy.log", "a") as f:
            f.write(line + "\\n")

    @ganzoo.hookimpl
    def ganzoo_run_start(self, run):
        self._write(run, "start")

    @ganzoo.hookimpl
    def ganzoo_log(self, run, step, metrics):
        self._write(run, f"log {step}")

    @ganzoo.hookimpl
    def ganzoo_samples(self, run, step, path):
        self._write(run, f"samples {step}")

    @ganzoo.hookimpl
    def ganzoo_checkpoint(self, run, step, path):
        self._write(run, f"checkpoint {step}")

    @ganzoo.hookimpl
    def ganzoo_evaluation(self, run, step, scores):
        self._write(run, f"evaluation {step}")

    @ganzoo.hookimpl
    def ganzoo_run_end(self, run, status, error):
        self._write(run, f"end {status}")


@ganzoo.hookimpl
def ganzoo_register_generators(register):
    register(OneLayer, name="onelayer")


@ganzoo.hookimpl
def ganzoo_register_discriminators(register):
    register(TwoScale, name="twoscale")


@ganzoo.hookimpl
def ganzoo_register_losses(register):
    register(SquaredError, name="squared")


@ganzoo.hookimpl
def ganzoo_register_data_modes(register):
    register(ColourPairs, name="colours")


@ganzoo.hookimpl
def ganzoo_register_datasets(register):
    register(colour_data, name="colourset", summary="flat colours and their negatives")


@ganzoo.hookimpl
def ganzoo_register_recipes(register):
    register(lambda: ECHO, name="echo", summary=ECHO.summary, paper=ECHO.paper)


@ganzoo.hookimpl
def ganzoo_register_loggers(register):
    register(Spy, name="spy", summary="writes every event to RUN/spy.log")


@ganzoo.hookimpl
def ganzoo_register_weights(register):
    if os.environ.get("THIRD_PARTY_BUNDLE"):
        register("generator", "onelayer", tag="demo", source=os.environ["THIRD_PARTY_BUNDLE"], summary="a demo")


@ganzoo.hookimpl
def ganzoo_register_reference_models(register):
    register(ganzoo.ReferenceModel("echo-demo", recipe="echo", base_url="http://127.0.0.1:9", url_path="echo.pth",
                                   generator="onelayer", norm="none", domains=("colour", "negative")))


@ganzoo.hookimpl
def ganzoo_register_commands(cli):
    @cli.command()
    def echo_hello():
        """Say hello from the third-party plugin."""
        click.echo("hello from thirdparty")


@ganzoo.hookimpl
def ganzoo_run_end(run, status, error):
    EVENTS.append((str(run.run_dir), status))
'''

TINY = {"score_samples": 4, "log_every": 1}


def _hook_names() -> list[str]:
    tree = ast.parse(Path(hookspecs.__file__).read_text())
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("ganzoo_")]


def test_every_hook_is_documented_and_used_by_the_third_party_plugin():
    docs = (Path(__file__).parents[1] / "docs" / "plugins.md").read_text()
    hooks = _hook_names()
    assert len(hooks) >= 15
    assert [h for h in hooks if f"`{h}" not in docs] == [], "undocumented hooks"
    assert [h for h in hooks if f"def {h}(" not in PLUGIN] == [], "hooks the third-party test does not exercise"


@pytest.fixture
def thirdparty(plugin_factory, tmp_path, monkeypatch):
    monkeypatch.setenv("THIRD_PARTY_DATA", str(tmp_path / "colourdata"))
    plugin_factory.install("thirdparty", PLUGIN)
    return plugin_factory


def test_third_party_parts_are_listed_and_its_command_runs(thirdparty):
    listed = run_ganzoo("list", "--json", env=thirdparty.env())
    assert listed.returncode == 0, listed.stderr
    names = {(e["kind"], e["name"]) for e in json.loads(listed.stdout)}
    assert {("generator", "onelayer"), ("discriminator", "twoscale"), ("loss", "squared"), ("data_mode", "colours"),
            ("dataset", "colourset"), ("recipe", "echo"), ("logger", "spy")} <= names
    hello = run_ganzoo("echo-hello", env=thirdparty.env())
    assert hello.returncode == 0 and "hello from thirdparty" in hello.stdout
    from ganzoo.hub.reference import reference_model

    assert reference_model("echo/echo-demo").generator == "onelayer"
    info = run_ganzoo("info", "echo", env=thirdparty.env())
    assert info.returncode == 0 and "probe (module): thirdparty:Probe" in info.stdout, info.stdout


def test_third_party_recipe_trains_with_its_data_set_third_network_and_logger(thirdparty, tmp_path):
    import sys

    run = ganzoo.train("echo", out=tmp_path, name="e", progress=False, sets=TINY, loggers=["spy"])
    assert sorted(p.name for p in (run.run_dir / "checkpoints" / "step-000004").glob("*.safetensors")) == [
        "disc.safetensors", "gen.safetensors", "probe.safetensors"]
    events = (run.run_dir / "spy.log").read_text().split("\n")
    assert events[0] == "start" and "log 4" in events and "checkpoint 4" in events and "samples 4" in events
    assert events[-2] == "end completed"
    assert read_grids(run.run_dir / "samples")[0].labels == ["row 1", "row 2", "row 3"], "a step's plain list of rows"
    assert sys.modules["thirdparty"].EVENTS[-1] == (str(run.run_dir), "completed")  # the module's own hook
    # the probe network has its own optimizer and comes back on resume; bundles leave it out
    resumed = ganzoo.resume(run.run_dir, progress=False)
    assert resumed.total_steps == 4
    assert "probe" not in run.model.network_names and "gen" in run.model.network_names


def test_builtin_recipes_train_with_a_multiscale_third_party_discriminator(thirdparty, tmp_path):
    for recipe in ("cyclegan", "pix2pix"):
        run = ganzoo.train(recipe, disc="twoscale", steps=2, batch_size=2, out=tmp_path, progress=False,
                           sets={"gen.ngf": 8, **TINY})
        assert run.scores["trained"]["l1"] > 0
    wgan = ganzoo.train("pix2pix", disc="twoscale", loss="wgan-gp", steps=2, batch_size=2, out=tmp_path,
                        progress=False, sets={"gen.ngf": 8, **TINY})
    assert wgan.total_steps == 2


def test_a_third_party_loss_fills_an_auxiliary_role_with_options(thirdparty):
    from ganzoo.train.config import build_spec

    spec = build_spec("pix2pix", aux={"l1": "squared"}, sets={"l1.scale": 2.0, "gen.ngf": 8})
    assert spec.aux["l1"].loss == "squared" and spec.aux["l1"].options == {"scale": 2.0}
    with pytest.raises(ganzoo.GanzooError, match="l1 role of pix2pix needs role 'reconstruction'"):
        build_spec("pix2pix", aux={"l1": "lsgan"})
