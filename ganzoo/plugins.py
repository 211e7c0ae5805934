"""The plugin manager: built-ins first, then entry points of group ``ganzoo``, then one-off plugin files.

Plugins load lazily, on the first registry or CLI use, never at ``import ganzoo``. pluggy dispatches every
hook, so ``tryfirst``, ``trylast`` and hook wrappers work as pluggy documents; the built-ins are
``tryfirst`` (they register before any plugin) and components registered from Python ``trylast``. Each
plugin is isolated: every hook implementation is wrapped when its plugin registers, so that the call
records which plugin is registering and catches that plugin's exceptions. A plugin that fails to import,
or raises in a registration hook, is skipped with a one-line warning naming it (its registrations are
withdrawn) and reported as failed by ``ganzoo plugins``; everything else keeps working.

Environment switches (read at load time):

- ``GANZOO_PLUGINS``: comma-separated plugin names; only these third-party plugins load (an empty value
  loads none). The built-in components always load.
- ``GANZOO_DISABLE_PLUGINS``: comma-separated plugin names that never load.
- ``GANZOO_STRICT_PLUGINS``: ``1`` makes any plugin failure raise :class:`~ganzoo.errors.PluginError`
  (for plugin authors' CI).
- ``GANZOO_PLUGINS_DIR``: folders (separated by ``os.pathsep``) whose ``*.py`` files load as plugins;
  the CLI's ``--plugins-dir`` adds to it.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import difflib
import functools
import importlib
import importlib.metadata
import importlib.util
import logging
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import pluggy

from ganzoo import DISTRIBUTION, hookspecs
from ganzoo.errors import DuplicateComponentError, GanzooError, PluginError
from ganzoo.names import TAG_RE
from ganzoo.registry import KINDS, Entry, Pretrained, Registry, duplicate_message, normalize_kind

ENTRY_POINT_GROUP = "ganzoo"
BUILTIN_PLUGIN = "ganzoo"
SESSION_PLUGIN = "__session__"

#: The registration hook of each kind of component.
REGISTRATION_HOOKS: dict[str, str] = {
    "generator": "ganzoo_register_generators",
    "discriminator": "ganzoo_register_discriminators",
    "loss": "ganzoo_register_losses",
    "data_mode": "ganzoo_register_data_modes",
    "dataset": "ganzoo_register_datasets",
    "recipe": "ganzoo_register_recipes",
    "logger": "ganzoo_register_loggers",
}
#: The hooks a run calls to tell plugins (loggers) what happens: see :meth:`PluginHost.notify`.
EVENT_HOOKS: tuple[str, ...] = ("ganzoo_run_start", "ganzoo_log", "ganzoo_samples", "ganzoo_checkpoint",
                                "ganzoo_evaluation", "ganzoo_run_end")

#: Every hook a plugin may implement.
HOOK_NAMES: tuple[str, ...] = tuple(sorted(n for n in dir(hookspecs) if n.startswith(f"{hookspecs.PROJECT}_")))

logger = logging.getLogger(__name__)

#: The plugin whose hook implementation is running: ``register`` callbacks record it as the entry's owner.
_CURRENT_PLUGIN: contextvars.ContextVar[str] = contextvars.ContextVar("ganzoo_current_plugin")


@dataclasses.dataclass
class PluginInfo:
    """What ``ganzoo plugins`` reports about one plugin."""

    name: str
    source: str  # "builtin", "entry point", "plugins dir", "session" or "temporary" (added for a run)
    version: str = ""
    status: str = "loaded"  # "loaded", "failed" or "disabled"
    error: str = ""
    hooks: list[str] = dataclasses.field(default_factory=list)
    location: str = ""
    distribution: str = ""  # what to ``pip install`` to get it (entry-point plugins)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _env_list(var: str) -> list[str] | None:
    value = os.environ.get(var)
    if value is None:
        return None
    return [item.strip() for item in value.split(",") if item.strip()]


def _env_flag(var: str) -> bool:
    return os.environ.get(var, "").strip().lower() in {"1", "true", "yes", "on"}


class _SessionPlugin:
    """Holds components registered from Python (a notebook, a script) so that rebuilding the registries
    from the hooks replays them like any plugin's."""

    def __init__(self) -> None:
        self.registrations: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}

    def _replay(self, kind: str, register: Callable[..., Any]) -> None:
        for call in self.registrations[kind]:
            register(**call)

    @hookspecs.hookimpl(trylast=True)
    def ganzoo_register_generators(self, register):
        self._replay("generator", register)

    @hookspecs.hookimpl(trylast=True)
    def ganzoo_register_discriminators(self, register):
        self._replay("discriminator", register)

    @hookspecs.hookimpl(trylast=True)
    def ganzoo_register_losses(self, register):
        self._replay("loss", register)

    @hookspecs.hookimpl(trylast=True)
    def ganzoo_register_data_modes(self, register):
        self._replay("data_mode", register)

    @hookspecs.hookimpl(trylast=True)
    def ganzoo_register_datasets(self, register):
        self._replay("dataset", register)

    @hookspecs.hookimpl(trylast=True)
    def ganzoo_register_recipes(self, register):
        self._replay("recipe", register)

    @hookspecs.hookimpl(trylast=True)
    def ganzoo_register_loggers(self, register):
        self._replay("logger", register)


