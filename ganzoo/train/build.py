"""Building a run's objects from its specification: networks, losses, optimizers, data."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from ganzoo.data.sources import resolve_data
from ganzoo.errors import GanzooError
from ganzoo.step import AuxTerm
from ganzoo.train.spec import RunSpec


def build_networks(spec: RunSpec, *, device: torch.device | str, only: tuple[str, ...] | None = None,
                   init: bool = True) -> dict[str, nn.Module]:
    """Create the run's networks in declaration order (seed the RNG first for reproducible init).

    A ``module`` network (a recipe's own, like CUT's feature sampler) is built after the others from
    its reference, and receives them as ``networks=`` so it can probe their shapes eagerly.
    """
    from ganzoo.api import create_component, create_discriminator, create_generator
    from ganzoo.recipe import load_reference

    nets: dict[str, nn.Module] = {}
    for name, net_spec in spec.networks.items():
        if only is not None and name not in only:
            continue
        component = spec.components[net_spec.slot]
        init_type = spec.train.init_type if init else None
        if net_spec.role == "module":
            factory = load_reference(component.name)
            with torch.device(device):
                net = factory(networks=dict(nets), **component.options)
            if init_type is not None:
                from ganzoo.nn.layers import init_weights

                init_weights(net, init_type=init_type, gain=spec.train.init_gain)
        elif net_spec.role in ("generator", "discriminator"):
            create = create_generator if net_spec.role == "generator" else create_discriminator
            net = create(component.name, init_type=init_type, init_gain=spec.train.init_gain, **component.options)
        else:
            net = create_component(net_spec.role, component.name, **component.options)
        nets[name] = net.to(device)
    return nets


def build_losses(spec: RunSpec, *, device: torch.device) -> tuple[Any, dict[str, AuxTerm]]:
    """The adversarial loss (the ``loss`` slot) and each auxiliary role's loss with its weight."""
    from ganzoo.api import create_loss

    adversarial = None
    if "loss" in spec.components:
        adversarial = create_loss(spec.components["loss"].name, **spec.components["loss"].options).to(device)
    aux = {role: AuxTerm(create_loss(a.loss, **a.options).to(device), float(a.weight)) for role, a in spec.aux.items()}
    return adversarial, aux


def build_optimizers(spec: RunSpec, nets: dict[str, nn.Module], *,
                     options: dict[str, Any] | None = None) -> dict[str, torch.optim.Optimizer]:
    """Adam per optimizer group, over the networks the recipe puts in it, with the group's settings;
    ``options`` picks its implementation (``{"fused": True}`` on the fast path; see
    :func:`ganzoo.train.fast.adam_options`)."""
    optimizers = {}
    for group, opt in spec.optimizers.items():
        params = [p for name, n in spec.networks.items() if n.group == group for p in nets[name].parameters()]
        optimizers[group] = torch.optim.Adam(params, lr=opt.lr, betas=(opt.beta1, opt.beta2), **(options or {}))
    return optimizers


def build_dataset(spec: RunSpec, *, phase: str = "train", size_multiple: int = 4) -> Dataset:
    """The run's data: the toy set, or the data mode's folder data set (downloading on first use)."""
    from ganzoo.plugins import registry

    data = spec.data
    source = resolve_data(data.source, mode=data.mode)
    if source.is_toy:
        if source.toy.mode != data.mode:
            raise GanzooError(f"toy set {data.source!r} feeds data mode {source.toy.mode!r}, but the run uses {data.mode!r}")
        return source.toy.dataset(phase=phase, image_size=data.image_size, direction=data.direction, flip=data.flip,
                                  serial=data.serial, size=data.size if phase == "train" else None)
    entry = registry("data_mode").get(data.mode)
    context = {"root": source.root, "phase": phase, "crop_size": data.image_size, "size_multiple": size_multiple,
               "in_channels": data.in_channels, "out_channels": data.out_channels, "channels": data.out_channels,
               "direction": data.direction, "preprocess": data.preprocess, "load_size": data.load_size,
               "flip": False if phase != "train" else data.flip, "serial": data.serial, "max_size": data.max_size}
    accepted = set(entry.option_names())
    return entry.build(None, **{k: v for k, v in context.items() if k in accepted and v is not None})


def build_test_dataset(spec: RunSpec, *, size_multiple: int = 4) -> Dataset:
    """Fixed inputs for sample grids: the test split where there is one, else the training images."""
    try:
        return build_dataset(spec, phase="test", size_multiple=size_multiple)
    except GanzooError:
        return build_dataset(spec, phase="train", size_multiple=size_multiple)
