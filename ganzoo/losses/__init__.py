"""Adversarial and reconstruction losses, used by recipes only through their interfaces."""

from ganzoo.losses.adversarial import AdversarialLoss
from ganzoo.losses.reconstruction import ReconstructionLoss

__all__ = ["AdversarialLoss", "ReconstructionLoss"]
