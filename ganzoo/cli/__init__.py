"""The ``ganzoo`` command line: thin click commands that parse, call the library and print.

Importing this module imports neither torch nor any plugin, so ``ganzoo --help`` stays fast; plugin
commands load when the command list is first needed.
"""

from __future__ import annotations

import os
from typing import Any

import click

from ganzoo import __version__
from ganzoo.errors import GanzooError, Interrupted, first_line


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
            label = _process_label()
            if _under_torchrun():
                from ganzoo.train.distributed import record_failure

                record_failure(str(exc), exc=exc)
                if label and not label.startswith("rank 0:"):
                    raise _Stopped("") from exc  # rank 0 says where the checkpoint is, once
            raise _Stopped(str(exc)) from exc
        except KeyboardInterrupt as exc:  # Ctrl-C outside training (a download, a conversion)
            raise _Stopped("interrupted; nothing half-written was kept") from exc
        except GanzooError as exc:
            message = _process_label() + str(exc)
            if _under_torchrun():  # a process torchrun started: say which, and leave the line for torchrun's report
                from ganzoo.train.distributed import REPORTER_ENV, record_failure

                record_failure(message, exc=exc)
                if os.environ.get(REPORTER_ENV):  # ganzoo run --nproc says it, once
                    raise _Stopped("", exit_code=exc.exit_code) from exc
            failure = click.ClickException(message)
            failure.exit_code = exc.exit_code
            raise failure from exc
        except (click.ClickException, click.exceptions.Exit):
            raise
        except Exception as exc:  # a bug, or the GPU out of memory: torchrun's report names it in one line
            if _under_torchrun():
                from ganzoo.train.distributed import record_failure

                record_failure(f"{_process_label()}{type(exc).__name__}: {first_line(exc)}", exc=exc)
            raise


def _under_torchrun() -> bool:
    """Whether torchrun (or ganzoo run --nproc) started this process (read from its environment, no torch)."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def _process_label() -> str:
    """``rank R: `` in one of several processes torchrun started, else nothing."""
    if _under_torchrun() and os.environ["WORLD_SIZE"] != "1":
        return f"rank {os.environ['RANK']}: "
    return ""


class _Stopped(click.ClickException):
    """Ctrl-C: said as what happened (not as an error), with exit status 130 as shells expect (or a
    failure some other process reports, said by nothing here)."""

    def __init__(self, message: str, *, exit_code: int = 130) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        if self.format_message():
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
