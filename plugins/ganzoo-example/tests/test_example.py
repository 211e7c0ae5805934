"""The example plugin through ganzoo's fixtures: its parts are registered, fit ganzoo's contracts, train
in its own recipe and in a built-in one, and a trained model goes to the Hub and comes back."""

import subprocess
import sys

import pytest
import torch

import ganzoo


def test_the_parts_are_registered(ganzoo_registry):
    info = ganzoo_registry.infos["example"]
    assert info.status == "loaded" and info.distribution == "ganzoo-example"
    for kind, name in (("generator", "resize-unet"), ("loss", "charbonnier"), ("recipe", "pairgan")):
        entry = ganzoo.get_entry(kind, name)
        assert entry.plugin == "example" and entry.summary and entry.paper
    assert ganzoo.get_entry("generator", "resize_unet").name == "resize-unet"
    assert {"resize-unet", "resnet9"} <= set(ganzoo.list_components("generator"))  # beside the built-ins
    assert {"pairgan", "pix2pix"} <= set(ganzoo.list_components("recipe"))


def test_listing_the_plugin_imports_no_torch(ganzoo_registry):
    """ganzoo imports the entry point's module to list its parts: ``ganzoo list`` must stay fast."""
    code = ("import sys, ganzoo; names = ganzoo.list_components('recipe'); "
            "assert 'pairgan' in names, names; assert 'torch' not in sys.modules, 'torch was imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_the_generator_follows_the_network_contract(ganzoo_registry):
    with torch.device("meta"):  # the contract is read without building real weights
        contract = ganzoo.contract_of(ganzoo.create_generator("resize-unet", depth=3))
    assert contract.input_kind == "image" and contract.size_multiple == 8 and contract.min_size == 16
    assert contract.encoder_layers == ("stem", "down1", "down2", "down3") and not contract.batch_norm
    net = ganzoo.create_generator("resize-unet", ngf=8, depth=3, in_channels=1, out_channels=3)
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    y = net(x)
    assert y.shape == (2, 3, 32, 32) and y.abs().max() <= 1
    features = net.encode(x, ["down2", "stem"])
    assert [f.shape for f in features] == [(2, 32, 8, 8), (2, 8, 32, 32)]
    with pytest.raises(ganzoo.GanzooError, match="no encoder layer 'down4'; its layers: stem, down1"):
        net.encode(x, ["down4"])
    with pytest.raises(ganzoo.InvalidOptionError, match="depth must be a whole number"):
        ganzoo.create_generator("resize-unet", depth=0)


def test_the_loss_fills_the_reconstruction_role(ganzoo_registry):
    loss = ganzoo.create_loss("charbonnier", eps=1e-3)
    assert loss.role == "reconstruction"
    x = torch.zeros(1, 3, 4, 4)
    assert loss(x, x).item() == pytest.approx(1e-3)  # eps at a perfect match: smooth, not L1's kink
    assert loss(x, x + 0.5).item() == pytest.approx(0.5, rel=1e-4)  # L1 far from the target
    assert loss([x, x], [x + 0.5, x + 0.25]).item() == pytest.approx(0.75, rel=1e-4)  # lists: summed
    with pytest.raises(ganzoo.InvalidOptionError, match="eps must be a number above 0"):
        ganzoo.create_loss("charbonnier", eps=0)


def test_the_recipe_trains(tiny_run):
    run = tiny_run("pairgan")
    assert run.total_steps == 3
    assert run.spec.components["generator"].name == "resize-unet"
    assert run.spec.components["generator"].options["ngf"] == 8 and run.spec.aux["rec"].loss == "charbonnier"
    header = (run.run_dir / "metrics.csv").read_text().splitlines()[0]
    assert "G_rec" in header and "D" in header.split(",")
    assert run.samples, "sample grids were drawn"


def test_the_parts_fit_a_builtin_recipe(tiny_run):
    run = tiny_run("pix2pix", gen="resize-unet", aux={"l1": "charbonnier"}, sets={"gen.depth": 3})
    assert run.spec.components["generator"].name == "resize-unet" and run.spec.aux["l1"].loss == "charbonnier"
    assert run.total_steps == 3


def test_a_trained_model_round_trips_through_the_hub(tiny_run, fake_hub):
    run = tiny_run("pairgan")
    url = run.model.push_to_hub("me/edges2shapes")
    assert url.startswith(fake_hub.url)
    assert {"config.json", "gen.safetensors", "README.md"} <= set(fake_hub.repos[("model", "me/edges2shapes")])
    pulled = ganzoo.Model.from_pretrained("hf-hub:me/edges2shapes")
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    assert torch.equal(pulled.translate(x), run.model.translate(x))
    assert {"config.json", "gen.safetensors"} <= fake_hub.fetched()
