"""The checks a run specification passes before anything is built for real.

Which component fits which slot is read from the component's contract (``ganzoo.nn.contract``): its
class says what it takes (``input_kind``, a loss's ``role``), and a probe built on PyTorch's ``meta``
device (no memory, no arithmetic) runs one forward pass at the run's sizes, so a generator that makes the
wrong shape or a discriminator that cannot take what the step feeds it is a one-line error before
training, never a traceback at step 1.
"""

from __future__ import annotations

import dataclasses
import json
import re
import warnings
from typing import Any, Mapping

from ganzoo.errors import GanzooError, InvalidOptionError, UsageError, first_line
from ganzoo.recipe import SLOT_ALIASES, Recipe, Slot
from ganzoo.train.spec import AuxSpec, ComponentSpec, DataSpec


def lookup(kind: str, name: str) -> tuple[Any, str, bool]:
    """``(entry, canonical name, has fixed weights)`` for a component name of any form."""
    from ganzoo.plugins import registry

    entry, parsed = registry(kind).lookup(name)
    canonical = entry.name + (f":{parsed.argument}" if parsed.argument else "") + (f".{parsed.tag}" if parsed.tag else "")
    return entry, canonical, parsed.tag is not None


def provider(entry: Any) -> dict[str, str]:
    """The plugin that registered an entry and the distribution that installs it."""
    from ganzoo.plugins import plugin_infos

    info = next((i for i in plugin_infos() if i.name == entry.plugin), None)
    return {"plugin": entry.plugin, "distribution": info.distribution if info else ""}


def contract_value(entry: Any, key: str) -> Any:
    """A contract fact read from a registry entry's class without building it."""
    from ganzoo.nn import contract

    if key == "input_kind":
        return contract.input_kind_of(entry.factory)
    if key == "role":
        return contract.loss_role(entry.factory)
    return getattr(entry.factory, key, None)


def check_fits(recipe: Recipe, role: str, slot: Slot, entry: Any, name: str) -> None:
    """Refuse a component the slot does not take, naming what it needs."""
    if slot.choices and entry.name not in slot.choices:
        raise UsageError(f"{recipe.name}'s {role} slot takes {', '.join(slot.choices)}, not {name!r}")
    for key, wanted in slot.requires.items():
        found = contract_value(entry, key)
        if found != wanted:
            raise UsageError(f"{slot.kind} {name!r} has {key} {found!r}; {recipe.name}'s {role} slot needs "
                              f"{key} {wanted!r}: {', '.join(fitting(slot))}")


def fitting(slot: Slot) -> list[str]:
    """The registered components that meet a slot's requirements (importing each to read its class)."""
    from ganzoo.plugins import registry

    names = []
    for entry in registry(slot.kind):
        try:
            fits = all(contract_value(entry, k) == v for k, v in slot.requires.items())
        except Exception:  # a component that cannot even be imported fits nothing
            fits = False
        if fits and (not slot.choices or entry.name in slot.choices):
            names.append(entry.shown)
    return names


def merge_options(entry: Any, *, context: Mapping[str, Any], soft: Mapping[str, Any],
                  user: Mapping[str, Any]) -> dict[str, Any]:
    """The context and the recipe's settings the component takes, then the user's (checked: an option
    the component lacks is an error listing the valid ones). None values are dropped."""
    accepted = set(entry.option_names())
    options = {k: v for k, v in {**context, **soft}.items() if k in accepted}
    entry._check_options(dict(user))
    options.update(user)
    return {k: v for k, v in options.items() if v is not None}


