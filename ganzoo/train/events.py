"""The run's event hooks: what loggers (and any plugin) hear of a run.

The engine announces run start, each metrics row, sample grids, checkpoints, evaluations and the end of
the run (with how it ended) through pluggy hooks (``ganzoo_run_start``, ``ganzoo_log``, ``ganzoo_samples``,
``ganzoo_checkpoint``, ``ganzoo_evaluation``, ``ganzoo_run_end``). Loggers are components of kind
``logger``: those a run names (``--logger tensorboard``) are built at its start, take part in the hooks
for its duration, and are removed at its end, whichever way it ends.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterable

from ganzoo.errors import GanzooError


class Events:
    """The loggers one run switched on, and the door to every plugin's event hooks."""

    def __init__(self, loggers: Iterable[str], *, heard: bool = True) -> None:
        from ganzoo.plugins import get_host, registry

        self.host = get_host()
        self.entries = [registry("logger").get(name) for name in loggers]
        self.heard = heard  # False in a distributed run's other processes: rank 0 alone tells the plugins
        self._active = contextlib.ExitStack()

    def start(self) -> None:
        """Build the run's loggers and let them hear the run (a logger that cannot start is a one-line
        error before training)."""
        for entry in self.entries if self.heard else ():
            try:
                logger = entry.build()
            except GanzooError:
                raise
            except ImportError as exc:
                raise GanzooError(f"logger {entry.name!r} needs a package that is not installed: {exc}") from exc
            self._active.enter_context(self.host.temporary_plugin(logger, name=f"logger:{entry.name}"))

    def notify(self, hook: str, **kwargs: Any) -> None:
        if self.heard:
            self.host.notify(hook, **kwargs)

    def stop(self) -> None:
        """Remove the run's loggers; the run-end event was their cue to close what they opened."""
        self._active.close()
