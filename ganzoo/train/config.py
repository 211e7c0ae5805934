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
schedule (when no data is given, unless a whole saved configuration is repeated: it states its own), a
``--config`` file, then the user's options and ``--set``. The recipe's layers are lenient (a component
option applies where the chosen component takes it); the user's are strict (an option the component
lacks is an error naming the valid ones).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
import platform
from typing import Any, Mapping

from ganzoo.errors import GanzooError, InvalidOptionError, UsageError
from ganzoo.recipe import SLOT_ALIASES, Recipe, Slot, Value
from ganzoo.train.spec import (AuxSpec, ComponentSpec, DataSpec, NetworkSpec, OptimizerSpec, RunSpec, TrainSpec,
                               field_values, from_json, json_kind)

#: The type and range of each setting of the engine, of the data, of Adam and of an auxiliary weight,
#: as the spec declares them (one place: the spec's fields).
TRAIN_FIELDS = field_values(TrainSpec)
DATA_FIELDS = {k: v for k, v in field_values(DataSpec).items() if k not in ("source", "mode", "toy")}
ADAM_FIELDS = field_values(OptimizerSpec)
AUX_WEIGHT = field_values(AuxSpec)["weight"]


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
                    self.aux_weight[target[1]] = AUX_WEIGHT.check(label, value)
                else:
                    self.aux_options[target[1]][target[2]] = value
            elif target[0] == "optim":
                groups = self.recipe.groups if target[1] == "*" else [target[1]]
                for group in groups:
                    self.optim[group][target[2]] = ADAM_FIELDS[target[2]].check(label, value)
            elif target[0] == "train":
                self.train[target[1]] = TRAIN_FIELDS[target[1]].check(label, value)
                other = {"steps": "epochs", "epochs": "steps"}.get(target[1])
                if other and other not in settings:  # a run's length is one fact: the later layer's
                    self.train.pop(other, None)
            elif target[0] == "data":
                self.data[target[1]] = DATA_FIELDS[target[1]].check(label, value)
            else:
                self.hparams[target[1]] = self.hparam_value(target[1]).check(label, value)

    def hparam_value(self, key: str) -> Value:
        """What the recipe allows for one of its hyper-parameters (anything, where it declares nothing)."""
        return self.recipe.hparam_values.get(key) or Value(object)


def spec_settings(doc: Any) -> tuple[dict[str, str], dict[str, str], str | None, dict[str, Any]]:
    """A (full or partial) run specification in JSON form as layers for :func:`build_spec`: the slot
    picks, the auxiliary loss picks, the data source, and settings in ``--set`` form. A run's
    config.json (of this ganzoo or of 0.1.0) and a bundle's training configuration are read the same way.
    Its shape is checked here (a :class:`UsageError` naming the key); its values where they are applied."""
    if not isinstance(doc, Mapping):
        raise UsageError(f"--config: a run configuration is a JSON object, not {json_kind(doc)}")
    if is_whole_config(doc):
        try:  # a whole config.json: validated, 0.1.0 upgraded
            doc = from_json(doc, where="--config").to_json()
        except UsageError:
            raise
        except GanzooError as exc:
            raise UsageError(str(exc)) from exc
    unknown = sorted(set(doc) - CONFIG_KEYS)
    if unknown:
        raise UsageError(f"--config: unknown keys {', '.join(unknown)} (expected {', '.join(sorted(CONFIG_KEYS))})")
    picks, aux_picks, settings = {}, {}, {}
    for role in _section(doc, "components"):
        comp = _section(doc["components"], role, where="components.")
        if "name" in comp:
            picks[role] = _name(comp["name"], f"components.{role}.name")
        settings.update({f"{role}.{k}": v for k, v in _section(comp, "options", where=f"components.{role}.").items()})
    for role in _section(doc, "aux"):
        aux = _section(doc["aux"], role, where="aux.")
        if "loss" in aux:
            aux_picks[role] = _name(aux["loss"], f"aux.{role}.loss")
        if "weight" in aux:
            settings[role] = aux["weight"]
        settings.update({f"{role}.{k}": v for k, v in _section(aux, "options", where=f"aux.{role}.").items()})
    for group in _section(doc, "optimizers"):
        settings.update({f"optim.{group}.{k}": v for k, v in _section(doc["optimizers"], group, where="optimizers.").items()})
    settings.update(_section(doc, "hparams"))
    data = dict(_section(doc, "data"))
    source = data.pop("source", None)
    if source is not None:
        source = _name(source, "data.source")
    if data.pop("toy", False):
        source = None  # a toy run is repeated on the recipe's toy set (with its saved settings: build_spec)
    mode = data.pop("mode", None)
    settings.update({f"data.{k}": v for k, v in data.items() if v is not None})
    settings.update({k: v for k, v in _section(doc, "train").items() if v is not None})
    if mode is not None:
        picks["data_mode"] = _name(mode, "data.mode")
    return picks, aux_picks, source, settings


