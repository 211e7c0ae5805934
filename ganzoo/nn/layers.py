"""Layers and initialisation shared by the network families.

The choices follow the reference CycleGAN/pix2pix code (upstream master), so that ganzoo networks at the
same settings are the same networks, parameter for parameter:

- ``batch`` is ``BatchNorm2d(affine=True)``; ``instance`` is ``InstanceNorm2d(affine=False,
  track_running_stats=False)``; ``none`` is no normalisation.
- A convolution followed by a norm layer has a bias only when that norm cannot absorb one (instance norm
  without affine parameters, or no norm).
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Iterable, Literal, Mapping, Sequence

import torch
from torch import Tensor, nn

from ganzoo.recipe import Value
from torch.nn.utils import parametrize
from torch.nn.utils.spectral_norm import SpectralNorm as _HookSpectralNorm

Norm = Literal["batch", "instance", "none"]
Padding = Literal["reflect", "replicate", "zero"]
InitType = Literal["normal", "xavier", "kaiming", "orthogonal"]

NORMS: tuple[str, ...] = ("batch", "instance", "none")
PADDINGS: tuple[str, ...] = ("reflect", "replicate", "zero")
INIT_TYPES: tuple[str, ...] = ("normal", "xavier", "kaiming", "orthogonal")


#: A width, depth or channel count: zero builds empty tensors that fail far from the cause.
COUNT = Value(int, min=1)


def check_option(name: str, value: Any, allowed: Value = COUNT) -> Any:
    """Refuse an option value before any layer is built (``ngf=0``, ``ndf="abc"``), as an
    :class:`~ganzoo.errors.InvalidOptionError` naming the option, its value and what is allowed."""
    from ganzoo.errors import InvalidOptionError, UsageError

    try:
        return allowed.check(name, value)
    except UsageError as exc:
        raise InvalidOptionError(str(exc)) from exc


def _check_choice(what: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        from ganzoo.errors import InvalidOptionError

        raise InvalidOptionError(f"unknown {what} {value!r}; valid choices: {', '.join(choices)}")


def norm_layer(norm: str) -> Callable[[int], nn.Module]:
    """A constructor ``f(channels) -> module`` for the named normalisation (``none`` gives Identity)."""
    _check_choice("norm", norm, NORMS)
    if norm == "batch":
        return functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True)
    if norm == "instance":
        return functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)
    return lambda channels: nn.Identity()


def conv_bias(norm: str) -> bool:
    """Whether a convolution feeding this norm needs its own bias (batch norm's shift makes it redundant)."""
    _check_choice("norm", norm, NORMS)
    return norm != "batch"


def padding_layer(padding: str, amount: int) -> tuple[list[nn.Module], int]:
    """Explicit padding modules and the ``padding=`` a following convolution then uses."""
    _check_choice("padding", padding, PADDINGS)
    if padding == "reflect":
        return [nn.ReflectionPad2d(amount)], 0
    if padding == "replicate":
        return [nn.ReplicationPad2d(amount)], 0
    return [], amount


def spectrally_normalised(layers: Sequence[nn.Module]) -> list[nn.Module]:
    """``layers`` with every convolution's weight divided by its largest singular value (Miyato et al.
    2018, https://arxiv.org/abs/1802.05957), through ``torch.nn.utils.parametrizations.spectral_norm``.

    The one way discriminators apply it, so each layer keeps its place (and its ``Sequential`` index, so
    module names stay the reference's) and :func:`init_weights` finds the original weight behind it.
    """
    return [nn.utils.parametrizations.spectral_norm(m) if isinstance(m, nn.Conv2d) else m for m in layers]


#: Power iterations run after re-initialising a spectrally normalised weight, as many as torch runs
#: when it first wraps one, so that the first forward divides by the new weight's spectral norm.
SPECTRAL_NORM_ITERATIONS = 15


@torch.no_grad()
def init_weights(module: nn.Module, *, init_type: str = "normal", gain: float = 0.02) -> nn.Module:
    """Initialise convolution and linear weights (biases to 0) and batch-norm scales ~ N(1, gain).

    ``normal`` (N(0, gain), the DCGAN paper's and reference code's default), ``xavier`` (normal, with
    ``gain``), ``kaiming`` (fan-in normal) or ``orthogonal`` (with ``gain``).

    Spectrally normalised layers get their *original* weight initialised, whichever API wrapped them:
    ``torch.nn.utils.parametrizations.spectral_norm`` keeps it as ``parametrizations.weight.original``
    and the older ``torch.nn.utils.spectral_norm`` as ``weight_orig``; the ``weight`` attribute of both
    is computed from it, so writing there would be silently undone. Their power-iteration vectors are
    then refreshed for the new weight.
    """
    _check_choice("init_type", init_type, INIT_TYPES)

    def init_weight(weight: Tensor) -> None:
        if init_type == "normal":
            nn.init.normal_(weight, 0.0, gain)
        elif init_type == "xavier":
            nn.init.xavier_normal_(weight, gain=gain)
        elif init_type == "kaiming":
            nn.init.kaiming_normal_(weight, a=0, mode="fan_in")
        else:
            nn.init.orthogonal_(weight, gain=gain)

    def init(m: nn.Module) -> None:
        if isinstance(m, (nn.modules.conv._ConvNd, nn.Linear)) and _has_tensor(m, "weight"):
            _initialise(m, "weight", init_weight)
            if _has_tensor(m, "bias"):
                _initialise(m, "bias", nn.init.zeros_)
        elif isinstance(m, nn.BatchNorm2d) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.constant_(m.bias, 0.0)

    module.apply(init)
    return module


def _has_tensor(m: nn.Module, name: str) -> bool:
    return parametrize.is_parametrized(m, name) or getattr(m, name, None) is not None


def _initialise(m: nn.Module, name: str, init: Callable[[Tensor], Any]) -> None:
    """Apply ``init`` to the tensor behind ``m.<name>``, through a parametrization or a spectral-norm hook."""
    if parametrize.is_parametrized(m, name):
        originals = m.parametrizations[name]
        value = torch.empty_like(getattr(m, name))
        init(value)
        setattr(m, name, value)  # right_inverse: spectral norm stores the value as the original as is
        first = originals[0]  # the parametrization that sees the original (spectral norm's vectors: _u, _v)
        if hasattr(originals, "original") and hasattr(first, "_u") and hasattr(first, "_power_method"):
            first._power_method(first._reshape_weight_to_matrix(originals.original), SPECTRAL_NORM_ITERATIONS)
        return
    hook = next((h for h in m._forward_pre_hooks.values() if isinstance(h, _HookSpectralNorm) and h.name == name),
                None)
    if hook is None:
        init(getattr(m, name))
        return
    init(getattr(m, name + "_orig"))
    for _ in range(SPECTRAL_NORM_ITERATIONS):
        hook.compute_weight(m, do_power_iteration=True)
    setattr(m, name, hook.compute_weight(m, do_power_iteration=False))


def activations_after(layers: Iterable[nn.Module], x: Tensor, *, kind: type[nn.Module]) -> list[Tensor]:
    """Run ``x`` through ``layers`` in order and return the output of every module of type ``kind``.

    How discriminators give their intermediate features without a second copy of their layout: the
    existing ``nn.Sequential`` is walked, so module names (and checkpoints) stay the reference's.
    """
    outputs = []
    for layer in layers:
        x = layer(x)
        if isinstance(layer, kind):
            outputs.append(x)
    return outputs


def run_to_taps(steps: Iterable[tuple[Callable[[Tensor], Tensor], str | None]], x: Tensor,
                layers: Sequence[str]) -> list[Tensor]:
    """Run ``x`` through ``steps`` (each a layer and the tap name its output has, or ``None``) only until
    every name in ``layers`` has been produced; return those outputs in the order ``layers`` names them.

    How generators implement ``encode``: the layers after the last requested tap (the decoder) never run.
    Every kept output but the last is copied, because a later in-place layer (the U-Net's
    ``LeakyReLU(inplace=True)`` at the start of each level) would otherwise change it.
    """
    wanted = set(layers)
    found: dict[str, Tensor] = {}
    if wanted:
        for layer, tap in steps:
            x = layer(x)
            if tap in wanted and tap not in found:
                if len(found) + 1 == len(wanted):
                    found[tap] = x
                    break
                found[tap] = x.clone()
    return [found[name] for name in layers]


def weight_of(state: Mapping[str, Tensor], key: str, *, ndim: int) -> Tensor:
    """``state[key]``, checked to have ``ndim`` dimensions: the anchor tensors options are read from."""
    value = state.get(key)
    if value is None:
        raise ValueError(f"no tensor {key!r}: this is not a checkpoint of this architecture")
    if value.ndim != ndim:
        raise ValueError(f"tensor {key!r} has shape {tuple(value.shape)}, not {ndim} dimensions")
    return value