def resolve_components(draft: Any, *, data: DataSpec, notes: list[str]) -> dict[str, ComponentSpec]:
    """Fill each slot: the chosen component, checked, with its options resolved; then probe the networks."""
    recipe: Recipe = draft.recipe
    step = recipe.step_class()
    disc_channels = step.discriminator_channels(data.in_channels, data.out_channels)
    contexts = {
        "generator": {"in_channels": data.in_channels, "out_channels": data.out_channels, "image_size": data.image_size},
        "discriminator": {"in_channels": disc_channels, "image_size": data.image_size},
    }
    components: dict[str, ComponentSpec] = {}
    entries: dict[str, tuple[Any, bool]] = {}
    for role, slot in recipe.slots.items():
        name, user = draft.picks[role], draft.user_options[role]
        soft = {**slot.options, **draft.soft_options[role]}
        if slot.kind == "module":
            components[role] = ComponentSpec(name=name, options={**soft, **user})
            continue
        entry, canonical, fixed = lookup(slot.kind, name)
        check_fits(recipe, role, slot, entry, canonical)
        if fixed:  # named weights fix the architecture: only the user's options, checked when loaded
            options = {k: v for k, v in user.items() if v is not None}
        else:
            options = merge_options(entry, context=contexts.get(slot.kind, {}), soft=soft, user=user)
            options = yield_to_user(entry, canonical, options, soft=soft, user=user, prefix=option_prefix(role),
                                    notes=notes)
        components[role] = ComponentSpec(name=canonical, options=options, **provider(entry))
        entries[role] = (entry, fixed)
    _check_losses(recipe, draft, components, entries, notes)
    for role, (entry, fixed) in entries.items():
        kind = recipe.slots[role].kind
        if kind in ("generator", "discriminator") and not fixed:
            probe_network(kind, entry, components[role], data=data, in_channels=contexts[kind]["in_channels"],
                          prefix=option_prefix(role), user=draft.user_options[role])
    return components


def yield_to_user(entry: Any, name: str, options: dict[str, Any], *, soft: Mapping[str, Any],
                  user: Mapping[str, Any], prefix: str, notes: list[str]) -> dict[str, Any]:
    """``options`` without the recipe's settings (``soft``: its slot options and toy schedule) that the
    component refuses beside the user's own options, with a note saying so: the user's choice wins, as a
    component the user picks wins over the toy schedule's. The DCGAN toy takes R1 every 4th step
    (``loss.r1_interval=4``); ``--set loss.r1_weight=0`` switches R1 off, and the interval goes with it.

    Tried only where the user set some of the component's options and the recipe others; a setting is
    left out only when the refusal names it and the component takes the options without it. Any other
    refusal is left for the checks that follow to report, as before."""
    recipes_own = [k for k in soft if k in options and k not in user]
    if not user or not recipes_own:
        return options

    def refusal(trial: dict[str, Any]) -> str | None:
        try:
            _build_meta(entry, ComponentSpec(name=name, options=trial), prefix=prefix, user=user, what=name)
        except UsageError as exc:
            return str(exc)
        return None

    message = refusal(options)
    if message is None:
        return options
    culprits = [k for k in recipes_own if re.search(rf"\b{re.escape(k)}\b", message)]
    kept = {k: v for k, v in options.items() if k not in culprits}
    if not culprits or refusal(kept) is not None:
        return options
    said = ", ".join(f"{prefix}.{k}={json.dumps(options[k], default=repr)}" for k in culprits)
    users = ", ".join(f"{prefix}.{k}={json.dumps(v, default=repr)}" for k, v in user.items())
    notes.append(f"{said} (the recipe's setting) left out: {name} refuses it beside {users}")
    return kept


def option_prefix(role: str) -> str:
    """What users type before a slot's options: ``gen`` for the generator, the role for other slots."""
    return next((alias for alias, r in SLOT_ALIASES.items() if r == role), role)


def blame(exc: BaseException, *, prefix: str, options: Mapping[str, Any], user: Mapping[str, Any],
          what: str) -> UsageError:
    """A component's refusal of its options as a one-line usage error naming the option(s) at fault: those
    its message names (the user's first), else the user's, else all of them."""
    message = first_line(exc)
    named = [k for k in options if re.search(rf"\b{re.escape(k)}\b", message)]
    culprits = sorted(named, key=lambda k: k not in user) or list(user) or list(options)
    keys = ", ".join(f"{prefix}.{k}={json.dumps(options.get(k, user.get(k)), default=repr)}" for k in culprits)
    if culprits and message.startswith(f"{culprits[0]}="):  # the component already said KEY=VALUE: once is enough
        message = message.partition(": ")[2] or message
    return UsageError(f"{keys}: {what}: {message}" if keys else f"{what}: {message}")


