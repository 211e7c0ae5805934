"""Adversarial losses against values computed by hand on small tensors."""

import math

import pytest
import torch

import ganzoo
from ganzoo.errors import GanzooError
from ganzoo.losses import AdversarialLoss
from ganzoo.losses.adversarial import BCELoss, HingeLoss, LSGANLoss, WGANGPLoss
from ganzoo.nn.contract import loss_role

ADVERSARIAL = [e.name for e in ganzoo.get_registry("loss") if loss_role(e.factory) == "adversarial"]


def t(*values):
    return torch.tensor(values, dtype=torch.float32)


def softplus(x):
    return math.log1p(math.exp(x))


def test_bce_matches_hand_computed():
    loss = ganzoo.create_loss("vanilla")
    real, fake = t(2.0, -1.0), t(0.0, 1.0)
    # BCE with logits: target 1 -> softplus(-x), target 0 -> softplus(x)
    expected_d = (softplus(-2.0) + softplus(1.0)) / 2 + (softplus(0.0) + softplus(1.0)) / 2
    assert loss.discriminator_loss(real, fake).item() == pytest.approx(expected_d, rel=1e-6)
    assert loss.generator_loss(fake).item() == pytest.approx((softplus(0.0) + softplus(-1.0)) / 2, rel=1e-6)


def test_lsgan_matches_hand_computed():
    loss = ganzoo.create_loss("lsgan")
    real, fake = t(0.5, 1.5), t(0.5, -0.5)
    assert loss.discriminator_loss(real, fake).item() == pytest.approx(0.25 + 0.25)
    assert loss.generator_loss(fake).item() == pytest.approx((0.25 + 2.25) / 2)
    assert loss(real, True).item() == pytest.approx(0.25)  # the reference's criterionGAN(pred, True)


def test_lsgan_label_smoothing():
    loss = ganzoo.create_loss("lsgan", real_label=0.9)
    assert loss(t(0.9, 0.9), True).item() == pytest.approx(0.0)


def test_wgan_matches_hand_computed():
    loss = ganzoo.create_loss("wgangp")
    real, fake = t(3.0, 1.0), t(-1.0, 0.0)
    assert loss.discriminator_loss(real, fake).item() == pytest.approx(-0.5 - 2.0)
    assert loss.generator_loss(fake).item() == pytest.approx(0.5)
    assert loss.critic_steps == 5 and loss.allows_batch_norm is False


def test_hinge_matches_hand_computed():
    loss = ganzoo.create_loss("hinge")
    real, fake = t(0.5, 2.0), t(-2.0, 0.5)
    assert loss.discriminator_loss(real, fake).item() == pytest.approx(0.25 + 0.75)
    assert loss.generator_loss(fake).item() == pytest.approx(0.75)


def linear_critic(norm):
    critic = torch.nn.Linear(8, 1, bias=True)
    with torch.no_grad():
        weight = torch.randn(1, 8)
        critic.weight.copy_(weight / weight.norm() * norm)
    return lambda x: critic(x.flatten(1))


@pytest.mark.parametrize("interpolation", ["mixed", "real", "fake"])
def test_gradient_penalty_of_1_lipschitz_linear_critic_is_zero(interpolation):
    torch.manual_seed(0)
    loss = ganzoo.create_loss("wgan-gp", interpolation=interpolation)
    real, fake = torch.randn(4, 2, 2, 2), torch.randn(4, 2, 2, 2)
    assert loss.penalty(linear_critic(1.0), real, fake).item() == pytest.approx(0.0, abs=1e-6)


def test_gradient_penalty_of_steeper_critic():
    torch.manual_seed(0)
    loss = ganzoo.create_loss("wgan-gp", gp_weight=10.0)
    real, fake = torch.randn(4, 8), torch.randn(4, 8)
    assert loss.penalty(linear_critic(3.0), real, fake).item() == pytest.approx(10.0 * (3.0 - 1.0) ** 2, rel=1e-5)


