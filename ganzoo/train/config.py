"""The resolved configuration of a run: one JSON document that says everything about it.

:func:`resolve_config` turns a recipe name and the user's choices into that document, checking every
choice before anything is built: a data mode the recipe cannot use, a generator of the wrong kind, an
image size a network cannot take, a discriminator that cannot see the channels it must, batch norm in a
WGAN-GP critic. Networks are probed on PyTorch's ``meta`` device, which allocates no memory.
"""

from __future__ import annotations

import json
import math
import platform
from typing import Any, Mapping

from ganzoo.errors import GanzooError, InvalidOptionError
from ganzoo.recipe import Recipe

#: Settings of the engine itself (not the recipe's hyper-parameters), with their defaults.
TRAIN_DEFAULTS: dict[str, Any] = {
    "steps": None,  # total training steps; None: from epochs
    "epochs": None,
    "seed": 0,
    "device": "auto",
    "deterministic": False,
    "log_every": 25,
    "sample_every": None,  # None: 5 grids over the run
    "checkpoint_every": None,  # None: 2 checkpoints over the run, and the last
    "keep_checkpoints": 3,
    "init_type": "normal",
    "init_gain": 0.02,
    "workers": None,
    "score_samples": 100,
}
DATA_KEYS = ("preprocess", "load_size", "flip", "direction", "serial", "max_size", "size")
PREFIXES = {"gen": "generator", "generator": "generator", "disc": "discriminator",
            "discriminator": "discriminator", "loss": "adversarial_loss", "data": "data", "train": "train"}


def get_recipe(name: str) -> Recipe:
    """The recipe registered under ``name`` (from a plugin: the core names none)."""
    from ganzoo.plugins import registry

    return registry("recipe").get(name).build()


