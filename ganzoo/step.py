"""The step: the algorithm of one training iteration, and nothing else.

The engine builds the recipe's networks, losses and optimizers and hands them to the step. The step
returns a dict of scalar tensors (never ``.item()``: the engine turns them into numbers at the logging
interval only, so a GPU is not synchronised every iteration). It never branches on a component's name:
losses and networks are used through their interfaces, and a discriminator may return one logit map or
a list of them (the losses take both).
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterable, Iterator, Mapping, NamedTuple, Sequence, Union

import torch
from torch import Tensor, nn

from ganzoo.errors import GanzooError
from ganzoo.precision import Precision


#: What :meth:`Step.sample_rows` returns: rows of images named by what they show, top to bottom
#: (``{"input": x, "translation": g(x)}``; a label may name a block of several rows), or plain rows,
#: which the grid labels ``row 1``, ``row 2``, ...
SampleRows = Union[Mapping[str, Union[Tensor, Sequence[Tensor]]], Sequence[Tensor]]


class AuxTerm(NamedTuple):
    """An auxiliary loss filling a role, with its weight."""

    loss: Callable[..., Tensor]
    weight: float


class Step:
    """One training iteration; subclasses implement :meth:`train_step` and, when the default does not
    fit, :meth:`fixed_inputs` and :meth:`sample_rows`.

    Attributes available to subclasses: ``nets`` (by the names the recipe declares), ``adversarial``
    (the loss in the ``loss`` slot), ``aux`` (role -> :class:`AuxTerm`), ``optimizers`` (by group),
    ``hparams`` (the recipe's step hyper-parameters, resolved), ``device``, ``inference_networks``
    (direction -> network name), ``iteration`` (updates done so far) and ``precision`` (the run's
    :class:`~ganzoo.precision.Precision`, set by the engine: exact fp32 unless the run asks otherwise).
    """

    #: How many fixed inputs a sample grid shows.
    grid_size: int = 6

    def __init__(self, *, nets: Mapping[str, nn.Module], adversarial: Any, aux: Mapping[str, AuxTerm],
                 optimizers: Mapping[str, torch.optim.Optimizer], hparams: Mapping[str, Any],
                 device: torch.device, inference: Mapping[str, str]) -> None:
        self.nets, self.adversarial, self.aux = dict(nets), adversarial, dict(aux)
        self.optimizers, self.hparams, self.device = dict(optimizers), dict(hparams), device
        self.inference_networks = dict(inference)
        self.iteration = 0
        self.precision = Precision()

    # -- what the engine asks ------------------------------------------------------------------

    @staticmethod
    def discriminator_channels(in_channels: int, out_channels: int) -> int:
        """Channels the discriminator sees (a conditional discriminator sees input and output)."""
        return out_channels

    def train_step(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """Run one iteration on a batch already on the device; return scalar tensors to log."""
        raise NotImplementedError

    def fixed_inputs(self, data: Any) -> dict[str, Any]:
        """The inputs every sample grid shows, so progress can be compared by eye.

        The default takes the first items of ``data`` (the test split where there is one) and stacks
        each tensor field; a noise-to-image step draws seeded noise instead.
        """
        items = [data[i] for i in range(min(self.grid_size, len(data)))]
        return {k: torch.stack([it[k] for it in items]).to(self.device)
                for k, v in items[0].items() if isinstance(v, Tensor)}

    def sample_rows(self, fixed: dict[str, Any]) -> SampleRows:
        """Rows of images (each (N, C, H, W) in [-1, 1]) for the sample grid of the fixed inputs.

        Name the rows by what they show, ``{"input": x, "translation": g(x), "target (truth)": y}``
        (a dict keeps its order, top to bottom; a label may name a list of rows, a block such as a
        square of samples): the names are drawn beside the rows in the PNG and shown on the run's
        page, so a grid reads right on its own. A plain list of rows works too (``row 1``, ...).
        """
        raise NotImplementedError

    def inference(self, direction: str = "AtoB") -> Callable[..., Tensor]:
        """The trained model as a function: ``f(x)`` translates (from the input side to the target side
        as trained, for ``AtoB``), and for a noise-to-image recipe ``f(n, seed=0)`` samples."""
        if "sample" in self.inference_networks:
            return sampler(self.nets[self.inference_networks["sample"]])
        if direction not in self.inference_networks:
            raise GanzooError(f"this model translates {' and '.join(self.inference_networks)} only, not {direction}")
        return self.nets[self.inference_networks[direction]]

    def monitor(self, means: Mapping[str, float]) -> float | None:
        """The one number a plateau schedule watches: by default the sum of the logged losses; None for
        an interval it should not judge (a phase whose losses are no baseline for the next one's)."""
        return float(sum(means.values()))

    def state_dict(self) -> dict[str, Any]:
        """Extra state to checkpoint (image pools, ...)."""
        return {"iteration": self.iteration}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.iteration = int(state["iteration"])

    # -- helpers for subclasses ----------------------------------------------------------------

    @property
    def iterations_per_generator_update(self) -> int:
        """The adversarial loss's critic rule: a critic (WGAN-GP) takes several steps per generator update."""
        return max(1, self.adversarial.critic_steps)

    @property
    def generator_turn(self) -> bool:
        """Whether this iteration updates the generator (a critic may take several steps per one)."""
        return self.iteration % self.iterations_per_generator_update == 0

    @property
    def generator_turns(self) -> int:
        """How many iterations before this one were the generator's turn: a clock for what should change
        from one generator update to the next, not per iteration (with a critic's extra steps the generator
        sees only some iterations). It counts turns, not a step's own extra updates (CycleGAN's
        pre-training updates the generators on every iteration)."""
        return -(-self.iteration // self.iterations_per_generator_update)

    @contextlib.contextmanager
    def frozen(self, *nets: nn.Module) -> Iterator[None]:
        """Networks (the discriminators, during the generator's update) take no gradient inside."""
        set_requires_grad(nets, False)
        try:
            yield
        finally:
            set_requires_grad(nets, True)

    def update(self, group: str | Sequence[str], loss: Tensor) -> None:
        """One optimizer step of ``group`` on ``loss``: every recipe's updates come through here, so the
        run's precision applies to all of them. The backward pass and the step run outside autocast;
        in fp16 the group's gradient scaler scales the loss, skips a step whose gradients overflowed,
        and adjusts its scale.

        Several groups (``("G", "F")``) share one backward pass and then step in that order, as CUT
        updates its generator and its feature projection from one loss; in fp16 the first group's
        scaler scales the loss and unscales every group's gradients.
        """
        groups = [group] if isinstance(group, str) else list(group)
        optimizers = [self.optimizers[g] for g in groups]
        for optimizer in optimizers:
            optimizer.zero_grad(set_to_none=True)
        scaler = self.precision.scalers.get(groups[0])
        with self.precision.outside_autocast(), _scaled_rates(optimizers, [self.lr_scale(g) for g in groups]):
            if scaler is None:
                loss.backward()
                for optimizer in optimizers:
                    optimizer.step()
            else:
                scaler.scale(loss).backward()
                for optimizer in optimizers:
                    scaler.step(optimizer)
                scaler.update()

    def lr_scale(self, group: str) -> float:
        """A factor on ``group``'s scheduled learning rate for this iteration's update (1: the schedule's
        own). A recipe overrides it to hold a group back through a phase of training (CycleGAN ramps its
        generators up after their pre-training); :meth:`update` applies it to that update alone, and
        metrics.csv logs the rate with it."""
        return 1.0

    def discriminator_loss(self, disc: nn.Module, real: Tensor, fake: Tensor, *, scale: float = 0.5) -> Tensor:
        """The adversarial loss on real and (detached) fake inputs, times ``scale`` (the reference
        halves it to slow the discriminator), plus the loss's penalty: at every iteration, or with a
        ``penalty_interval`` of k at every k-th (counted by :attr:`iteration`, which a checkpoint keeps),
        k times as strong."""
        fake = fake.detach()
        loss = scale * self.adversarial.discriminator_loss(disc(real), disc(fake))
        interval = self.adversarial.penalty_interval
        if interval == 1:
            return loss + self.adversarial.penalty(disc, real, fake)
        if self.iteration % interval:
            return loss
        return loss + interval * self.adversarial.penalty(disc, real, fake)

    def weighted(self, role: str, output: Any, target: Any, *, scale: float = 1.0) -> Tensor:
        """The loss filling ``role`` times its weight (and ``scale``); zero when the weight is 0."""
        term = self.aux[role]
        if term.weight * scale == 0:
            return torch.zeros((), device=self.device)
        return term.loss(output, target) * (term.weight * scale)

    def feature_matching(self, disc: nn.Module, fake: Tensor, real: Tensor, *,
                         role: str = "feature_matching") -> Tensor:
        """The loss filling ``role`` on ``disc.features(fake)`` against ``disc.features(real)``, times its
        weight: pix2pixHD's feature matching, for the generator's update (``fake`` keeps its graph, the
        real features are the target and take none). Zero, with no extra pass through ``disc``, when
        the recipe has no such role or its weight is 0. The run's checks have made sure ``disc`` has
        ``features`` wherever the weight is not 0.
        """
        if not self.has_aux(role):
            return torch.zeros((), device=self.device)
        with torch.no_grad():
            target = disc.features(real)
        return self.weighted(role, disc.features(fake), target)

    def has_aux(self, role: str) -> bool:
        """Whether ``role`` is filled with a non-zero weight."""
        return role in self.aux and self.aux[role].weight != 0

    def eval_mode(self) -> contextlib.AbstractContextManager[None]:
        """A context in which every network is in eval mode (restored afterwards)."""
        return eval_mode(self.nets.values())


@contextlib.contextmanager
def _scaled_rates(optimizers: Sequence[torch.optim.Optimizer], scales: Sequence[float]) -> Iterator[None]:
    """Inside the block each optimizer's learning rates are times its scale; afterwards they are the
    schedule's again, exactly (the scheduler owns them)."""
    if all(scale == 1.0 for scale in scales):
        yield
        return
    saved = [[group["lr"] for group in opt.param_groups] for opt in optimizers]
    for opt, scale in zip(optimizers, scales):
        for group in opt.param_groups:
            group["lr"] = group["lr"] * scale
    try:
        yield
    finally:
        for opt, rates in zip(optimizers, saved):
            for group, rate in zip(opt.param_groups, rates):
                group["lr"] = rate


def labelled_rows(rows: SampleRows) -> tuple[list[str], list[Tensor]]:
    """A step's sample rows as one label per row and the rows, top to bottom.

    A label that names a block of rows goes to its first row, and the rows after it get ``""`` (the
    grid draws the label beside the whole block); plain rows are labelled ``row 1``, ``row 2``, ...
    """
    if not isinstance(rows, Mapping):
        rows = {f"row {i}": row for i, row in enumerate(rows, 1)}
    labels: list[str] = []
    tensors: list[Tensor] = []
    for label, block in rows.items():
        block = [block] if isinstance(block, Tensor) else list(block)
        if not label or not block or not all(isinstance(t, Tensor) for t in block):
            raise GanzooError(f"sample_rows: {label!r} should name a tensor or a list of tensors (and not be empty)")
        labels += [str(label)] + [""] * (len(block) - 1)
        tensors += block
    if not tensors:
        raise GanzooError("sample_rows returned no rows")
    return labels, tensors


def set_requires_grad(nets: Iterable[nn.Module], flag: bool) -> None:
    for net in nets:
        for p in net.parameters():
            p.requires_grad_(flag)


@contextlib.contextmanager
def eval_mode(nets: Iterable[nn.Module]) -> Iterator[None]:
    nets = list(nets)
    modes = [n.training for n in nets]
    for n in nets:
        n.eval()
    try:
        yield
    finally:
        for n, mode in zip(nets, modes):
            n.train(mode)


def sampler(gen: nn.Module) -> Callable[..., Tensor]:
    """A noise-to-image generator as ``f(n, seed=0)``: the same seed gives the same images."""

    def sample(n: int, *, seed: int = 0) -> Tensor:
        device = next(gen.parameters()).device
        noise = gen.noise(n, generator=torch.Generator().manual_seed(seed))
        return gen(noise.to(device))

    return sample