class PluginHost:
    """The plugin manager, the plugins' load reports, and the registries they fill."""

    def __init__(self, *, plugin_dirs: Iterable[str | os.PathLike[str]] = ()) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self.registries: dict[str, Registry] = {kind: Registry(kind) for kind in KINDS}
        self.session = _SessionPlugin()
        self.strict = _env_flag("GANZOO_STRICT_PLUGINS")
        self._plugin_dirs = [Path(d) for d in plugin_dirs]
        self._replacing: set[tuple[str, str]] = set()  # (kind, name) a plugin registered with replace=True
        self._muted: set[tuple[str, str]] = set()  # (plugin, event hook) that raised: not called again
        self.generation = 0  # counts rebuilds, so that what was derived from the registries can tell it is stale
        self.reference_models: dict[str, Any] = {}  # RECIPE/NAME -> ganzoo.hub.reference.ReferenceModel
        self._reference_owners: dict[str, str] = {}

    # -- loading -------------------------------------------------------------------------------

    def load(self) -> None:
        """Load every plugin, then fill the registries from their hooks."""
        only = _env_list("GANZOO_PLUGINS")
        disabled = set(_env_list("GANZOO_DISABLE_PLUGINS") or [])
        self._load_module(BUILTIN_PLUGIN, "ganzoo.builtin", source="builtin", version=_version(DISTRIBUTION))
        for ep in _entry_points():
            if self._skip(ep.name, only, disabled, source="entry point", location=ep.value):
                continue
            dist = getattr(ep, "dist", None)
            self._load(
                ep.name,
                ep.load,
                source="entry point",
                version=dist.version if dist is not None else "",
                location=ep.value,
                distribution=dist.name if dist is not None else "",
            )
        env_dirs = [Path(d) for d in os.environ.get("GANZOO_PLUGINS_DIR", "").split(os.pathsep) if d]
        for folder in [*env_dirs, *self._plugin_dirs]:
            self._load_files(folder)
        self.infos[SESSION_PLUGIN] = PluginInfo(SESSION_PLUGIN, "session")
        self._register(self.session, SESSION_PLUGIN)
        self.rebuild()

    def _skip(self, name: str, only: list[str] | None, disabled: set[str], *, source: str,
              location: str = "") -> bool:
        if name in self.infos:
            self._refuse(name, source=source, location=location)
            return True
        if name in disabled or (only is not None and name not in only):
            self.infos[name] = PluginInfo(name, source, status="disabled", error="disabled by environment")
            return True
        return False

    def _refuse(self, name: str, *, source: str, location: str = "") -> None:
        """Report a plugin whose name another plugin holds; the holder keeps its name and its components."""
        holder = self.infos[name]
        message = f"the plugin name {name!r} is taken by the {holder.source} plugin" + \
            (f" at {holder.location}" if holder.location else "")
        self.infos[f"{name} ({location or source})"] = PluginInfo(name, source, status="failed", error=message,
                                                                  location=location)
        if self.strict:
            raise PluginError(f"plugin {name!r} from {location or source}: {message}")
        logger.warning("ganzoo: skipping plugin %r from %s: %s", name, location or source, message)

    def add_plugins_dir(self, folder: str | os.PathLike[str]) -> None:
        """Load the ``*.py`` plugin files of ``folder`` into this host and register their components,
        keeping every plugin already loaded and every component registered from Python."""
        self._plugin_dirs.append(Path(folder))
        self._load_files(Path(folder))
        self.rebuild()

    def _load_files(self, folder: Path) -> None:
        """Load each ``*.py`` file of ``folder`` (except ``_private.py`` ones) as a plugin named after it."""
        if not folder.is_dir():
            raise PluginError(f"plugins folder {str(folder)!r} does not exist or is not a folder")
        only = _env_list("GANZOO_PLUGINS")
        disabled = set(_env_list("GANZOO_DISABLE_PLUGINS") or [])
        for path in sorted(p for p in folder.glob("*.py") if not p.name.startswith("_")):
            if not self._skip(path.stem, only, disabled, source="plugins dir", location=str(path)):
                self._load(path.stem, lambda p=path: _import_file(p), source="plugins dir", location=str(path))

    def _load_module(self, name: str, module: str, *, source: str, version: str = "") -> None:
        self._load(name, lambda: importlib.import_module(module), source=source, version=version,
                   distribution=DISTRIBUTION)

    def _load(self, name: str, importer: Callable[[], Any], *, source: str, version: str = "",
              location: str = "", distribution: str = "") -> None:
        info = PluginInfo(name, source, version=version, location=location, distribution=distribution)
        self.infos[name] = info
        try:
            plugin = importer()
            self._register(plugin, name)
        except PluginError as exc:
            self._fail(name, str(exc))
            return
        except Exception as exc:  # a broken plugin must never break ganzoo
            self._fail(name, f"failed to load: {type(exc).__name__}: {exc}")
            return
        info.hooks = sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or [])

    def _register(self, plugin: Any, name: str) -> None:
        """Register ``plugin`` with pluggy and wrap each of its hook implementations in isolation.

        Raises:
            PluginError: the plugin implements a hook no specification declares (a misspelled
                ``ganzoo_register_generator`` would otherwise load and silently register nothing).
        """
        self.pm.register(plugin, name=name)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError:
            unknown = sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or []
                             if not caller.has_spec())
            hints = [difflib.get_close_matches(hook, HOOK_NAMES, n=1) for hook in unknown]
            raise PluginError("implements unknown hook " + ", ".join(
                f"{hook!r}" + (f" (did you mean {hint[0]}?)" if hint else "") for hook, hint in zip(unknown, hints)
            )) from None
        for caller in self.pm.get_hookcallers(plugin) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin_name == name:
                    isolate(impl, caller.name, self)

    def _fail(self, name: str, message: str) -> None:
        info = self.infos.setdefault(name, PluginInfo(name, "unknown"))
        info.status, info.error = "failed", message
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)
        for registry in self.registries.values():
            for entry in list(registry):
                if entry.plugin == name:
                    registry.remove(entry.name)
                for tag in [t for t, w in entry.pretrained.items() if w.plugin == name]:
                    del entry.pretrained[tag]
        for key in [k for k, owner in self._reference_owners.items() if owner == name]:
            self.reference_models.pop(key, None)
            del self._reference_owners[key]
        if self.strict:
            raise PluginError(f"plugin {name!r} {message}")
        logger.warning("ganzoo: skipping plugin %r: %s", name, message)

    # -- hooks ---------------------------------------------------------------------------------

    def rebuild(self) -> None:
        """Empty the registries and fill them again by calling every loaded plugin's hooks."""
        self.registries = {kind: Registry(kind) for kind in KINDS}
        self.reference_models, self._reference_owners = {}, {}
        self._replacing.clear()
        self.generation += 1
        for kind, hook in REGISTRATION_HOOKS.items():
            getattr(self.pm.hook, hook)(register=self._registrar(kind))
        self.pm.hook.ganzoo_register_weights(register=self._register_weights)
        self.pm.hook.ganzoo_register_reference_models(register=self._register_reference_model)

    def active(self, name: str, hook: str | None = None) -> bool:
        """Whether the plugin ``name`` is loaded and has not failed (nor, for an event ``hook``, failed in it)."""
        info = self.infos.get(name)
        return info is not None and info.status == "loaded" and (name, hook) not in self._muted

    def hook_failed(self, name: str, hook: str, exc: Exception) -> None:
        """What isolation does when a plugin's hook implementation raises.

        In a registration hook the plugin fails (its registrations are withdrawn). In an event hook only
        that implementation is dropped, with one warning: a logger that breaks must not stop training,
        nor take the components of its plugin away from a run that uses them.
        """
        what = f"{hook}: {exc}" if isinstance(exc, GanzooError) else f"raised in {hook}: {type(exc).__name__}: {exc}"
        if hook not in EVENT_HOOKS:
            self._fail(name, what)
            return
        self._muted.add((name, hook))
        if self.strict:
            raise PluginError(f"plugin {name!r} {what}") from exc
        logger.warning("ganzoo: plugin %r %s; it is not called for %s again", name, what, hook)

    def notify(self, hook_name: str, **kwargs: Any) -> None:
        """Call an event hook (:data:`EVENT_HOOKS`) on every plugin, each in isolation (see :meth:`hook_failed`)."""
        if hook_name not in EVENT_HOOKS:
            raise ValueError(f"{hook_name!r} is not an event hook; events: {', '.join(EVENT_HOOKS)}")
        getattr(self.pm.hook, hook_name)(**kwargs)

    @contextlib.contextmanager
    def temporary_plugin(self, plugin: Any, *, name: str) -> Iterator[None]:
        """Register ``plugin`` for the duration of a ``with`` block: how a run adds the logger objects it
        built. Such a plugin implements event hooks only; its name must be free.

        Raises:
            PluginError: the name is taken, or the plugin implements a registration hook or an unknown one.
        """
        if name in self.infos:
            raise PluginError(f"the plugin name {name!r} is taken by the {self.infos[name].source} plugin")
        info = self.infos[name] = PluginInfo(name, "temporary")
        try:
            self._register(plugin, name)
            info.hooks = sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or [])
            if set(info.hooks) - set(EVENT_HOOKS):
                raise PluginError(f"a plugin registered for a run implements event hooks only, not "
                                  f"{', '.join(sorted(set(info.hooks) - set(EVENT_HOOKS)))}")
            yield
        finally:
            if self.pm.get_plugin(name) is not None:
                self.pm.unregister(name=name)
            del self.infos[name]
            self._muted = {(p, h) for p, h in self._muted if p != name}

    def _registrar(self, kind: str) -> Callable[..., Entry]:
        """The ``register`` callback of one kind's hook; it records the plugin whose hook is calling."""

        def register(factory: str | Callable[..., Any], **options: Any) -> Entry:
            return self.add_entry(kind, factory, plugin=_current_plugin(REGISTRATION_HOOKS[kind]), **options)

        return register

    def add_entry(self, kind: str, factory: str | Callable[..., Any], *, plugin: str, name: str | None = None,
                  summary: str | None = None, paper: str = "", aliases: Iterable[str] = (), family: bool = False,
                  example: str = "", defaults: dict[str, Any] | None = None, replace: bool = False,
                  pretrained: dict[str, Any] | None = None, **metadata: Any) -> Entry:
        """Add one component to the registry of ``kind`` on behalf of ``plugin`` (what ``register`` does).

        A name already taken is an error of whichever of the two plugins loaded later: pluggy's call order
        (``tryfirst``, hook wrappers) decides who registers first, never who keeps a name.
        """
        registry = self.registries[kind]
        entry = make_entry(kind, factory, plugin=plugin, name=name, summary=summary, paper=paper, aliases=aliases,
                           family=family, example=example, defaults=defaults, metadata=metadata,
                           pretrained=pretrained)
        for holder, taken in registry.clashes(entry):
            if replace or holder.plugin == plugin or self._rank(holder.plugin) < self._rank(plugin):
                continue
            if (kind, holder.name) in self._replacing:
                return holder  # the later plugin replaced this name before this registration came
            self._fail(holder.plugin, f"{REGISTRATION_HOOKS[kind]}: "
                                      + duplicate_message(kind, taken, newcomer=holder, holder=entry))
        added = registry.add(entry, replace=replace)
        if replace:
            self._replacing.add((kind, added.name))
        return added

    def _register_weights(self, kind: str, name: str, *, tag: str, source: str, summary: str = "",
                          network: str = "") -> Pretrained:
        """The ``register`` of ``ganzoo_register_weights``: attach ``NAME.TAG`` to an existing entry."""
        plugin = _current_plugin("ganzoo_register_weights")
        entry = self.registries[normalize_kind(kind)].get(name)
        if not TAG_RE.match(tag):
            raise ValueError(f"invalid pretrained tag {entry.name}.{tag}: use lowercase letters, digits, '-' and '_'")
        holder = entry.pretrained.get(tag)
        if holder is not None:  # as for entries, the plugin loaded later is the one at fault
            holder_plugin = holder.plugin or entry.plugin
            first, second = sorted((plugin, holder_plugin), key=self._rank)
            message = f"weights {entry.name}.{tag} from plugin {second!r} are already registered by plugin {first!r}"
            if second == plugin:
                raise DuplicateComponentError(message)
            self._fail(holder_plugin, f"ganzoo_register_weights: {message}")
        weights = Pretrained(tag, source, summary=summary, network=network, plugin=plugin)
        entry.pretrained[tag] = weights
        return weights

    def _register_reference_model(self, model: Any) -> None:
        """The ``register`` of ``ganzoo_register_reference_models``: one published checkpoint."""
        from ganzoo.hub.reference import ReferenceModel

        plugin = _current_plugin("ganzoo_register_reference_models")
        if not isinstance(model, ReferenceModel):
            raise TypeError(f"expected a ganzoo.hub.reference.ReferenceModel, got {type(model).__name__}")
        if model.key in self.reference_models:
            raise DuplicateComponentError(f"reference model {model.key!r} from plugin {plugin!r} is already "
                                          f"declared by plugin {self._reference_owners[model.key]!r}")
        self.reference_models[model.key] = model
        self._reference_owners[model.key] = plugin

    def _rank(self, plugin: str) -> int:
        names = list(self.infos)
        return names.index(plugin) if plugin in names else len(names)

    # -- runtime registration ------------------------------------------------------------------

    def register_plugin(self, plugin: Any, *, name: str) -> None:
        """Register a plugin object (a module or any object with hook implementations) at runtime.

        Raises:
            PluginError: ``name`` is taken by another plugin (a failed runtime plugin's name may be reused).
        """
        holder = self.infos.get(name)
        if holder is not None and (holder.status == "loaded" or holder.source != "session"):
            raise PluginError(f"the plugin name {name!r} is taken by the {holder.source} plugin"
                              + (f" at {holder.location}" if holder.location else "") + "; choose another name")
        self._load(name, lambda: plugin, source="session")
        if self.active(name):
            self.rebuild()

    def unregister_plugin(self, name: str) -> None:
        """Remove a plugin registered at runtime (with :meth:`register_plugin`), with all its components."""
        holder = self.infos.get(name)
        if holder is None or holder.source != "session" or name == SESSION_PLUGIN:
            raise PluginError(f"no plugin named {name!r} was registered at runtime"
                              + (f" (it is the {holder.source} plugin)" if holder is not None else ""))
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)
        del self.infos[name]
        self.rebuild()


