"""``ganzoo plugins``: which plugins loaded, which failed and why."""

from __future__ import annotations

import json

import click

from ganzoo.cli import cli
from ganzoo.cli.table import print_table


@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plugins_command(as_json: bool) -> None:
    """List plugins with their versions and status (loaded, failed with the reason, or disabled)."""
    from ganzoo.plugins import plugin_infos

    infos = plugin_infos()
    if as_json:
        click.echo(json.dumps([info.to_dict() for info in infos], indent=2))
        return
    rows = [
        [i.name, i.version or "-", i.source, i.status, i.error or ", ".join(h.removeprefix("ganzoo_") for h in i.hooks)]
        for i in infos
    ]
    print_table(["name", "version", "source", "status", "hooks / error"], rows, max_width=100)
