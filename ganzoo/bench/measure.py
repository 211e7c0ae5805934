"""Measuring one runner: images per second after warm-up, step time, peak memory, FLOPs and MFU.

A runner is a callable doing one step (a training iteration or one batch of inference) on a fixed
batch already on the device. Time is taken with the device synchronised at both ends of a block of
steps (never inside one, so the host keeps queueing work as a real loop does); the steps are split into
``repeats`` blocks and the median block counts, which keeps a busy shared machine from deciding the
figure. FLOPs are counted by torch's :class:`~torch.utils.flop_counter.FlopCounterMode` over one extra
step (run before the warm-up, untimed), for the baseline and for ganzoo's plain step; the other
configurations take the plain step's count (the baseline's when plain did not run), since the fast path
changes how the arithmetic is done, not how much of it there is. The two counts can differ: DCGAN's
reference computes D's weight gradients in the generator's update too.
"""

from __future__ import annotations

import statistics
import time
from typing import Any, Callable

import torch

#: Dense peak TFLOP/s of known GPUs by the precision the convolutions run in (vendor datasheets; TF32 is
#: what fp32 convolutions use on these GPUs while ``torch.backends.cudnn.allow_tf32`` is on, its default).
#: Matched as a substring of ``torch.cuda.get_device_name()``, the longest key first.
PEAK_TFLOPS: dict[str, dict[str, float]] = {
    "H200": {"bf16": 989.4, "fp16": 989.4, "tf32": 494.7, "fp32": 66.9},
    "H100 PCIe": {"bf16": 756.0, "fp16": 756.0, "tf32": 378.0, "fp32": 51.2},
    "H100": {"bf16": 989.4, "fp16": 989.4, "tf32": 494.7, "fp32": 66.9},
    "A100": {"bf16": 312.0, "fp16": 312.0, "tf32": 156.0, "fp32": 19.5},
}


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (a no-op on the CPU, where work runs as it is called)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def count_flops(step: Callable[[], Any]) -> int:
    """FLOPs of one call of ``step`` (matrix products and convolutions, forward and backward)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        step()
    return int(counter.get_total_flops())


def time_steps(step: Callable[[], Any], *, device: torch.device, steps: int, repeats: int) -> float:
    """Seconds per step: the median over ``repeats`` synchronised blocks of ``steps / repeats`` steps
    (warm up first: :func:`measure` does)."""
    synchronize(device)
    repeats = max(1, min(repeats, steps))
    per_block = max(1, steps // repeats)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(per_block):
            step()
        synchronize(device)
        times.append((time.perf_counter() - start) / per_block)
    return statistics.median(times)


def reset_peak_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_mb(device: torch.device) -> float | None:
    """CUDA: the most memory tensors held since :func:`reset_peak_memory` (weights, optimizer state and
    activations of this runner alone, as the previous one was freed). Elsewhere None: a process's peak
    RSS covers every runner before it, so it would not be this runner's figure."""
    if device.type == "cuda":
        return round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return None


def peak_tflops(device: torch.device, precision: str) -> float | None:
    """The device's dense peak for ``precision`` (fp32 counted as TF32 while cuDNN may use it), or None
    for a device not in :data:`PEAK_TFLOPS` (no MFU is printed for it)."""
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    if precision == "fp32" and _convolutions_in_tf32():
        precision = "tf32"
    for key in sorted(PEAK_TFLOPS, key=len, reverse=True):
        if key in name:
            return PEAK_TFLOPS[key].get(precision)
    return None


def _convolutions_in_tf32() -> bool:
    """Whether cuDNN may run fp32 convolutions in TF32 (its default); assumed so where the flags were
    set through the new API, which makes the legacy name raise."""
    try:
        return bool(torch.backends.cudnn.allow_tf32)
    except RuntimeError:
        return True


def device_name(device: torch.device) -> str:
    """What the tables call the device: the GPU's name, or the CPU's model (its threads are recorded apart)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "cpu":
        return cpu_model()
    return device.type


def cpu_model() -> str:
    """The CPU's model name (Linux's /proc/cpuinfo), else what platform knows: speed and even the
    last digits of a float sum can differ between CPUs, so tables name it."""
    import platform

    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "CPU"


def measure(step: Callable[[], Any], *, device: torch.device, batch: int, warmup: int, steps: int,
            repeats: int, flops: int | None, precision: str) -> dict[str, Any]:
    """One runner's figures: images/s, step time, peak memory, model FLOP utilisation where the
    device's peak is known (``flops``: one step's, counted once per case), and how many times
    torch.compile compiled again during the timed steps (0 when nothing is compiled).

    A compiled function that reaches dynamo's recompile limit raises here instead of going on eager
    (dynamo's default, silent but for a log line, and then no longer counted): its figures would be
    neither the compiled step's nor the eager one's, so the configuration is recorded as failed. Dynamo's
    caches are emptied first: the limit counts every compilation of a function's code in the process,
    those made for earlier cases' networks of the same class included, and a runner's budget is its own.
    """
    import torch._dynamo
    from ganzoo.train.fast import compilations

    torch._dynamo.reset()
    try:
        with torch._dynamo.config.patch(fail_on_recompile_limit_hit=True):
            reset_peak_memory(device)
            for _ in range(warmup):
                step()
            synchronize(device)
            compiled = compilations()
            seconds = time_steps(step, device=device, steps=steps, repeats=repeats)
            recompiled = compilations() - compiled
    except torch._dynamo.exc.FailOnRecompileLimitHit as exc:
        config = torch._dynamo.config
        raise RuntimeError(f"not timed: torch.compile reached dynamo's recompile limit ({config.recompile_limit} per "
                           f"function, {config.accumulated_recompile_limit} in all), a compiled function met more "
                           f"input variants than it may compile (TORCH_LOGS=recompiles says which)") from exc
    peak = peak_tflops(device, precision)
    return {
        # dynamo compiled again after the warm-up: the timed steps paid for compiling
        "recompiles_while_timed": recompiled,
        "step_ms": round(seconds * 1000, 3),
        "images_per_s": round(batch / seconds, 3),
        "peak_memory_mb": peak_memory_mb(device),
        "peak_tflops": peak,
        "mfu": round(flops / seconds / (peak * 1e12), 4) if peak and flops else None,
    }