def _current_plugin(hook: str) -> str:
    """The plugin whose hook implementation is running (``register`` callbacks work inside their hook only)."""
    plugin = _CURRENT_PLUGIN.get(None)
    if plugin is None:
        raise PluginError(f"the register() of {hook} was called outside that hook")
    return plugin


def isolate(impl: pluggy.HookImpl, hook: str, host: PluginHost) -> None:
    """Wrap a hook implementation so that pluggy's call runs it as its plugin, in isolation.

    The wrapper skips a plugin that has failed, sets the current plugin (for ``register`` callbacks), and
    hands any exception the plugin raises to :meth:`PluginHost.hook_failed` instead of letting it stop
    the other plugins. Hook wrappers (old- and new-style) are wrapped step by step: their code before and
    after the ``yield`` runs as their plugin, and a failing wrapper lets the call through unchanged.
    """
    function, name = impl.function, impl.plugin_name
    if impl.hookwrapper or impl.wrapper:
        wrapped = _isolated_wrapper(function, name, hook, host, new_style=impl.wrapper)
    else:
        @functools.wraps(function)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not host.active(name, hook):
                return None
            token = _CURRENT_PLUGIN.set(name)
            try:
                return function(*args, **kwargs)
            except Exception as exc:
                host.hook_failed(name, hook, exc)
                return None
            finally:
                _CURRENT_PLUGIN.reset(token)
    impl.function = wrapped  # type: ignore[misc]  (pluggy marks it Final; this is the one place we swap it)


