"""Converting checkpoints of the reference CycleGAN/pix2pix code into ganzoo bundles.

The reference saves ``net.state_dict()`` with ``torch.save`` (``latest_net_G.pth``, ``latest_net_G_A.pth``,
...) and ganzoo's networks use its module layout, so the tensors load under their own names. What the
file does not say, the converter reads from its tensors: the network family's
``options_from_state_dict`` gives widths, channels, depth, norm and the dropout layout. Three things the
reference's own loader tolerates are tolerated here too: a ``module.`` prefix (DataParallel), a
``_metadata`` attribute, and instance-norm layers that carry ``running_mean``/``running_var``/
``num_batches_tracked`` (written by PyTorch before 0.4, dropped on load).

Files load with ``torch.load(weights_only=True)``: a checkpoint that holds anything but tensors is
refused, never unpickled.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any, Mapping

from ganzoo.errors import GanzooError, first_line
from ganzoo.hub.bundle import (CONFIG_FILE, NORMALIZATION, FORMAT, FORMAT_VERSION, BundleError, domains_of,
                               network_spec, read_config, weights_file, write_bundle)
from ganzoo.hub.card import render_card

LEGACY_NORM_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


class ConversionError(GanzooError):
    """A checkpoint that cannot be read, or that does not fit the network it was said to be."""


def load_reference_state(path: str | Path) -> dict[str, Any]:
    """A reference checkpoint's tensors by name: ``weights_only`` load, ``module.`` prefixes removed."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise ConversionError(f"no checkpoint file {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "global" not in str(exc).lower():  # the unpickler met a class or function, not a broken file
            raise ConversionError(f"{path} is not a PyTorch checkpoint: {first_line(exc)}") from exc
        raise ConversionError(f"{path} holds Python objects besides tensors; ganzoo loads checkpoints with "
                              "weights_only=True and will not unpickle it") from exc
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise ConversionError(f"{path} is not a PyTorch checkpoint: {first_line(exc)}") from exc
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ConversionError(f"{path} is not a state dict of tensors (the reference saves net.state_dict())")
    return {key.removeprefix("module."): value for key, value in state.items()}


def drop_legacy_norm_buffers(state: Mapping[str, Any], net: Any) -> dict[str, Any]:
    """Remove running statistics saved for instance-norm layers that keep none, as the reference's
    ``__patch_instance_norm_state_dict`` does; every other tensor is left for the strict load to judge."""
    from torch import nn

    modules = dict(net.named_modules())
    kept = {}
    for key, value in state.items():
        owner, _, buffer = key.rpartition(".")
        module = modules.get(owner)
        if isinstance(module, nn.InstanceNorm2d) and buffer in LEGACY_NORM_BUFFERS and getattr(module, buffer, None) is None:
            continue
        kept[key] = value
    return kept


def infer_options(entry: Any, state: Mapping[str, Any], *, path: Path, norm: str | None) -> dict[str, Any]:
    """The options of ``entry``'s factory that rebuild the network of ``state``; ``norm`` is checked."""
    reader = getattr(entry.factory, "options_from_state_dict", None)
    if reader is None:
        raise ConversionError(f"{entry.kind} {entry.name!r} cannot read its options from a checkpoint; the "
                              "converter knows the reference's resnet, unet, basic/n_layers and pixel networks")
    try:
        options = reader(state)
    except (ValueError, KeyError, IndexError) as exc:
        raise ConversionError(f"{path} is not a {entry.name} checkpoint: {exc}") from exc
    if norm is not None and norm != options.get("norm"):
        found = options.get("norm")
        evidence = ("it has batch-norm weights" if found == "batch"
                    else "its convolutions carry biases and it has no batch-norm weights")
        raise ConversionError(f"--norm {norm} does not fit {path.name}: {evidence}, which is {found} norm")
    return {k: v for k, v in options.items() if entry.defaults.get(k, object()) != v}


