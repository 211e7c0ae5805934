"""Models to and from the Hub, offline: a fake Hub on 127.0.0.1 behind the real ``huggingface_hub`` client,
pushes checked at the client's boundary, and the reference's published models from a local mirror."""

import json
from pathlib import Path

import huggingface_hub
import pytest
import torch
from click.testing import CliRunner
from huggingface_hub import constants

import ganzoo
from ganzoo.cli import cli
from ganzoo.hub import BundleError, Model
from ganzoo.train.engine import Trainer
from tests.conftest import run_ganzoo
from tests.hub.test_convert import LEGACY, PLAIN_IO
from ganzoo.testing import FakeHub, FileServer, hub_env
from tests.train.tiny import tiny_spec


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """Bundles of a tiny CycleGAN and a tiny DCGAN, as {name: {file: bytes}} ready to serve."""
    root = tmp_path_factory.mktemp("bundles")
    served = {}
    for recipe in ("cyclegan", "dcgan"):
        Trainer(tiny_spec(recipe, steps=2, sets={"sample_every": 2}), root / "runs" / recipe, progress=False).run_training()
        folder = Model.from_pretrained(root / "runs" / recipe).save_pretrained(root / recipe)
        served[recipe] = {p.name: p.read_bytes() for p in folder.iterdir()}
    return served


@pytest.fixture
def hub(fake_hub):
    """A fake Hub; this process's ``huggingface_hub`` points at it, with its cache in a temp dir."""
    return fake_hub


def test_translating_fetches_the_config_and_one_generator(hub, bundles):
    hub.repos[("model", "org/day2night")] = bundles["cyclegan"]
    model = Model.from_pretrained("hf-hub:org/day2night")
    assert hub.fetched() == {"config.json"}
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    y = model.translate(x)
    assert hub.fetched() == {"config.json", "gen_ab.safetensors"}, "not four networks"
    assert y.shape == x.shape and y.abs().max() <= 1
    cached = list(Path(constants.HF_HUB_CACHE).glob("models--org--day2night/snapshots/*/gen_ab.safetensors"))
    assert len(cached) == 1, "files land in the standard Hub cache"
    assert model.download() == cached[0].parent
    assert hub.fetched() >= {"gen_ba.safetensors", "disc_a.safetensors", "disc_b.safetensors", "README.md"}


def test_a_revision_can_be_pinned(hub, bundles):
    old = dict(bundles["cyclegan"])
    hub.repos[("model", "org/day2night")] = bundles["dcgan"]  # main moved on to another model
    hub.revisions[("model", "org/day2night")] = {"v1": old}
    assert Model.from_pretrained("hf-hub:org/day2night").config["recipe"] == "dcgan"
    assert Model.from_pretrained("hf-hub:org/day2night@v1").config["recipe"] == "cyclegan"
    assert Model.from_pretrained("hf-hub:org/day2night", revision="v1").config["recipe"] == "cyclegan"
    with pytest.raises(BundleError, match="has no revision 'v9'"):
        Model.from_pretrained("hf-hub:org/day2night@v9")


def test_offline_mode_uses_the_cache_and_says_what_is_missing(hub, bundles, monkeypatch):
    hub.repos[("model", "org/day2night")] = bundles["cyclegan"]
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    online = Model.from_pretrained("hf-hub:org/day2night").translate(x)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    count = len(hub.requests)
    offline = Model.from_pretrained("hf-hub:org/day2night")
    assert torch.equal(offline.translate(x), online)
    assert len(hub.requests) == count, "nothing was asked of the Hub"
    with pytest.raises(BundleError, match="gen_ba.safetensors of hf-hub:org/day2night is not in the Hub cache"):
        offline.translate(x, direction="BtoA")


def test_missing_repos_and_files_are_clear(hub, bundles):
    with pytest.raises(BundleError, match="no model repo 'org/nothing' on the Hub"):
        Model.from_pretrained("hf-hub:org/nothing")
    hub.repos[("model", "org/weights-only")] = {"model.safetensors": b"x"}
    with pytest.raises(BundleError, match="has no file 'config.json': it is not a ganzoo model bundle"):
        Model.from_pretrained("hf-hub:org/weights-only")
    with pytest.raises(ganzoo.GanzooError, match="expected hf-hub:ORG/NAME"):
        Model.from_pretrained("hf-hub:just-a-name")


