"""Errors that ganzoo raises on purpose.

Every error meant for a user derives from :class:`GanzooError`, so the command line can print it as one
clean line and exit non-zero, while genuine bugs still surface as tracebacks.
"""

from __future__ import annotations


class GanzooError(Exception):
    """Base class of the errors ganzoo reports to users as a one-line message."""


class UnknownComponentError(GanzooError, LookupError):
    """A name that no registry entry (and no alias) answers to."""


class DuplicateComponentError(GanzooError):
    """Two plugins registered the same name without the newcomer asking to replace it."""


class InvalidOptionError(GanzooError, TypeError):
    """A component was given an option its factory does not take, or a value it cannot use."""


class PluginError(GanzooError):
    """A plugin failed to load or raised in a hook while failures were made fatal."""

    def __str__(self) -> str:  # LookupError-style repr quoting is not wanted for messages
        return str(self.args[0]) if self.args else ""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none), for one-line errors."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
