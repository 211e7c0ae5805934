"""What wrapping the networks in DistributedDataParallel costs a training step, at world size 1.

A distributed run (``torchrun -m ganzoo run ...`` or ``ganzoo run ... --nproc N``) trains through each
network wrapped in DDP (ganzoo/train/distributed.py): its forward passes record what the backward pass
must reduce, its gradients are copied into buckets and all-reduced, batch-norm buffers are broadcast
from rank 0 before each call. At world size 1 the all-reduces move nothing, so what is left is DDP's own
cost per step, which must stay small (the target: under 5% on a GPU at the papers' sizes).

In one process on one device this times ``Trainer.iteration`` (as ``ganzoo bench`` does: one batch already
on the device, the device synchronised at both ends of a block of steps) twice: a plain trainer, built
before any process group exists, and a trainer built after a process group of size 1 was set up in this
process (gloo on the CPU, NCCL for CUDA tensors, a ``file://`` rendezvous), whose networks the engine
wraps in DDP. Both trainers start from the same seed and train on the same batch; their blocks of steps
alternate (plain first in one round, DDP first in the next), so a change in the machine's load hits
both alike. The figure per trainer is the median block; the ratio is DDP's over plain's::

    OMP_NUM_THREADS=1 python benchmarks/ddp_overhead.py --device cpu --size 64 --width 32 --batch 1 --threads 1
    python benchmarks/ddp_overhead.py --device cuda --json benchmarks/results/ddp-overhead-GPU_NAME.json

Without ``--size``, ``--batch`` and ``--width`` each recipe runs at its paper's sizes (CycleGAN and
pix2pix 256x256 batch 1, DCGAN 64x64 batch 128, widths 64), as ``ganzoo bench``'s full-size cases.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RECIPES = ("pix2pix", "cyclegan", "dcgan")
#: The papers' sizes per recipe: (image side, batch), widths 64.
PAPER = {"pix2pix": (256, 1), "cyclegan": (256, 1), "dcgan": (64, 128)}


def _case(recipe: str, *, size: int | None, batch: int | None, width: int | None):
    from ganzoo.bench.cases import Case

    side, paper_batch = PAPER[recipe]
    side, batch, width = size or side, batch or paper_batch, width or 64
    downs = side.bit_length() - 1 if recipe == "pix2pix" else None  # a U-Net down to 1x1 (unet256 at 256)
    return Case(f"{recipe}-{side}-b{batch}", recipe, "train", batch, side, width, width, downs)


def _settings(items: list[str]) -> dict[str, Any]:
    settings = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            settings[key] = json.loads(value)
        except json.JSONDecodeError:
            settings[key] = value
    return settings


def _block(step: Callable[[], Any], device: Any, steps: int) -> float:
    from ganzoo.bench.measure import synchronize

    synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    synchronize(device)
    return (time.perf_counter() - start) / steps


def measure_recipe(recipe: str, *, device: Any, args: argparse.Namespace, settings: dict[str, Any],
                   init_group: Callable[[], None]) -> dict[str, Any]:
    """The plain and the DDP step of one recipe, alternating blocks; seconds per step of each."""
    import torch

    from ganzoo.bench.suite import ganzoo_spec
    from ganzoo.train import fast
    from ganzoo.train.engine import Trainer

    case = _case(recipe, size=args.size, batch=args.batch, width=args.width)
    spec = ganzoo_spec(case, settings, device)
    with tempfile.TemporaryDirectory(prefix="ganzoo-ddp-overhead-") as folder:
        plain = Trainer(spec, Path(folder) / "plain", progress=False)  # no process group yet: not wrapped
        init_group()
        wrapped = Trainer(spec, Path(folder) / "ddp", progress=False)
        kinds = {name: type(net).__name__ for name, net in wrapped.step.nets.items()}
        if not all(kind == "DistributedNetwork" for name, kind in kinds.items()
                   if any(p.requires_grad for p in wrapped.nets[name].parameters())):
            raise SystemExit(f"{recipe}: the engine did not wrap the networks in DDP: {kinds}")
        batch = next(plain.device_batches(0))
        runners = {kind: functools.partial(trainer.iteration, fast.batch_to(batch, trainer.device,
                                                                           channels_last=bool(trainer.channels_last)))
                   for kind, trainer in (("plain", plain), ("ddp", wrapped))}
        for runner in runners.values():
            for _ in range(args.warmup):
                runner()
        per_block = max(1, args.steps // args.repeats)
        times: dict[str, list[float]] = {"plain": [], "ddp": []}
        for round_ in range(args.repeats):
            order = ("plain", "ddp") if round_ % 2 == 0 else ("ddp", "plain")
            for kind in order:
                times[kind].append(_block(runners[kind], plain.device, per_block))
        del runners, plain, wrapped
    if device.type == "cuda":
        torch.cuda.empty_cache()
    plain_s, ddp_s = statistics.median(times["plain"]), statistics.median(times["ddp"])
    paired = statistics.median(d / p for d, p in zip(times["ddp"], times["plain"]))
    return {"recipe": recipe, "image_size": case.image_size, "batch": case.batch, "width": case.ngf,
            "wrapped": kinds, "plain_ms": round(plain_s * 1e3, 3), "ddp_ms": round(ddp_s * 1e3, 3),
            "ratio": round(ddp_s / plain_s, 4), "ratio_paired_median": round(paired, 4),
            "blocks_ms": {k: [round(t * 1e3, 3) for t in v] for k, v in times.items()}}


def markdown(document: dict[str, Any]) -> str:
    lines = ["| recipe | size | batch | width | plain ms/step | DDP ms/step | DDP / plain |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in document["rows"]:
        lines.append(f"| {row['recipe']} | {row['image_size']} | {row['batch']} | {row['width']} | "
                     f"{row['plain_ms']:.2f} | {row['ddp_ms']:.2f} | {row['ratio']:.3f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda (one device; world size 1)")
    parser.add_argument("--recipe", "--recipes", dest="recipes", default=",".join(RECIPES),
                        help="comma-separated recipes (default: pix2pix,cyclegan,dcgan)")
    parser.add_argument("--size", type=int, help="image side for every recipe (default: each paper's)")
    parser.add_argument("--batch", type=int, help="batch for every recipe (default: each paper's)")
    parser.add_argument("--width", type=int, help="ngf and ndf (default: 64, the papers')")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per trainer, split into the blocks")
    parser.add_argument("--repeats", type=int, default=5, help="blocks per trainer (the median counts)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per trainer first")
    parser.add_argument("--threads", type=int, help="torch's CPU threads")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="a run setting for both trainers, as ganzoo run --set (precision=bf16, fast=true)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    import torch
    import torch.distributed as dist

    from ganzoo.bench.measure import device_name
    from ganzoo.train import distributed
    from ganzoo.train.engine import choose_device

    if args.threads:
        torch.set_num_threads(args.threads)
    device = choose_device(args.device)
    if dist.is_initialized():
        raise SystemExit("run this script on its own (not under torchrun): it sets up its own process group")
    backend = distributed.backend_for(str(device))
    rendezvous = Path(tempfile.mkdtemp(prefix="ganzoo-ddp-pg-")) / "init"
    os.environ.setdefault("LOCAL_RANK", "0")

    def init_group() -> None:
        if not dist.is_initialized():
            if device.type == "cuda":
                torch.cuda.set_device(device.index or 0)
            dist.init_process_group(backend, init_method=f"file://{rendezvous}", rank=0, world_size=1)

    rows = []
    try:
        for recipe in args.recipes.split(","):
            row = measure_recipe(recipe, device=device, args=args, settings=_settings(args.sets),
                                 init_group=init_group)
            print(f"{recipe:9s} plain {row['plain_ms']:9.2f} ms/step  ddp {row['ddp_ms']:9.2f} ms/step  "
                  f"x{row['ratio']:.3f}", file=sys.stderr, flush=True)
            rows.append(row)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    document = {
        "format": "ganzoo-ddp-overhead", "device": {"type": device.type, "name": device_name(device),
                                                   "threads": torch.get_num_threads()},
        "backend": backend, "world_size": 1, "torch": torch.__version__, "python": platform.python_version(),
        "options": {k: v for k, v in vars(args).items() if k != "json"},
        "command": "python benchmarks/ddp_overhead.py " + " ".join(sys.argv[1:]), "rows": rows,
    }
    print(markdown(document))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2) + "\n")
        print(f"wrote {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
