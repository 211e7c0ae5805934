"""Tiny settings that make any recipe train in a second or two on a CPU."""

import contextlib
import os
import signal
from typing import Iterator

TINY_SETS = {"gen.ngf": 8, "disc.ndf": 8, "score_samples": 8, "log_every": 1}


def tiny_spec(recipe, *, steps=3, batch_size=2, sets=None, gen=None, disc=None, loss=None, slots=None, **kwargs):
    """A checked :class:`~ganzoo.train.spec.RunSpec` of ``recipe`` at tiny sizes on its toy set.

    ``sets`` are added to :data:`TINY_SETS` (a None value drops a tiny setting, for a component that
    lacks it); other keyword arguments go to :func:`~ganzoo.train.config.build_spec` (``data``, ``aux``,
    ``epochs``, ``lr``, ...).
    """
    from ganzoo.train.config import build_spec

    merged = {k: v for k, v in {**TINY_SETS, **(sets or {})}.items() if v is not None}  # None: drop
    picks = {k: v for k, v in {"gen": gen, "disc": disc, "loss": loss, **(slots or {})}.items() if v is not None}
    return build_spec(recipe, slots=picks, steps=steps, batch_size=batch_size, sets=merged, **kwargs)


@contextlib.contextmanager
def ctrl_c_after(step: int, monkeypatch) -> Iterator[None]:
    """Inside the block, a training run gets Ctrl-C (SIGINT, what the terminal sends) right after it logs
    ``step``: it finishes that step, checkpoints and stops as a user's interrupted run does."""
    from ganzoo.train.engine import Trainer

    original = Trainer._flush

    def flush_then_interrupt(self, at):
        original(self, at)
        if at == step:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(Trainer, "_flush", flush_then_interrupt)
    try:
        yield
    finally:
        monkeypatch.setattr(Trainer, "_flush", original)


def register_one_layer_generator(name: str = "onelayer") -> str:
    """Register (for this process) a minimal third-party-style generator and return its name."""
    import ganzoo
    from torch import nn

    class OneLayer(nn.Module):
        """A one-convolution image generator, as a plugin might bring."""

        input_kind = "image"

        def __init__(self, *, in_channels: int = 3, out_channels: int = 3):
            super().__init__()
            self.in_channels, self.out_channels = in_channels, out_channels
            self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)

        def forward(self, x):
            return self.conv(x).tanh()

    ganzoo.register_generator(OneLayer, name=name)
    return name