def _isolated_wrapper(function: Callable[..., Any], name: str, hook: str, host: PluginHost, *,
                      new_style: bool) -> Callable[..., Any]:
    def step(gen: Any, send: Any = None, throw: BaseException | None = None) -> tuple[bool, Any]:
        """Advance the plugin's generator as its plugin: (True, its return value) once it has finished."""
        token = _CURRENT_PLUGIN.set(name)
        try:
            gen.throw(throw) if throw is not None else gen.send(send)
        except StopIteration as stop:
            return True, stop.value
        finally:
            _CURRENT_PLUGIN.reset(token)
        return False, None

    @functools.wraps(function)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        gen = function(*args, **kwargs) if host.active(name, hook) else None
        try:
            if gen is not None and step(gen)[0]:
                raise RuntimeError("the hook wrapper did not yield")
        except Exception as exc:
            host.hook_failed(name, hook, exc)
            gen = None
        try:
            outcome = yield
        except BaseException as exc:  # a new-style wrapper sees what the inner implementations raised
            if gen is None:
                raise
            try:
                return step(gen, throw=exc)[1]
            except Exception as raised:
                if raised is not exc:
                    host.hook_failed(name, hook, raised)
                raise exc from None
        if gen is None:
            return outcome if new_style else None
        try:
            done, value = step(gen, send=outcome)
            if not done:
                raise RuntimeError("the hook wrapper yielded twice")
            return value
        except Exception as exc:
            host.hook_failed(name, hook, exc)
            return outcome if new_style else None

    return wrapped


