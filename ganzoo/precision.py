"""Mixed precision: autocast for the forward passes, gradient scalers for fp16, losses in float32.

A run's ``precision`` (``fp32``, ``bf16``, ``fp16``; :data:`ganzoo.train.spec.PRECISIONS`) becomes a
:class:`Precision`: the engine enters :meth:`Precision.forward` around a step's forward passes,
:meth:`ganzoo.Step.update` leaves autocast for the backward pass and the optimizer step and, for fp16,
scales the loss with the scaler of the optimizer group it updates (one per group: a discriminator's
gradients overflowing must not lower the generator's scale).

The losses' reductions and gradient penalties run in float32 whatever the forward passes ran in
(:func:`full_precision`): a mean over a 30x30 patch map in bf16 keeps 3 significant digits, and a
penalty's double backward in fp16 overflows. With ``fp32`` nothing here changes a single bit.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any, Callable, Mapping, TypeVar

import torch
from torch import Tensor

from ganzoo.train.spec import PRECISIONS

#: The autocast dtype of each precision the spec allows (None: no autocast, exact float32).
DTYPES: dict[str, torch.dtype | None] = dict(zip(PRECISIONS, (None, torch.bfloat16, torch.float16), strict=True))

F = TypeVar("F", bound=Callable[..., Any])


def autocast(device_type: str, precision: str) -> contextlib.AbstractContextManager[Any]:
    """Autocast to ``precision``'s dtype on ``device_type``; nothing at all for fp32."""
    dtype = DTYPES[precision]
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device_type, dtype=dtype)


def _as_float(value: Any) -> Any:
    """A reduced-precision tensor (or a list or tuple of them) as float32; anything else unchanged. A
    float32 tensor is returned as it is (``.float()`` makes no copy), so the fp32 path is untouched."""
    if isinstance(value, Tensor):
        return value.float() if value.is_floating_point() else value
    if isinstance(value, (list, tuple)):
        return type(value)(_as_float(v) for v in value)
    return value


def _device_type(values: Any) -> str | None:
    for value in values:
        if isinstance(value, Tensor):
            return value.device.type
        if isinstance(value, (list, tuple)):
            found = _device_type(value)
            if found:
                return found
    return None


def full_precision(fn: F) -> F:
    """Run a loss method in float32: its tensor arguments cast to float32 and autocast switched off for
    their device inside (so a gradient penalty's critic pass runs in float32 too). Where autocast is off
    already, only the (free) casts happen."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        args = tuple(_as_float(a) for a in args)
        kwargs = {k: _as_float(v) for k, v in kwargs.items()}
        device_type = _device_type((*args, *kwargs.values()))
        if device_type is None or not torch.is_autocast_enabled(device_type):
            return fn(*args, **kwargs)
        with torch.autocast(device_type=device_type, enabled=False):
            return fn(*args, **kwargs)

    wrapper.__full_precision__ = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def wrap_full_precision(cls: type, names: tuple[str, ...]) -> None:
    """Make the methods ``names`` that ``cls`` itself defines run in float32 (a loss base class calls this
    from ``__init_subclass__``, so a plugin's loss overriding ``penalty`` gets it without asking)."""
    for name in names:
        method = cls.__dict__.get(name)
        if callable(method) and not getattr(method, "__full_precision__", False):
            setattr(cls, name, full_precision(method))


class Precision:
    """How a run's steps compute: the autocast of the forward passes and, for fp16, a
    :class:`torch.amp.GradScaler` per optimizer group (whose states go into checkpoints)."""

    def __init__(self, name: str = "fp32", *, device_type: str = "cpu", groups: tuple[str, ...] = ()) -> None:
        if name not in DTYPES:
            raise ValueError(f"unknown precision {name!r}; valid: {', '.join(DTYPES)}")
        self.name, self.device_type = name, device_type
        self.scalers: dict[str, torch.amp.GradScaler] = (
            {g: torch.amp.GradScaler(device_type) for g in groups} if name == "fp16" else {})

    def forward(self) -> contextlib.AbstractContextManager[Any]:
        """The context a step's forward passes run in (the engine enters it around ``train_step``)."""
        return autocast(self.device_type, self.name)

    def outside_autocast(self) -> contextlib.AbstractContextManager[Any]:
        """The context of a backward pass and an optimizer step: autocast off (backward ops run in the
        dtypes their forward ops chose anyway; autocast there only costs and may surprise)."""
        if DTYPES[self.name] is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device_type, enabled=False)

    def state_dict(self) -> dict[str, Any]:
        return {group: scaler.state_dict() for group, scaler in self.scalers.items()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Scaler states of the groups saved (a checkpoint of an fp32 run has none: scalers start fresh)."""
        for group, scaler in self.scalers.items():
            if group in state:
                scaler.load_state_dict(state[group])
