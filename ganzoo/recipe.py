"""Recipes are data: which slots a GAN has, which networks it trains, and the step that trains them.

A :class:`Recipe` declares its slots (generator, discriminator, adversarial loss, ... each filled by any
registered component that fits), the networks it builds from them with their optimizer groups, the
auxiliary loss roles with their weights, the paper's settings, and the :class:`ganzoo.Step` that runs
one iteration. A variant is ``dataclasses.replace(recipe, ...)``.

This module imports no torch, so a recipe declaration (and ``ganzoo run RECIPE --help``) stays cheap:
the step is named by reference (``"my_plugin.step:MyStep"``) and imported when training starts.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import re
import types
import typing
from typing import Any, Callable, Mapping

from ganzoo.errors import UsageError

#: Short prefixes users type for the first-party slot roles (``--set gen.ngf=32``, ``--gen resnet9``).
SLOT_ALIASES: dict[str, str] = {"gen": "generator", "disc": "discriminator", "loss": "loss"}


def load_reference(ref: str | Callable[..., Any]) -> Any:
    """Import ``"package.module:Qualname"`` (or return a callable unchanged)."""
    if not isinstance(ref, str):
        return ref
    module, sep, qualname = ref.partition(":")
    if not sep or not module or not qualname:
        raise ValueError(f"expected a reference 'package.module:Name', got {ref!r}")
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


@dataclasses.dataclass(frozen=True)
class Value:
    """The type and range a setting may hold: checked when a run's specification is built, so a bad value
    is a one-line error naming the key, the value and what is allowed, never a traceback at step 1.

    A recipe declares its hyper-parameters' with it (``hparam_values={"pool_size": Value(int, min=0)}``);
    the run specification's own fields use it too.

    Attributes:
        kind: ``int`` (a whole number; 3.0 is taken as 3), ``float`` (a finite number), ``bool``, ``str``,
            ``tuple[str, ...]`` (names, or one comma-separated string), or any of them ``| None`` (null
            allowed). Booleans are never numbers.
        min, max: bounds of a number, included unless ``min_open``/``max_open``.
        choices: the names a ``str`` may be, or a ``"package.module:NAME"`` reference to the tuple of them
            where another module owns that fact (imported only when a value is checked).
        pattern: a regular expression a ``str`` must match whole (``choices`` then only describes it).
    """

    kind: Any
    min: float | None = None
    max: float | None = None
    min_open: bool = False
    max_open: bool = False
    choices: tuple[str, ...] | str = ()
    pattern: str = ""

    def check(self, key: str, value: Any) -> Any:
        """``value`` as :attr:`kind` (``3.0`` -> ``3``, a comma string -> a tuple); a :class:`UsageError`
        ``KEY=VALUE: expected ...`` when it does not fit."""
        kind, optional = _split_optional(self.kind)
        if value is None and optional:
            return None
        coerced = _as_kind(kind, value)
        if coerced is _REFUSED or not self._in_range(coerced):
            raise UsageError(f"{key}={_shown(value)}: expected {self.describe()}")
        return coerced

    def describe(self) -> str:
        """What is allowed, in words: ``a whole number >= 1, or null``."""
        kind, optional = _split_optional(self.kind)
        text = _KIND_WORDS.get(kind, "a list of names" if _is_tuple(kind) else getattr(kind, "__name__", str(kind)))
        names = self.names()
        if names:
            text = f"{'names from' if _is_tuple(kind) else 'one of'} {', '.join(names)}"
        bounds = [f"{'>' if self.min_open else '>='} {self.min:g}"] if self.min is not None else []
        bounds += [f"{'<' if self.max_open else '<='} {self.max:g}"] if self.max is not None else []
        text += "".join(f" {b}" if i == 0 else f" and {b}" for i, b in enumerate(bounds))
        return text + (", or null" if optional else "")

    def names(self) -> tuple[str, ...]:
        """The allowed names (read from their owner when referenced)."""
        if isinstance(self.choices, str):
            return tuple(load_reference(self.choices))
        return tuple(self.choices)

    def _in_range(self, value: Any) -> bool:
        if isinstance(value, tuple):  # a list of names: each one must be allowed
            return not self.choices or all(v in self.names() for v in value)
        if isinstance(value, str):
            if self.pattern:
                return re.fullmatch(self.pattern, value) is not None
            return not self.choices or value in self.names()
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return True
        low = self.min is None or (value > self.min if self.min_open else value >= self.min)
        high = self.max is None or (value < self.max if self.max_open else value <= self.max)
        return low and high


_REFUSED = object()
_KIND_WORDS = {int: "a whole number", float: "a number", bool: "true or false", str: "a name"}


def _split_optional(kind: Any) -> tuple[Any, bool]:
    """``int | None`` -> ``(int, True)``."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        return args[0], len(args) < len(typing.get_args(kind))
    return kind, False


