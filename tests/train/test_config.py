"""Resolving a run's configuration: defaults from the paper, toy schedules, and every choice checked
before anything is built."""

import pytest

from ganzoo.errors import GanzooError, InvalidOptionError
from ganzoo.train.config import parse_sets, resolve_config
from tests.train.tiny import register_one_layer_generator


def test_cyclegan_defaults_are_the_papers():
    config = resolve_config("cyclegan", data="some/folder")
    c = config["components"]
    assert c["generator"]["name"] == "resnet9" and c["generator"]["options"]["norm"] == "instance"
    assert c["generator"]["copies"] == ["gen_ab", "gen_ba"] and c["discriminator"]["copies"] == ["disc_a", "disc_b"]
    assert c["discriminator"]["name"] == "patchgan" and c["discriminator"]["options"]["n_layers"] == 3
    assert c["adversarial_loss"]["name"] == "lsgan"
    assert {k: v["weight"] for k, v in c["aux_losses"].items()} == {"cycle": 10.0, "identity": 0.5}
    hp = config["hparams"]
    assert (hp["lr"], hp["beta1"], hp["batch_size"], hp["image_size"], hp["pool_size"]) == (2e-4, 0.5, 1, 256, 50)
    assert hp["lr_policy"] == "linear" and config["train"]["epochs"] == 200 and config["train"]["steps"] is None


def test_pix2pix_and_dcgan_defaults():
    p2p = resolve_config("pix2pix", data="x")
    assert p2p["components"]["generator"]["options"] == {"in_channels": 3, "out_channels": 3, "norm": "batch", "dropout": True}
    assert p2p["components"]["discriminator"]["options"]["in_channels"] == 6, "input and output together"
    assert p2p["components"]["adversarial_loss"]["name"] == "bce"
    assert p2p["components"]["aux_losses"] == {"l1": {"weight": 100.0}} and p2p["hparams"]["batch_size"] == 1
    dc = resolve_config("dcgan", data="x")
    assert dc["components"]["generator"]["options"]["nz"] == 100 and dc["hparams"]["batch_size"] == 128
    assert dc["hparams"]["image_size"] == 64 and dc["components"]["generator"]["options"]["image_size"] == 64


def test_no_data_means_the_toy_set_and_its_schedule():
    config = resolve_config("cyclegan")
    assert config["data"]["spec"] == "toy:day2night" and config["data"]["toy"]
    assert config["train"]["steps"] == 400 and config["hparams"]["image_size"] == 32
    assert config["components"]["generator"]["options"]["ngf"] == 32


def test_user_choices_win():
    config = resolve_config("cyclegan", gen="unet128", disc="pixel", loss="wgan-gp", steps=7, lr=1e-3,
                            sets={"gen.ngf": 8, "cycle": 5, "lr_policy": "cosine", "disc.ndf": 4})
    c = config["components"]
    assert c["generator"] == {"name": "unet128", "options": {"in_channels": 3, "out_channels": 3, "norm": "instance",
                                                              "dropout": False, "ngf": 8, "num_downs": 5},
                              "copies": ["gen_ab", "gen_ba"]}
    assert c["aux_losses"]["cycle"]["weight"] == 5 and config["hparams"]["lr"] == 1e-3
    assert config["hparams"]["lr_policy"] == "cosine" and config["train"]["steps"] == 7


def test_wgan_gp_gets_a_critic_without_batch_norm_and_critic_steps():
    config = resolve_config("pix2pix", loss="wgan-gp")
    assert config["components"]["discriminator"]["options"]["norm"] == "none"
    assert config["components"]["adversarial_loss"]["critic_steps"] == 5
    assert any("batch norm" in note for note in config["notes"])
    with pytest.raises(GanzooError, match="without batch norm"):
        resolve_config("pix2pix", loss="wgan-gp", sets={"disc.norm": "batch"})


@pytest.mark.parametrize("kwargs, message", [
    ({"gen": "dcgan"}, "needs image-to-image generators: resnet6, resnet9"),
    ({"loss": "cycle"}, "not an adversarial loss; choose one of: bce, hinge, lsgan, wgan-gp"),
    ({"data_mode": "single"}, "cannot train on data mode 'single'; it takes: unpaired, paired"),
    ({"gen": "resnet9", "image_size": 30}, "divisible by 4"),
    ({"gen": "unet256", "image_size": 64, "data": "x"}, "divisible by 256"),
    ({"disc": "dc", "image_size": 48}, "take image_size 32, 64, 128"),
    ({"sets": {"disc.n_layers": 5}}, "needs images of at least 68x68"),
    ({"gen": "resnet99"}, "did you mean resnet9"),
    ({"sets": {"gen.ngff": 3}}, "did you mean ngf"),
    ({"sets": {"lrr": 3}}, "did you mean lr"),
])
def test_bad_choices_say_what_would_fit(kwargs, message):
    with pytest.raises(GanzooError, match=message.replace("(", r"\(")):
        resolve_config("cyclegan", **kwargs)


def test_dcgan_refuses_image_generators():
    with pytest.raises(GanzooError, match="needs noise-to-image generators: dcgan"):
        resolve_config("dcgan", gen="resnet9")


def test_a_plugin_generator_fits_any_image_recipe():
    name = register_one_layer_generator()
    for recipe in ("cyclegan", "pix2pix"):
        assert resolve_config(recipe, gen=name)["components"]["generator"]["name"] == name


def test_parse_sets():
    assert parse_sets(["gen.ngf=32", "lr=1e-3", "flip=false", "name=abc"]) == \
        {"gen.ngf": 32, "lr": 1e-3, "flip": False, "name": "abc"}
    with pytest.raises(InvalidOptionError, match="KEY=VALUE"):
        parse_sets(["oops"])
