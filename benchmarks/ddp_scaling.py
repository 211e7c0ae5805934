"""Expected data-parallel scaling of the papers' training steps on several GPUs: an estimate, not a measurement.

No machine of this project has several GPUs, so the scaling of ``torchrun -m ganzoo run`` cannot be
measured here. This script estimates it from what a step has to compute and what it has to send, under
assumptions stated in :data:`ASSUMPTIONS` (and printed, and written into the JSON):

- counted on this machine: the parameters of every network (per optimizer group), how many times each
  network's gradients are produced in one step (a hook on each parameter: each time is one all-reduce of
  that network's gradients under DistributedDataParallel), how many times each network with buffers is
  called (DDP broadcasts rank 0's buffers, batch-norm statistics, before every call), and the FLOPs of
  one step (``torch.utils.flop_counter`` over ``Trainer.iteration``, as ``ganzoo bench`` counts them);
- assumed: the GPU's sustained speed, the links' bus bandwidth and a fixed latency per collective.

Communication per step and GPU is what a ring all-reduce moves: ``2 (N - 1) / N`` times the fp32 gradient
bytes of every network updated in the step (the gradients are fp32 whatever ``--precision`` is: the
weights are). Its time is those bytes over the bus bandwidth, plus the latency of each collective (DDP
sends a network's gradients in buckets: 1 MiB first, then 25 MiB each). The scaling efficiency (per-GPU
batch fixed, as ``--batch-size`` is per process) is the step's compute time over the step time on N GPUs:
``compute / (compute + communication)`` when nothing overlaps (the upper bound of the cost) and
``compute / max(compute, communication)`` when the all-reduces hide entirely behind the backward pass
(DDP's best case). The truth lies between, and the real compute time is what to check first on a GPU:
small batches of these convolutional networks run far below 40% of an H100's peak, which makes the
compute longer and the scaling better than the 40% rows say (the 10% rows show how much).

FLOPs are counted on the CPU at batch ``--count-batch`` (1) and scaled linearly to each case's batch (the
counter counts convolutions and matrix products, whose FLOPs are linear in the batch), so one count per
recipe serves every batch. Counting CycleGAN at 256x256 takes about half a minute on one CPU thread::

    OMP_NUM_THREADS=1 python benchmarks/ddp_scaling.py --json benchmarks/results/ddp-scaling.json
    python benchmarks/ddp_scaling.py --report-only --json benchmarks/results/ddp-scaling.json   # the table again
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: The full-size cases of ``ganzoo bench`` (ganzoo/bench/cases.py) whose scaling is estimated.
CASES = ("cyclegan-b1", "pix2pix-b1", "pix2pix-b16", "dcgan-b128")

#: What the estimate assumes (none of it is measured here).
ASSUMPTIONS: dict[str, Any] = {
    "gpu": "NVIDIA H100 SXM",
    "peak_tflops": 989.4,  # dense bf16, the datasheet's (ganzoo.bench.measure.PEAK_TFLOPS["H100"]["bf16"])
    "mfu": 0.40,  # sustained share of the peak: about 396 TFLOP/s
    "mfu_low": 0.10,  # a second, pessimistic speed for small convolutional batches (about 99 TFLOP/s)
    "node": {"gpus": 8, "link": "NVLink 4 (NVSwitch)", "bus_gb_per_s": 450.0, "latency_us": 15.0},
    "nodes": {"count": 2, "gpus": 16, "link": "one 400 Gb/s InfiniBand link between the nodes",
              "bus_gb_per_s": 50.0, "latency_us": 30.0},
    "bucket_mib": {"first": 1, "others": 25},  # DistributedDataParallel's defaults
    "gradient_bytes_per_parameter": 4,  # fp32 gradients
}


def _buckets(nbytes: int) -> int:
    """The all-reduce calls DDP makes for one network's gradients (its default bucket sizes)."""
    first, others = (ASSUMPTIONS["bucket_mib"][k] * 2**20 for k in ("first", "others"))
    return 1 + max(0, math.ceil((nbytes - first) / others))


def _case(name: str):
    from ganzoo.bench.cases import cases_for

    for case in cases_for("full"):
        if case.name == name and case.kind == "train":
            return case
    raise SystemExit(f"unknown case {name!r}; choose from {', '.join(CASES)}")


