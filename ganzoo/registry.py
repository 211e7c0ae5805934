"""Named, swappable components: the registry of each kind and its entries.

A registry maps names (and aliases) to :class:`Entry` objects. It knows nothing about plugins except the
name of the plugin that registered each entry, which it needs to explain duplicates. Names follow the
grammar of :mod:`ganzoo.names`; :meth:`Registry.lookup` resolves one.

An entry holds its factory *by reference*: ``"package.module:Qualname"`` (or a callable already at hand).
The module is imported when the component is first built, never when it is listed, so ``ganzoo list``
and ``ganzoo info`` run without importing torch: ``info`` reads the factory's signature and docstring
from its source file (:func:`read_factory_source`), and imports only what that reading cannot follow.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import fnmatch
import functools
import importlib
import inspect
import re
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

from ganzoo.errors import DuplicateComponentError, InvalidOptionError, PluginError, UnknownComponentError
from ganzoo.names import NAME_RE, TAG_RE, ComponentName, parse_name

#: The kinds of component, in the order ``ganzoo list`` shows them.
KINDS: tuple[str, ...] = ("generator", "discriminator", "loss", "data_mode", "dataset", "recipe", "logger")
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
    "loggers": "logger",
}
_REFERENCE_RE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")

Factory = Callable[..., Any]


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


# -- factory references -------------------------------------------------------------------------


def check_reference(reference: str) -> None:
    """Raise ``ValueError`` unless ``reference`` reads ``package.module:Qualname``."""
    if not _REFERENCE_RE.match(reference):
        raise ValueError(f"invalid factory reference {reference!r}: write 'package.module:Qualname'")


def load_reference(reference: str) -> Factory:
    """Import the object ``package.module:Qual.name`` names."""
    module, _, qualname = reference.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


@dataclasses.dataclass(frozen=True)
class FactoryInfo:
    """What ``ganzoo info`` shows of a factory: its signature (names, kinds and defaults of the
    parameters; annotations are left out so that reading the source and importing agree) and its own
    docstring (cleaned, not inherited)."""

    signature: inspect.Signature
    doc: str


def inspect_factory(factory: Factory) -> FactoryInfo:
    """The :class:`FactoryInfo` of an imported factory."""
    sig = inspect.signature(factory)
    sig = sig.replace(parameters=[p.replace(annotation=p.empty) for p in sig.parameters.values()],
                      return_annotation=sig.empty)
    target = factory
    while isinstance(target, functools.partial):
        target = target.func
    return FactoryInfo(sig, inspect.cleandoc(target.__doc__ or ""))


def read_factory_source(reference: str) -> FactoryInfo | None:
    """The :class:`FactoryInfo` of ``package.module:Qualname`` read from the module's source, without
    importing it; None when the source cannot say for sure (no ``.py`` file, a decorator, an inherited
    ``__init__``, ``__new__`` or a metaclass, a name bound by assignment, a default that is not a literal).
    """
    module, _, qualname = reference.partition(":")
    path = _module_file(module)
    if path is None:
        return None
    body: list[ast.stmt] = _parse(path).body
    node: ast.AST | None = None
    for i, part in enumerate(qualname.split(".")):
        node = _binding(body, part)
        if node is None or (not isinstance(node, ast.ClassDef) and i < len(qualname.split(".")) - 1):
            return None
        body = getattr(node, "body", [])
    if isinstance(node, ast.ClassDef):
        return _class_info(node, _parse(path).body)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.decorator_list:
        sig = _signature(node.args)
        return None if sig is None else FactoryInfo(sig, ast.get_docstring(node) or "")
    return None


def _module_file(module: str) -> Path | None:
    """The ``.py`` file of ``module``, found without executing it or its parent packages."""
    spec = _find_spec(module)
    origin = getattr(spec, "origin", None)
    return Path(origin) if origin and origin.endswith(".py") else None


def _find_spec(module: str) -> Any:
    parent, _, _ = module.rpartition(".")
    search = None
    if parent:
        package = sys.modules.get(parent)
        search = getattr(package, "__path__", None) if package is not None else \
            getattr(_find_spec(parent), "submodule_search_locations", None)
        if search is None:
            return None
    for finder in sys.meta_path:
        try:
            spec = finder.find_spec(module, search)
        except (AttributeError, ImportError, ValueError):
            continue
        if spec is not None:
            return spec
    return None


@functools.lru_cache(maxsize=64)
def _parse_cached(path: Path, mtime_ns: int) -> ast.Module:
    return ast.parse(path.read_bytes(), filename=str(path))


def _parse(path: Path) -> ast.Module:
    return _parse_cached(path, path.stat().st_mtime_ns)


def _binding(body: list[ast.stmt], name: str) -> ast.AST | None:
    """The last top-level statement of ``body`` that binds ``name`` (a def, a class, or anything else)."""
    found: ast.AST | None = None
    for stmt in body:
        if isinstance(stmt, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name:
            found = stmt
        elif name in _bound_names(stmt):
            found = stmt
    return found


def _bound_names(stmt: ast.stmt) -> set[str]:
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in stmt.names}
    targets: list[ast.expr] = []
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        targets = [stmt.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _class_info(node: ast.ClassDef, module_body: list[ast.stmt]) -> FactoryInfo | None:
    """A class's own docstring and the signature of the ``__init__`` it runs: its own, or that of the
    nearest base class defined in the same module (single inheritance only)."""
    cls = node
    for _ in range(16):
        if cls.decorator_list or any(k.arg == "metaclass" for k in cls.keywords):
            return None
        if _binding(cls.body, "__new__") is not None or _binding(cls.body, "__signature__") is not None:
            return None
        init = _binding(cls.body, "__init__")
        if init is not None:
            break
        base = _binding(module_body, cls.bases[0].id) if len(cls.bases) == 1 and \
            isinstance(cls.bases[0], ast.Name) else None
        if not isinstance(base, ast.ClassDef):
            return None
        cls = base
    else:
        return None
    if not isinstance(init, ast.FunctionDef) or init.decorator_list:
        return None
    sig = _signature(init.args)
    if sig is None or not sig.parameters:
        return None
    params = list(sig.parameters.values())
    if params[0].kind not in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
        return None
    return FactoryInfo(sig.replace(parameters=params[1:]), ast.get_docstring(node) or "")


def _signature(args: ast.arguments) -> inspect.Signature | None:
    P = inspect.Parameter
    positional = [*args.posonlyargs, *args.args]
    defaults: list[Any] = [P.empty] * (len(positional) - len(args.defaults))
    try:
        defaults += [ast.literal_eval(d) for d in args.defaults]
        kw_defaults = [P.empty if d is None else ast.literal_eval(d) for d in args.kw_defaults]
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None  # a default computed at import time: only importing tells its value
    params = [P(a.arg, P.POSITIONAL_ONLY if i < len(args.posonlyargs) else P.POSITIONAL_OR_KEYWORD, default=d)
              for i, (a, d) in enumerate(zip(positional, defaults))]
    if args.vararg:
        params.append(P(args.vararg.arg, P.VAR_POSITIONAL))
    params += [P(a.arg, P.KEYWORD_ONLY, default=d) for a, d in zip(args.kwonlyargs, kw_defaults)]
    if args.kwarg:
        params.append(P(args.kwarg.arg, P.VAR_KEYWORD))
    return inspect.Signature(params)


# -- entries ------------------------------------------------------------------------------------


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
        plugin: the plugin that registered these weights (not always the entry's).
    """

    tag: str
    source: str
    summary: str = ""
    network: str = ""
    plugin: str = ""

    @classmethod
    def coerce(cls, tag: str, value: Any, *, plugin: str = "") -> "Pretrained":
        if isinstance(value, Pretrained):
            return value
        if isinstance(value, str):
            return cls(tag=tag, source=value, plugin=plugin)
        return cls(tag=tag, plugin=plugin, **dict(value))


