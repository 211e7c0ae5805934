"""Building a run's objects from its resolved configuration: networks, losses, optimizers, data."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from ganzoo.api import create_discriminator, create_generator, create_loss
from ganzoo.data.sources import resolve_data
from ganzoo.errors import GanzooError
from ganzoo.plugins import registry
from ganzoo.recipe import Recipe
from ganzoo.train.config import get_recipe


def network_names(config: dict[str, Any]) -> dict[str, str]:
    """Each network instance's name -> its role (``generator`` or ``discriminator``)."""
    names = {}
    for role, default in (("generator", "gen"), ("discriminator", "disc")):
        for copy in config["components"][role]["copies"] or [default]:
            names[copy] = role
    return names


def build_networks(config: dict[str, Any], *, device: torch.device, roles: tuple[str, ...] = ("generator", "discriminator"),
                   only: tuple[str, ...] | None = None, init: bool = True) -> dict[str, nn.Module]:
    """Create the run's networks (seed the RNG first for reproducible initialisation)."""
    train = config["train"]
    nets = {}
    for name, role in network_names(config).items():
        if role not in roles or (only is not None and name not in only):
            continue
        component = config["components"][role]
        create = create_generator if role == "generator" else create_discriminator
        nets[name] = create(component["name"], init_type=train["init_type"] if init else None,
                            init_gain=train["init_gain"], **component["options"]).to(device)
    return nets


def build_losses(config: dict[str, Any], *, device: torch.device):
    components = config["components"]
    adversarial = create_loss(components["adversarial_loss"]["name"], **components["adversarial_loss"]["options"])
    aux = {name: (create_loss(name).to(device), float(spec["weight"])) for name, spec in components["aux_losses"].items()}
    return adversarial.to(device), aux


def build_optimizers(recipe: Recipe, config: dict[str, Any], nets: dict[str, nn.Module]) -> dict[str, torch.optim.Optimizer]:
    """Adam per optimizer group the step declares, with the recipe's lr and betas (``lr_d`` for D if set)."""
    hp = config["hparams"]
    optimizers = {}
    for group, members in recipe.step.optimizer_groups.items():
        params = [p for name in members for p in nets[name].parameters()]
        lr = hp.get("lr_d", hp["lr"]) if group == "D" else hp["lr"]
        optimizers[group] = torch.optim.Adam(params, lr=lr, betas=(hp.get("beta1", 0.5), hp.get("beta2", 0.999)))
    return optimizers


def build_dataset(config: dict[str, Any], *, phase: str = "train", size_multiple: int = 4) -> Dataset:
    """The run's data: the toy set, or the data mode's folder data set (downloading on first use)."""
    data = config["data"]
    source = resolve_data(data["spec"], mode=data["mode"])
    options = dict(data["options"])
    if source.is_toy:
        if source.toy.mode != data["mode"]:
            raise GanzooError(f"toy set {data['spec']!r} feeds data mode {source.toy.mode!r}, "
                              f"but the run uses {data['mode']!r}")
        return source.toy.dataset(phase=phase, image_size=data["image_size"], direction=options.get("direction", "AtoB"),
                                  flip=options.get("flip"), serial=options.get("serial", False),
                                  size=options.get("size") if phase == "train" else None)
    entry = registry("data_mode").get(data["mode"])
    context = {"root": source.root, "phase": phase, "crop_size": data["image_size"], "size_multiple": size_multiple,
               "in_channels": data["in_channels"], "out_channels": data["out_channels"],
               "channels": data["out_channels"], **options}
    if phase != "train":
        context.setdefault("flip", False)
    accepted = set(entry.option_names())
    return entry.build(None, **{k: v for k, v in context.items() if k in accepted})


def build_test_dataset(config: dict[str, Any], *, size_multiple: int = 4) -> Dataset:
    """Fixed inputs for sample grids: the test split where there is one, else the training images."""
    try:
        return build_dataset(config, phase="test", size_multiple=size_multiple)
    except GanzooError:
        return build_dataset(config, phase="train", size_multiple=size_multiple)


def recipe_of(config: dict[str, Any]) -> Recipe:
    return get_recipe(config["recipe"])
