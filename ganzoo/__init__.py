"""ganzoo: a plugin-based GAN zoo for PyTorch.

``import ganzoo`` is cheap: it imports neither torch nor any plugin. The names below load on first use.

    >>> import ganzoo
    >>> g = ganzoo.create_generator("resnet9", ngf=64)
    >>> ganzoo.list_components("discriminator")
    ['dc', 'patchgan', 'pixel', 'timm']
"""

from __future__ import annotations

import importlib
from typing import Any

from ganzoo.errors import GanzooError, InvalidOptionError, PluginError, UnknownComponentError
from ganzoo.hookspecs import hookimpl

__version__ = "0.1.0"
DISTRIBUTION = "torch-ganzoo"
"""What to ``pip install`` to get ganzoo: ``ganzoo`` on the package index is an unrelated project."""

_LAZY = {
    "create_generator": "ganzoo.api",
    "create_discriminator": "ganzoo.api",
    "create_loss": "ganzoo.api",
    "create_component": "ganzoo.api",
    "list_components": "ganzoo.api",
    "get_entry": "ganzoo.api",
    "get_registry": "ganzoo.api",
    "register_component": "ganzoo.api",
    "register_generator": "ganzoo.api",
    "register_discriminator": "ganzoo.api",
    "register_loss": "ganzoo.api",
    "register_plugin": "ganzoo.api",
    "unregister_plugin": "ganzoo.api",
    "Model": "ganzoo.hub.model",
    "create_pretrained": "ganzoo.api",
    "init_weights": "ganzoo.nn.layers",
    "norm_layer": "ganzoo.nn.layers",
    "AdversarialLoss": "ganzoo.losses.adversarial",
    "ReconstructionLoss": "ganzoo.losses.reconstruction",
    "Contract": "ganzoo.nn.contract",
    "contract_of": "ganzoo.nn.contract",
    "uses_batch_norm": "ganzoo.nn.contract",
    # recipes and training
    "Recipe": "ganzoo.recipe",
    "Slot": "ganzoo.recipe",
    "Network": "ganzoo.recipe",
    "AuxLoss": "ganzoo.recipe",
    "Value": "ganzoo.recipe",
    "Step": "ganzoo.step",
    "AuxTerm": "ganzoo.step",
    "ImagePool": "ganzoo.train.pool",
    "get_recipe": "ganzoo.train.config",
    "train": "ganzoo.train",
    "resume": "ganzoo.train.run",
    "Run": "ganzoo.train.run",
    "RunSpec": "ganzoo.train.spec",
    "ReferenceModel": "ganzoo.hub.reference",
}

__all__ = ["GanzooError", "InvalidOptionError", "PluginError", "UnknownComponentError", "hookimpl",
           "__version__", "DISTRIBUTION", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ganzoo' has no attribute {name!r}")
    imported = importlib.import_module(module)
    # ``ganzoo.train`` is the (callable) training package itself, so ``ganzoo.train.run`` keeps working.
    value = imported if module == f"ganzoo.{name}" else getattr(imported, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
