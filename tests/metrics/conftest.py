"""Fixtures for the FID/KID tests: no weights from the user's environment, and an Inception weights file
of the real architecture with seeded random values (the real file is 96 MB on GitHub; tests are offline)."""

from __future__ import annotations

import pytest
import torch

from ganzoo.data.images import to_uint8
from tests.metrics.samples import images, pale

WEIGHTS_ENV = ("GANZOO_WEIGHTS_DIR", "GANZOO_INCEPTION_WEIGHTS")


@pytest.fixture(autouse=True)
def no_weights_from_the_environment(monkeypatch):
    """The root conftest points the cache at a temp dir (XDG_CACHE_HOME); a developer's shell must not
    point the weights elsewhere."""
    for var in WEIGHTS_ENV:
        monkeypatch.delenv(var, raising=False)


def random_inception(seed: int = 0) -> torch.nn.Module:
    """torch-fidelity's Inception v3 with seeded random weights whose features are not degenerate.

    Default initialisation shrinks activations layer after layer (the pooled features come out near
    1e-8), so the batch norms' scales and shifts are drawn at random, then their running statistics are
    calibrated on one batch of the tests' kind of images (they become that batch's statistics), so
    every layer's output keeps about unit scale, as in the trained network (features of order 1).
    """
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    torch.manual_seed(seed)
    with pytest.MonkeyPatch.context() as mp:  # build without loading: its file holds nothing
        mp.setattr(FeatureExtractorInceptionV3, "load_state_dict", lambda self, *args, **kwargs: None)
        mp.setattr(torch, "load", lambda *args, **kwargs: {})
        net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path="unused")
    norms = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    calibration = torch.cat([images(6, seed=100), pale(images(6, seed=101))])
    with torch.no_grad():
        for bn in norms:
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.5, 0.5)
            bn.reset_running_stats()
            bn.momentum = None  # a cumulative average: after one batch, that batch's statistics
        net.train()
        net(to_uint8(calibration))
        net.eval()
    for bn in norms:
        bn.momentum = 0.1
    return net
