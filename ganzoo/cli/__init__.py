"""The ``ganzoo`` command line: thin click commands that parse, call the library and print.

Importing this module imports neither torch nor any plugin, so ``ganzoo --help`` stays fast; plugin
commands load when the command list is first needed.
"""

from __future__ import annotations

from typing import Any

import click

from ganzoo import __version__
from ganzoo.errors import GanzooError, Interrupted


class GanzooGroup(click.Group):
    """A group whose plugin commands load lazily, and whose errors print as one clean line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plugin_commands: dict[str, click.Command] = {}
        self._loaded_for: object | None = None

    def _load_plugin_commands(self) -> dict[str, click.Command]:
        from ganzoo.plugins import get_host

        try:
            host = get_host()
        except GanzooError as exc:
            raise click.ClickException(str(exc)) from exc
        if self._loaded_for != (host, host.generation):
            collector = click.Group()
            host.pm.hook.ganzoo_register_commands(cli=collector)
            self._plugin_commands = {
                name: cmd for name, cmd in collector.commands.items() if name not in self.commands
            }
            self._loaded_for = (host, host.generation)
        return self._plugin_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self._load_plugin_commands()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self.commands.get(cmd_name) or self._load_plugin_commands().get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Interrupted as exc:
            raise _Stopped(str(exc)) from exc
        except KeyboardInterrupt as exc:  # Ctrl-C outside training (a download, a conversion)
            raise _Stopped("interrupted; nothing half-written was kept") from exc
        except GanzooError as exc:
            failure = click.ClickException(str(exc))
            failure.exit_code = exc.exit_code
            raise failure from exc


class _Stopped(click.ClickException):
    """Ctrl-C: said as what happened (not as an error), with exit status 130 as shells expect."""

    exit_code = 130

    def show(self, file: Any = None) -> None:
        click.echo(self.format_message(), err=True)


def _plugins_dir_callback(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> None:
    from ganzoo.plugins import add_plugins_dir

    for folder in value:
        add_plugins_dir(folder)


@click.group(cls=GanzooGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ganzoo")
@click.option("--plugins-dir", multiple=True, type=click.Path(exists=True, file_okay=False),
              is_eager=True, expose_value=False, callback=_plugins_dir_callback,
              help="Also load the *.py plugin files in this folder (repeatable; env GANZOO_PLUGINS_DIR).")
def cli() -> None:
    """ganzoo: a GAN zoo of swappable generators, discriminators, losses and recipes."""


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="ganzoo")


from ganzoo.cli import components as _components  # noqa: E402  (registers commands on ``cli``)
from ganzoo.cli import data as _data  # noqa: E402,F401
from ganzoo.cli import hub as _hub  # noqa: E402,F401
from ganzoo.cli import infer as _infer  # noqa: E402,F401
from ganzoo.cli import run as _run  # noqa: E402,F401
from ganzoo.cli import plugins as _plugins  # noqa: E402,F401
from ganzoo.cli import bench as _bench  # noqa: E402,F401
from ganzoo.cli import evaluate as _evaluate  # noqa: E402,F401

__all__ = ["cli", "main"]
