"""An exponential moving average (EMA) of networks' weights: the averaged generator that StudioGAN,
mmagic and StyleGAN keep, because the average of a GAN generator's recent iterates usually gives
cleaner samples than the last iterate of a training that oscillates.

The engine (``--ema DECAY``) keeps one :class:`WeightAverage` of the networks the run's inference map
names, updates it after every training iteration, swaps it into the live networks for sample grids and
toy scores, and writes it into each checkpoint as ``NET.ema.safetensors``, which is what a run folder
exports (:class:`ganzoo.hub.sources.RunFolder`).
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, Mapping

import torch
from torch import Tensor, nn


class WeightAverage:
    """Shadow copies of some networks' floating-point parameters, moved towards the live ones by
    :meth:`update`, and swapped into the live networks by :meth:`swapped`.

    Only parameters are averaged. Buffers (batch-norm running statistics, counters) are the live
    network's, as they are: running statistics were measured on the activations of the live weights, and
    an average of the statistics of a moving network is not the statistics of any network. StyleGAN2-ADA
    and mmagic take buffers the same way.

    The shadow lives on the networks' device, in each parameter's dtype and memory layout (a channels-last
    network's shadow is channels-last too), so an update is a few fused kernels and a swap is a copy.

    Args:
        nets: the networks to average, by name (their weights now are the average's start).
        decay: the average's decay, in [0, 1): each update keeps ``decay`` of the average and takes
            ``1 - decay`` of the live weights (after the warm-up, :meth:`current_decay`).
    """

    def __init__(self, nets: Mapping[str, nn.Module], *, decay: float) -> None:
        if not 0 <= decay < 1:
            raise ValueError(f"decay must be in [0, 1), got {decay}")
        self.nets, self.decay = dict(nets), float(decay)
        self.updates = 0  # how many times update() ran (checkpointed: the warm-up continues on resume)
        # One flat list over every network, so each update and swap is one foreach call. A parameter
        # shared between modules (or networks) is in it once, under the state_dict key of its first place.
        self._keys: list[tuple[str, str]] = []  # (network, state_dict key) of each averaged parameter
        self._live: list[Tensor] = []
        seen: set[int] = set()
        for name, net in self.nets.items():
            for key, param in net.named_parameters():
                if param.is_floating_point() and id(param) not in seen:
                    seen.add(id(param))
                    self._keys.append((name, key))
                    self._live.append(param)
        self._shadow = [p.detach().clone() for p in self._live]

    def current_decay(self) -> float:
        """The decay of the next update: ``min(decay, (1 + n) / (10 + n))`` after ``n`` updates.

        The warm-up (0.1, 0.18, 0.25, ... rising towards ``decay``, as TensorFlow's
        ``ExponentialMovingAverage`` with ``num_updates``) keeps the average from being dominated by the
        initial random weights: with 0.999 from the start, the first thousand iterations' average would be
        mostly the untrained network.
        """
        n = self.updates
        return min(self.decay, (1 + n) / (10 + n))

    @torch.no_grad()
    def update(self) -> None:
        """``shadow = lerp(shadow, live, 1 - d)`` for every averaged parameter, ``d`` the current decay."""
        if self._shadow:
            torch._foreach_lerp_(self._shadow, self._live, 1.0 - self.current_decay())
        self.updates += 1

    @contextlib.contextmanager
    def swapped(self) -> Iterator[None]:
        """Inside the block the live networks hold the averaged weights; on leaving it (also by an
        exception) their own weights are put back, bit for bit.

        The weights are copied into the live parameters in place, never rebound: a compiled network
        (``nn.Module.compile``, CUDA graphs included, which hold the parameters' addresses) and the
        optimizers keep seeing the same tensors. The buffers stay the live network's.
        """
        with torch.no_grad():
            saved = [p.detach().clone() for p in self._live]
            torch._foreach_copy_(self._live, self._shadow)
        try:
            yield
        finally:
            with torch.no_grad():
                torch._foreach_copy_(self._live, saved)

    def state_dicts(self) -> dict[str, dict[str, Tensor]]:
        """Each network's full ``state_dict`` as the averaged network: the averaged parameters, the live
        buffers. It loads strictly into the network (what a checkpoint stores and a bundle exports). The
        tensors are the shadow's and the network's own, not copies."""
        shadow_of = {id(p): s for p, s in zip(self._live, self._shadow)}
        return {name: {key: shadow_of.get(id(value), value).detach()
                       for key, value in net.state_dict(keep_vars=True).items()}
                for name, net in self.nets.items()}

    @torch.no_grad()
    def load_state_dicts(self, tensors: Mapping[str, Mapping[str, Tensor]]) -> None:
        """Set the averages from :meth:`state_dicts`' form (a checkpoint's, checked to fit the networks
        first: :func:`ganzoo.train.checkpoint.load_averaged`); only the parameters are read, the buffers
        are the live network's."""
        for (name, key), shadow in zip(self._keys, self._shadow):
            shadow.copy_(tensors[name][key])

    def state_dict(self) -> dict[str, Any]:
        """The count of updates (the warm-up's position); the averages themselves are :meth:`state_dicts`."""
        return {"updates": self.updates}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.updates = int(state["updates"])