def convert_checkpoint(path: str | Path, *, role: str, name: str, out: str | Path, norm: str | None = None,
                       network: str | None = None, direction: str = "AtoB", image_size: int = 256,
                       domains: Mapping[str, str] | None = None, recipe: str | None = None,
                       source: Mapping[str, Any] | None = None) -> Path:
    """Convert one reference checkpoint into the bundle ``out`` (or add it to the bundle already there).

    Args:
        path: the ``.pth`` file.
        role: ``generator`` or ``discriminator``.
        name: the registry name (``resnet9``, ``resnet_9blocks``, ``unet_256``, ``basic``, ``pixel``, ...).
        out: the bundle folder.
        norm: ``instance`` or ``batch`` to check against the tensors (read from them when None).
        network: its name in the bundle (default ``gen_ab``/``gen_ba`` by direction, or ``disc``).
        direction: for a generator, which way it translates (AtoB: domain A to domain B).
        image_size: the side the network was trained at (256 for the reference's published models).
        domains: names of domains A and B (default: read from the file name, ``horse2zebra.pth``).
        recipe: the recipe it was trained with, when known.
        source: provenance for the model card (``description``, ``url``).
    """
    from ganzoo.api import create_discriminator, create_generator
    from ganzoo.data.download import sha256_of
    from ganzoo.plugins import registry
    from ganzoo.train.checkpoint import CheckpointError, check_state_fits

    path = Path(path)
    entry = registry(role).get(name)
    state = load_reference_state(path)
    options = infer_options(entry, state, path=path, norm=norm)
    create = create_generator if role == "generator" else create_discriminator
    net = create(name, init_type=None, **options)
    state = drop_legacy_norm_buffers(state, net)
    try:
        check_state_fits(state, net.state_dict(), what=f"{path} does not fit {entry.name} {options}")
    except CheckpointError as exc:
        raise ConversionError(str(exc)) from exc
    net.load_state_dict(state, strict=True)
    if direction not in ("AtoB", "BtoA"):
        raise GanzooError(f"direction must be AtoB or BtoA, not {direction!r}")
    network = network or ("disc" if role == "discriminator" else "gen_ab" if direction == "AtoB" else "gen_ba")
    config = _target_config(Path(out), image_size=image_size,
                            domains=dict(domains) if domains else domains_of(path.stem.removeprefix("latest_net_")),
                            recipe=recipe)
    spec = {**network_spec(role, entry.name, options), "file": weights_file(network)}
    config["networks"][network] = spec
    if role == "generator":
        config["directions"][direction] = network
        config["channels"]["A" if direction == "AtoB" else "B"] = options.get("in_channels", 3)
        config["channels"]["B" if direction == "AtoB" else "A"] = options.get("out_channels", 3)
    config["source"]["files"][network] = {"file": path.name, "sha256": sha256_of(path)}
    if source:
        config["source"].update(source)
    weights = {n: Path(out) / spec_["file"] for n, spec_ in config["networks"].items() if n != network}
    weights[network] = net.state_dict()
    return write_bundle(Path(out), config, weights, card=render_card(config))


def _target_config(out: Path, *, image_size: int, domains: dict[str, str], recipe: str | None) -> dict[str, Any]:
    """The config of the bundle already in ``out`` (to add a network to it), or a new one."""
    from ganzoo.train.config import versions

    if (out / CONFIG_FILE).exists():
        config = read_config(out / CONFIG_FILE, where=str(out))
        if config.get("image_size") != image_size:
            raise BundleError(f"{out} holds a bundle for {config.get('image_size')}px images, not {image_size}px")
        config.setdefault("directions", {})
        config.setdefault("source", {"description": _DESCRIPTION, "files": {}}).setdefault("files", {})
        return config
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "library_name": "ganzoo",
        "recipe": recipe, "generator_input": "image", "networks": {}, "directions": {},
        "image_size": image_size, "channels": {"A": 3, "B": 3}, "normalization": dict(NORMALIZATION),
        "domains": domains, "metrics": {},
        "source": {"description": _DESCRIPTION, "files": {}},
        "versions": versions(),
    }


_DESCRIPTION = ("Converted with `ganzoo convert` from a checkpoint of the reference CycleGAN/pix2pix code "
                "(https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix); the tensors are unchanged.")


def describe(out: Path) -> str:
    """One line per network of a converted bundle, for the CLI."""
    config = json.loads((Path(out) / CONFIG_FILE).read_text())
    return "\n".join(f"{net}: {spec['name']} " + " ".join(f"{k}={v}" for k, v in spec["options"].items())
                     for net, spec in config["networks"].items())