def parse_value(text: str) -> Any:
    """``--set`` values: JSON when they parse (numbers, true/false, null, lists), else the string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_sets(items: list[str]) -> dict[str, Any]:
    """``["gen.ngf=32", "lr=0.001"]`` -> ``{"gen.ngf": 32, "lr": 0.001}``, with a clear error."""
    parsed = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidOptionError(f"--set expects KEY=VALUE, got {item!r}")
        parsed[key.strip()] = parse_value(value.strip())
    return parsed


def _split_sets(sets: Mapping[str, Any], recipe: Recipe) -> dict[str, dict[str, Any]]:
    grouped: dict[str, dict[str, Any]] = {g: {} for g in ("generator", "discriminator", "adversarial_loss",
                                                           "data", "train", "hparams", "aux")}
    for key, value in sets.items():
        prefix, dot, rest = key.partition(".")
        if dot and prefix in PREFIXES:
            grouped[PREFIXES[prefix]][rest] = value
        elif key in recipe.aux_losses:
            grouped["aux"][key] = float(value)
        elif key in TRAIN_DEFAULTS:
            grouped["train"][key] = value
        elif key in DATA_KEYS:
            grouped["data"][key] = value
        elif key in recipe.hparams:
            grouped["hparams"][key] = value
        else:
            known = sorted([*recipe.hparams, *recipe.aux_losses, *TRAIN_DEFAULTS, *DATA_KEYS])
            import difflib

            close = difflib.get_close_matches(key, known, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise InvalidOptionError(
                f"--set {key!r} is not a setting of {recipe.name}{hint}; use gen.OPTION, disc.OPTION, "
                f"loss.OPTION, data.OPTION, or one of: {', '.join(known)}"
            )
    return grouped


def slot_fits(recipe: Recipe, role: str, entry) -> bool:
    """Whether a registry entry can fill one of a recipe's slots: the one rule behind both the checks
    below and the choices ``ganzoo run RECIPE --help`` lists."""
    if role == "generator":
        return entry.metadata.get("input", "image") == recipe.step.generator_input
    if role == "adversarial_loss":
        return entry.metadata.get("role") == "adversarial"
    return True


def fitting_names(recipe: Recipe, role: str) -> list[str]:
    """Names of the registered components that fit a slot (families shown as ``NAME:MODEL``)."""
    from ganzoo.plugins import registry

    kind = recipe.slots()[role].kind
    return [e.name + (":NAME" if e.family else "") for e in registry(kind) if slot_fits(recipe, role, e)]


def resolve_config(recipe_name: str, *, gen: str | None = None, disc: str | None = None, loss: str | None = None,
                   data_mode: str | None = None, data: str | None = None, steps: int | None = None,
                   epochs: int | None = None, batch_size: int | None = None, image_size: int | None = None,
                   lr: float | None = None, seed: int | None = None, device: str | None = None,
                   sets: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Resolve a run's full configuration; raises a :class:`GanzooError` naming what would fit."""
    from ganzoo.plugins import registry

    recipe = get_recipe(recipe_name)
    grouped = _split_sets(dict(sets or {}), recipe)
    toy = data is None
    data_spec = recipe.toy.get("data") if toy else data
    if data_spec is None:
        raise GanzooError(f"recipe {recipe.name!r} has no toy data set; give --data")

    mode = data_mode or recipe.data_mode.default
    allowed = recipe.data_mode.choices or (recipe.data_mode.default,)
    registry("data_mode").get(mode)
    if mode not in allowed:
        raise GanzooError(f"{recipe.name} cannot train on data mode {mode!r}; it takes: {', '.join(allowed)}")

    gen_entry, gen_arg = registry("generator").resolve(gen or recipe.generator.default)
    if not slot_fits(recipe, "generator", gen_entry):
        raise GanzooError(f"generator {gen_entry.name!r} takes {gen_entry.metadata.get('input', 'image')} input; "
                          f"{recipe.name} needs {recipe.step.generator_input}-to-image generators: "
                          f"{', '.join(fitting_names(recipe, 'generator'))}")
    disc_entry, disc_arg = registry("discriminator").resolve(disc or recipe.discriminator.default)
    loss_entry = registry("loss").get(loss or recipe.adversarial_loss.default)
    if not slot_fits(recipe, "adversarial_loss", loss_entry):
        raise GanzooError(f"loss {loss_entry.name!r} is not an adversarial loss; choose one of: "
                          f"{', '.join(fitting_names(recipe, 'adversarial_loss'))}")

    def toy_part(key: str) -> Mapping[str, Any]:
        """What the recipe's toy schedule sets under ``key`` (nothing when the user gave data)."""
        return recipe.toy.get(key, {}) if toy else {}

    hparams = {**recipe.hparams, **toy_part("hparams"), **grouped["hparams"]}
    for key, value in (("batch_size", batch_size), ("image_size", image_size), ("lr", lr)):
        if value is not None:
            hparams[key] = value
    train = {**TRAIN_DEFAULTS, **grouped["train"]}
    for key, value in (("steps", steps), ("epochs", epochs), ("seed", seed), ("device", device)):
        if value is not None:
            train[key] = value
    if train["steps"] is not None:
        train["epochs"] = None
    elif train["epochs"] is None:  # neither given: the toy schedule, or the paper's epochs
        train["steps"] = recipe.toy.get("steps") if toy else None
        train["epochs"] = None if toy else hparams.get("epochs", 1)
    size = int(hparams["image_size"])
    in_nc, out_nc = int(hparams.get("in_channels", 3)), int(hparams.get("out_channels", 3))

    notes: list[str] = []
    loss_options = _component_options(loss_entry, {}, toy_part("loss"), grouped["adversarial_loss"], {})
    adversarial = loss_entry.build(None, **loss_options)
    gen_options = _component_options(gen_entry, recipe.generator.options, toy_part("generator"), grouped["generator"],
                                     {"in_channels": in_nc, "out_channels": out_nc, "image_size": size})
    needed = recipe.step.discriminator_channels(in_nc, out_nc)
    disc_options = _component_options(disc_entry, recipe.discriminator.options, toy_part("discriminator"),
                                      grouped["discriminator"], {"in_channels": needed, "image_size": size})
    if "in_channels" not in disc_entry.option_names() and needed != 3:
        raise GanzooError(f"{recipe.name} feeds its discriminator {needed} channels, but discriminator "
                          f"{disc_entry.name!r} has no in_channels option")
    if not adversarial.allows_batch_norm and disc_options.get("norm") == "batch":
        if grouped["discriminator"].get("norm") == "batch":
            raise GanzooError(f"{loss_entry.name} needs a critic without batch norm (its gradient penalty is "
                              "per sample); use disc.norm=instance or disc.norm=none")
        disc_options["norm"] = "none"
        notes.append(f"discriminator norm set to 'none': {loss_entry.name} needs a critic without batch norm")
    _check_networks((gen_entry, gen_arg, gen_options), (disc_entry, disc_arg, disc_options), size)

    data_options = {"direction": "AtoB", **toy_part("data_options"), **grouped["data"]}
    if not toy:
        data_options.setdefault("load_size", int(round(size * 286 / 256)))
    aux = {name: {"weight": grouped["aux"].get(name, weight)} for name, weight in recipe.aux_losses.items()}
    return {
        "recipe": recipe.name,
        "components": {
            "generator": {"name": _full_name(gen_entry, gen_arg), "options": gen_options,
                          "copies": list(recipe.generator.copies)},
            "discriminator": {"name": _full_name(disc_entry, disc_arg), "options": disc_options,
                              "copies": list(recipe.discriminator.copies)},
            "adversarial_loss": {"name": loss_entry.name, "options": loss_options,
                                 "critic_steps": adversarial.critic_steps},
            "aux_losses": aux,
        },
        "data": {"spec": data_spec, "toy": toy, "mode": mode, "image_size": size, "in_channels": in_nc,
                 "out_channels": out_nc, "options": data_options},
        "hparams": hparams,
        "train": train,
        "notes": notes,
        "versions": versions(),
    }


