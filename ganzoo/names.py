"""The one grammar of the names users type, parsed here and nowhere else.

A name is either a *source*, a saved model as a whole::

    hf-hub:ORG/NAME[@REVISION]     a model repo on the Hugging Face Hub
    reference:NAME                 a published reference model, converted on first use
    ./folder, ~/x, /abs, a/b       a bundle or run folder (a path separator outside a family argument)

or a registry name::

    BASE                           resnet9, wgan-gp, resnet_9blocks (an alias)
    FAMILY:ARGUMENT                timm:resnet18.a1_in1k (the argument may hold dots and colons)
    BASE.TAG                       resnet9.horse2zebra: the architecture with named weights

Base names and tags are lowercase letters, digits, ``-`` and ``_``; a base starts with a letter. For a
family, whether a trailing ``.TAG`` is a tag or part of the argument depends on the tags the entry has
registered, so :func:`parse_name` leaves it in the argument and
:meth:`ganzoo.registry.Registry.lookup` applies that rule.
"""

from __future__ import annotations

import dataclasses
import os
import re

from ganzoo.errors import GanzooError, UnknownComponentError

HUB_PREFIX = "hf-hub:"
REFERENCE_PREFIX = "reference:"

#: What a base name (or an alias) may look like.
NAME_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
#: What a weights tag may look like.
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

_SEPARATORS = tuple({"/", os.sep, os.altsep or "/"})


@dataclasses.dataclass(frozen=True)
class ComponentName:
    """A parsed name.

    Attributes:
        source: the whole name when it names a saved model (``hf-hub:...``, ``reference:...``, a folder);
            then the other fields are empty.
        base: the registry name or alias, lowercased.
        argument: what follows ``FAMILY:`` (case kept: it is passed to the family's factory).
        tag: the named weights after ``BASE.`` (or, for a family, as :meth:`Registry.lookup` decides).
    """

    source: str | None = None
    base: str = ""
    argument: str | None = None
    tag: str | None = None

    def __str__(self) -> str:
        if self.source is not None:
            return self.source
        text = self.base + (f":{self.argument}" if self.argument is not None else "")
        return text + (f".{self.tag}" if self.tag is not None else "")


def is_source(text: str) -> bool:
    """Whether ``text`` names a saved model (a Hub repo, a reference model, a folder) rather than an entry."""
    text = text.strip()
    if text.startswith((HUB_PREFIX, REFERENCE_PREFIX, ".", "~", *_SEPARATORS)):
        return True
    base, colon, argument = text.partition(":")
    if colon and NAME_RE.match(base.lower()) and not argument.startswith(_SEPARATORS):
        return False  # FAMILY:ARGUMENT, whose argument may hold slashes (timm:hf-hub:ORG/NAME), unlike C:/runs
    return any(sep in text for sep in _SEPARATORS)


def parse_name(text: str) -> ComponentName:
    """Split a name into source, base, family argument and tag (see the module's grammar).

    Raises:
        UnknownComponentError: the name is empty, or a source is malformed (``hf-hub:`` without
            ``ORG/NAME``, ``reference:`` without a name).
    """
    text = text.strip()
    if not text:
        raise UnknownComponentError("an empty name names nothing")
    if is_source(text):
        _check_source(text)
        return ComponentName(source=text)
    base, colon, argument = text.partition(":")
    if colon:
        if not argument:
            raise UnknownComponentError(f"{text!r} names a family without a member: write {base}:NAME")
        return ComponentName(base=base.lower(), argument=argument)
    base, dot, tag = base.partition(".")
    if dot and not tag:
        raise UnknownComponentError(f"{text!r} ends with '.': write {base}.TAG for named weights")
    return ComponentName(base=base.lower(), tag=tag.lower() if dot else None)


def _check_source(text: str) -> None:
    if text.startswith(HUB_PREFIX):
        from ganzoo.data.download import parse_hub_spec

        try:
            parse_hub_spec(text)
        except GanzooError as exc:
            raise UnknownComponentError(str(exc)) from exc
    elif text.startswith(REFERENCE_PREFIX) and not text.removeprefix(REFERENCE_PREFIX):
        raise UnknownComponentError("reference: needs a model name, as in reference:horse2zebra")