def _is_tuple(kind: Any) -> bool:
    return kind is tuple or typing.get_origin(kind) is tuple


def _as_kind(kind: Any, value: Any) -> Any:
    """``value`` as ``kind``, or ``_REFUSED``: a boolean is no number, a number no name, 2.5 no whole number."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is bool:
        return value if isinstance(value, bool) else _REFUSED
    if kind is int:
        return int(value) if number and math.isfinite(value) and int(value) == value else _REFUSED
    if kind is float:
        return float(value) if number and math.isfinite(value) else _REFUSED
    if kind is str:
        return value if isinstance(value, str) and value.strip() else _REFUSED
    if _is_tuple(kind):
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not all(isinstance(v, str) for v in items):
            return _REFUSED
        return tuple(v.strip() for v in items if v.strip())
    return value


def _shown(value: Any) -> str:
    """A value as the user would have typed it (JSON: ``"abc"``, ``-1``, ``true``, ``null``, ``NaN``)."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


@dataclasses.dataclass(frozen=True)
class Slot:
    """A place in a recipe that any fitting component can fill.

    Attributes:
        kind: the registry kind (``generator``, ``discriminator``, ``loss``), or ``module`` for a network
            the recipe builds itself from a reference (``default="pkg.mod:Factory"``; the factory gets
            the networks built before it as ``networks=``): CUT's feature sampler is one.
        default: the registry name (or reference, for ``module``) used unless the user picks another.
        options: the recipe's settings for whatever fills the slot (``norm="instance"``); options the
            chosen component does not take are dropped, and the user's ``--set`` wins.
        requires: facts of the component's contract that must hold for it to fit
            (``{"input_kind": "noise"}``, ``{"role": "adversarial"}``): the recipe's restriction.
        choices: when not empty, only these registry names fit.
        help: one line for ``--help``.
    """

    kind: str
    default: str
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    requires: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    choices: tuple[str, ...] = ()
    help: str = ""


@dataclasses.dataclass(frozen=True)
class Network:
    """One network the recipe trains: built from a slot's component, updated by an optimizer group.

    Attributes:
        name: what the step calls it (``gen_ab``); also its weights file name.
        slot: the role of the slot whose component it is (``generator``).
        group: the optimizer group that updates it (``G``); empty for a network no optimizer updates.
    """

    name: str
    slot: str
    group: str = ""