def make_entry(kind: str, factory: str | Callable[..., Any], *, plugin: str, name: str | None = None,
               summary: str | None = None, paper: str = "", aliases: Iterable[str] = (),
               family: bool = False, example: str = "", defaults: dict[str, Any] | None = None,
               metadata: dict[str, Any] | None = None, pretrained: dict[str, Any] | None = None) -> Entry:
    """Build an :class:`Entry`, taking the name and summary from the factory when they are not given.

    ``factory`` is a callable or a reference ``"package.module:Qualname"``; a reference is not imported
    here (its docstring, when the summary comes from it, is read from the module's source).
    """
    if name is None:
        target = factory.rpartition(":")[2].rpartition(".")[2] if isinstance(factory, str) else \
            getattr(factory, "__name__", "")
        name = target.lower()
    entry = Entry(name=name, kind=kind, factory_ref=factory, summary=summary or "", paper=paper,
                  aliases=tuple(aliases), plugin=plugin, family=family, example=example,
                  defaults=dict(defaults or {}), metadata=dict(metadata or {}),
                  pretrained={tag: Pretrained.coerce(tag, value, plugin=plugin)
                              for tag, value in (pretrained or {}).items()})
    if summary is None:
        doc = entry.doc()
        entry = dataclasses.replace(entry, summary=doc.splitlines()[0] if doc else "")
    return entry


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    eps = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    unique: dict[str, importlib.metadata.EntryPoint] = {}
    for ep in eps:  # a distribution found twice on sys.path lists its entry points twice
        unique.setdefault(ep.name, ep)
    return sorted(unique.values(), key=lambda ep: ep.name)


