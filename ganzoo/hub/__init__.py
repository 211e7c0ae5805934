"""Trained models as shareable bundles: ``Model.from_pretrained``, ``save_pretrained``, ``push_to_hub``,
and the converter for the reference CycleGAN/pix2pix checkpoints."""

from __future__ import annotations

from ganzoo.hub.bundle import BundleError
from ganzoo.hub.model import Model

__all__ = ["BundleError", "Model"]