@dataclasses.dataclass(frozen=True)
class AuxLoss:
    """An auxiliary loss role (``cycle``, ``identity``, ``l1``, ``feature_matching``): any registered
    loss that fits can fill it, with options; the step asks for it by role.

    Attributes:
        default: the registry name of the loss used unless the user picks another (``--aux ROLE=LOSS``).
        weight: its weight (``--set ROLE=WEIGHT``); 0 switches the term off.
        options: the loss's options (``--set ROLE.OPTION=VALUE``).
        requires: contract facts a loss must have to fill it (default: not an adversarial loss).
    """

    default: str
    weight: float
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    requires: Mapping[str, Any] = dataclasses.field(default_factory=lambda: {"role": "reconstruction"})


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A GAN training recipe, declared as data.

    Attributes:
        name: what users type after ``ganzoo run``.
        summary: one line.
        paper: link to the paper.
        slots: the swappable parts by role (``generator``, ``discriminator``, ``loss``, ...); the
            adversarial loss fills the ``loss`` slot.
        networks: the networks it trains, each from a slot, with its optimizer group.
        step: the :class:`ganzoo.Step` subclass (or a ``"package.module:Name"`` reference to it).
        data_modes: the data modes it can train on, the first being the default.
        inference: what the trained model does, by direction: ``{"AtoB": "gen_ab", "BtoA": "gen_ba"}``
            for translation, ``{"sample": "gen"}`` for noise-to-image.
        aux: auxiliary loss roles.
        hparams: the step's own hyper-parameters with the paper's values (``pool_size``); the only keys
            ``--set`` accepts beyond the engine's and the data's settings.
        hparam_values: the type and range of each hyper-parameter (``{"pool_size": Value(int, min=0)}``),
            checked when a run is specified; an undeclared one takes any value.
        defaults: the paper's engine and data settings, in ``--set`` form (``{"lr": 2e-4,
            "batch_size": 1, "image_size": 256, "epochs": 200}``).
        optimizer_lr: the setting that holds each optimizer group's learning rate when it is not the
            shared ``lr`` (``{"D": "lr_d"}``): the recipe's own learning rate per group.
        toy: settings (in ``--set`` form, plus ``data``, and ``slots``: components it picks where the
            user picks none, ``{"loss": "hinge"}``) for training on the embedded toy set: a schedule that
            learns in minutes on a CPU. Component options here apply where the chosen component takes them.
        toy_targets: the least each named toy score should reach in the toy schedule's default run
            (``{"shape_accuracy": 0.9}``; :mod:`ganzoo.metrics.toy` says what each means): printed
            beside the scores, checked by the slow tests and by benchmarks/toy_matrix.py across seeds,
            threads and torch versions.
    """

    name: str
    summary: str
    paper: str
    slots: Mapping[str, Slot]
    networks: tuple[Network, ...]
    step: str | type
    data_modes: tuple[str, ...]
    inference: Mapping[str, str]
    aux: Mapping[str, AuxLoss] = dataclasses.field(default_factory=dict)
    hparams: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    hparam_values: Mapping[str, Value] = dataclasses.field(default_factory=dict)
    defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    optimizer_lr: Mapping[str, str] = dataclasses.field(default_factory=dict)
    toy: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    toy_targets: Mapping[str, float] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [n.name for n in self.networks]
        if len(set(names)) != len(names):
            raise ValueError(f"recipe {self.name!r} declares a network twice: {names}")
        for net in self.networks:
            if net.slot not in self.slots:
                raise ValueError(f"recipe {self.name!r}: network {net.name!r} comes from slot {net.slot!r}, "
                                 f"which it does not declare ({', '.join(self.slots)})")
        for direction, net in self.inference.items():
            if net not in names:
                raise ValueError(f"recipe {self.name!r}: inference {direction!r} names unknown network {net!r}")
        if not self.data_modes:
            raise ValueError(f"recipe {self.name!r} names no data mode")
        self._check_hparam_values()
        if self.toy_targets and not self.toy:
            raise ValueError(f"recipe {self.name!r} has toy_targets but no toy schedule")
        for key, value in self.toy_targets.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise ValueError(f"recipe {self.name!r}: toy_targets[{key!r}] must be a number, not {value!r}")

    def _check_hparam_values(self) -> None:
        """A declared hyper-parameter must exist, and the paper's value must pass its own declaration."""
        for key, allowed in self.hparam_values.items():
            if key not in self.hparams:
                raise ValueError(f"recipe {self.name!r} declares hparam_values[{key!r}] but has no hparam {key!r}")
            if not isinstance(allowed, Value):
                raise ValueError(f"recipe {self.name!r}: hparam_values[{key!r}] is not a ganzoo.Value")
            try:
                allowed.check(key, self.hparams[key])
            except UsageError as exc:
                raise ValueError(f"recipe {self.name!r}: its own hparam {exc}") from exc

    def step_class(self) -> type:
        """The step class, imported on first use."""
        return load_reference(self.step)

    @property
    def groups(self) -> list[str]:
        """The optimizer groups, in the order their networks are declared."""
        return list(dict.fromkeys(n.group for n in self.networks if n.group))

    def networks_of(self, slot: str) -> list[str]:
        return [n.name for n in self.networks if n.slot == slot]
