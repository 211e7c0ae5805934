"""The functions behind ``ganzoo.create_generator`` and friends."""

from __future__ import annotations

from typing import Any, Callable, Iterable, TypeVar

from ganzoo.plugins import SESSION_PLUGIN, get_host, registry
from ganzoo.registry import Entry, Registry, normalize_kind

F = TypeVar("F", bound=Callable[..., Any])


def get_registry(kind: str) -> Registry:
    """The registry of a kind (``generator``, ``discriminator``, ``loss``, ``data_mode``, ``recipe``)."""
    return registry(kind)


def get_entry(kind: str, name: str) -> Entry:
    """The registry entry a name or alias resolves to (with close matches in the error when none does)."""
    return registry(kind).get(name)


def list_components(kind: str, pattern: str | None = None) -> list[str]:
    """Canonical names of the components of ``kind``, optionally filtered by a shell pattern (``unet*``)."""
    return [entry.name for entry in registry(kind).find(pattern)]


def create_component(kind: str, name: str, /, **options: Any) -> Any:
    """Build any registered component by name with keyword options."""
    entry, argument = registry(kind).resolve(name)
    return entry.build(argument, **options)


def _create_network(kind: str, name: str, init_type: str | None, init_gain: float, options: dict[str, Any]):
    from ganzoo.nn.layers import init_weights

    entry, parsed = registry(kind).lookup(name)
    if parsed.tag is not None:
        return create_pretrained(kind, name, **options)
    net = entry.build(parsed.argument, **options)
    if init_type is not None:
        targets = net.init_targets() if hasattr(net, "init_targets") else [net]
        for target in targets:
            init_weights(target, init_type=init_type, gain=init_gain)
    return net


def create_pretrained(kind: str, name: str, /, *, device: str = "cpu", **options: Any):
    """The network ``NAME.TAG`` names: the entry's architecture with its named weights, in eval mode.

    The weights' own bundle fixes the architecture, so no options are taken; the weights are fetched
    (and cached) from the tag's source the first time.
    """
    from ganzoo.errors import InvalidOptionError
    from ganzoo.hub.bundle import BundleError
    from ganzoo.hub.model import Model

    entry, weights = registry(kind).pretrained(name)
    if options:
        raise InvalidOptionError(f"{name} is pretrained: its weights fix the architecture, so it takes no "
                                 f"options (got {', '.join(options)})")
    model = Model.from_pretrained(weights.source, device=device)
    network = weights.network or _default_network(model)
    spec = model.config["networks"].get(network)
    if spec is None or spec["role"] != kind or registry(kind).get(spec["name"]).factory is not entry.factory:
        raise BundleError(f"{name}: {weights.source} has no {kind} {network!r} of {entry.name}'s architecture")
    return model.network(network)


def _default_network(model) -> str:
    directions = model.config.get("directions") or {}
    if "AtoB" in directions:
        return directions["AtoB"]
    return model.config.get("sampler") or model.network_names[0]


def create_generator(name: str, /, *, init_type: str | None = "normal", init_gain: float = 0.02,
                     **options: Any):
    """Build a generator: ``create_generator("resnet9", ngf=64, norm="instance")``.

    ``NAME.TAG`` (``resnet9.horse2zebra``) gives that architecture with named pretrained weights
    (``ganzoo list --pretrained``), loaded and in eval mode.

    Weights are initialised like the reference code (normal with std ``init_gain``); ``init_type`` may
    also be ``xavier``, ``kaiming``, ``orthogonal``, or None to keep the modules' own initialisation.
    """
    return _create_network("generator", name, init_type, init_gain, options)


def create_discriminator(name: str, /, *, init_type: str | None = "normal", init_gain: float = 0.02,
                         **options: Any):
    """Build a discriminator: ``create_discriminator("patchgan", n_layers=3, in_channels=6)``."""
    return _create_network("discriminator", name, init_type, init_gain, options)


def create_loss(name: str, /, **options: Any):
    """Build a loss: ``create_loss("lsgan")``, ``create_loss("wgan-gp", gp_weight=10)``."""
    return create_component("loss", name, **options)


def register_component(kind: str, factory: F | None = None, /, *, name: str | None = None,
                       summary: str | None = None, paper: str = "", aliases: Iterable[str] = (),
                       family: bool = False, example: str = "", defaults: dict[str, Any] | None = None,
                       replace: bool = False, **metadata: Any) -> Any:
    """Register a component from Python (a notebook, a script), directly or as a decorator.

    ``@ganzoo.register_generator(name="tiny", summary="...")`` above a class registers it for this
    process; the name, when not given, is the factory's lowercased ``__name__``. It is reported as the
    plugin ``__session__``, and it obeys the same duplicate rules as plugins.
    """
    kind = normalize_kind(kind)
    options = dict(name=name, summary=summary, paper=paper, aliases=tuple(aliases), family=family,
                   example=example, defaults=defaults, replace=replace, **metadata)

    def decorate(target: F) -> F:
        host = get_host()
        call = {"factory": target, **options}
        host.add_entry(kind, plugin=SESSION_PLUGIN, **call)
        host.session.registrations[kind].append(call)
        return target

    return decorate(factory) if factory is not None else decorate


def register_generator(factory: F | None = None, /, **options: Any) -> Any:
    """Register a generator from Python; see :func:`register_component`."""
    return register_component("generator", factory, **options)


def register_discriminator(factory: F | None = None, /, **options: Any) -> Any:
    """Register a discriminator from Python; see :func:`register_component`."""
    return register_component("discriminator", factory, **options)


def register_loss(factory: F | None = None, /, **options: Any) -> Any:
    """Register a loss from Python; see :func:`register_component`."""
    return register_component("loss", factory, **options)


def register_plugin(plugin: Any, *, name: str) -> None:
    """Register a plugin object (a module or an object with ``@ganzoo.hookimpl`` methods) at runtime."""
    get_host().register_plugin(plugin, name=name)


def unregister_plugin(name: str) -> None:
    """Remove a plugin registered with :func:`register_plugin`, with its components."""
    get_host().unregister_plugin(name)