def count_step(case: Any, *, count_batch: int) -> dict[str, Any]:
    """One step of ``case`` (at ``count_batch``) on the CPU, counted: FLOPs, gradient productions and calls
    per network, parameters per network and optimizer group."""
    import torch

    from ganzoo.bench.measure import count_flops
    from ganzoo.bench.suite import ganzoo_spec
    from ganzoo.train.engine import Trainer

    small = dataclasses.replace(case, batch=count_batch)
    spec = ganzoo_spec(small, {}, torch.device("cpu"))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ganzoo-ddp-scaling-") as folder:
        trainer = Trainer(spec, Path(folder), progress=False)
        batch = next(trainer.device_batches(0))
        params = {name: [p for p in net.parameters() if p.requires_grad] for name, net in trainer.nets.items()}
        grads = dict.fromkeys(trainer.nets, 0)
        calls = dict.fromkeys(trainer.nets, 0)
        handles = []
        for name, net in trainer.nets.items():
            handles.append(net.register_forward_pre_hook(
                lambda *_, name=name: calls.__setitem__(name, calls[name] + 1)))
            for p in params[name]:
                handles.append(p.register_post_accumulate_grad_hook(
                    lambda _, name=name: grads.__setitem__(name, grads[name] + 1)))
        flops = count_flops(lambda: trainer.iteration(batch))
        for handle in handles:
            handle.remove()
        networks = {}
        for name, net in trainer.nets.items():
            count = sum(p.numel() for p in params[name])
            networks[name] = {
                "group": spec.networks[name].group,
                "parameters": count,
                # each production of a network's gradients is one all-reduce of them under DDP
                "gradient_all_reduces": grads[name] / len(params[name]) if params[name] else 0,
                "calls": calls[name],
                "buffer_bytes": sum(b.numel() * b.element_size() for b in net.buffers() if b.is_floating_point()),
            }
    return {"count_batch": count_batch, "flops": flops, "networks": networks,
            "count_seconds": round(time.perf_counter() - started, 1)}