def _component_options(entry, recipe_options: Mapping[str, Any], toy_options: Mapping[str, Any],
                       user_options: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """The recipe's and toy settings the component takes, the context it takes, then the user's (all
    checked: a user option the component lacks is an error with the valid ones)."""
    accepted = set(entry.option_names())
    options = {k: v for k, v in {**context, **recipe_options, **toy_options}.items() if k in accepted}
    entry._check_options(dict(user_options))
    options.update(user_options)
    return options


def _full_name(entry, argument: str | None) -> str:
    return f"{entry.name}:{argument}" if argument else entry.name


def _probe(entry, argument: str | None, options: Mapping[str, Any]):
    """Build a network on the meta device: its attributes without allocating its weights."""
    import torch

    try:
        with torch.device("meta"):
            return entry.build(argument, **options)
    except GanzooError:
        raise
    except Exception as exc:
        raise InvalidOptionError(f"cannot build {_full_name(entry, argument)} with {dict(options)}: {exc}") from exc


def _check_networks(gen, disc, size: int) -> None:
    (gen_entry, gen_arg, gen_options), (disc_entry, disc_arg, disc_options) = gen, disc
    gen_net, disc_net = _probe(gen_entry, gen_arg, gen_options), _probe(disc_entry, disc_arg, disc_options)
    multiple = getattr(gen_net, "size_multiple", 1)
    if getattr(gen_net, "input_kind", "image") == "image" and size % multiple:
        raise GanzooError(f"generator {gen_entry.name} needs image sides divisible by {multiple}; "
                          f"--image-size {size} is not (try {max(multiple, round(size / multiple) * multiple)})")
    gen_size = getattr(gen_net, "image_size", None)
    if gen_size is not None and gen_size != size:
        raise GanzooError(f"generator {gen_entry.name} makes {gen_size}x{gen_size} images, not {size}x{size}")
    disc_size = getattr(disc_net, "image_size", None)
    if disc_size is not None and disc_size != size:
        raise GanzooError(f"discriminator {disc_entry.name} takes {disc_size}x{disc_size} images, not {size}x{size}")
    min_size = getattr(disc_net, "min_size", 1)
    if size < min_size:
        raise GanzooError(f"discriminator {disc_entry.name} needs images of at least {min_size}x{min_size} "
                          f"with these options; lower its n_layers or raise --image-size")
    wanted = disc_options.get("in_channels")
    if wanted is not None and getattr(disc_net, "in_channels", wanted) != wanted:
        raise GanzooError(f"discriminator {disc_entry.name} does not take {wanted} input channels")


def versions() -> dict[str, str]:
    import torch

    import ganzoo
    from ganzoo.plugins import plugin_infos

    found = {"ganzoo": ganzoo.__version__, "torch": torch.__version__, "python": platform.python_version()}
    for info in plugin_infos():
        if info.status == "loaded" and info.name != "ganzoo":
            found[f"plugin:{info.name}"] = info.version or "unknown"
    return found


def steps_for_epochs(epochs: int, dataset_size: int, batch_size: int) -> int:
    return max(1, epochs * max(1, math.floor(dataset_size / batch_size)))
