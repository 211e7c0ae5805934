"""Adversarial, reconstruction and feature-matching losses, used by recipes only through their interfaces."""

from ganzoo.losses.adversarial import AdversarialLoss
from ganzoo.losses.feature_matching import FeatureMatchingLoss
from ganzoo.losses.reconstruction import ReconstructionLoss

__all__ = ["AdversarialLoss", "FeatureMatchingLoss", "ReconstructionLoss"]
