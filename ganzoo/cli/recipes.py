"""What ``ganzoo info RECIPE`` shows of a recipe: its slots and defaults, auxiliary losses and weights,
settings, networks and the paper (read from the declaration, so no torch is imported)."""

from __future__ import annotations

from typing import Any

import click


def format_value(value: Any) -> str:
    """A setting's value as ``ganzoo info`` and the docs' recipe tables show it (``0.0002``, not ``2e-04``)."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def recipe_lines(recipe: Any) -> list[str]:
    """The recipe as indented lines of text."""
    lines = [f"  {recipe.summary}", f"  paper:   {recipe.paper}", "  slots:"]
    for role, slot in recipe.slots.items():
        extra = [f"{k}={format_value(v)}" for k, v in slot.options.items()]
        needs = [f"{k} {v}" for k, v in slot.requires.items()]
        lines.append(f"    {role} ({slot.kind}): {slot.default}" + (f"  [{', '.join(extra)}]" if extra else "")
                     + (f"  needs {', '.join(needs)}" if needs else "")
                     + (f"  choices {', '.join(slot.choices)}" if slot.choices else ""))
    lines.append("  networks: " + ", ".join(f"{n.name} ({n.slot}, optimizer {n.group or '-'})" for n in recipe.networks))
    lines.append(f"  data modes: {', '.join(recipe.data_modes)}")
    if recipe.aux:
        lines.append("  auxiliary losses: " + ", ".join(f"{role}={a.default} weight {format_value(a.weight)}"
                                                       for role, a in recipe.aux.items()))
    settings = {**recipe.defaults, **recipe.hparams}
    if recipe.optimizer_lr:
        settings.update({name: f"(the {group} optimizer's lr; default lr)" for group, name in recipe.optimizer_lr.items()})
    lines.append("  settings: " + ", ".join(f"{k}={format_value(v)}" for k, v in settings.items()))
    if recipe.toy:
        lines.append("  toy schedule: " + ", ".join(f"{k}={format_value(v)}" for k, v in recipe.toy.items()))
    if recipe.toy_targets:
        lines.append("  toy targets: " + ", ".join(f"{k} >= {format_value(v)}" for k, v in recipe.toy_targets.items()))
    return lines


def print_recipe(recipe: Any) -> None:
    for line in recipe_lines(recipe):
        click.echo(line)