@dataclasses.dataclass(frozen=True)
class Entry:
    """One registered component.

    Attributes:
        name: the canonical name users type.
        kind: one of :data:`KINDS`.
        factory_ref: what builds the component: ``"package.module:Qualname"`` (imported on first use) or
            a callable; options are keywords. :attr:`factory` is the loaded callable.
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
        metadata: free-form facts about the entry itself (what a component *is* -- a generator's input,
            a loss's role -- is read from its class, never from here). ``prefix`` is the scheme a user
            types before the name (``toy:`` for the embedded toy sets); listings show it.
        pretrained: named weights, by tag (``ENTRY.TAG``); see :class:`Pretrained`.
    """

    name: str
    kind: str
    factory_ref: str | Factory
    summary: str = ""
    paper: str = ""
    aliases: tuple[str, ...] = ()
    plugin: str = ""
    family: bool = False
    example: str = ""
    defaults: dict[str, Any] = dataclasses.field(default_factory=dict)
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)
    pretrained: dict[str, Pretrained] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.factory_ref, str):
            check_reference(self.factory_ref)
        elif not callable(self.factory_ref):
            raise TypeError(f"{self.kind} {self.name!r}: the factory must be a callable or "
                            f"'package.module:Qualname', not {type(self.factory_ref).__name__}")

    @property
    def shown(self) -> str:
        """The name as listings show it, spelled as a user types it: ``timm:NAME`` for a family,
        ``toy:day2night`` for an entry with a ``prefix``."""
        return self.metadata.get("prefix", "") + self.name + (":NAME" if self.family else "")

    @functools.cached_property
    def factory(self) -> Factory:
        """The factory, imported (once) from :attr:`factory_ref` when it is a reference."""
        if not isinstance(self.factory_ref, str):
            return self.factory_ref
        try:
            return load_reference(self.factory_ref)
        except Exception as exc:  # a missing dependency or a wrong reference: the plugin's fault
            raise PluginError(f"{self.kind} {self.name!r} from plugin {self.plugin!r}: cannot import "
                              f"{self.factory_ref}: {type(exc).__name__}: {exc}") from exc

    @functools.cached_property
    def _info(self) -> FactoryInfo:
        # A factory already imported is inspected (it costs nothing); otherwise its source is read.
        if isinstance(self.factory_ref, str) and "factory" not in self.__dict__ \
                and self.factory_ref.partition(":")[0] not in sys.modules:
            info = read_factory_source(self.factory_ref)
            if info is not None:
                return info
        return inspect_factory(self.factory)

    def doc(self) -> str:
        """The factory's own docstring, cleaned (what ``ganzoo info`` shows after the signature)."""
        return self._info.doc

    def signature(self) -> inspect.Signature:
        """The factory's signature with this entry's defaults filled in (what ``ganzoo info`` shows)."""
        sig = self._info.signature
        params = [p.replace(default=self.defaults[p.name]) if p.name in self.defaults else p
                  for p in sig.parameters.values()]
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


# -- registries ---------------------------------------------------------------------------------


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
        if entry is None and parsed.argument is not None:  # ``toy:day2night``: the name as listings show it
            prefixed = self._owner(parsed.argument.lower())
            if prefixed is not None and prefixed.metadata.get("prefix") == f"{parsed.base}:":
                entry, parsed = prefixed, dataclasses.replace(parsed, base=prefixed.name, argument=None)
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
            if any(fnmatch.fnmatchcase(n, pattern) for n in (e.name, e.shown, *e.aliases))
        ]

    def _unknown_message(self, name: str) -> str:
        choices = self.names()
        close = difflib.get_close_matches(name.lower(), self.names(aliases=True), n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        listed = ", ".join(self._entries[n].shown for n in choices)
        return f"unknown {self.kind} {name!r}{hint}; valid {self.kind}s: {listed or '(none registered)'}"


def duplicate_message(kind: str, name: str, *, newcomer: Entry, holder: Entry) -> str:
    """The error of two plugins claiming one name: it names both, and how to override."""
    return (f"{kind} name {name!r} from plugin {newcomer.plugin!r} is already registered by plugin "
            f"{holder.plugin!r} (as {holder.name!r}); pass replace=True to override it")