def _check_losses(recipe: Recipe, draft: Any, components: dict[str, ComponentSpec],
                  entries: dict[str, tuple[Any, bool]], notes: list[str]) -> None:
    """A loss that needs a critic without batch norm (WGAN-GP's per-sample penalty): switch a
    discriminator's norm off where the recipe chose batch norm, refuse where the user did."""
    from ganzoo.nn.contract import uses_batch_norm

    for role, (entry, _) in list(entries.items()):
        if recipe.slots[role].kind != "loss":
            continue
        loss = _build_checked(entry, None, components[role], prefix=option_prefix(role),
                              user=draft.user_options[role], what=f"loss {components[role].name}")
        if getattr(loss, "allows_batch_norm", True):
            continue
        penalty = getattr(loss, "penalty_name", "gradient penalty")
        for disc_role, (disc_entry, fixed) in entries.items():
            if recipe.slots[disc_role].kind != "discriminator" or fixed:
                continue
            spec = components[disc_role]
            built = _build_meta(disc_entry, spec, prefix=option_prefix(disc_role), user=draft.user_options[disc_role],
                                what=f"discriminator {spec.name}")
            if not uses_batch_norm(built):
                continue
            user_norm = draft.user_options[disc_role].get("norm")
            if user_norm is not None or "norm" not in disc_entry.option_names():
                if (plain := _without_recipes_penalty(entry, components[role], draft.user_options[role])):
                    dropped = ", ".join(f"{option_prefix(role)}.{k}" for k in components[role].options
                                        if k not in plain.options)
                    components[role] = plain
                    notes.append(f"{dropped} (the recipe's setting) left out: the {penalty} needs a critic "
                                 f"without batch norm, and discriminator {spec.name!r} has batch norm")
                    break
                raise UsageError(f"{entry.name} needs a critic without batch norm (its {penalty} is per "
                                  f"sample), but discriminator {spec.name!r} has batch norm"
                                  + ("; use disc.norm=instance or disc.norm=none" if user_norm else ""))
            components[disc_role] = dataclasses.replace(spec, options={**spec.options, "norm": "none"})
            notes.append(f"discriminator norm set to 'none': {entry.name} needs a critic without batch norm "
                         f"(its {penalty} is per sample)")


def _without_recipes_penalty(entry: Any, spec: ComponentSpec, user: Mapping[str, Any]) -> ComponentSpec | None:
    """The loss without the recipe's own options, if that takes away its need for a critic without batch
    norm (the DCGAN toy's R1 beside a discriminator the user picked with batch norm: the user's pick wins);
    None when the user set the penalty, or it is the loss's own (WGAN-GP)."""
    plain = dataclasses.replace(spec, options={k: v for k, v in spec.options.items() if k in user})
    if plain.options == spec.options:
        return None
    loss = _build_checked(entry, None, plain, prefix="loss", user=user, what=f"loss {spec.name}")
    return plain if getattr(loss, "allows_batch_norm", True) else None


def resolve_aux(recipe: Recipe, role: str, name: str, options: Mapping[str, Any]) -> str:
    """The canonical name of the loss filling an auxiliary role, after checking it fits and takes the options."""
    entry, canonical, _ = lookup("loss", name)
    wanted = recipe.aux[role].requires
    for key, value in wanted.items():
        found = contract_value(entry, key)
        if found != value:
            raise UsageError(f"loss {canonical!r} has {key} {found!r}; the {role} role of {recipe.name} needs "
                              f"{key} {value!r}")
    # building the loss checks its options' names and values
    _build_checked(entry, None, ComponentSpec(name=canonical, options=dict(options)), prefix=role, user=options,
                   what=f"loss {canonical} for the {role} role")
    return canonical


def check_discriminator_needs(recipe: Recipe, components: Mapping[str, ComponentSpec],
                              aux: Mapping[str, AuxSpec]) -> None:
    """Refuse a weighted auxiliary loss that reads something the discriminator lacks (feature matching
    reads ``features(x)``), naming the discriminators that have it: a one-line error before training,
    not an AttributeError at step 1. A role of weight 0 is never computed, so it needs nothing."""
    from ganzoo.nn.contract import METHODS, contract_of, discriminator_needs
    from ganzoo.plugins import registry

    for role, term in aux.items():
        needs = discriminator_needs(lookup("loss", term.loss)[0].factory) if term.weight else ()
        for disc_role, slot in recipe.slots.items():
            if slot.kind != "discriminator" or not needs:
                continue
            spec = components[disc_role]
            entry, _, _ = lookup("discriminator", spec.name)
            built = _build_meta(entry, spec, prefix=option_prefix(disc_role), user={},
                                what=f"discriminator {spec.name}")
            for need in needs:
                if getattr(contract_of(built), need):
                    continue
                having = [e.shown for e in registry("discriminator") if _offers(e, need)]
                raise UsageError(f"{role}={term.weight:g}: loss {term.loss} reads the discriminator's "
                                  f"{METHODS[need]}(x), which {spec.name!r} does not have; pick a discriminator "
                                  f"that has it ({', '.join(having)}) or set {role}=0")