def test_push_creates_the_repo_uploads_the_bundle_and_the_card(hub, bundles, tmp_path, monkeypatch):
    hub.accept_pushes(monkeypatch)
    runs = tmp_path / "runs"
    Trainer(tiny_spec("cyclegan", steps=2, sets={"sample_every": 2}), runs / "c", progress=False).run_training()
    result = CliRunner().invoke(cli, ["push", str(runs / "c"), "me/day2night", "--private"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "pushed gen_ab, gen_ba, disc_a, disc_b to me/day2night" in result.output
    assert hub.created == [("me/day2night", {"private": True, "exist_ok": True, "repo_type": "model"})]
    (repo_id, files, kwargs), = hub.uploads
    assert sorted(files) == ["README.md", "config.json", "disc_a.safetensors", "disc_b.safetensors",
                             "gen_ab.safetensors", "gen_ba.safetensors", "samples.png"]
    card = files["README.md"].decode()
    assert "library_name: ganzoo" in card and 'Model.from_pretrained("hf-hub:me/day2night")' in card
    assert kwargs["repo_type"] == "model" and "cyclegan" in kwargs["commit_message"]
    pulled = Model.from_pretrained("hf-hub:me/day2night")  # and it comes back through the real client
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    assert torch.equal(pulled.translate(x), Model.from_pretrained(runs / "c").translate(x))


def test_a_pushed_bundle_names_no_local_path(hub, tmp_path, monkeypatch):
    from tests.cli.test_run import write_images

    hub.accept_pushes(monkeypatch)
    data = tmp_path / "home" / "alice" / "horse2zebra"  # an absolute path, as a user's --data often is
    for split, colour in [("trainA", (200, 100, 50)), ("trainB", (50, 100, 200)), ("testA", (200, 100, 50)),
                          ("testB", (50, 100, 200))]:
        write_images(data / split, 2, colour, size=(32, 32))
    run_dir = tmp_path / "runs" / "h"
    Trainer(tiny_spec("cyclegan", steps=1, data=str(data), sets={"image_size": 32}), run_dir, progress=False).run_training()
    (run_dir / "metrics.json").write_text(json.dumps({  # as `ganzoo eval` records it, for the last checkpoint
        "format": "ganzoo-metrics", "format_version": 1, "model": str(run_dir), "step": 1, "data": str(data)}))
    local = Model.from_pretrained(run_dir)
    assert local.config["training"]["data"] == str(data), "on this machine the run keeps its data's path"
    assert local.config["evaluation"]["model"] == str(run_dir)

    local.push_to_hub("me/h2z")
    (_, files, _), = hub.uploads
    for name in ("config.json", "README.md"):
        assert str(tmp_path) not in files[name].decode(), f"{name} names a local path"
    config = json.loads(files["config.json"])
    assert config["training"]["data"] == "horse2zebra" == config["training"]["config"]["data"]["source"]
    assert (config["evaluation"]["model"], config["evaluation"]["data"]) == ("h", "horse2zebra")
    assert "--data horse2zebra" in files["README.md"].decode()
    assert config["domains"] == local.config["domains"], "the domains come from the folder's name, as before"


def test_public_config_cuts_absolute_paths_only():
    from ganzoo.hub.bundle import public_config

    config = {"training": {"data": "/srv/data/facades/"}, "n": 1, "notes": ["a note /with a slash"],
              "kept": ["toy:day2night", "hf-hub:org/name", "data/facades", "facades", None],
              "windows": "C:\\Users\\alice\\facades", "home": "~/data/facades"}
    assert public_config(config) == {**config, "training": {"data": "facades"}, "windows": "facades",
                                     "home": "facades"}


def test_push_errors_are_one_line(hub, bundles, tmp_path, monkeypatch):
    def refuse(self, repo_id, **kwargs):
        raise huggingface_hub.errors.LocalTokenNotFoundError("no token")

    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", refuse)
    folder = tmp_path / "b"
    folder.mkdir()
    for name, data in bundles["dcgan"].items():
        (folder / name).write_bytes(data)
    result = CliRunner().invoke(cli, ["push", str(folder), "me/dc"])
    assert result.exit_code == 1 and "set HF_TOKEN" in result.output
    assert len(result.output.strip().splitlines()) == 1
    bad = CliRunner().invoke(cli, ["push", str(folder), "not-a-repo-id"])
    assert bad.exit_code == 1 and "expected ORG/NAME" in bad.output


def test_eval_of_a_hub_model_writes_its_record_here(bundles, tmp_path):
    """``ganzoo eval hf-hub:...``: only the sampler is fetched, and metrics-ORG--NAME.json lands in the
    working folder (a Hub snapshot is no place to write)."""
    with FakeHub() as hub:
        hub.repos[("model", "org/shapes")] = bundles["dcgan"]
        result = run_ganzoo("eval", "hf-hub:org/shapes", "--metric", "toy", env=hub_env(hub, tmp_path / "hf"),
                            cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert hub.fetched() == {"config.json", "gen.safetensors"}
    record = json.loads((tmp_path / "metrics-org--shapes.json").read_text())
    assert record["model"] == "hf-hub:org/shapes" and 0 <= record["results"]["sample"]["toy"]["palette_fit"] <= 1


def test_cli_honours_the_hub_environment(bundles, tmp_path):
    """HF_ENDPOINT, HF_HOME and HF_TOKEN in a fresh process: pull, translate, sample, offline."""
    from PIL import Image

    with FakeHub() as hub:
        hub.repos[("model", "org/day2night")] = bundles["cyclegan"]
        hub.repos[("model", "org/shapes")] = bundles["dcgan"]
        env = hub_env(hub, tmp_path / "hf", HF_TOKEN="hf_secret")
        Image.new("RGB", (32, 32), (250, 200, 30)).save(tmp_path / "day.png")
        result = run_ganzoo("translate", "hf-hub:org/day2night", str(tmp_path / "day.png"), "--out",
                            str(tmp_path / "t"), env=env)
        assert result.returncode == 0, result.stderr
        assert Image.open(tmp_path / "t" / "day.png").size == (32, 32)
        assert hub.fetched() == {"config.json", "gen_ab.safetensors"}
        assert set(hub.auth) == {"Bearer hf_secret"}
        pulled = run_ganzoo("pull", "hf-hub:org/day2night", env=env)
        assert pulled.returncode == 0, pulled.stderr
        folder = Path(pulled.stdout.strip())
        assert folder.parent == tmp_path / "hf" / "hub" / "models--org--day2night" / "snapshots"
        assert {p.name for p in folder.iterdir()} >= {"config.json", "README.md", "gen_ab.safetensors",
                                                      "gen_ba.safetensors", "disc_a.safetensors", "disc_b.safetensors"}
        sampled = run_ganzoo("sample", "hf-hub:org/shapes", "-n", "4", "--out", str(tmp_path / "grid.png"), env=env)
        assert sampled.returncode == 0 and (tmp_path / "grid.png").exists(), sampled.stderr
        missing = run_ganzoo("pull", "hf-hub:org/nothing", env=env)
        assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1
        assert "no model repo 'org/nothing'" in missing.stderr
    offline = run_ganzoo("translate", "hf-hub:org/day2night", str(tmp_path / "day.png"), "--out",
                         str(tmp_path / "t2"), env={**env, "HF_HUB_OFFLINE": "1"})
    assert offline.returncode == 0, offline.stderr
    assert (tmp_path / "t2" / "day.png").read_bytes() == (tmp_path / "t" / "day.png").read_bytes()


def reference_mirror(monkeypatch, tmp_path):
    """The reference's address answered locally; its horse2zebra is a small resnet_9blocks fixture."""
    server = FileServer({"/cyclegan/pretrained_models/horse2zebra.pth": LEGACY.read_bytes()})
    monkeypatch.setenv("GANZOO_REFERENCE_MIRROR", server.url)
    monkeypatch.setenv("GANZOO_MODELS_DIR", str(tmp_path / "models"))
    return server


def test_reference_models_pull_convert_and_serve_pretrained_tags(tmp_path, monkeypatch):
    with reference_mirror(monkeypatch, tmp_path) as server:
        net = ganzoo.create_generator("resnet9.horse2zebra")
        io = torch.load(PLAIN_IO, weights_only=True)
        with torch.no_grad():
            assert (net(io["input"]) - io["output"]).abs().max() < 1e-5
        again = Model.from_pretrained("reference:horse2zebra")
        assert len(server.requests) == 1, "converted once, then served from the cache"
    config = again.config
    assert config["recipe"] == "cyclegan" and config["domains"] == {"A": "horse", "B": "zebra"}
    assert config["source"]["url"].endswith("/cyclegan/pretrained_models/horse2zebra.pth")
    assert not list((tmp_path / "models" / "downloads").glob("*.pth")), "the .pth is not kept after conversion"
    with pytest.raises(ganzoo.GanzooError, match="exists for cyclegan and pix2pix"):
        Model.from_pretrained("reference:sat2map")
    with pytest.raises(ganzoo.GanzooError, match="did you mean cyclegan/horse2zebra"):
        Model.from_pretrained("reference:cyclegan/horse2zebr")


def test_cli_pull_reference_and_list_pretrained(tmp_path, monkeypatch):
    with reference_mirror(monkeypatch, tmp_path):
        result = run_ganzoo("pull", "reference:cyclegan/horse2zebra", "--out", str(tmp_path / "h2z"))
        assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == tmp_path / "h2z"
    assert Model.from_pretrained(tmp_path / "h2z").config["networks"]["gen_ab"]["name"] == "resnet9"
    listed = run_ganzoo("list", "--pretrained")
    assert listed.returncode == 0
    for line in ("resnet9.horse2zebra", "reference:cyclegan/horse2zebra", "unet256.facades_label2photo"):
        assert line in listed.stdout
