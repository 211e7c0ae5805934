"""``ganzoo bench``: training and inference speed of ganzoo's step against the plain reference step.

Importing this module imports no torch (the case and configuration names come from torch-free
modules), so ``ganzoo --help`` and ``ganzoo bench --help`` stay fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ganzoo.bench.cases import CONFIGS, PROFILES, case_names
from ganzoo.cli import cli
from ganzoo.errors import UsageError
from ganzoo.fsutil import atomic_write

#: Timing defaults by profile: (warm-up steps, timed steps, timed blocks, start-up runs).
TIMING = {"full": (5, 30, 3, 5), "cpu": (2, 6, 3, 5), "smoke": (1, 2, 1, 1)}


def _names(value: str | None) -> tuple[str, ...]:
    """A comma-separated list of names (checked by :func:`~ganzoo.bench.suite.run_benchmark`)."""
    return tuple(n.strip() for n in (value or "").split(",") if n.strip())


@cli.command("bench")
@click.option("--device", default="auto", show_default=True, help="auto (CUDA, MPS, CPU), cpu, cuda, cuda:N, mps")
@click.option("--profile", type=click.Choice(PROFILES), default=None,
              help="sizes: full (256x256, the papers' widths; for a GPU), cpu (64x64, half widths), "
                   "smoke (32x32, width 8)  [default: full on CUDA, else cpu]")
@click.option("--smoke", is_flag=True, help="same as --profile smoke: tiny sizes and a few steps, for CI")
@click.option("--cases", help=f"comma-separated case names (default: all): {', '.join(case_names())}")
@click.option("--configs", help=f"comma-separated ganzoo configurations: {', '.join(CONFIGS)} "
                                "[default: all on CUDA, else plain,fast,bf16]")
@click.option("--warmup", type=click.IntRange(min=0), help="untimed steps first [by profile: full 5, cpu 2, smoke 1]")
@click.option("--steps", type=click.IntRange(min=1), help="timed steps [by profile: full 30, cpu 6, smoke 2]")
@click.option("--repeats", type=click.IntRange(min=1), help="timed blocks; the median counts [full 3, cpu 3, smoke 1]")
@click.option("--startup-runs", type=click.IntRange(min=0), help="runs of `ganzoo --help`; 0: skip [5; smoke 1]")
@click.option("--threads", type=click.IntRange(min=1),
              help="torch CPU threads (default: torch's); 1 on a machine shared with other work")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="write every figure to this JSON file")
@click.option("--markdown", "markdown_path", type=click.Path(dir_okay=False),
              help="write the page of tables (e.g. docs/benchmarks.md) from this run and every other "
                   "benchmark JSON beside --json")
def bench_command(*, device: str, profile: str | None, smoke: bool, cases: str | None, configs: str | None,
                  warmup: int | None, steps: int | None, repeats: int | None, startup_runs: int | None,
                  threads: int | None, json_path: str | None, markdown_path: str | None) -> None:
    """Measure ganzoo's training step and inference against the plain reference algorithm, side by side
    on one device: images/s, step time, peak memory, FLOPs and MFU, and each as a ratio to the baseline.

    On the next GPU: ganzoo bench --json benchmarks/results/GPU_NAME.json --markdown docs/benchmarks.md
    """
    from ganzoo.bench.suite import run_benchmark
    from ganzoo.train.engine import choose_device

    if smoke and profile not in (None, "smoke"):
        raise UsageError(f"--smoke and --profile {profile} disagree; give one")
    profile = "smoke" if smoke else profile or ("full" if choose_device(device).type == "cuda" else "cpu")
    defaults = TIMING[profile]
    document = run_benchmark(
        device=device, profile=profile, cases=_names(cases),
        configs=_names(configs),
        warmup=defaults[0] if warmup is None else warmup, steps=steps or defaults[1],
        repeats=repeats or defaults[2], startup_runs=defaults[3] if startup_runs is None else startup_runs,
        threads=threads, log=click.echo)
    if json_path:
        atomic_write(Path(json_path), json.dumps(document, indent=2) + "\n")
        click.echo(f"wrote {json_path}")
    if markdown_path:
        _write_markdown(Path(markdown_path), document, json_path)
        click.echo(f"wrote {markdown_path}")


def _write_markdown(path: Path, document: dict, json_path: str | None) -> None:
    """The page from this run and the other benchmark documents in the --json file's folder."""
    from ganzoo.bench import report

    documents = report.load(Path(json_path).parent.glob("*.json")) if json_path else [document]
    atomic_write(path, report.render(documents))
