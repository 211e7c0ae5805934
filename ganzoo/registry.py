"""Named, swappable components: the registry of each kind and its entries.

A registry maps names (and aliases) to :class:`Entry` objects. It knows nothing about plugins except the
name of the plugin that registered each entry, which it needs to explain duplicates.

Names follow the grammar of :mod:`ganzoo.names`; :meth:`Registry.lookup` resolves one.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import inspect
from typing import Any, Callable, Iterator

from ganzoo.errors import DuplicateComponentError, InvalidOptionError, UnknownComponentError
from ganzoo.names import NAME_RE, TAG_RE, ComponentName, parse_name

#: The kinds of component, in the order ``ganzoo list`` shows them.
KINDS: tuple[str, ...] = ("generator", "discriminator", "loss", "data_mode", "dataset", "recipe")
#: Words that name several kinds at once (``ganzoo list data``).
KIND_GROUPS: dict[str, tuple[str, ...]] = {"data": ("data_mode", "dataset")}

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
            self.lookup(name)
        except UnknownComponentError:
            return False
        return True

    def add(self, entry: Entry, *, replace: bool = False) -> Entry:
        """Add ``entry``; a name or alias already taken is an error naming both plugins unless ``replace``."""
        if entry.kind != self.kind:
            raise ValueError(f"entry {entry.name!r} is a {entry.kind}, not a {self.kind}")
        for name in (entry.name, *entry.aliases):
            if not NAME_RE.match(name):
                raise ValueError(
                    f"invalid {self.kind} name {name!r}: use lowercase letters, digits, '-' and '_', "
                    "starting with a letter"
                )
        for tag in entry.pretrained:
            if not TAG_RE.match(tag):
                raise ValueError(f"invalid pretrained tag {entry.name}.{tag}: use lowercase letters, digits, "
                                 "'-' and '_'")
        clashes = self.clashes(entry)
        if clashes and not replace:
            taken, name = clashes[0]
            raise DuplicateComponentError(duplicate_message(self.kind, name, newcomer=entry, holder=taken))
        for taken, _ in clashes:
            if taken.name in self._entries:
                self.remove(taken.name)
        self._entries[entry.name] = entry
        for alias in entry.aliases:
            self._aliases[alias] = entry.name
        return entry

    def clashes(self, entry: Entry) -> list[tuple[Entry, str]]:
        """The entries already holding ``entry``'s name or one of its aliases, with the name they hold."""
        found = [(self._owner(name), name) for name in (entry.name, *entry.aliases)]
        return [(taken, name) for taken, name in found if taken is not None]

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

    def lookup(self, name: str | ComponentName) -> tuple[Entry, ComponentName]:
        """The entry a name resolves to, with the name as parsed.

        For a family, a trailing ``.TAG`` of the argument counts as a tag only when the entry has weights
        of that tag (``timm:resnet18.a1_in1k`` is timm's model ``resnet18.a1_in1k``); a tag on any other
        entry must be one it has.
        """
        parsed = parse_name(name) if isinstance(name, str) else name
        if parsed.source is not None:
            raise UnknownComponentError(f"{parsed.source!r} names a saved model, not a registered {self.kind}")
        entry = self._owner(parsed.base)
        if entry is None:
            raise UnknownComponentError(self._unknown_message(str(parsed)))
        if parsed.argument is not None and not entry.family:
            raise UnknownComponentError(f"{self.kind} {entry.name!r} takes no ':{parsed.argument}' suffix")
        if entry.family and parsed.argument and parsed.tag is None:
            head, dot, last = parsed.argument.rpartition(".")
            if dot and head and last.lower() in entry.pretrained:
                parsed = dataclasses.replace(parsed, argument=head, tag=last.lower())
        if parsed.tag is not None and parsed.tag not in entry.pretrained:
            tags = ", ".join(f"{entry.name}.{t}" for t in sorted(entry.pretrained)) or "none"
            close = difflib.get_close_matches(parsed.tag, list(entry.pretrained), n=3)
            hint = f" (did you mean {', '.join(f'{entry.name}.{c}' for c in close)}?)" if close else ""
            raise UnknownComponentError(f"{self.kind} {entry.name!r} has no pretrained weights {parsed.tag!r}"
                                        f"{hint}; it has: {tags}")
        return entry, parsed

    def resolve(self, name: str) -> tuple[Entry, str | None]:
        """Return ``(entry, family_argument)`` for a component name (no weights tag: use :meth:`lookup`)."""
        entry, parsed = self.lookup(name)
        if parsed.tag is not None:
            raise UnknownComponentError(f"{name!r} names pretrained weights; only a {self.kind} name fits here "
                                        f"({entry.name}" + (f":{parsed.argument}" if parsed.argument else "") + ")")
        return entry, parsed.argument

    def get(self, name: str) -> Entry:
        """The entry a name (or alias, family member, or ``NAME.TAG``) resolves to."""
        return self.lookup(name)[0]

    def pretrained(self, name: str) -> tuple[Entry, Pretrained]:
        """The entry and the named weights of ``NAME.TAG`` (with the entry's tags in the error when unknown)."""
        entry, parsed = self.lookup(name)
        if parsed.tag is None:
            tags = ", ".join(f"{entry.name}.{t}" for t in sorted(entry.pretrained)) or "none"
            raise UnknownComponentError(f"{name!r} names no pretrained weights (NAME.TAG); {entry.name} has: {tags}")
        return entry, entry.pretrained[parsed.tag]

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


def duplicate_message(kind: str, name: str, *, newcomer: Entry, holder: Entry) -> str:
    """The error of two plugins claiming one name: it names both, and how to override."""
    return (f"{kind} name {name!r} from plugin {newcomer.plugin!r} is already registered by plugin "
            f"{holder.plugin!r} (as {holder.name!r}); pass replace=True to override it")
