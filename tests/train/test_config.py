"""Building a run's specification: defaults from the paper, toy schedules, and every choice checked
before anything is built."""

import dataclasses

import pytest

import ganzoo
from ganzoo.errors import GanzooError, InvalidOptionError
from ganzoo.train.config import build_spec, get_recipe, parse_sets
from ganzoo.train.spec import AuxSpec
from tests.train.tiny import register_one_layer_generator


def networks_of(spec, slot):
    return [name for name, net in spec.networks.items() if net.slot == slot]


def test_cyclegan_defaults_are_the_papers():
    spec = build_spec("cyclegan", data="some/folder")
    c = spec.components
    assert c["generator"].name == "resnet9" and c["generator"].options["norm"] == "instance"
    assert networks_of(spec, "generator") == ["gen_ab", "gen_ba"]
    assert networks_of(spec, "discriminator") == ["disc_a", "disc_b"]
    assert c["discriminator"].name == "patchgan" and c["discriminator"].options["n_layers"] == 3
    assert c["loss"].name == "lsgan"
    assert {k: v.weight for k, v in spec.aux.items()} == {"cycle": 10.0, "identity": 0.5, "feature_matching": 0.0}
    assert {k: v.loss for k, v in spec.aux.items()} == {"cycle": "cycle", "identity": "identity",
                                                        "feature_matching": "feature_matching"}
    for group in ("G", "D"):
        assert (spec.optimizers[group].lr, spec.optimizers[group].beta1) == (2e-4, 0.5)
    assert (spec.train.batch_size, spec.data.image_size, spec.hparams["pool_size"]) == (1, 256, 50)
    assert spec.train.lr_policy == "linear" and spec.train.epochs == 200 and spec.train.steps is None


def test_pix2pix_and_dcgan_defaults():
    p2p = build_spec("pix2pix", data="x")
    assert p2p.components["generator"].options == {"in_channels": 3, "out_channels": 3, "norm": "batch", "dropout": True}
    assert p2p.components["discriminator"].options["in_channels"] == 6, "input and output together"
    assert p2p.components["loss"].name == "bce"
    assert p2p.aux == {"l1": AuxSpec(loss="l1", weight=100.0, options={}),
                       "feature_matching": AuxSpec(loss="feature_matching", weight=0.0, options={})}, \
        "pix2pixHD's feature matching is there to switch on, off by default"
    assert p2p.train.batch_size == 1
    dc = build_spec("dcgan", data="x")
    assert dc.components["generator"].options["nz"] == 100 and dc.train.batch_size == 128
    assert dc.data.image_size == 64 and dc.components["generator"].options["image_size"] == 64
    assert dc.aux == {} and dc.inference == {"sample": "gen"}


def test_no_data_means_the_toy_set_and_its_schedule():
    spec = build_spec("cyclegan")
    assert spec.data.source == "toy:day2night" and spec.data.toy
    toy = get_recipe("cyclegan").toy
    assert spec.train.steps == toy["steps"] and spec.data.image_size == 32 and spec.train.ema == toy["ema"]
    assert spec.components["generator"].options["ngf"] == toy["gen.ngf"]
    assert spec.hparams["cycle_flips"] is True and spec.hparams["identity_boost"] == 3.0, "the toy's own terms"
    assert build_spec("cyclegan", data="toy:day2night").train.ema == 0, "real-data defaults: the paper's, no average"


def test_user_choices_win():
    spec = build_spec("cyclegan", slots={"gen": "unet128", "disc": "pixel", "loss": "wgan-gp"}, steps=7, lr=1e-3,
                      sets={"gen.ngf": 8, "cycle": 5, "lr_policy": "cosine", "disc.ndf": 4})
    assert spec.components["generator"].name == "unet128"
    assert dict(spec.components["generator"].options) == {"in_channels": 3, "out_channels": 3, "norm": "instance",
                                                           "dropout": False, "ngf": 8, "num_downs": 5}
    assert networks_of(spec, "generator") == ["gen_ab", "gen_ba"]
    assert spec.aux["cycle"].weight == 5 and spec.optimizers["G"].lr == spec.optimizers["D"].lr == 1e-3
    assert spec.train.lr_policy == "cosine" and spec.train.steps == 7