def test_gradient_penalty_works_with_a_conv_critic_and_trains_it():
    torch.manual_seed(0)
    critic = ganzoo.create_discriminator("patchgan", ndf=8, norm="none")
    loss = ganzoo.create_loss("wgan-gp")
    real, fake = torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32, requires_grad=True)
    penalty = loss.penalty(critic, real, fake)
    assert penalty.item() > 0
    penalty.backward()
    # biases do not change the critic's input gradient, so only the weights are trained by the penalty
    weights = [p for name, p in critic.named_parameters() if name.endswith("weight")]
    assert all(w.grad is not None and w.grad.abs().sum() > 0 for w in weights)
    assert fake.grad is None, "the penalty must not push gradients into the generator's output"


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_every_adversarial_loss_rewards_the_right_side(name):
    """Generic to the interface: any registered adversarial loss, built-in or from a plugin."""
    loss = ganzoo.create_loss(name)
    assert isinstance(loss, AdversarialLoss)
    confident, fooled = (t(3.0, 2.0), t(-3.0, -2.0)), (t(-3.0, -2.0), t(3.0, 2.0))
    assert loss.discriminator_loss(*confident) < loss.discriminator_loss(*fooled)
    assert loss.generator_loss(t(3.0, 2.0)) < loss.generator_loss(t(-3.0, -2.0))
    penalty = loss.penalty(lambda x: x.flatten(1).sum(1, keepdim=True), torch.randn(2, 3), torch.randn(2, 3))
    assert penalty.dim() == 0 and torch.isfinite(penalty)


def test_adversarial_losses_take_patch_maps():
    loss = ganzoo.create_loss("bce")
    value = loss.discriminator_loss(torch.zeros(2, 1, 6, 6), torch.zeros(2, 1, 6, 6))
    assert value.item() == pytest.approx(2 * math.log(2))


def test_adversarial_losses_declare_their_role_on_the_class():
    assert ADVERSARIAL, "the registry-wide test below must have losses to run on"
    for cls in (BCELoss, LSGANLoss, WGANGPLoss, HingeLoss, AdversarialLoss):
        assert cls.role == "adversarial" and loss_role(cls) == "adversarial"
    assert loss_role(torch.nn.L1Loss) is None


class TwoScales(torch.nn.Module):
    """A toy multi-scale discriminator: a coarse and a fine logit map, as pix2pixHD's returns."""

    def __init__(self):
        super().__init__()
        self.small = torch.nn.Conv2d(3, 1, kernel_size=3, stride=2, padding=1)
        self.big = torch.nn.Conv2d(3, 1, kernel_size=3, padding=1)

    def forward(self, x):
        return [self.small(x), self.big(x)]


@pytest.mark.parametrize("name", ["bce", "lsgan", "hinge", "wgan-gp"])
def test_a_list_of_logit_maps_gives_the_sum_of_the_per_scale_losses(name):
    torch.manual_seed(0)
    loss, disc = ganzoo.create_loss(name), TwoScales()
    real_out, fake_out = disc(torch.randn(2, 3, 8, 8)), disc(torch.randn(2, 3, 8, 8))
    assert [o.shape[-1] for o in real_out] == [4, 8]
    per_scale_d = [loss.discriminator_loss(r, f) for r, f in zip(real_out, fake_out)]
    per_scale_g = [loss.generator_loss(f) for f in fake_out]
    assert per_scale_d[0].item() != pytest.approx(per_scale_d[1].item()), "the scales must differ to test a sum"
    assert loss.discriminator_loss(real_out, fake_out).item() == pytest.approx(sum(per_scale_d).item(), rel=1e-6)
    assert loss.generator_loss(tuple(fake_out)).item() == pytest.approx(sum(per_scale_g).item(), rel=1e-6)


def test_the_reference_criterion_form_sums_scales_too():
    loss = ganzoo.create_loss("lsgan")
    maps = [t(0.5, 1.5), t(1.0, 0.0)]
    assert loss(maps, True).item() == pytest.approx(0.25 + 0.5)


def test_real_and_fake_outputs_must_have_as_many_scales():
    loss = ganzoo.create_loss("hinge")
    with pytest.raises(GanzooError, match="2 scale.*on real samples but 1 on fakes"):
        loss.discriminator_loss([t(1.0), t(2.0)], t(0.0))


def test_a_non_tensor_output_is_a_clear_error():
    with pytest.raises(GanzooError, match="returned a dict"):
        ganzoo.create_loss("bce").generator_loss({"logits": t(1.0)})


