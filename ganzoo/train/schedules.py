"""Learning-rate schedules over training steps: linear decay (the reference's default), step, cosine,
plateau."""

from __future__ import annotations

import warnings

from torch.optim import Optimizer, lr_scheduler

from ganzoo.errors import InvalidOptionError

SCHEDULES = ("linear", "step", "cosine", "plateau", "constant")


def make_scheduler(optimizer: Optimizer, *, policy: str, total_steps: int, decay_start: float = 0.5,
                   step_size: int | None = None, gamma: float = 0.1):
    """A scheduler stepped once per training step (``plateau`` once per log interval with a loss).

    Args:
        policy: ``linear`` (constant, then linear to zero from ``decay_start`` of the run: the
            reference's 100 + 100 epochs), ``step`` (times ``gamma`` every ``step_size`` steps),
            ``cosine`` (to zero over the run), ``plateau`` (times 0.2 after 5 intervals without
            improvement), ``constant``.
    """
    if policy == "linear":
        constant = int(total_steps * decay_start)
        decay = max(1, total_steps - constant)
        # The reference's rule with steps for epochs: the last step runs at 1 / (decay + 1) of the rate.
        return lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 - max(0, step + 1 - constant) / float(decay + 1))
    if policy == "step":
        return lr_scheduler.StepLR(optimizer, step_size=step_size or max(1, total_steps // 3), gamma=gamma)
    if policy == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, total_steps), eta_min=0)
    if policy == "plateau":
        return lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.2, threshold=0.01, patience=5)
    if policy == "constant":
        return lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    raise InvalidOptionError(f"unknown lr_policy {policy!r}; valid: {', '.join(SCHEDULES)}")


def advance(scheduler: lr_scheduler.LRScheduler) -> None:
    """One step of ``scheduler`` on the run's clock, whether or not its optimizer stepped this iteration.

    A group may rest through a run's first iterations (CycleGAN's discriminators while ``pretrain_steps``
    pre-trains the generators), and its schedule still counts them. Torch warns on a scheduler's first
    step when its optimizer has not stepped yet, guessing the calls came in the wrong order; here they
    did not, so that one warning is silenced (and nothing else is touched once it cannot come).
    """
    # torch warns at a scheduler's first step (_step_count 1) when the optimizer has not stepped (_opt_called)
    if getattr(scheduler, "_step_count", 1) != 1 or getattr(scheduler.optimizer, "_opt_called", False):
        scheduler.step()
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`")
        scheduler.step()