def test_wgan_gp_gets_a_critic_without_batch_norm_and_critic_steps():
    spec = build_spec("pix2pix", slots={"loss": "wgan-gp"})
    assert spec.components["discriminator"].options["norm"] == "none"
    loss = spec.components["loss"]
    assert ganzoo.create_loss(loss.name, **loss.options).critic_steps == 5
    assert any("batch norm" in note for note in spec.notes)
    with pytest.raises(GanzooError, match="without batch norm"):
        build_spec("pix2pix", slots={"loss": "wgan-gp"}, sets={"disc.norm": "batch"})


def test_r1_gets_a_critic_without_batch_norm_and_the_refusal_names_r1():
    spec = build_spec("dcgan", data="x", sets={"loss.r1_weight": 1.0})  # the paper's schedule: batch norm
    assert spec.components["discriminator"].options["norm"] == "none"
    assert any("R1 penalty (r1_weight=1)" in note for note in spec.notes)
    with pytest.raises(GanzooError, match=r"bce needs a critic without batch norm \(its R1 penalty \(r1_weight=1\)"):
        build_spec("dcgan", data="x", sets={"loss.r1_weight": 1.0, "disc.norm": "batch"})
    assert build_spec("dcgan", data="x", sets={"loss.r1_weight": 0.0}).components["discriminator"].options["norm"] == "batch"


@pytest.mark.parametrize("kwargs, message", [
    ({"data_mode": "single"}, "cannot train on data mode 'single'; it takes: unpaired, paired"),
    ({"slots": {"gen": "resnet9"}, "image_size": 31}, "divisible by 2"),
    ({"slots": {"gen": "unet256"}, "image_size": 64, "data": "x"}, "divisible by 256"),
    ({"slots": {"disc": "dc"}, "image_size": 48}, "take image_size 32, 64, 128"),
    ({"sets": {"disc.n_layers": 5}}, "needs images of at least 96x96"),
    ({"slots": {"gen": "resnet99"}}, "did you mean resnet9"),
    ({"sets": {"gen.ngff": 3}}, "did you mean ngf"),
    ({"sets": {"lrr": 3}}, "did you mean lr"),
])
def test_bad_choices_say_what_would_fit(kwargs, message):
    with pytest.raises(GanzooError, match=message.replace("(", r"\(")):
        build_spec("cyclegan", **kwargs)


@pytest.mark.parametrize("recipe, slots, reason, fitting", [
    ("cyclegan", {"gen": "dcgan"}, "input_kind 'image'", ["resnet6", "resnet9", "unet128", "unet256"]),
    ("cyclegan", {"loss": "cycle"}, "role 'adversarial'", ["bce", "hinge", "lsgan", "wgan-gp"]),
    ("dcgan", {"gen": "resnet9"}, "input_kind 'noise'", ["dcgan"]),
])
def test_a_component_that_does_not_fit_its_slot_names_those_that_do(recipe, slots, reason, fitting):
    """The reason, and the registered components that would fit the slot (as 0.1.0 listed them)."""
    with pytest.raises(GanzooError, match=reason) as info:
        build_spec(recipe, slots=slots)
    message = str(info.value)
    assert "\n" not in message
    after_reason = message[message.index(reason) + len(reason):]  # not the recipe's own name, say
    missing = [name for name in fitting if name not in after_reason]
    assert not missing, f"the error names no fitting component ({', '.join(missing)} missing): {message}"


def test_a_plugin_generator_fits_any_image_recipe():
    name = register_one_layer_generator()
    for recipe in ("cyclegan", "pix2pix"):
        assert build_spec(recipe, slots={"gen": name}).components["generator"].name == name


