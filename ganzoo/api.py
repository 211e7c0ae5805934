"""The functions behind ``ganzoo.create_generator`` and friends."""

from __future__ import annotations

from typing import Any, Callable, Iterable, TypeVar

from ganzoo.names import parse_name
from ganzoo.plugins import SESSION_PLUGIN, get_host, registry
from ganzoo.registry import Entry, Registry, normalize_kind

F = TypeVar("F", bound=Callable[..., Any])


def get_registry(kind: str) -> Registry:
    """The registry of a kind (``generator``, ``discriminator``, ``loss``, ``data_mode``, ``dataset``,
    ``recipe``, ``logger``)."""
    return registry(kind)


def get_entry(kind: str, name: str) -> Entry:
    """The registry entry a name or alias resolves to (with close matches in the error when none does)."""
    return registry(kind).get(name)


def list_components(kind: str, pattern: str | None = None) -> list[str]:
    """Canonical names of the components of ``kind``, optionally filtered by a shell pattern (``unet*``)."""
    return [entry.name for entry in registry(kind).find(pattern)]


def create_component(kind: str, name: str, /, **options: Any) -> Any:
    """Build any registered component by name with keyword options (an option given as None is left to
    the factory's default)."""
    entry, argument = registry(kind).resolve(name)
    return entry.build(argument, **_given(options))


def _given(options: dict[str, Any]) -> dict[str, Any]:
    """The options whose value is not None: None means "the default" (as config files and CLIs pass it)."""
    return {key: value for key, value in options.items() if value is not None}


def _create_network(kind: str, name: str, *, init_type: str | None, init_gain: float, network: str | None,
                    options: dict[str, Any]):
    from ganzoo.errors import InvalidOptionError
    from ganzoo.nn.layers import init_weights

    options = _given(options)
    parsed = parse_name(name)
    if parsed.source is None:
        entry, parsed = registry(kind).lookup(parsed)
    if parsed.source is not None or parsed.tag is not None:
        return create_pretrained(kind, name, network=network, **options)
    if network is not None:
        raise InvalidOptionError(f"network= picks one network of a saved model; {name!r} names a {kind} to build")
    net = entry.build(parsed.argument, **options)
    if init_type is not None:
        targets = net.init_targets() if hasattr(net, "init_targets") else [net]
        for target in targets:
            init_weights(target, init_type=init_type, gain=init_gain)
    return net


def _load_network(kind: str, source: str, *, network: str | None, options: dict[str, Any],
                  architecture: Entry | None = None, what: str = "", device: str = "cpu"):
    """One network of the model at ``source``, built with its saved options updated by ``options``, loaded
    strictly (an option that changes a tensor's shape gives the checkpoint loader's error) and in eval mode."""
    from ganzoo.hub.bundle import BundleError
    from ganzoo.hub.model import Model

    model = Model.from_pretrained(source, device=device)
    network = network or _default_network(model, kind)
    spec = model.config["networks"].get(network)
    if spec is None or spec["role"] != kind or (
            architecture is not None and registry(kind).get(spec["name"]).factory is not architecture.factory):
        of = f" of {architecture.name}'s architecture" if architecture is not None else ""
        raise BundleError(f"{what or source}: {source} has no {kind} {network!r}{of}; it has: "
                          + ", ".join(f"{n} ({s['role']} {s['name']})" for n, s in model.config["networks"].items()))
    if options:
        model.config["networks"][network] = {**spec, "options": {**spec["options"], **options}}
    return model.network(network)


def _default_network(model, kind: str) -> str:
    """A model's A-to-B generator (or its sampler), or else its only network of ``kind``."""
    from ganzoo.hub.bundle import BundleError

    networks = model.config["networks"]
    if kind == "generator":
        preferred = (model.config.get("directions") or {}).get("AtoB") or model.config.get("sampler")
        if preferred:
            return preferred
    candidates = [n for n, spec in networks.items() if spec["role"] == kind]
    if len(candidates) != 1:
        raise BundleError(f"{model.source.description} has {len(candidates) or 'no'} {kind}s"
                          + (f" ({', '.join(candidates)}): pick one with network=NAME" if candidates else ""))
    return candidates[0]


def create_pretrained(kind: str, name: str, /, *, device: str = "cpu", network: str | None = None,
                      **options: Any):
    """A network with trained weights: ``NAME.TAG`` (the entry's architecture with its named weights) or
    one network of a saved model (``hf-hub:ORG/NAME``, ``reference:NAME``, a bundle or run folder), in
    eval mode on ``device``.

    ``options`` update the saved ones (only those that keep every tensor's shape can differ, such as
    dropout); the weights are fetched (and cached) from their source the first time. ``network`` picks
    one of the model's networks (default: its A-to-B generator, or its only network of ``kind``).
    """
    kind = normalize_kind(kind)
    parsed = parse_name(name)
    if parsed.source is not None:
        return _load_network(kind, parsed.source, network=network, options=_given(options), device=device)
    entry, weights = registry(kind).pretrained(name)
    return _load_network(kind, weights.source, network=network or weights.network or None, options=_given(options),
                         architecture=entry, what=name, device=device)


def create_generator(name: str, /, *, init_type: str | None = "normal", init_gain: float = 0.02,
                     network: str | None = None, **options: Any):
    """Build a generator: ``create_generator("resnet9", ngf=64, norm="instance")``.

    Trained weights come with the name: ``NAME.TAG`` (``resnet9.horse2zebra``, see ``ganzoo list
    --pretrained``) is that architecture with named weights, and ``hf-hub:ORG/NAME``, ``reference:NAME``
    or a bundle folder give that model's A-to-B generator (``network=`` picks another). Options combine
    with them, as in timm: the saved options updated by the caller's, loaded strictly, in eval mode.
    An option given as None is left to the default.

    Fresh weights are initialised like the reference code (normal with std ``init_gain``); ``init_type``
    may also be ``xavier``, ``kaiming``, ``orthogonal``, or None to keep the modules' own initialisation.
    """
    return _create_network("generator", name, init_type=init_type, init_gain=init_gain, network=network,
                           options=options)


def create_discriminator(name: str, /, *, init_type: str | None = "normal", init_gain: float = 0.02,
                         network: str | None = None, **options: Any):
    """Build a discriminator: ``create_discriminator("patchgan", n_layers=3, in_channels=6)``; names of
    trained weights work as in :func:`create_generator`."""
    return _create_network("discriminator", name, init_type=init_type, init_gain=init_gain, network=network,
                           options=options)


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
