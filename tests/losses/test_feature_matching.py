"""pix2pixHD's feature-matching loss against hand-computed values and the reference's own loop."""

import pytest
import torch

import ganzoo
from ganzoo.errors import GanzooError, InvalidOptionError
from ganzoo.losses.feature_matching import FeatureMatchingLoss
from ganzoo.nn.contract import discriminator_needs, loss_role


def t(*values):
    return torch.tensor(values, dtype=torch.float32)


def test_two_scales_of_two_layers_by_hand():
    """num_D = 2, two activations per scale (n_layers_D + 1 = 2): each layer weighs (1/2) * (4/2) = 1."""
    fake = [[t(0.0, 1.0), t(2.0, 2.0)], [t(1.0, 1.0, 1.0), t(-1.0)]]
    real = [[t(0.0, 0.0), t(1.0, 3.0)], [t(1.0, 1.0, 4.0), t(1.0)]]
    # mean |fake - real| per layer: 0.5, 1.0, 1.0, 2.0
    expected = 1.0 * 0.5 + 1.0 * 1.0 + 1.0 * 1.0 + 1.0 * 2.0
    assert ganzoo.create_loss("feature_matching")(fake, real).item() == pytest.approx(expected)


def test_one_scale_of_four_layers_weighs_each_layer_one():
    """A single PatchGAN of depth 3 (num_D = 1, 4 activations): 4 / 4 = 1 per layer."""
    fake = [t(1.0), t(2.0), t(3.0), t(4.0)]
    real = [t(0.0), t(0.0), t(0.0), t(0.0)]
    assert FeatureMatchingLoss()(fake, real).item() == pytest.approx(1 + 2 + 3 + 4)
    # three scales of one layer each: (1/3) * (4/1) per layer
    scales = FeatureMatchingLoss()([[t(3.0)], [t(6.0)], [t(0.0)]], [[t(0.0)], [t(0.0)], [t(0.0)]])
    assert scales.item() == pytest.approx(4 / 3 * (3 + 6))


def test_l2_criterion():
    assert FeatureMatchingLoss(criterion="l2")([t(1.0, 3.0)], [t(0.0, 0.0)]).item() == pytest.approx(4 * 5.0)
    with pytest.raises(InvalidOptionError, match="l1, l2, smooth_l1"):
        FeatureMatchingLoss(criterion="cosine")


def test_the_real_features_are_the_target_and_take_no_gradient():
    fake = [torch.ones(2, 3, requires_grad=True)]
    real = [torch.zeros(2, 3, requires_grad=True)]
    FeatureMatchingLoss()(fake, real).backward()
    assert fake[0].grad is not None and fake[0].grad.abs().sum() > 0
    assert real[0].grad is None


def test_matches_pix2pixhd_loop_on_a_multiscale_discriminator():
    """The reference's loss_G_GAN_Feat, written as pix2pixHD_model.py writes it, on what its getIntermFeat
    forward returns per scale: the features, then the logit map (which its loop leaves out)."""
    torch.manual_seed(0)
    n_layers, num_d = 2, 3
    disc = ganzoo.create_discriminator("multiscale", in_channels=6, ndf=4, n_layers=n_layers, num_scales=num_d,
                                       norm="instance")
    fake_in, real_in = torch.randn(2, 6, 48, 48), torch.randn(2, 6, 48, 48)
    pred_fake = [f + [m] for f, m in zip(disc.features(fake_in), disc(fake_in))]
    pred_real = [f + [m] for f, m in zip(disc.features(real_in), disc(real_in))]
    feat_weights, d_weights, lambda_feat = 4.0 / (n_layers + 1), 1.0 / num_d, 10.0
    reference = 0
    for i in range(num_d):
        for j in range(len(pred_fake[i]) - 1):
            reference += d_weights * feat_weights * \
                torch.nn.functional.l1_loss(pred_fake[i][j], pred_real[i][j].detach()) * lambda_feat
    ours = lambda_feat * FeatureMatchingLoss()(disc.features(fake_in), disc.features(real_in))
    assert ours.item() == pytest.approx(reference.item(), rel=1e-6)


@pytest.mark.parametrize("fake, real, message", [
    ([t(1.0)], [t(1.0), t(2.0)], "1 scale\\(s\\) of 1 activation\\(s\\) on fakes but 1 scale\\(s\\) of 2"),
    ([[t(1.0)], [t(1.0)]], [[t(1.0)]], "2 scale"),
    (t(1.0), t(1.0), "got Tensor on the fake input"),
    ([], [], "got list on the fake input"),
    ([[t(1.0)], []], [[t(1.0)], [t(1.0)]], "got list on the fake input"),
])
def test_mismatched_features_are_a_clear_error(fake, real, message):
    with pytest.raises(GanzooError, match=message):
        FeatureMatchingLoss()(fake, real)


def test_role_and_needs_are_read_from_the_class():
    factory = ganzoo.get_entry("loss", "feature_matching").factory
    assert loss_role(factory) == "feature_matching" and discriminator_needs(factory) == ("features",)
    assert discriminator_needs(ganzoo.get_entry("loss", "l1").factory) == ()


def test_bf16_features_are_compared_in_float32():
    fake = [t(1.0, 2.0).to(torch.bfloat16)]
    loss = FeatureMatchingLoss()(fake, [t(0.0, 0.0).to(torch.bfloat16)])
    assert loss.dtype == torch.float32 and loss.item() == pytest.approx(4 * 1.5)