def test_parse_sets():
    assert parse_sets(["gen.ngf=32", "lr=1e-3", "flip=false", "name=abc"]) == \
        {"gen.ngf": 32, "lr": 1e-3, "flip": False, "name": "abc"}
    with pytest.raises(InvalidOptionError, match="KEY=VALUE"):
        parse_sets(["oops"])


def test_the_toy_schedule_picks_components_only_where_the_user_did_not(ganzoo_registry):
    dcgan = get_recipe("dcgan")
    hinge_toy = dataclasses.replace(dcgan, name="hingetoy", toy={**dcgan.toy, "slots": {"loss": "hinge"}})
    ganzoo.register_component("recipe", lambda: hinge_toy, name="hingetoy", summary="DCGAN whose toy picks hinge")
    assert build_spec("hingetoy").components["loss"].name == "hinge"
    assert build_spec("hingetoy", slots={"loss": "bce"}).components["loss"].name == "bce"
    assert build_spec("hingetoy", data="toy:shapes").components["loss"].name == "bce", "real-data defaults: the paper's"


def test_a_recipe_setting_the_users_options_make_a_component_refuse_is_left_out_with_a_note():
    """The DCGAN toy takes R1 every 4th step; switching R1 off takes the interval with it. The user's own
    refused combination is still refused."""
    spec = build_spec("dcgan", sets={"loss.r1_weight": 0})
    assert dict(spec.components["loss"].options) == {"r1_weight": 0}
    assert "loss.r1_interval=4 (the recipe's setting) left out: bce refuses it beside loss.r1_weight=0" in spec.notes
    with pytest.raises(GanzooError, match="R1 is off"):
        build_spec("dcgan", sets={"loss.r1_weight": 0, "loss.r1_interval": 4})
    assert build_spec("dcgan", sets={"loss.r1_interval": 8}).notes == build_spec("dcgan").notes
    unset = build_spec("dcgan", sets={"loss.r1_weight": None})  # None: the loss's own default, R1 off
    assert dict(unset.components["loss"].options) == {}
    assert "loss.r1_interval=4 (the recipe's setting) left out: bce refuses it beside loss.r1_weight=null" in unset.notes


def test_dcgans_toy_schedule_is_r1_at_a_higher_rate_and_real_data_keeps_the_papers():
    toy, paper = build_spec("dcgan"), build_spec("dcgan", data="toy:shapes")
    assert toy.components["loss"].name == paper.components["loss"].name == "bce"
    assert dict(toy.components["loss"].options) == {"r1_weight": 1.0, "r1_interval": 4}
    assert toy.components["discriminator"].options["norm"] == "none"
    assert (toy.optimizers["G"].lr, toy.optimizers["G"].beta1, toy.optimizers["G"].beta2) == (1e-3, 0.0, 0.99)
    assert toy.optimizers["D"].lr == 1e-3
    assert dict(paper.components["loss"].options) == {}
    assert paper.components["discriminator"].options["norm"] == "batch"
    assert (paper.optimizers["G"].lr, paper.optimizers["G"].beta1, paper.optimizers["G"].beta2) == (2e-4, 0.5, 0.999)


def test_the_toys_r1_yields_to_a_discriminator_the_user_picked_with_batch_norm():
    """R1 needs a critic without batch norm; a timm classifier keeps its own. The toy's R1 is left out,
    while R1 the user asks for is still refused beside it."""
    spec = build_spec("dcgan", slots={"disc": "timm:test_resnet"})
    assert dict(spec.components["loss"].options) == {}
    assert any(note.startswith("loss.r1_weight, loss.r1_interval (the recipe's setting) left out") for note in spec.notes)
    with pytest.raises(GanzooError, match="needs a critic without batch norm"):
        build_spec("dcgan", slots={"disc": "timm:test_resnet"}, sets={"loss.r1_weight": 1.0})