def is_whole_config(doc: Mapping[str, Any]) -> bool:
    """Whether ``doc`` is a whole saved configuration (a run's config.json, of this ganzoo or of 0.1.0, or a
    bundle's training configuration) rather than a part of one written by hand."""
    return "format" in doc or ("components" in doc and "hparams" in doc)


#: The keys of a run configuration (whole or in part).
CONFIG_KEYS = frozenset({"format", "format_version", "recipe", "components", "networks", "inference", "aux",
                         "optimizers", "hparams", "data", "train", "notes", "versions", "recipe_distribution"})


def _section(doc: Mapping[str, Any], key: str, *, where: str = "") -> Mapping[str, Any]:
    """A part of a configuration that must be a JSON object (absent: empty)."""
    value = doc.get(key, {})
    if not isinstance(value, Mapping):
        raise UsageError(f"--config: {where}{key} must be a JSON object, not {json_kind(value)}")
    return value


def _name(value: Any, key: str) -> str:
    """A name in a configuration (a component, a loss, a data source, a mode)."""
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"--config: {key}={json.dumps(value, default=repr)}: expected a name")
    return value


def build_spec(recipe_name: str, *, data: str | None = None, slots: Mapping[str, str | None] | None = None,
               data_mode: str | None = None, aux: Mapping[str, str] | None = None,
               config: Mapping[str, Any] | None = None, sets: Mapping[str, Any] | None = None,
               **settings: Any) -> RunSpec:
    """The checked specification of a run; raises a :class:`GanzooError` naming what would fit.

    Args:
        recipe_name: a registered recipe.
        data: a folder, ``toy:NAME``, a data set name or ``hf-hub:ORG/NAME``; None trains on the
            recipe's toy set with its toy schedule (a whole saved ``config`` of a toy run: with its own).
        slots: components by slot role or prefix (``{"gen": "unet128", "loss": "wgan-gp"}``).
        data_mode: one of the recipe's data modes.
        aux: losses filling auxiliary roles (``{"l1": "l1"}``).
        config: a (partial) run specification in JSON form, applied before the arguments.
        sets: settings in ``--set`` form, applied last.
        **settings: more settings (``steps=100``, ``lr=1e-3``); None values are ignored.
    """
    recipe = get_recipe(recipe_name)
    picks, aux_picks, config_data, config_settings = spec_settings(config) if config is not None else ({}, {}, None, {})
    if config is not None and config.get("recipe") not in (None, recipe.name):
        raise UsageError(f"--config: the configuration is for recipe {config['recipe']!r}, not {recipe.name!r}")
    unknown = sorted(set(picks) - {*recipe.slots, "data_mode"})
    if unknown:
        raise UsageError(f"--config: components.{unknown[0]}: {recipe.name} has no slot {unknown[0]!r}; its slots: "
                         f"{', '.join(recipe.slots)}")
    for word, name in (slots or {}).items():
        if name is None:
            continue
        role = slot_role(recipe, word)
        if role is None:
            raise UsageError(f"{recipe.name} has no slot {word!r}; its slots: {', '.join(recipe.slots)}")
        picks[role] = name
    aux_picks.update({k: v for k, v in (aux or {}).items() if v is not None})
    for role in aux_picks:
        if role not in recipe.aux:
            raise UsageError(f"{recipe.name} has no auxiliary loss role {role!r}; its roles: "
                              f"{', '.join(recipe.aux) or 'none'}")
    data = _source(data) if data is not None else config_data
    toy = data is None
    source = recipe.toy.get("data") if toy else data
    if toy:  # components the toy schedule picks (``"slots": {"loss": "hinge"}``) unless the user chose
        for word, name in recipe.toy.get("slots", {}).items():
            picks.setdefault(slot_role(recipe, word) or word, name)
    if source is None:
        raise UsageError(f"recipe {recipe.name!r} has no toy data set; give --data")
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
    # A whole saved configuration states its run's toy settings itself; what it does not state was not in
    # its run (a setting the toy schedule took on later: 0.1.0's toy generator had two downsamplings, today's
    # one), so it is repeated as it was saved, over the paper's defaults.
    if toy and not (config is not None and is_whole_config(config)):
        draft.apply({k: v for k, v in recipe.toy.items() if k not in ("data", "slots")}, strict=False, where="")
    draft.apply(config_settings, strict=True, where="--config")
    draft.apply({k: v for k, v in settings.items() if v is not None}, strict=True, where="")
    draft.apply(dict(sets or {}), strict=True, where="--set")
    return _finish(draft, source=str(source), toy=toy, mode=mode)


