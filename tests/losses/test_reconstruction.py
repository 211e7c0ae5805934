"""Reconstruction losses against hand-computed values."""

import pytest
import torch

import ganzoo
from ganzoo.errors import GanzooError, InvalidOptionError
from ganzoo.losses.reconstruction import CycleConsistencyLoss, IdentityLoss, PixelLoss, ReconstructionLoss
from ganzoo.nn.contract import loss_role


@pytest.mark.parametrize("name", ["cycle", "identity", "l1"])
def test_l1_by_default(name):
    loss = ganzoo.create_loss(name)
    output, target = torch.tensor([0.0, 1.0, -1.0, 0.5]), torch.tensor([0.0, 0.0, 1.0, 0.0])
    assert loss(output, target).item() == pytest.approx((0 + 1 + 2 + 0.5) / 4)
    assert loss_role(ganzoo.get_entry("loss", name).factory) == "reconstruction"


def test_l2_and_smooth_l1():
    output, target = torch.tensor([0.0, 2.0]), torch.tensor([0.0, 0.0])
    assert ganzoo.create_loss("cycle", criterion="l2")(output, target).item() == pytest.approx(2.0)
    # smooth L1 (beta 1): 0.5 x^2 below 1, |x| - 0.5 above
    assert ganzoo.create_loss("l1", criterion="smooth_l1")(output, target).item() == pytest.approx(0.75)


def test_unknown_criterion():
    with pytest.raises(InvalidOptionError, match="l1, l2, smooth_l1"):
        ganzoo.create_loss("identity", criterion="l3")


def test_reconstruction_losses_declare_their_role_on_the_class():
    for cls in (ReconstructionLoss, CycleConsistencyLoss, IdentityLoss, PixelLoss):
        assert loss_role(cls) == "reconstruction"


@pytest.mark.parametrize("criterion", ["l1", "l2", "smooth_l1"])
def test_lists_give_the_sum_of_the_pairwise_distances(criterion):
    """Feature matching: one distance per layer, summed."""
    torch.manual_seed(0)
    loss = ganzoo.create_loss("l1", criterion=criterion)
    outputs = [torch.randn(2, 4, 8, 8), torch.randn(2, 8, 4, 4)]
    targets = [torch.randn(2, 4, 8, 8), torch.randn(2, 8, 4, 4)]
    expected = loss(outputs[0], targets[0]) + loss(outputs[1], targets[1])
    assert loss(outputs, tuple(targets)).item() == pytest.approx(expected.item(), rel=1e-6)


@pytest.mark.parametrize("output, target, described", [
    ([torch.zeros(1)], [torch.zeros(1), torch.zeros(1)], "a list of 1 and a list of 2"),
    ([], [], "a list of 0 and a list of 0"),
    (torch.zeros(1), [torch.zeros(1)], "a tensor and a list of 1"),
    (None, torch.zeros(1), "a NoneType and a tensor"),
])
def test_mismatched_lists_are_a_clear_error(output, target, described):
    with pytest.raises(GanzooError, match=described):
        ganzoo.create_loss("cycle")(output, target)
