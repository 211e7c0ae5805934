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
def ganzoo_register_loggers(register: Register) -> None:
    """Register loggers: factories of objects that implement the event hooks below (a TensorBoard or a
    CSV writer). A run builds the loggers it is asked for and registers them for its duration."""


@hookspec
def ganzoo_register_weights(register: Register) -> None:
    """Attach named weights to entries, whichever plugin registered them.

    ``register(kind, name, *, tag, source, summary="", network="")`` makes ``NAME.TAG`` the entry's
    architecture with the weights of the model ``source`` names (``hf-hub:ORG/NAME``, ``reference:NAME``,
    a bundle folder); ``network`` picks one of its networks. Called after every entry is registered; an
    unknown entry, or a tag already taken, is the calling plugin's failure.
    """


@hookspec
def ganzoo_register_reference_models(register: Register) -> None:
    """Declare published checkpoints of reference implementations: ``register(ReferenceModel(...))``
    (see :class:`ganzoo.hub.reference.ReferenceModel`) makes ``reference:RECIPE/NAME`` fetch and convert one."""


@hookspec
def ganzoo_register_commands(cli: Any) -> None:
    """Add click commands to the ``ganzoo`` command group ``cli``."""


# -- events: what a run tells loggers. Every plugin (and every logger a run registered) is called; one that
# raises is reported once as a warning and not called for that event again, and the run goes on.


@hookspec
def ganzoo_run_start(run: Any) -> None:
    """A run begins (fresh or resumed): ``run`` is the engine's view of it (its folder, its resolved
    configuration, the step it starts from)."""


@hookspec
def ganzoo_log(run: Any, step: int, metrics: dict[str, float]) -> None:
    """The scalars of one logging interval at ``step`` (losses and learning rates, as plain numbers)."""


@hookspec
def ganzoo_samples(run: Any, step: int, path: Any) -> None:
    """A grid of samples from the fixed inputs was written to ``path`` (a PNG) at ``step``."""


@hookspec
def ganzoo_checkpoint(run: Any, step: int, path: Any) -> None:
    """A checkpoint of ``step`` is complete in the folder ``path`` (written whole, then renamed)."""


@hookspec
def ganzoo_evaluation(run: Any, step: int, scores: dict[str, float]) -> None:
    """Evaluation scores at ``step`` (FID/KID, or a toy set's own scores)."""


@hookspec
def ganzoo_run_end(run: Any, status: str, error: BaseException | None) -> None:
    """The run ended: ``status`` says how (finished, failed, interrupted) and ``error`` is the exception
    that ended it, or None."""