def _source(data: Any) -> str:
    """The data argument: a name or a path."""
    if isinstance(data, os.PathLike):
        return os.fspath(data)
    if not isinstance(data, str) or not data.strip():
        raise UsageError(f"data={json.dumps(data, default=repr)}: expected a folder, toy:NAME, a data set name "
                         "or hf-hub:ORG/NAME")
    return data


def _check_data_mode(recipe: Recipe, mode: str) -> None:
    from ganzoo.plugins import registry

    registry("data_mode").get(mode)
    if mode not in recipe.data_modes:
        raise UsageError(f"{recipe.name} cannot train on data mode {mode!r}; it takes: {', '.join(recipe.data_modes)}")


# -- the fast path --------------------------------------------------------------------------------

#: What ``fast=True`` (``--fast``) picks on each device type: the spec's fast-path settings the user left
#: unset (an explicit ``--precision`` or ``--compile`` wins), and what the engine does besides: the Adam
#: implementation, cudnn.benchmark and prefetching batches to the device. On CUDA bf16 (fp16 where the GPU
#: has no bf16), channels-last, compiled networks, fused Adam, cudnn.benchmark and prefetching.
#:
#: On the CPU each option was timed against fp32 eager, each alone, on the toy schedules (32x32, ngf and
#: ndf 32, batch 4; 2 cores, torch 2.14.1; median ms per Trainer.iteration after warm-up, the options
#: interleaved in rounds; an ad-hoc script, docs/training.md). Speed-up over fp32 eager:
#:
#:   option          pix2pix   cyclegan
#:   bf16            0.92      1.17
#:   fp16            0.16      0.09      (few fp16 CPU kernels, and the scalers)
#:   channels_last   0.88      (0.89)    (cyclegan's networks all have instance norm: nothing changes,
#:                                        so 0.89 is the noise of these figures, about +-10%)
#:   compile         ~0.9      -         (pix2pix alone: 75 ms against 65-70 eager; the first step
#:                                        compiles for seconds; timed in a process of its own: beside
#:                                        it, eager trainers ran up to 50x slower, cause not pinned down)
#:   Adam foreach    1.05      0.89
#:   Adam fused      1.28      0.96
#:
#: A second run of bf16 and Adam (6 rounds): pix2pix bf16 1.07, foreach 0.97, fused 1.22; cyclegan bf16
#: 1.36, foreach 1.05, fused 1.04. The CPU has native bf16 (avx512_bf16): bf16 is faster on cyclegan and
#: about even on pix2pix. Both together (what --fast picks), against fp32 eager: pix2pix 1.13, cyclegan 1.44.
#:
#: So on the CPU --fast picks bf16 where the CPU computes bf16 natively and fused Adam; a CPU without
#: native bf16 (not measured here: oneDNN emulates bf16 there, expected slower) stays in fp32.
#: MEASURED_SLOWER lists what --fast leaves off.
FAST_PATH: dict[str, dict[str, Any]] = {
    "cuda": {"precision": "bf16", "channels_last": True, "compile": "default", "adam": "fused",
             "cudnn_benchmark": True, "prefetch": True},
    "cpu": {"precision": "bf16", "adam": "fused"},
    "mps": {},  # nothing measured there yet: --fast changes nothing on MPS
}
#: What was measured no faster than fp32 eager on a device type, so --fast leaves it off there (said in its note).
MEASURED_SLOWER: dict[str, tuple[str, ...]] = {"cpu": ("fp16", "channels_last", "compile")}
#: The keys of FAST_PATH that are fields of the run's TrainSpec (the others the engine reads).
FAST_SETTINGS = ("precision", "channels_last", "compile")


def device_type(name: str) -> str:
    """The device type a device setting runs on here (``auto`` resolved as the engine resolves it)."""
    if name != "auto":
        return name.partition(":")[0]
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def fast_choices(device: str) -> dict[str, Any]:
    """FAST_PATH's entry for a device (a device type or setting), for this machine: bf16 becomes fp16 on a
    GPU without bf16, and fp32 (no precision picked) on a CPU without native bf16."""
    kind = device_type(device)
    picks = dict(FAST_PATH.get(kind, {}))
    if picks.get("precision") == "bf16" and kind in ("cuda", "cpu"):
        import torch

        if kind == "cuda" and not torch.cuda.is_bf16_supported():
            picks["precision"] = "fp16"
        elif kind == "cpu" and not _cpu_has_bf16():
            del picks["precision"]
    return picks


