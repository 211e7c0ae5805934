"""Errors that ganzoo raises on purpose.

Every error meant for a user derives from :class:`GanzooError`, so the command line can print it as one
clean line and exit non-zero, while genuine bugs still surface as tracebacks.
"""

from __future__ import annotations


class GanzooError(Exception):
    """Base class of the errors ganzoo reports to users as a one-line message.

    ``exit_code`` is the command line's exit status for it: 1 for a failure, 2 for a usage error (as
    click and most Unix tools use 2), 130 for an interruption (128 + SIGINT, what shells expect).
    """

    exit_code = 1


class UsageError(GanzooError):
    """A value, name or option the user gave is not allowed: nothing was started, fix the command."""

    exit_code = 2


class Interrupted(GanzooError):
    """The user stopped the work (Ctrl-C); what was saved is named in the message, with how to go on."""

    exit_code = 130


class UnknownComponentError(UsageError, LookupError):
    """A name that no registry entry (and no alias) answers to."""


class DuplicateComponentError(GanzooError):
    """Two plugins registered the same name without the newcomer asking to replace it."""


class InvalidOptionError(UsageError, TypeError):
    """A component was given an option its factory does not take, or a value it cannot use."""


class PluginError(GanzooError):
    """A plugin failed to load or raised in a hook while failures were made fatal."""

    def __str__(self) -> str:  # LookupError-style repr quoting is not wanted for messages
        return str(self.args[0]) if self.args else ""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none), for one-line errors."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