def test_gradient_penalty_on_a_multi_scale_critic_runs_and_trains_it():
    torch.manual_seed(0)
    critic, loss = TwoScales(), ganzoo.create_loss("wgan-gp")
    real, fake = torch.randn(2, 3, 8, 8), torch.randn(2, 3, 8, 8)
    penalty = loss.penalty(critic, real, fake)
    assert penalty.dim() == 0 and penalty.item() > 0
    penalty.backward()
    assert critic.small.weight.grad.abs().sum() > 0 and critic.big.weight.grad.abs().sum() > 0


def test_gradient_penalty_of_a_multi_scale_critic_is_that_of_the_summed_scores():
    """Two linear scales with slopes w1 and w2 score a sample by their sum: slope |w1 + w2|."""
    torch.manual_seed(0)
    w = torch.randn(8)
    w1, w2 = 0.25 * w / w.norm(), 0.5 * w / w.norm()
    critic = lambda x: [(x @ w1)[:, None], (x @ w2)[:, None]]  # noqa: E731
    loss = ganzoo.create_loss("wgan-gp", gp_weight=1.0)
    value = loss.penalty(critic, torch.randn(4, 8), torch.randn(4, 8))
    assert value.item() == pytest.approx((0.75 - 1.0) ** 2, rel=1e-5)


def test_gradient_penalty_of_a_patch_map_is_the_references():
    """As the reference's cal_gradient_penalty, the gradient is that of the sum of the map's patches: one
    unit-slope score repeated over 3x3 patches has slope 9 (penalty 10 * (9 - 1)^2)."""
    torch.manual_seed(0)
    w = torch.randn(8)
    critic = lambda x: (x @ (w / w.norm()))[:, None, None, None].expand(-1, 1, 3, 3)  # noqa: E731
    loss = ganzoo.create_loss("wgan-gp")
    assert loss.penalty(critic, torch.randn(4, 8), torch.randn(4, 8)).item() == pytest.approx(640.0, rel=1e-5)


@pytest.mark.parametrize("loss_class", [BCELoss, LSGANLoss, HingeLoss])
def test_r1_of_a_linear_critic_is_half_gamma_times_its_squared_slope(loss_class):
    """R1 is gamma / 2 * E|grad_x D(x)|^2 at the real samples: a linear critic of slope 3 has 4.5 gamma."""
    real, fake = torch.randn(4, 8), torch.randn(4, 8)
    assert loss_class(r1_weight=10.0).penalty(linear_critic(3.0), real, fake).item() == pytest.approx(45.0, rel=1e-5)
    assert loss_class().penalty(linear_critic(3.0), real, fake).item() == 0, "no R1 unless asked"


def test_r1_is_taken_at_the_real_samples_only_and_trains_the_critic():
    critic = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Tanh(), torch.nn.Conv2d(4, 1, 3))
    real, fake = torch.randn(2, 3, 8, 8), torch.randn(2, 3, 8, 8, requires_grad=True)
    penalty = BCELoss(r1_weight=1.0).penalty(critic, real, fake)
    assert penalty.item() > 0
    penalty.backward()
    assert critic[0].weight.grad is not None and critic[0].weight.grad.abs().sum() > 0
    same_reals = BCELoss(r1_weight=1.0).penalty(critic, real, torch.randn_like(fake))
    assert same_reals.item() == pytest.approx(penalty.item(), rel=1e-6), "R1 never looks at the fakes"
    assert BCELoss(r1_weight=1.0).penalty(critic, fake.detach(), real).item() != pytest.approx(penalty.item())
    # a patch map and a list of scales: the gradient of the summed outputs, as WGAN-GP's penalty takes it
    two_scales = BCELoss(r1_weight=2.0).penalty(lambda x: [critic(x), critic(x)], real, fake)
    assert two_scales.item() == pytest.approx(2 * 2 ** 2 * penalty.item(), rel=1e-5)  # weight 2, slope doubled


@pytest.mark.parametrize("options", [{"r1_weight": -1.0}, {"r1_interval": 0}, {"r1_weight": "much"},
                                     {"r1_interval": 4}])  # the last: an interval without a weight
def test_r1_options_are_checked(options):
    from ganzoo.errors import InvalidOptionError

    with pytest.raises(InvalidOptionError, match=next(iter(options))):
        HingeLoss(**options)


def test_r1_asks_for_a_critic_without_batch_norm():
    """Batch statistics tie a sample's score to the others', which a per-sample gradient must not see."""
    assert BCELoss().allows_batch_norm and not BCELoss(r1_weight=1.0).allows_batch_norm
    assert not WGANGPLoss().allows_batch_norm