def estimate(case: Any, counted: dict[str, Any]) -> dict[str, Any]:
    """The case's communication and compute per step, and the expected efficiency on 8 and 2x8 GPUs."""
    per_param = ASSUMPTIONS["gradient_bytes_per_parameter"]
    flops = counted["flops"] * case.batch / counted["count_batch"]
    reduced_bytes, calls, buffer_calls = 0, 0, 0
    groups: dict[str, int] = {}
    for net in counted["networks"].values():
        groups[net["group"]] = groups.get(net["group"], 0) + net["parameters"]
        nbytes = net["parameters"] * per_param
        reduced_bytes += nbytes * net["gradient_all_reduces"]
        calls += _buckets(nbytes) * net["gradient_all_reduces"]
        if net["buffer_bytes"]:
            buffer_calls += net["calls"]  # rank 0's buffers broadcast before every call (a few KB each)
    scales = {}
    for scale in ("node", "nodes"):
        link = ASSUMPTIONS[scale]
        gpus = link["gpus"]
        moved = 2 * (gpus - 1) / gpus * reduced_bytes
        comm_s = moved / (link["bus_gb_per_s"] * 1e9) + (calls + buffer_calls) * link["latency_us"] * 1e-6
        rows = {"gpus": gpus, "bytes_per_gpu": round(moved), "collectives": calls + buffer_calls,
                "communication_ms": round(comm_s * 1e3, 4)}
        for key in ("mfu", "mfu_low"):
            compute_s = flops / (ASSUMPTIONS["peak_tflops"] * 1e12 * ASSUMPTIONS[key])
            rows[key] = {"compute_ms": round(compute_s * 1e3, 4),
                         "efficiency_no_overlap": round(compute_s / (compute_s + comm_s), 4),
                         "efficiency_full_overlap": round(compute_s / max(compute_s, comm_s), 4)}
        scales[scale] = rows
    return {"case": case.name, "recipe": case.recipe, "network": case.network, "image_size": case.image_size,
            "batch_per_gpu": case.batch, "parameters_by_group": groups,
            "gradient_bytes_all_reduced": round(reduced_bytes), "gflop_per_step": round(flops / 1e9, 2),
            "scaled_from_batch": counted["count_batch"], "networks": counted["networks"], **scales}


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def markdown(document: dict[str, Any]) -> str:
    """The table (one row per case) and the assumptions under it."""
    a = document["assumptions"]
    lines = [("| case | batch per GPU | parameters all-reduced (G + D) | gradient MB per step | GFLOP per step "
              "| compute ms (40% / 10% MFU) | 8 GPUs: comm ms, efficiency | 2x8 GPUs: comm ms, efficiency |"),
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in document["cases"]:
        groups = " + ".join(f"{v / 1e6:.1f} M" for v in row["parameters_by_group"].values())
        cells = [row["case"], str(row["batch_per_gpu"]), groups, f"{row['gradient_bytes_all_reduced'] / 1e6:.1f}",
                 f"{row['gflop_per_step']:,.0f}",
                 f"{row['node']['mfu']['compute_ms']:.2f} / {row['node']['mfu_low']['compute_ms']:.2f}"]
        for scale in ("node", "nodes"):
            s = row[scale]
            hi, lo = s["mfu"], s["mfu_low"]
            cells.append(f"{s['communication_ms']:.2f} ms: {_pct(hi['efficiency_no_overlap'])} to "
                         f"{_pct(hi['efficiency_full_overlap'])} ({_pct(lo['efficiency_no_overlap'])} to "
                         f"{_pct(lo['efficiency_full_overlap'])})")
        lines.append("| " + " | ".join(cells) + " |")
    node, nodes = a["node"], a["nodes"]
    lines += ["", (f"Efficiency: no overlap to full overlap of the all-reduces with the backward pass, at "
                   f"{_pct(a['mfu'])} MFU (in brackets at {_pct(a['mfu_low'])}). Assumed, not measured: "
                   f"{a['gpu']} at {a['peak_tflops']:g} TFLOP/s dense bf16 peak; {node['link']} at "
                   f"{node['bus_gb_per_s']:g} GB/s bus bandwidth within a node; {nodes['link']} at "
                   f"{nodes['bus_gb_per_s']:g} GB/s for the 2x8 ring; {node['latency_us']:g} us (node) and "
                   f"{nodes['latency_us']:g} us (2 nodes) per collective. Counted: parameters, all-reduces per "
                   f"step (one per network update) and buffer broadcasts, FLOPs by torch.utils.flop_counter at "
                   f"batch {document['cases'][0]['scaled_from_batch']} scaled linearly to the batch.")]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated ganzoo bench case names")
    parser.add_argument("--count-batch", type=int, default=1, help="batch the FLOPs are counted at (scaled up)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for the counting step")
    parser.add_argument("--json", type=Path, help="write the estimate here")
    parser.add_argument("--report-only", action="store_true", help="count nothing: print the table of --json")
    args = parser.parse_args()
    if args.report_only:
        if not args.json:
            parser.error("--report-only needs --json")
        print(markdown(json.loads(args.json.read_text())))
        return
    import torch

    torch.set_num_threads(args.threads)
    counted: dict[tuple[str, int], dict[str, Any]] = {}
    rows = []
    for name in args.cases.split(","):
        case = _case(name)
        key = (case.recipe, case.image_size)
        if key not in counted:  # one count per recipe and size: FLOPs scale with the batch
            counted[key] = count_step(case, count_batch=args.count_batch)
            print(f"counted {case.recipe} {case.image_size}x{case.image_size} batch {args.count_batch}: "
                  f"{counted[key]['flops'] / 1e9:,.1f} GFLOP in {counted[key]['count_seconds']} s", file=sys.stderr)
        rows.append(estimate(case, counted[key]))
    document = {"format": "ganzoo-ddp-scaling", "kind": "estimate from stated assumptions, not a measurement",
                "assumptions": ASSUMPTIONS, "cases": rows,
                "command": "python benchmarks/ddp_scaling.py " + " ".join(sys.argv[1:]),
                "counted_on": {"machine": platform.machine(), "torch": torch.__version__, "threads": args.threads}}
    print(markdown(document))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2) + "\n")
        print(f"wrote {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
