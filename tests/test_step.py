"""The Step protocol's sample rows: named rows, blocks of rows, and plain lists from older steps."""

import pytest
import torch

from ganzoo.errors import GanzooError
from ganzoo.step import labelled_rows


def test_named_rows_keep_their_order_and_blocks_label_their_first_row():
    a, b = torch.zeros(2, 3, 4, 4), torch.ones(2, 3, 4, 4)
    labels, rows = labelled_rows({"input": a, "translation": b, "samples": [a, b, a]})
    assert labels == ["input", "translation", "samples", "", ""]
    assert [r is a for r in rows] == [True, False, True, False, True]


def test_plain_rows_are_numbered():
    labels, rows = labelled_rows([torch.zeros(2, 3, 4, 4)] * 3)
    assert labels == ["row 1", "row 2", "row 3"] and len(rows) == 3


@pytest.mark.parametrize("bad", [{}, [], {"input": "image"}, {"": torch.zeros(1, 3, 4, 4)}, {"samples": []}])
def test_rows_that_are_not_images_are_a_clear_error(bad):
    with pytest.raises(GanzooError, match="sample_rows"):
        labelled_rows(bad)


class Probe(torch.nn.Module):
    """A discriminator whose features are its input scaled, counting the calls."""

    calls = 0

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor(2.0))

    def features(self, x):
        Probe.calls += 1
        return [x * self.scale, x * self.scale * 2]


def step_with(aux):
    from ganzoo.step import Step

    return Step(nets={}, adversarial=None, aux=aux, optimizers={}, hparams={}, device=torch.device("cpu"), inference={})


def test_feature_matching_is_the_weighted_loss_on_features_with_the_real_ones_as_target():
    from ganzoo.losses.feature_matching import FeatureMatchingLoss
    from ganzoo.step import AuxTerm

    disc, fake, real = Probe(), torch.ones(1, 2, requires_grad=True), torch.full((1, 2), 0.25)
    loss = step_with({"feature_matching": AuxTerm(FeatureMatchingLoss(), 10.0)}).feature_matching(disc, fake, real)
    # one scale of two layers (4 / 2 each), scale s = 2: 10 * 2 * (|s - s/4| + |2s - s/2|)
    assert loss.item() == pytest.approx(10 * 2 * (1.5 + 3))
    loss.backward()
    # d/ds with the real features held fixed: 10 * 2 * (1 + 2); were they not, 10 * 2 * (3/4 + 3/2)
    assert fake.grad is not None and disc.scale.grad.item() == pytest.approx(10 * 2 * (1 + 2)), \
        "the gradient comes through the fakes' features only"


@pytest.mark.parametrize("aux", [{}, "zero weight"])
def test_feature_matching_off_costs_no_pass_through_the_discriminator(aux):
    from ganzoo.losses.feature_matching import FeatureMatchingLoss
    from ganzoo.step import AuxTerm

    if aux == "zero weight":
        aux = {"feature_matching": AuxTerm(FeatureMatchingLoss(), 0.0)}
    Probe.calls = 0
    loss = step_with(aux).feature_matching(Probe(), torch.ones(1, 2), torch.zeros(1, 2))
    assert loss.item() == 0 and Probe.calls == 0


def test_a_lazy_penalty_is_taken_every_kth_iteration_k_times_as_strong():
    """r1_interval=4 (lazy regularisation, as StyleGAN2's): R1 at iterations 0, 4, 8, ... times 4, the plain
    loss between; the iteration count is the step's (tests/train/test_engine.py resumes a lazy run)."""
    from ganzoo.losses.adversarial import HingeLoss
    from ganzoo.step import Step

    torch.manual_seed(0)
    disc = torch.nn.Linear(8, 1)
    real, fake = torch.randn(4, 8), torch.randn(4, 8)

    def loss_at(iteration, adversarial):
        step = Step(nets={}, adversarial=adversarial, aux={}, optimizers={}, hparams={}, device=torch.device("cpu"),
                    inference={})
        step.iteration = iteration
        return step.discriminator_loss(disc, real, fake, scale=1.0).item()

    plain = loss_at(0, HingeLoss())
    every = loss_at(0, HingeLoss(r1_weight=1.0))
    r1 = every - plain
    assert r1 == pytest.approx(0.5 * disc.weight.pow(2).sum().item(), rel=1e-5)
    lazy = HingeLoss(r1_weight=1.0, r1_interval=4)
    assert [loss_at(i, lazy) for i in range(9)] == pytest.approx(
        [plain + 4 * r1 if i % 4 == 0 else plain for i in range(9)], rel=1e-5)


def test_an_update_takes_the_steps_rate_scale_for_that_update_only():
    from ganzoo.step import Step

    class Halved(Step):
        def lr_scale(self, group):
            return 0.5 if group == "G" else 1.0

    weights = {g: torch.nn.Parameter(torch.zeros(2)) for g in ("G", "D")}
    optimizers = {g: torch.optim.SGD([w], lr=0.1) for g, w in weights.items()}
    step = Halved(nets={}, adversarial=None, aux={}, optimizers=optimizers, hparams={}, device=torch.device("cpu"),
                  inference={})
    step.update(("G", "D"), (weights["G"] + weights["D"]).sum())  # gradient 1 on every weight
    assert weights["G"].tolist() == pytest.approx([-0.05, -0.05]) and weights["D"].tolist() == pytest.approx([-0.1, -0.1])
    assert optimizers["G"].param_groups[0]["lr"] == 0.1, "the schedule's rate is back after the update"


@pytest.mark.parametrize("critic", ["lsgan", "wgan-gp"])
def test_the_generators_clock_counts_its_turns_under_the_critic_rule(critic):
    """generator_turns agrees with generator_turn: it goes up by one after each of the generator's turns, one
    per iteration with a plain loss, one per five with WGAN-GP's critic."""
    from ganzoo.losses.adversarial import LSGANLoss, WGANGPLoss
    from ganzoo.step import Step

    adversarial = LSGANLoss() if critic == "lsgan" else WGANGPLoss()
    step = Step(nets={}, adversarial=adversarial, aux={}, optimizers={}, hparams={}, device=torch.device("cpu"),
                inference={})
    updates = 0
    for iteration in range(23):
        step.iteration = iteration
        assert step.generator_turns == updates
        updates += step.generator_turn
    assert updates == (23 if critic == "lsgan" else 5)
