"""The ``ganzoo_*`` hook specifications: the one door every component comes through.

Each registration hook receives a ``register`` callback in the style of simonw/llm's
``register_models(register)``. Call it once per component::

    @ganzoo.hookimpl
    def ganzoo_register_generators(register):
        register(MyGenerator, name="mygen", summary="A tiny generator", paper="https://...")

``register(factory, *, name, summary, paper="", aliases=(), family=False, example="", defaults=None,
replace=False, **metadata)`` adds an entry to the registry of the hook's kind; ``replace=True`` overrides
an entry another plugin registered under the same name.
"""

from __future__ import annotations

from typing import Any, Callable

import pluggy

PROJECT = "ganzoo"

hookspec = pluggy.HookspecMarker(PROJECT)
#: Decorator that marks a plugin's hook implementations: ``@ganzoo.hookimpl``.
hookimpl = pluggy.HookimplMarker(PROJECT)

Register = Callable[..., Any]


@hookspec
def ganzoo_register_generators(register: Register) -> None:
    """Register generator networks (image-to-image or noise-to-image)."""


@hookspec
def ganzoo_register_discriminators(register: Register) -> None:
    """Register discriminator (critic) networks."""


@hookspec
def ganzoo_register_losses(register: Register) -> None:
    """Register adversarial and reconstruction losses."""


@hookspec
def ganzoo_register_data_modes(register: Register) -> None:
    """Register data modes (how a folder or toy set becomes training batches)."""


@hookspec
def ganzoo_register_datasets(register: Register) -> None:
    """Register named data sets: embedded toy sets and downloadable ones."""


@hookspec
def ganzoo_register_recipes(register: Register) -> None:
    """Register recipes (CycleGAN, Pix2Pix, ...)."""


@hookspec
def ganzoo_register_commands(cli: Any) -> None:
    """Add click commands to the ``ganzoo`` command group ``cli``."""
