"""The image pool and the learning-rate schedules."""

import random
import warnings

import pytest
import torch

from ganzoo.errors import InvalidOptionError
from ganzoo.train.pool import ImagePool
from ganzoo.train.schedules import advance, make_scheduler


def test_pool_fills_then_swaps_about_half():
    random.seed(0)
    pool = ImagePool(4)
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(pool.query(first), first), "while filling, the new images come back"
    swapped = 0
    for i in range(200):
        new = torch.full((1, 1, 1, 1), 100.0 + i)
        swapped += int(pool.query(new).item() != 100.0 + i)
    assert 70 < swapped < 130


def test_pool_state_round_trip():
    pool = ImagePool(3)
    pool.query(torch.randn(2, 3, 4, 4))
    other = ImagePool(0)
    other.load_state_dict(pool.state_dict())
    assert other.size == 3 and len(other.images) == 2 and torch.equal(other.images[1], pool.images[1])


def test_zero_pool_passes_through():
    x = torch.randn(2, 3, 4, 4)
    assert ImagePool(0).query(x) is x


def lrs(policy, steps=10, **kw):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = make_scheduler(opt, policy=policy, total_steps=steps, **kw)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_linear_is_constant_then_decays_to_near_zero():
    values = lrs("linear", 10)
    assert values[:5] == [1.0] * 5
    assert all(a > b for a, b in zip(values[5:], values[6:])) and values[-1] < 0.2


def test_step_and_cosine():
    assert lrs("step", 9, step_size=3)[::3] == pytest.approx([1.0, 0.1, 0.01])
    cosine = lrs("cosine", 10)
    assert cosine[0] == 1.0 and cosine[5] == pytest.approx(0.5) and cosine[-1] < 0.05


def test_unknown_policy():
    with pytest.raises(InvalidOptionError, match="linear, step, cosine, plateau"):
        lrs("exponential")


def test_a_resting_optimizers_schedule_keeps_the_runs_clock_without_a_warning():
    resting = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = make_scheduler(resting, policy="linear", total_steps=4, decay_start=0.5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            advance(sched)
    assert not caught, [str(w.message) for w in caught]
    assert resting.param_groups[0]["lr"] == pytest.approx(1.0 / 3), "three steps in, as if it had stepped"