def _cpu_has_bf16() -> bool:
    """Whether the CPU computes bf16 natively (avx512_bf16 or AMX), as oneDNN reports it."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # pragma: no cover - a torch built without oneDNN
        return False


def resolve_fast(train: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
    """The engine's settings with ``fast`` resolved: the device's picks for what the user left unset, and
    a note saying what was picked (nothing changes without ``fast``)."""
    if not train.get("fast"):
        return dict(train)
    kind = device_type(str(train.get("device", "auto")))
    picks = fast_choices(kind)
    chosen = {k: picks[k] for k in FAST_SETTINGS if k in picks and k not in train}
    said = [f"{k}={json.dumps(v)}" for k, v in chosen.items()]
    said += [f"{k}={json.dumps(v)}" for k, v in picks.items() if k not in FAST_SETTINGS]
    slower = MEASURED_SLOWER.get(kind, ())
    left = f" (left off, not faster than fp32 eager when measured on {kind}: {', '.join(slower)})" if slower else ""
    notes.append(f"--fast on {kind}: {', '.join(said) or 'nothing measured here yet'}{left}")
    return {**train, **chosen}


#: How much slower a bf16 step was than fp32 on a CPU that emulates bf16 (oneDNN limited to AVX2 with
#: ONEDNN_MAX_CPU_ISA=AVX2 on a 2-core AMD EPYC, torch 2.14.1: pix2pix toy, 77 ms against 1.36 s a step).
EMULATED_BF16_SLOWDOWN = 18


def emulated_bf16_note(precision: str, device: str) -> str | None:
    """A warning when bf16 was asked for on a CPU that has no bf16 arithmetic: oneDNN emulates it there,
    and a run the user expects to be faster is many times slower (--fast does not pick it there). Training
    and the inference commands (``ganzoo translate``, ``ganzoo sample``) print it."""
    if precision != "bf16" or device_type(device) != "cpu" or _cpu_has_bf16():
        return None
    return (f"precision bf16 on a CPU without bf16 arithmetic (no avx512_bf16 or AMX): emulated, about "
            f"{EMULATED_BF16_SLOWDOWN}x slower than fp32 when a training step was measured; --precision fp32 "
            "is faster here")


def _channels_last_note(spec: RunSpec) -> str:
    """Which networks channels-last applies to, read from the networks built on the meta device."""
    from ganzoo.train.build import build_networks
    from ganzoo.train.fast import channels_last_note

    return channels_last_note(build_networks(spec, device="meta", init=False))


def _compile_note(spec: RunSpec) -> str | None:
    """Which networks ``--compile`` leaves eager (a critic the loss's gradient penalty differentiates twice)."""
    from ganzoo.api import create_loss
    from ganzoo.train.fast import compile_note

    if "loss" not in spec.components:
        return None
    loss = create_loss(spec.components["loss"].name, **spec.components["loss"].options)
    return compile_note(spec.networks, loss)


def _finish(draft: _Draft, *, source: str, toy: bool, mode: str) -> RunSpec:
    from ganzoo.train import checks

    recipe = draft.recipe
    notes: list[str] = []
    train = TrainSpec(**resolve_fast(draft.train, notes))
    if note := emulated_bf16_note(train.precision, train.device):
        notes.append(note)
    if train.steps is not None:
        train = dataclasses.replace(train, epochs=None)
    elif train.epochs is None:
        raise UsageError(f"{recipe.name} needs --steps or --epochs")
    _check_loggers(train.loggers)
    data = DataSpec(source=source, mode=mode, toy=toy, **{"image_size": 256, **draft.data})
    if not toy and data.load_size is None:
        data = dataclasses.replace(data, load_size=int(round(data.image_size * 286 / 256)))
    components = checks.resolve_components(draft, data=data, notes=notes)
    aux = {role: AuxSpec(loss=checks.resolve_aux(recipe, role, draft.aux_loss[role], draft.aux_options[role]),
                         weight=draft.aux_weight[role], options=dict(draft.aux_options[role]))
           for role in recipe.aux}
    checks.check_discriminator_needs(recipe, components, aux)
    from ganzoo.plugins import registry

    spec = RunSpec(
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
    if train.channels_last:
        spec = dataclasses.replace(spec, notes=(*spec.notes, _channels_last_note(spec)))
    if train.compile is not None and (note := _compile_note(spec)):
        spec = dataclasses.replace(spec, notes=(*spec.notes, note))
    return spec


def _check_loggers(names: tuple[str, ...]) -> None:
    """Each logger a run switches on must be registered (an unknown name is refused with the known ones)."""
    from ganzoo.plugins import registry

    for name in names:
        try:
            registry("logger").get(name)
        except UsageError as exc:
            raise UsageError(f"loggers={json.dumps(name)}: {exc}") from exc


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
    return [e.shown for e in registry(slot.kind)]
