"""Named, swappable components: the registry of each kind and its entries.

A registry maps names (and aliases) to :class:`Entry` objects. It knows nothing about plugins except the
name of the plugin that registered each entry, which it needs to explain duplicates.

Name grammar:

- a plain name: lowercase letters, digits, ``-`` and ``_``, starting with a letter (``resnet9``,
  ``wgan-gp``, ``resnet_9blocks``);
- a family name, ``FAMILY:ARGUMENT``, for entries registered with ``family=True``: the argument is passed
  to the factory (``timm:resnet18`` builds a discriminator on timm's ``resnet18``);
- ``.`` is reserved for named pretrained weights (``resnet9.horse2zebra``) and never part of a name.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import inspect
import re
from typing import Any, Callable, Iterator

from ganzoo.errors import DuplicateComponentError, InvalidOptionError, UnknownComponentError

#: The kinds of component, in the order ``ganzoo list`` shows them.
KINDS: tuple[str, ...] = ("generator", "discriminator", "loss", "data_mode", "dataset", "recipe")
#: Words that name several kinds at once (``ganzoo list data``).
KIND_GROUPS: dict[str, tuple[str, ...]] = {"data": ("data_mode", "dataset")}

_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
_TAG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_KIND_ALIASES = {
    "gen": "generator",
    "generators": "generator",
    "disc": "discriminator",
    "discriminators": "discriminator",
    "losses": "loss",
    "modes": "data_mode",
    "datasets": "dataset",
    "data-mode": "data_mode",
    "data_modes": "data_mode",
    "data-modes": "data_mode",
    "recipes": "recipe",
}


def expand_kinds(kind: str) -> list[str]:
    """The kinds a word names: one kind, or a group such as ``data`` (data modes and data sets)."""
    group = KIND_GROUPS.get(kind.lower())
    return list(group) if group else [normalize_kind(kind)]


def normalize_kind(kind: str) -> str:
    """Return the canonical kind for ``kind`` (``gen``, ``generators`` -> ``generator``)."""
    canonical = _KIND_ALIASES.get(kind.lower(), kind.lower())
    if canonical not in KINDS:
        choices = ", ".join(KINDS)
        raise UnknownComponentError(f"unknown component kind {kind!r}; valid kinds: {choices}")
    return canonical


@dataclasses.dataclass(frozen=True)
class Pretrained:
    """Named weights for an entry, in timm's style: ``resnet9.horse2zebra`` is the ``resnet9``
    architecture with the weights of the model ``source`` names.

    Attributes:
        tag: what follows the dot.
        source: where the weights are, as :meth:`ganzoo.Model.from_pretrained` takes it
            (``hf-hub:ORG/NAME[@REVISION]``, ``reference:NAME``, a folder).
        summary: one line for ``ganzoo list --pretrained``.
        network: which network of that model (default: its A-to-B generator, or its only network).
    """

    tag: str
    source: str
    summary: str = ""
    network: str = ""

    @classmethod
    def coerce(cls, tag: str, value: Any) -> "Pretrained":
        if isinstance(value, Pretrained):
            return value
        if isinstance(value, str):
            return cls(tag=tag, source=value)
        return cls(tag=tag, **dict(value))


@dataclasses.dataclass(frozen=True)
class Entry:
    """One registered component.

    Attributes:
        name: the canonical name users type.
        kind: one of :data:`KINDS`.
        factory: the callable that builds the component (a class or a function); options are keywords.
        summary: one line that says what it is.
        paper: link to the paper (or page) that defines it.
        aliases: other names that resolve to this entry (the reference code's names, for example).
        plugin: the name of the plugin that registered it.
        family: if true, the entry answers to ``name:ARGUMENT`` and the factory takes the argument as its
            first positional parameter.
        example: a full name that builds a working instance (for families: one argument that works
            offline), used by docs and by the tests that sweep the registry.
        defaults: options applied before the caller's (a thin variant of a shared factory: ``resnet6``
            is the ResNet generator with ``n_blocks=6``).
        metadata: free-form facts other parts may use (the role of a loss, what a generator takes in).
        pretrained: named weights, by tag (``ENTRY.TAG``); see :class:`Pretrained`.
    """

    name: str
    kind: str
    factory: Callable[..., Any]
    summary: str
    paper: str = ""
    aliases: tuple[str, ...] = ()
    plugin: str = ""
    family: bool = False
    example: str = ""
    defaults: dict[str, Any] = dataclasses.field(default_factory=dict)
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)
    pretrained: dict[str, Pretrained] = dataclasses.field(default_factory=dict)

    def signature(self) -> inspect.Signature:
        """The factory's signature with this entry's defaults filled in (what ``ganzoo info`` shows)."""
        sig = inspect.signature(self.factory)
        params = []
        for param in sig.parameters.values():
            if param.name in self.defaults:
                param = param.replace(default=self.defaults[param.name])
            params.append(param)
        if self.family and params:
            params = params[1:]  # the family argument comes from the name, not from options
        return sig.replace(parameters=params)

    def option_names(self) -> list[str]:
        """The keyword options the factory accepts."""
        return [
            p.name
            for p in self.signature().parameters.values()
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]

    def build(self, argument: str | None = None, /, **options: Any) -> Any:
        """Call the factory with the entry's defaults, then ``options`` (checked against its signature)."""
        self._check_options(options)
        kwargs = {**self.defaults, **options}
        if self.family:
            if not argument:
                raise UnknownComponentError(
                    f"{self.kind} {self.name!r} is a family: name one member as {self.name}:NAME"
                    + (f", for example {self.example}" if self.example else "")
                )
            return self.factory(argument, **kwargs)
        if argument:
            raise UnknownComponentError(f"{self.kind} {self.name!r} takes no ':{argument}' suffix")
        return self.factory(**kwargs)

    def _check_options(self, options: dict[str, Any]) -> None:
        sig = self.signature()
        if any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
            return
        valid = self.option_names()
        for key in options:
            if key not in valid:
                close = difflib.get_close_matches(key, valid, n=3)
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                raise InvalidOptionError(
                    f"{self.kind} {self.name!r} has no option {key!r}{hint}; "
                    f"valid options: {', '.join(valid) or 'none'}"
                )


