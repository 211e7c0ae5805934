"""``ganzoo list`` and ``ganzoo info``: what the registries hold."""

from __future__ import annotations

import difflib
import inspect
import json
from typing import Any

import click

from ganzoo.cli import cli
from ganzoo.cli.table import print_table
from ganzoo.errors import UnknownComponentError
from ganzoo.registry import KINDS, Entry, expand_kinds, normalize_kind


def entry_to_dict(entry: Entry) -> dict[str, Any]:
    """The JSON form of an entry (what ``--json`` prints)."""
    options = {
        name: (None if p.default is inspect.Parameter.empty else p.default)
        for name, p in entry.signature().parameters.items()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    }
    return {
        "name": entry.shown,
        "kind": entry.kind,
        "summary": entry.summary,
        "paper": entry.paper,
        "aliases": list(entry.aliases),
        "plugin": entry.plugin,
        "example": entry.example,
        "options": _jsonable(options),
        "metadata": _jsonable(entry.metadata),
        "pretrained": {tag: w.source for tag, w in sorted(entry.pretrained.items())},
    }


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=repr))


@cli.command("list")
@click.argument("kind", required=False)
@click.argument("pattern", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--pretrained", is_flag=True, help="List named pretrained weights (NAME.TAG) instead.")
def list_command(kind: str | None, pattern: str | None, as_json: bool, pretrained: bool) -> None:
    """List registered components, of one KIND (generator, discriminator, loss, data, dataset, recipe, logger)
    or all, optionally only names matching PATTERN (a shell pattern such as 'unet*')."""
    from ganzoo.plugins import registry

    kinds = expand_kinds(kind) if kind else list(KINDS)
    if pretrained:
        _list_pretrained(kinds, pattern, as_json=as_json)
        return
    entries = [e for k in kinds for e in registry(k).find(pattern)]
    if as_json:
        click.echo(json.dumps([entry_to_dict(e) for e in entries], indent=2))
        return
    if not entries:
        what = f"{kinds[0]} components" if kind else "components"
        click.echo(f"no {what}" + (f" match {pattern!r}" if pattern else " are registered"))
        return
    show_kind = len(kinds) > 1
    rows = [
        ([e.kind] if show_kind else []) + [e.shown, ", ".join(e.aliases), e.plugin, e.summary]
        for e in entries
    ]
    print_table((["kind"] if show_kind else []) + ["name", "aliases", "plugin", "summary"], rows)


def _list_pretrained(kinds: list[str], pattern: str | None, *, as_json: bool) -> None:
    """``ganzoo list --pretrained``: every ``NAME.TAG`` with where its weights come from."""
    import fnmatch

    from ganzoo.plugins import registry

    rows = [(e.kind, f"{e.name}.{tag}", w.source, w.plugin or e.plugin, w.summary)
            for k in kinds for e in registry(k) for tag, w in sorted(e.pretrained.items())
            if not pattern or fnmatch.fnmatchcase(f"{e.name}.{tag}", pattern.lower())]
    if as_json:
        keys = ("kind", "name", "source", "plugin", "summary")
        click.echo(json.dumps([dict(zip(keys, row)) for row in rows], indent=2))
    elif not rows:
        click.echo("no pretrained weights" + (f" match {pattern!r}" if pattern else " are registered"))
    else:
        print_table(["kind", "name", "source", "plugin", "summary"], rows)


@cli.command("info")
@click.argument("name")
@click.option("--kind", help="Only look in this kind's registry (when a name exists in several).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info_command(name: str, kind: str | None, as_json: bool) -> None:
    """Show a component: summary, paper, options with defaults, aliases and the plugin it comes from."""
    from ganzoo.plugins import registry

    kinds = [normalize_kind(kind)] if kind else list(KINDS)
    found = [registry(k).get(name) for k in kinds if name in registry(k)]
    if not found:
        if kind:
            registry(kinds[0]).get(name)  # raises with the kind's close matches
        every = [n for k in KINDS for n in registry(k).names(aliases=True)]
        close = difflib.get_close_matches(name.lower(), every, n=5, cutoff=0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise UnknownComponentError(f"no component named {name!r}{hint}; `ganzoo list` shows them all")
    if as_json:
        click.echo(json.dumps([entry_to_dict(e) for e in found], indent=2))
        return
    for i, entry in enumerate(found):
        if i:
            click.echo("")
        _print_entry(entry)


def _print_entry(entry: Entry) -> None:
    click.echo(f"{entry.shown} ({entry.kind}) from plugin {entry.plugin}")
    if entry.kind == "recipe":  # a recipe is data: show its declaration (no torch is imported for it)
        from ganzoo.cli.recipes import print_recipe
        from ganzoo.train.config import get_recipe

        print_recipe(get_recipe(entry.name))
        return
    click.echo(f"  {entry.summary}")
    if entry.paper:
        click.echo(f"  paper:   {entry.paper}")
    if entry.aliases:
        click.echo(f"  aliases: {', '.join(entry.aliases)}")
    if entry.example:
        click.echo(f"  example: {entry.example}")
    if entry.pretrained:
        click.echo(f"  pretrained: {', '.join(f'{entry.name}.{tag}' for tag in sorted(entry.pretrained))}")
    click.echo(f"  signature: {entry.name}{entry.signature()}")
    factory_doc = entry.doc()
    if "Args:" in factory_doc:
        click.echo("  " + factory_doc[factory_doc.index("Args:"):].replace("\n", "\n  "))