def first_party_plugins() -> list[str]:
    """The entry-point names of the plugins that come with ganzoo itself (its recipes: ``cyclegan``, ...).

    They are found as the entry points of the distribution that installs the ``ganzoo`` package, so a
    renamed distribution, or a new first-party plugin, needs no change where this is asked (the docs'
    generator, the plugin authors' isolated registry).
    """
    owners = set(importlib.metadata.packages_distributions().get("ganzoo", []))
    return sorted({ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
                   if ep.dist is not None and ep.dist.name in owners})


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return ""


def _import_file(path: Path) -> Any:
    module_name = f"ganzoo_plugins_dir.{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


_host: PluginHost | None = None
_extra_plugin_dirs: list[str] = []


def get_host() -> PluginHost:
    """The process's plugin host, loading every plugin on first use."""
    global _host
    if _host is None:
        host = PluginHost(plugin_dirs=list(_extra_plugin_dirs))
        _host = host
        try:
            host.load()
        except BaseException:
            _host = None
            raise
    return _host


def add_plugins_dir(path: str | os.PathLike[str]) -> None:
    """Load ``*.py`` plugin files from ``path`` too (what ``--plugins-dir`` does).

    Plugins already loaded stay, and so do the components registered from Python in this session.
    """
    _extra_plugin_dirs.append(os.fspath(path))
    if _host is not None:
        _host.add_plugins_dir(path)


def reset() -> None:
    """Forget every loaded plugin and registration; the next use loads afresh (tests use this)."""
    global _host
    _host = None
    _extra_plugin_dirs.clear()


def registry(kind: str) -> Registry:
    """The registry of one kind of component, loading plugins on first use."""
    from ganzoo.registry import normalize_kind

    return get_host().registries[normalize_kind(kind)]


def plugin_infos() -> list[PluginInfo]:
    """Every plugin ganzoo found, with its status, in load order."""
    return [info for info in get_host().infos.values() if info.name != SESSION_PLUGIN]