def _offers(entry: Any, need: str) -> bool:
    """Whether a registered discriminator's class has ``need``; one that cannot even be imported (a broken
    plugin) has nothing, and never turns the one-line refusal it is listed in into a traceback."""
    from ganzoo.nn.contract import offers

    try:
        return offers(entry.factory, need)
    except Exception:
        return False


def _build_checked(entry: Any, argument: str | None, spec: ComponentSpec, *, prefix: str,
                   user: Mapping[str, Any], what: str) -> Any:
    """Build a component; a factory refusing a value (ValueError, TypeError, RuntimeError) becomes a
    one-line usage error naming the option (``gen.ngf=0: ...``). A probe's warnings (zero-size tensors on
    the meta device, say) are not the user's business: the error says what is wrong."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return entry.build(argument, **spec.options)
    except InvalidOptionError as exc:
        if "has no option" in str(exc):  # a misspelt option: the registry's message names it and the valid ones
            raise
        raise blame(exc, prefix=prefix, options=spec.options, user=user, what=what) from exc
    except GanzooError:
        raise
    except (ValueError, TypeError, RuntimeError, ArithmeticError) as exc:
        raise blame(exc, prefix=prefix, options=spec.options, user=user, what=what) from exc


def _build_meta(entry: Any, spec: ComponentSpec, *, prefix: str, user: Mapping[str, Any], what: str) -> Any:
    import torch

    argument = (spec.name.partition(":")[2] or None) if entry.family else None
    with torch.device("meta"):
        return _build_checked(entry, argument, spec, prefix=prefix, user=user, what=what)


def probe_network(kind: str, entry: Any, spec: ComponentSpec, *, data: DataSpec, in_channels: int,
                  prefix: str | None = None, user: Mapping[str, Any] | None = None) -> None:
    """Build the network on the meta device and run one forward pass at the run's sizes; what does not fit
    is a usage error naming the setting to change (``image_size=3: ...``)."""
    import torch

    from ganzoo.nn.contract import as_logit_list, contract_of

    net = _build_meta(entry, spec, prefix=prefix or kind, user=user or {}, what=f"{kind} {spec.name}")
    facts = contract_of(net)
    size = data.image_size
    here = f"image_size={size}: {kind} {spec.name}"
    if facts.image_size is not None and facts.image_size != size:
        raise UsageError(f"{here} works on {facts.image_size}x{facts.image_size} images only "
                         f"(set image_size={facts.image_size})")
    if facts.input_kind == "image" and size % facts.size_multiple:
        better = max(facts.size_multiple, round(size / facts.size_multiple) * facts.size_multiple)
        raise UsageError(f"{here} needs image sides divisible by {facts.size_multiple} (try image_size={better})")
    if size < facts.min_size:
        raise UsageError(f"{here} needs images of at least {facts.min_size}x{facts.min_size} with these options; "
                         "lower its depth (n_layers) or raise image_size")
    if facts.in_channels is not None and facts.input_kind == "image" and facts.in_channels != in_channels:
        raise UsageError(f"in_channels={in_channels}: {kind} {spec.name} takes {facts.in_channels} input channels")
    with torch.device("meta"):
        x = net.noise(1) if facts.input_kind == "noise" else torch.empty(1, in_channels, size, size)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = net.eval()(x.to("meta"))  # shapes only: batch statistics of one sample are not the question
    except Exception as exc:
        raise UsageError(f"{kind} {spec.name} with {_shown(spec.options)} fails on a {tuple(x.shape)} input: "
                         f"{first_line(exc)}") from exc
    if kind == "generator":
        expected = (1, data.out_channels, size, size)
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != expected:
            got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise UsageError(f"generator {spec.name} makes {got} from {tuple(x.shape)}; the run needs {expected}")
    else:
        try:
            as_logit_list(out)
        except GanzooError as exc:
            raise GanzooError(f"discriminator {spec.name}: {exc}") from exc


def _shown(options: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={json.dumps(v, default=repr)}" for k, v in options.items()) or "no options"
