"""The training engine, and ``ganzoo.train(...)``.

``ganzoo.train`` names both this package and the function that trains (its ``train``), so the package
itself is callable: ``ganzoo.train("cyclegan", steps=100)`` works however it was reached. Importing it
imports no torch.
"""

from __future__ import annotations

import functools
import sys
import types
from typing import Any

from ganzoo.train import run as _run


@functools.wraps(_run.train)
def train(*args: Any, **kwargs: Any) -> Any:
    return _run.train(*args, **kwargs)


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return train(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
