"""The benchmark run: for each case, the plain baseline and ganzoo's step in each configuration, side by
side in one process on one device, as one JSON-ready document.

Runners are built, measured and freed one at a time, so each one's peak memory is its own. A ganzoo
configuration is a dict of run settings (``{"precision": "bf16"}``) passed to
:func:`ganzoo.train.config.build_spec` like ``--set``; one that this ganzoo refuses (a setting it does not
have yet, a precision the device lacks) is recorded as ``unavailable`` with the reason, and one that
fails while running as ``failed``, so one configuration never stops the others.
"""

from __future__ import annotations

import contextlib
import gc
import platform
import tempfile
import traceback
from pathlib import Path
from typing import Any, Callable, Iterator

import torch

from ganzoo.bench import measure
from ganzoo.bench.baseline import build_baseline
from ganzoo.bench.cases import CONFIGS, DEFAULT_CONFIGS, PROFILES, Case, cases_for
from ganzoo.bench.report import recompile_warning, short_reason

FORMAT, FORMAT_VERSION = "ganzoo-bench", 1

#: The baseline's name in the results (every ratio is against it).
BASELINE = "baseline"

Log = Callable[[str], None]


def default_configs(device: torch.device) -> tuple[str, ...]:
    return DEFAULT_CONFIGS["cuda" if device.type == "cuda" else "other"]


def ganzoo_spec(case: Case, settings: dict[str, Any], device: torch.device) -> Any:
    """The run specification of ``case`` on the recipe's toy set at the case's sizes, plus ``settings``.

    The toy set is named as data, so the paper's settings apply, not the toy schedule's (which changes
    layers, rates and adds an average of the generator: not what the reference does). It is rendered at
    the case's image size with just enough scenes for one batch; it only supplies a batch of the right
    shape, as the timed step never touches the data loader."""
    from ganzoo.train.config import build_spec, get_recipe

    sets: dict[str, Any] = {"image_size": case.image_size, "gen.ngf": case.ngf, "disc.ndf": case.ndf,
                            "size": case.batch, "workers": 0, "device": str(device), "score_samples": 1}
    if case.num_downs is not None:
        sets["gen.num_downs"] = case.num_downs
    return build_spec(case.recipe, data=get_recipe(case.recipe).toy["data"], steps=1000, batch_size=case.batch,
                      sets={**sets, **settings})


@contextlib.contextmanager
def _restored_backend_flags() -> Iterator[None]:
    """Leave cuDNN autotuning as it was after a fast configuration turned it on, so the next case's
    baseline runs with the defaults. The TF32 switches are left alone: reading or setting them through
    the legacy names after the new ``fp32_precision`` API was used raises, and these networks are
    convolutions, which cuDNN runs in TF32 by default for the baseline too."""
    saved = torch.backends.cudnn.benchmark
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = saved


