"""Building a run's specification: the recipe, the user's choices and ``--set``, checked once.

Every setting has one spelling, routed to one field of :class:`~ganzoo.train.spec.RunSpec` by
:func:`route` (the one place that reads a setting's name):

- ``gen.OPTION``, ``disc.OPTION``, ``loss.OPTION``, ``SLOT.OPTION``: an option of a slot's component;
- ``ROLE`` (a number): an auxiliary loss's weight; ``ROLE.OPTION``: that loss's option;
- ``lr``, ``beta1``, ``beta2``: Adam's settings for every optimizer group; ``optim.GROUP.lr`` (and the
  names the recipe gives, such as ``lr_d``) for one group;
- the fields of :class:`~ganzoo.train.spec.TrainSpec` (``steps``, ``batch_size``, ``seed``, ...) and of
  :class:`~ganzoo.train.spec.DataSpec` (``image_size``, ``direction``, ``preprocess``, also as
  ``data.FIELD``);
- the recipe's own hyper-parameters (``pool_size``).

Settings come in layers, later winning: the engine's defaults, the recipe's ``defaults``, its ``toy``
schedule (when no data is given), a ``--config`` file, then the user's options and ``--set``. The
recipe's layers are lenient (a component option applies where the chosen component takes it); the
user's are strict (an option the component lacks is an error naming the valid ones).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import platform
import types
import typing
from typing import Any, Mapping

from ganzoo.errors import GanzooError, InvalidOptionError
from ganzoo.recipe import SLOT_ALIASES, Recipe, Slot
from ganzoo.train.spec import (AuxSpec, ComponentSpec, DataSpec, NetworkSpec, OptimizerSpec, RunSpec, TrainSpec,
                               from_json)

#: The type of each setting of the engine and of the data, as the spec declares it.
TRAIN_FIELDS = typing.get_type_hints(TrainSpec)
DATA_FIELDS = {k: v for k, v in typing.get_type_hints(DataSpec).items() if k not in ("source", "mode", "toy")}
ADAM_FIELDS = ("lr", "beta1", "beta2")


def get_recipe(name: str) -> Recipe:
    """The recipe registered under ``name`` (from a plugin: the core names none)."""
    from ganzoo.plugins import registry

    recipe = registry("recipe").get(name).build()
    if not isinstance(recipe, Recipe):
        raise GanzooError(f"recipe {name!r} is a {type(recipe).__name__}, not a ganzoo.Recipe")
    return recipe


def parse_value(text: str) -> Any:
    """``--set`` values: JSON when they parse (numbers, true/false, null, lists), else the string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_sets(items: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``["gen.ngf=32", "lr=0.001"]`` -> ``{"gen.ngf": 32, "lr": 0.001}``, with a clear error."""
    parsed = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidOptionError(f"--set expects KEY=VALUE, got {item!r}")
        parsed[key.strip()] = parse_value(value.strip())
    return parsed


# -- routing ---------------------------------------------------------------------------------------


def slot_role(recipe: Recipe, word: str) -> str | None:
    """The slot a prefix names (``gen`` -> ``generator``), or None."""
    role = SLOT_ALIASES.get(word, word)
    return role if role in recipe.slots else None


def route(recipe: Recipe, key: str) -> tuple[str, ...]:
    """Where a setting goes: ``("component", SLOT, OPTION)``, ``("aux", ROLE, "weight"|OPTION)``,
    ``("optim", GROUP|"*", FIELD)``, ``("train", FIELD)``, ``("data", FIELD)`` or ``("hparam", KEY)``."""
    head, dot, rest = key.partition(".")
    if dot:
        if head == "data" and rest in DATA_FIELDS:
            return ("data", rest)
        if head == "optim":
            group, _, field = rest.partition(".")
            if group in recipe.groups and field in ADAM_FIELDS:
                return ("optim", group, field)
            raise InvalidOptionError(f"--set {key!r}: use optim.GROUP.lr|beta1|beta2 with GROUP one of "
                                     f"{', '.join(recipe.groups)}")
        role = slot_role(recipe, head)
        if role is not None and rest:
            return ("component", role, rest)
        if head in recipe.aux and rest:
            return ("aux", head, rest)
    else:
        if key in recipe.aux:
            return ("aux", key, "weight")
        if key in ADAM_FIELDS:
            return ("optim", "*", key)
        for group, name in recipe.optimizer_lr.items():
            if key == name:
                return ("optim", group, "lr")
        if key in TRAIN_FIELDS:
            return ("train", key)
        if key in DATA_FIELDS:
            return ("data", key)
        if key in recipe.hparams:
            return ("hparam", key)
    known = sorted({*recipe.hparams, *recipe.aux, *ADAM_FIELDS, *recipe.optimizer_lr.values(), *TRAIN_FIELDS,
                    *DATA_FIELDS})
    close = difflib.get_close_matches(key, known, n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    prefixes = ", ".join(f"{p}.OPTION" for p in [*(a for a, r in SLOT_ALIASES.items() if r in recipe.slots),
                                                    *(r for r in recipe.slots if r not in SLOT_ALIASES.values())])
    raise InvalidOptionError(f"--set {key!r} is not a setting of {recipe.name}{hint}; use {prefixes}, "
                             f"ROLE.OPTION for an auxiliary loss, data.FIELD, or one of: {', '.join(known)}")


def _coerce(key: str, value: Any, hint: Any) -> Any:
    """``value`` as the type a spec field declares, or a one-line error naming the key."""
    args = typing.get_args(hint)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        hint = next(a for a in args if a is not type(None))
        origin = typing.get_origin(hint)
    if origin is tuple or hint is tuple:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise InvalidOptionError(f"{key}: expected a list of names, got {value!r}")
        return tuple(str(v).strip() for v in items if str(v).strip())
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise InvalidOptionError(f"{key}: expected true or false, got {value!r}")
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
            raise InvalidOptionError(f"{key}: expected a whole number, got {value!r}")
        return int(value)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidOptionError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if hint is str and not isinstance(value, str):
        raise InvalidOptionError(f"{key}: expected a name, got {value!r}")
    return value


# -- the builder -----------------------------------------------------------------------------------


@dataclasses.dataclass
class _Draft:
    """The spec while its layers are applied (mutable; frozen into a RunSpec at the end)."""

    recipe: Recipe
    picks: dict[str, str]  # slot role -> chosen component name
    aux_loss: dict[str, str]
    soft_options: dict[str, dict[str, Any]]
    user_options: dict[str, dict[str, Any]]
    aux_weight: dict[str, float]
    aux_options: dict[str, dict[str, Any]]
    optim: dict[str, dict[str, float]]
    train: dict[str, Any]
    data: dict[str, Any]
    hparams: dict[str, Any]

    def apply(self, settings: Mapping[str, Any], *, strict: bool, where: str) -> None:
        for key, value in settings.items():
            target = route(self.recipe, key)
            label = f"{where} {key}" if where else key
            if target[0] == "component":
                (self.user_options if strict else self.soft_options)[target[1]][target[2]] = value
            elif target[0] == "aux":
                if target[2] == "weight":
                    self.aux_weight[target[1]] = _coerce(label, value, float)
                else:
                    self.aux_options[target[1]][target[2]] = value
            elif target[0] == "optim":
                groups = self.recipe.groups if target[1] == "*" else [target[1]]
                for group in groups:
                    self.optim[group][target[2]] = _coerce(label, value, float)
            elif target[0] == "train":
                self.train[target[1]] = _coerce(label, value, TRAIN_FIELDS[target[1]])
                other = {"steps": "epochs", "epochs": "steps"}.get(target[1])
                if other and other not in settings:  # a run's length is one fact: the later layer's
                    self.train.pop(other, None)
            elif target[0] == "data":
                self.data[target[1]] = _coerce(label, value, DATA_FIELDS[target[1]])
            else:
                self.hparams[target[1]] = value


def spec_settings(doc: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str], str | None, dict[str, Any]]:
    """A (full or partial) run specification in JSON form as layers for :func:`build_spec`: the slot
    picks, the auxiliary loss picks, the data source, and settings in ``--set`` form. A run's
    config.json (of this ganzoo or of 0.1.0) and a bundle's training configuration are read the same way."""
    if not isinstance(doc, Mapping):
        raise GanzooError(f"a run configuration is a JSON object, not {type(doc).__name__}")
    if "format" in doc or ("components" in doc and "hparams" in doc):
        doc = from_json(doc).to_json()  # a whole config.json: validated, 0.1.0 upgraded
    known = {"format", "format_version", "recipe", "components", "networks", "inference", "aux", "optimizers",
             "hparams", "data", "train", "notes", "versions", "recipe_distribution"}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise GanzooError(f"unknown keys in the configuration: {', '.join(unknown)} (expected {', '.join(sorted(known))})")
    picks, aux_picks, settings = {}, {}, {}
    for role, comp in _section(doc, "components").items():
        if "name" in comp:
            picks[role] = comp["name"]
        settings.update({f"{role}.{k}": v for k, v in _section(comp, "options").items()})
    for role, aux in _section(doc, "aux").items():
        if "loss" in aux:
            aux_picks[role] = aux["loss"]
        if "weight" in aux:
            settings[role] = aux["weight"]
        settings.update({f"{role}.{k}": v for k, v in _section(aux, "options").items()})
    for group, opt in _section(doc, "optimizers").items():
        settings.update({f"optim.{group}.{k}": v for k, v in opt.items()})
    settings.update(_section(doc, "hparams"))
    data = dict(_section(doc, "data"))
    source = data.pop("source", None)
    if data.pop("toy", False):
        source = None  # a toy run is repeated with the recipe's toy schedule
    mode = data.pop("mode", None)
    settings.update({f"data.{k}": v for k, v in data.items() if v is not None})
    settings.update({k: v for k, v in _section(doc, "train").items() if v is not None})
    if mode:
        picks["data_mode"] = mode
    return picks, aux_picks, source, settings


def _section(doc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, Mapping):
        raise GanzooError(f"{key!r} in the configuration must be a JSON object, not {type(value).__name__}")
    return value


def build_spec(recipe_name: str, *, data: str | None = None, slots: Mapping[str, str | None] | None = None,
               data_mode: str | None = None, aux: Mapping[str, str] | None = None,
               config: Mapping[str, Any] | None = None, sets: Mapping[str, Any] | None = None,
               **settings: Any) -> RunSpec:
    """The checked specification of a run; raises a :class:`GanzooError` naming what would fit.

    Args:
        recipe_name: a registered recipe.
        data: a folder, ``toy:NAME``, a data set name or ``hf-hub:ORG/NAME``; None trains on the
            recipe's toy set with its toy schedule.
        slots: components by slot role or prefix (``{"gen": "unet128", "loss": "wgan-gp"}``).
        data_mode: one of the recipe's data modes.
        aux: losses filling auxiliary roles (``{"l1": "l1"}``).
        config: a (partial) run specification in JSON form, applied before the arguments.
        sets: settings in ``--set`` form, applied last.
        **settings: more settings (``steps=100``, ``lr=1e-3``); None values are ignored.
    """
    recipe = get_recipe(recipe_name)
    picks, aux_picks, config_data, config_settings = spec_settings(config) if config else ({}, {}, None, {})
    if config and config.get("recipe") not in (None, recipe.name):
        raise GanzooError(f"the configuration is for recipe {config['recipe']!r}, not {recipe.name!r}")
    for word, name in (slots or {}).items():
        if name is None:
            continue
        role = slot_role(recipe, word)
        if role is None:
            raise GanzooError(f"{recipe.name} has no slot {word!r}; its slots: {', '.join(recipe.slots)}")
        picks[role] = name
    aux_picks.update({k: v for k, v in (aux or {}).items() if v is not None})
    for role in aux_picks:
        if role not in recipe.aux:
            raise GanzooError(f"{recipe.name} has no auxiliary loss role {role!r}; its roles: "
                              f"{', '.join(recipe.aux) or 'none'}")
    data = data if data is not None else config_data
    toy = data is None
    source = recipe.toy.get("data") if toy else data
    if source is None:
        raise GanzooError(f"recipe {recipe.name!r} has no toy data set; give --data")
    mode = data_mode or picks.pop("data_mode", None) or recipe.data_modes[0]
    picks.pop("data_mode", None)
    _check_data_mode(recipe, mode)

    draft = _Draft(recipe=recipe, picks={role: picks.get(role, slot.default) for role, slot in recipe.slots.items()},
                   aux_loss={role: aux_picks.get(role, a.default) for role, a in recipe.aux.items()},
                   soft_options={r: {} for r in recipe.slots}, user_options={r: {} for r in recipe.slots},
                   aux_weight={r: float(a.weight) for r, a in recipe.aux.items()},
                   aux_options={r: dict(a.options) for r, a in recipe.aux.items()},
                   optim={g: dataclasses.asdict(OptimizerSpec()) for g in recipe.groups},
                   train={}, data={}, hparams=dict(recipe.hparams))
    draft.apply(recipe.defaults, strict=False, where="")
    if toy:
        draft.apply({k: v for k, v in recipe.toy.items() if k != "data"}, strict=False, where="")
    draft.apply(config_settings, strict=True, where="--config")
    draft.apply({k: v for k, v in settings.items() if v is not None}, strict=True, where="")
    draft.apply(dict(sets or {}), strict=True, where="--set")
    return _finish(draft, source=str(source), toy=toy, mode=mode)


def _check_data_mode(recipe: Recipe, mode: str) -> None:
    from ganzoo.plugins import registry

    registry("data_mode").get(mode)
    if mode not in recipe.data_modes:
        raise GanzooError(f"{recipe.name} cannot train on data mode {mode!r}; it takes: {', '.join(recipe.data_modes)}")


def _finish(draft: _Draft, *, source: str, toy: bool, mode: str) -> RunSpec:
    from ganzoo.train import checks

    recipe = draft.recipe
    train = TrainSpec(**draft.train)
    if train.steps is not None:
        train = dataclasses.replace(train, epochs=None)
    elif train.epochs is None:
        raise GanzooError(f"{recipe.name} needs --steps or --epochs")
    data = DataSpec(source=source, mode=mode, toy=toy, **{"image_size": 256, **draft.data})
    if not toy and data.load_size is None:
        data = dataclasses.replace(data, load_size=int(round(data.image_size * 286 / 256)))
    notes: list[str] = []
    components = checks.resolve_components(draft, data=data, notes=notes)
    aux = {role: AuxSpec(loss=checks.resolve_aux(recipe, role, draft.aux_loss[role], draft.aux_options[role]),
                         weight=draft.aux_weight[role], options=dict(draft.aux_options[role]))
           for role in recipe.aux}
    from ganzoo.plugins import registry

    return RunSpec(
        recipe=recipe.name,
        recipe_distribution=checks.provider(registry("recipe").get(recipe.name))["distribution"],
        components=components,
        networks={n.name: NetworkSpec(slot=n.slot, role=recipe.slots[n.slot].kind, group=n.group)
                  for n in recipe.networks},
        inference=dict(recipe.inference),
        aux=aux,
        optimizers={g: OptimizerSpec(**o) for g, o in draft.optim.items()},
        hparams=dict(draft.hparams),
        data=data,
        train=train,
        notes=tuple(notes),
        versions=versions(),
    )


def versions() -> dict[str, str]:
    """ganzoo, torch, Python and the loaded plugins' versions (recorded in config.json)."""
    import importlib.metadata

    import ganzoo
    from ganzoo.plugins import plugin_infos

    try:
        torch_version = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - torch is a dependency
        torch_version = "unknown"
    found = {"ganzoo": ganzoo.__version__, "torch": torch_version, "python": platform.python_version()}
    for info in plugin_infos():
        if info.status == "loaded" and info.name != "ganzoo" and info.source != "session":
            found[f"plugin:{info.name}"] = info.version or "unknown"
    return found


def steps_for_epochs(epochs: int, dataset_size: int, batch_size: int) -> int:
    return max(1, epochs * max(1, math.floor(dataset_size / batch_size)))


def fitting_names(recipe: Recipe, role: str) -> list[str]:
    """Names of the registered components that may fill a slot, without importing them (``--help``):
    the slot's ``choices`` when it has some, else every component of its kind."""
    from ganzoo.plugins import registry

    slot: Slot = recipe.slots[role]
    if slot.choices:
        return list(slot.choices)
    if slot.kind == "module":
        return [slot.default]
    return [e.name + (":NAME" if e.family else "") for e in registry(slot.kind)]