class Registry:
    """The entries of one kind, by canonical name and alias."""

    def __init__(self, kind: str) -> None:
        self.kind = normalize_kind(kind)
        self._entries: dict[str, Entry] = {}
        self._aliases: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(sorted(self._entries.values(), key=lambda e: e.name))

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            self.resolve(name)
        except UnknownComponentError:
            return False
        return True

    def add(self, entry: Entry, *, replace: bool = False) -> Entry:
        """Add ``entry``; a name or alias already taken is an error naming both plugins unless ``replace``."""
        if entry.kind != self.kind:
            raise ValueError(f"entry {entry.name!r} is a {entry.kind}, not a {self.kind}")
        for name in (entry.name, *entry.aliases):
            if not _NAME_RE.match(name):
                raise ValueError(
                    f"invalid {self.kind} name {name!r}: use lowercase letters, digits, '-' and '_', "
                    "starting with a letter"
                )
        for tag in entry.pretrained:
            if not _TAG_RE.match(tag):
                raise ValueError(f"invalid pretrained tag {entry.name}.{tag}: use lowercase letters, digits, "
                                 "'-' and '_'")
        for name in (entry.name, *entry.aliases):
            taken = self._owner(name)
            if taken is None or taken.name == entry.name and replace:
                continue
            if not replace:
                raise DuplicateComponentError(
                    f"{self.kind} name {name!r} from plugin {entry.plugin!r} is already registered by "
                    f"plugin {taken.plugin!r} (as {taken.name!r}); pass replace=True to override it"
                )
            self.remove(taken.name)
        if replace and entry.name in self._entries:
            self.remove(entry.name)
        self._entries[entry.name] = entry
        for alias in entry.aliases:
            self._aliases[alias] = entry.name
        return entry

    def remove(self, name: str) -> Entry:
        """Remove an entry (by canonical name) with its aliases and return it."""
        entry = self._entries.pop(name)
        for alias in entry.aliases:
            self._aliases.pop(alias, None)
        return entry

    def _owner(self, name: str) -> Entry | None:
        if name in self._entries:
            return self._entries[name]
        if name in self._aliases:
            return self._entries[self._aliases[name]]
        return None

    def resolve(self, name: str) -> tuple[Entry, str | None]:
        """Return ``(entry, family_argument)`` for a name, an alias or ``FAMILY:ARGUMENT``."""
        base, sep, argument = name.partition(":")
        entry = self._owner(base.strip().lower())
        if entry is not None and (not sep or entry.family):
            return entry, (argument if sep else None)
        if entry is not None:
            raise UnknownComponentError(f"{self.kind} {entry.name!r} takes no ':{argument}' suffix")
        raise UnknownComponentError(self._unknown_message(name))

    def get(self, name: str) -> Entry:
        """The entry a name (or alias, or family member) resolves to."""
        return self.resolve(name)[0]

    def pretrained(self, name: str) -> tuple[Entry, Pretrained]:
        """The entry and the named weights of ``NAME.TAG`` (with the entry's tags in the error when unknown)."""
        base, _, tag = name.partition(".")
        entry = self.get(base)
        if tag not in entry.pretrained:
            tags = ", ".join(f"{entry.name}.{t}" for t in sorted(entry.pretrained)) or "none"
            close = difflib.get_close_matches(tag, list(entry.pretrained), n=3)
            hint = f" (did you mean {', '.join(f'{entry.name}.{c}' for c in close)}?)" if close else ""
            raise UnknownComponentError(f"{self.kind} {entry.name!r} has no pretrained weights {tag!r}{hint}; "
                                        f"it has: {tags}")
        return entry, entry.pretrained[tag]

    def names(self, *, aliases: bool = False) -> list[str]:
        """Canonical names, sorted (with the aliases after them when asked)."""
        names = sorted(self._entries)
        return names + sorted(self._aliases) if aliases else names

    def find(self, pattern: str | None = None) -> list[Entry]:
        """Entries whose name or an alias matches a shell-style pattern (all when ``pattern`` is None)."""
        if not pattern:
            return list(self)
        pattern = pattern.lower()
        return [
            e
            for e in self
            if any(fnmatch.fnmatchcase(n, pattern) for n in (e.name, *e.aliases))
        ]

    def _unknown_message(self, name: str) -> str:
        choices = self.names()
        close = difflib.get_close_matches(name.lower(), self.names(aliases=True), n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        listed = ", ".join(n + (":NAME" if self._entries[n].family else "") for n in choices)
        return f"unknown {self.kind} {name!r}{hint}; valid {self.kind}s: {listed or '(none registered)'}"