def _free(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def _batch_for(case: Case, device: torch.device) -> dict[str, Any]:
    """One batch of the case, drawn as the engine draws its batches, on the device: the same tensors
    feed the baseline and every configuration."""
    from ganzoo.train.engine import Trainer

    with tempfile.TemporaryDirectory(prefix="ganzoo-bench-") as folder:
        trainer = Trainer(ganzoo_spec(case, {}, device), Path(folder), progress=False)
        return next(trainer.device_batches(0))


def _inputs(case: Case, batch: dict[str, Any]) -> Any:
    """What inference takes: the A images to translate, or the number of images to sample."""
    return case.batch if case.recipe == "dcgan" else batch["A"]


def _baseline_runner(case: Case, batch: dict[str, Any], device: torch.device) -> tuple[Callable[[], Any], Any]:
    """The baseline's step (training) or its generator on the batch (inference: eval mode, no_grad,
    as the reference's test.py)."""
    baseline = build_baseline(case, device)
    if case.kind == "train":
        return (lambda: baseline.step(batch)), baseline
    network, inputs = baseline.inference(), _inputs(case, batch)
    for module in vars(baseline).values():
        if isinstance(module, torch.nn.Module):
            module.eval()

    def infer() -> Any:
        with torch.no_grad():
            return network(inputs)

    return infer, baseline


def _precision(spec: Any) -> str:
    return str(getattr(spec.train, "precision", "fp32") or "fp32")


def _ganzoo_runner(case: Case, spec: Any, batch: dict[str, Any], folder: Path) -> tuple[Callable[[], Any], Any]:
    """ganzoo's iteration exactly as the loop runs it (training), or the trained model's inference
    function in eval mode under ``no_grad`` as the bundle's :class:`ganzoo.hub.Model` runs it, autocast to
    the run's precision (inference)."""
    from ganzoo.train import fast
    from ganzoo.train.engine import Trainer

    trainer = Trainer(spec, folder, progress=False)
    batch = fast.batch_to(batch, trainer.device, channels_last=bool(trainer.channels_last))  # its layout
    if case.kind == "train":
        return (lambda: trainer.iteration(batch)), trainer
    direction = "sample" if case.recipe == "dcgan" else "AtoB"
    network, inputs = trainer.step.inference(direction), _inputs(case, batch)
    precision = _precision(spec)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    for net in trainer.nets.values():
        net.eval()

    def infer() -> Any:
        with torch.no_grad(), torch.autocast(trainer.device.type, dtype=dtype, enabled=dtype is not None):
            return network(inputs)

    return infer, trainer


def _measure_runner(make: Callable[[], tuple[Callable[[], Any], Any]], *, case: Case, device: torch.device,
                    options: dict[str, Any], precision: str, count: bool,
                    flops: int | None) -> dict[str, Any]:
    """Build a runner, count its FLOPs when asked (else use ``flops``), time it, free it."""
    runner, owner = make()
    counted = measure.count_flops(runner) if count else None
    figures = measure.measure(runner, device=device, batch=case.batch, warmup=options["warmup"],
                              steps=options["steps"], repeats=options["repeats"],
                              flops=counted or flops, precision=precision)
    del runner, owner
    _free(device)
    return {"status": "ok", "precision": precision, "flops": counted, **figures}


def _failure(exc: BaseException) -> dict[str, Any]:
    from ganzoo.errors import GanzooError

    status = "unavailable" if isinstance(exc, GanzooError) else "failed"
    reason = str(exc) if isinstance(exc, GanzooError) else traceback.format_exception_only(exc)[-1].strip()
    return {"status": status, "reason": reason}


def run_case(case: Case, *, device: torch.device, configs: tuple[str, ...], options: dict[str, Any],
             log: Log) -> dict[str, Any]:
    """The baseline and each configuration of ``case``, each with its ratio to the baseline."""
    batch = _batch_for(case, device)
    log(f"{case.name}: {case.kind} {case.network} {case.image_size}x{case.image_size} batch {case.batch}")
    results = [{"config": BASELINE, "settings": {},
                **_measure_runner(lambda: _baseline_runner(case, batch, device), case=case, device=device,
                                  options=options, precision="fp32", count=True, flops=None)}]
    log(_line(results[-1]))
    flops = results[0]["flops"]  # the reference's step: the case's count, and ganzoo's until plain has run
    for name in configs:
        settings = CONFIGS[name]
        try:
            spec = ganzoo_spec(case, settings, device)
            with tempfile.TemporaryDirectory(prefix="ganzoo-bench-") as folder, _restored_backend_flags():
                row = _measure_runner(lambda: _ganzoo_runner(case, spec, batch, Path(folder)), case=case,
                                      device=device, options=options, precision=_precision(spec),
                                      count=name == "plain", flops=flops)
        except Exception as exc:  # noqa: BLE001  (recorded: one configuration never stops the others)
            row = _failure(exc)
            _free(device)
        if name == "plain" and row.get("flops"):
            flops = row["flops"]  # ganzoo's own step for the configurations after it (DCGAN's reference does more)
        results.append({"config": name, "settings": settings, **row})
        log(_line(results[-1]))
    _add_ratios(results)
    return {**case.to_json(), "flops_per_step": results[0]["flops"], "results": results}


def _add_ratios(results: list[dict[str, Any]]) -> None:
    """Each figure over the baseline's: speed (images/s, >1 is faster) and peak memory (<1 is less)."""
    base = results[0]
    for row in results:
        if row["status"] != "ok":
            continue
        row["speed_ratio"] = round(row["images_per_s"] / base["images_per_s"], 3)
        memory, base_memory = row.get("peak_memory_mb"), base.get("peak_memory_mb")
        row["memory_ratio"] = round(memory / base_memory, 3) if memory and base_memory else None


def _line(row: dict[str, Any]) -> str:
    if row["status"] != "ok":
        return f"  {row['config']:<14} {row['status']}: {short_reason(row)}"
    ratio = f"  x{row['speed_ratio']:.2f}" if "speed_ratio" in row else ""
    warning = recompile_warning(row)
    return (f"  {row['config']:<14} {row['images_per_s']:>10.2f} img/s  {row['step_ms']:>10.2f} ms/step{ratio}"
            + (f"  ({warning})" if warning else ""))


def environment(device: torch.device) -> dict[str, Any]:
    """The device and the versions the figures were taken with."""
    from ganzoo import __version__

    return {
        "device": {"type": device.type, "name": measure.device_name(device),
                   "threads": torch.get_num_threads()},
        "versions": {"ganzoo": __version__, "torch": torch.__version__, "python": platform.python_version(),
                     "cuda": torch.version.cuda if device.type == "cuda" else None},
    }


def run_benchmark(*, device: str = "auto", profile: str = "full", cases: tuple[str, ...] = (),
                  configs: tuple[str, ...] = (), warmup: int = 3, steps: int = 20, repeats: int = 3,
                  startup_runs: int = 5, threads: int | None = None, log: Log = print) -> dict[str, Any]:
    """Every selected case (all when ``cases`` is empty) in every selected configuration, with the
    baseline beside each, and the ``ganzoo --help`` start-up time; returns the JSON document.

    ``threads`` sets torch's CPU threads: on a machine shared with other work, one thread per process
    keeps the figures from swinging with the neighbours' load (two threads on two busy cores made the
    same step up to ten times slower from one measurement to the next)."""
    from ganzoo.bench.startup import measure_startup
    from ganzoo.errors import UsageError
    from ganzoo.train.engine import choose_device

    if profile not in PROFILES:
        raise UsageError(f"unknown profile {profile!r}; choose from {', '.join(PROFILES)}")
    chosen = choose_device(device)
    if threads:
        torch.set_num_threads(threads)
    configs = tuple(configs) or default_configs(chosen)
    unknown = sorted(set(configs) - set(CONFIGS))
    if unknown:
        raise UsageError(f"unknown configuration {unknown[0]!r}; choose from {', '.join(CONFIGS)}")
    selected = [case for case in cases_for(profile) if not cases or case.name in cases]
    missing = sorted(set(cases) - {case.name for case in selected})
    if missing:
        raise UsageError(f"unknown case {missing[0]!r}; choose from {', '.join(c.name for c in cases_for(profile))}")
    options = {"profile": profile, "cases": [c.name for c in selected], "configs": list(configs),
               "warmup": warmup, "steps": steps, "repeats": repeats, "startup_runs": startup_runs,
               "threads": threads}
    document = {"format": FORMAT, "format_version": FORMAT_VERSION, **environment(chosen), "options": options}
    document["cases"] = [run_case(case, device=chosen, configs=configs, options=options, log=log)
                         for case in selected]
    document["startup"] = measure_startup(runs=startup_runs) if startup_runs else None
    return document
