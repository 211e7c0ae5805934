"""Reconstruction losses against hand-computed values."""

import pytest
import torch

import ganzoo
from ganzoo.errors import InvalidOptionError


@pytest.mark.parametrize("name", ["cycle", "identity", "l1"])
def test_l1_by_default(name):
    loss = ganzoo.create_loss(name)
    output, target = torch.tensor([0.0, 1.0, -1.0, 0.5]), torch.tensor([0.0, 0.0, 1.0, 0.0])
    assert loss(output, target).item() == pytest.approx((0 + 1 + 2 + 0.5) / 4)
    assert ganzoo.get_entry("loss", name).metadata["role"] == "reconstruction"


def test_l2_and_smooth_l1():
    output, target = torch.tensor([0.0, 2.0]), torch.tensor([0.0, 0.0])
    assert ganzoo.create_loss("cycle", criterion="l2")(output, target).item() == pytest.approx(2.0)
    # smooth L1 (beta 1): 0.5 x^2 below 1, |x| - 0.5 above
    assert ganzoo.create_loss("l1", criterion="smooth_l1")(output, target).item() == pytest.approx(0.75)


def test_unknown_criterion():
    with pytest.raises(InvalidOptionError, match="l1, l2, smooth_l1"):
        ganzoo.create_loss("identity", criterion="l3")
