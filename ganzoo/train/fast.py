"""The fast path's engine side: channels-last layouts, compiled networks, the Adam implementation and a
prefetching batch stream. What ``--fast`` picks for a device is decided once, in
:data:`ganzoo.train.config.FAST_PATH`; mixed precision lives in :mod:`ganzoo.precision`.

Nothing here changes a network's ``state_dict`` keys or a checkpoint's layout: a run on the fast path
and a plain run read each other's checkpoints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

import torch
from torch import Tensor, nn

from ganzoo.nn.contract import uses_instance_norm

if TYPE_CHECKING:
    from ganzoo.train.spec import NetworkSpec


def channels_last_networks(nets: Mapping[str, nn.Module]) -> list[str]:
    """The networks channels-last may help: those without instance norm, which copies a channels-last
    input back to the contiguous layout (and its output back again) and so makes them slower."""
    return [name for name, net in nets.items() if not uses_instance_norm(net)]


def channels_last_note(nets: Mapping[str, nn.Module]) -> str:
    """Which networks get channels-last and which do not, for the run's notes."""
    chosen = channels_last_networks(nets)
    left = [name for name in nets if name not in chosen]
    text = f"channels_last for {', '.join(chosen) or 'no network'}"
    return text + (f"; not for {', '.join(left)} (instance norm forces layout copies)" if left else "")


def to_channels_last(nets: Mapping[str, nn.Module], names: list[str]) -> None:
    """Convert the named networks' weights to channels-last, in place (same parameters, same keys)."""
    for name in names:
        nets[name].to(memory_format=torch.channels_last)


def batch_to(batch: Mapping[str, Any], device: torch.device, *, channels_last: bool = False) -> dict[str, Any]:
    """A batch on ``device`` (a non-blocking copy from pinned memory on CUDA); image batches (4-D) in
    channels-last when the networks are, so the first convolution needs no layout copy."""
    moved = {}
    for key, value in batch.items():
        if isinstance(value, Tensor):
            value = value.to(device, non_blocking=True)
            if channels_last and value.dim() == 4:
                value = value.contiguous(memory_format=torch.channels_last)
        moved[key] = value
    return moved


def networks_to_compile(networks: Mapping[str, NetworkSpec], adversarial: Any) -> list[str]:
    """The networks ``--compile`` compiles (``networks``: a run spec's, each with the ``role`` of its slot):
    every one, except the discriminators when the adversarial loss's penalty differentiates their input
    gradient (WGAN-GP, R1).
    torch.compile's AOT autograd has no double backward ("torch.compile with aot_autograd does not
    currently support double backward"), so a compiled critic would fail at the first penalty."""
    twice = bool(getattr(adversarial, "input_gradient_penalty", False))
    return [name for name, net in networks.items() if not (twice and net.role == "discriminator")]


def compile_note(networks: Mapping[str, NetworkSpec], adversarial: Any) -> str | None:
    """Which networks stay eager under ``--compile`` and why, for the run's notes (None: all compiled)."""
    chosen = networks_to_compile(networks, adversarial)
    left = [name for name in networks if name not in chosen]
    if not left:
        return None
    return (f"compile for {', '.join(chosen) or 'no network'}; not for {', '.join(left)} (the loss's "
            f"{adversarial.penalty_name} differentiates it twice, which torch.compile cannot)")


def compile_networks(nets: Mapping[str, nn.Module], names: list[str], *, mode: str) -> None:
    """``nn.Module.compile`` the named networks in place: their ``state_dict`` keys stay those of the eager
    networks (``torch.compile(net)`` would wrap each and prefix every key with ``_orig_mod.``)."""
    for name in names:
        nets[name].compile(mode=mode)


def compilations() -> int:
    """How many frames torch.compile has been asked to compile (first compiles and recompiles) in this
    process so far. Dynamo is only asked on a cache miss, so a training loop whose count stops growing
    after its warm-up steps runs compiled code without recompiling: the tests and ``ganzoo bench``
    compare it before and after a few steps."""
    from torch._dynamo.utils import counters

    return int(counters["frames"]["total"])


def fused_adam_devices() -> tuple[str, ...]:
    """Device types with a fused Adam kernel (asked of torch where it says, else the known ones)."""
    try:
        from torch.utils._foreach_utils import _get_fused_kernels_supported_devices

        return tuple(_get_fused_kernels_supported_devices())
    except (ImportError, AttributeError):  # pragma: no cover - older or newer torch
        return ("cuda", "cpu", "mps", "xpu")


def adam_options(implementation: str | None, device: torch.device) -> dict[str, bool]:
    """Keyword arguments of ``torch.optim.Adam`` for an implementation: ``fused`` where the device has
    the kernel (else ``foreach``), ``foreach``, or None for torch's own choice (the plain path)."""
    if implementation == "fused" and device.type in fused_adam_devices():
        return {"fused": True}
    if implementation in ("fused", "foreach"):
        return {"foreach": True}
    return {}


def match_state_layout(optimizer: torch.optim.Optimizer) -> None:
    """Give loaded optimizer state (Adam's moments) its parameter's memory layout: a checkpoint written
    by a channels-last run resumes in a plain one and the reverse without mixed-layout arithmetic."""
    for param, state in optimizer.state.items():
        for key, value in state.items():
            if isinstance(value, Tensor) and value.shape == param.shape and value.stride() != param.stride():
                state[key] = torch.empty_like(param, dtype=value.dtype).copy_(value)


def prefetched(batches: Iterator[Mapping[str, Any]], move: Callable[[Mapping[str, Any]], dict[str, Any]],
               device: torch.device) -> Iterator[dict[str, Any]]:
    """Batches moved to a CUDA device one ahead, on a side stream: the copy of the next batch overlaps the
    step on this one, so the GPU does not wait for data. Elsewhere, batches moved as they come."""
    if device.type != "cuda":
        for batch in batches:
            yield move(batch)
        return
    stream = torch.cuda.Stream(device=device)

    def load() -> dict[str, Any]:
        with torch.cuda.stream(stream):
            return move(next(batches))

    upcoming = load()
    while True:
        current = torch.cuda.current_stream(device)
        current.wait_stream(stream)
        batch = upcoming
        for value in batch.values():
            if isinstance(value, Tensor):
                value.record_stream(current)  # its memory is not reused while this stream still reads it
        upcoming = load()
        yield batch
