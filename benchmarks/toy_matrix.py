"""Do the README's toy results hold where users' machines differ? Seeds, CPU threads, torch versions.

Runs each recipe's default toy command (``ganzoo run RECIPE --seed S``, nothing else changed) once per
cell of the matrix, each in its own process with ``OMP_NUM_THREADS`` set, under each Python given (one
virtual environment per torch version), and writes every cell's scores and wall time to JSON and a
table to Markdown, each score beside the recipe's toy target::

    python benchmarks/toy_matrix.py                                    # seeds 0-4, 1 and 2 threads, this Python
    python benchmarks/toy_matrix.py --python .venv/bin/python --python ../venv-torch215/bin/python \\
        --json benchmarks/results/toy-matrix.json --markdown docs/toy-results.md

Cells run side by side as long as their threads fit the CPU's cores (``--cores``), so that no run
shares a core and its wall time is its own; each Python's cells start before the next one's (cells come
grouped by Python, as ``main()`` builds them). Results merge into an existing JSON file (a cell is keyed
by recipe, seed, threads, torch version and CPU), so a matrix can be taken in parts and on several
machines: CUT's toy, seed 1 at two threads, scored 0.55 in one CI run and 0.26 in another, on an Intel
Xeon, so each row of the table names the CPU it ran on. Cells taken before CPUs were recorded keep their
own rows ("not recorded"): a rerun adds a row beside them rather than replacing them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ganzoo.bench.measure import cpu_model

RECIPES = ("cyclegan", "pix2pix", "dcgan", "cut", "fastcut")


def parse_seeds(text: str) -> list[int]:
    """``0-4`` or ``0,2,5``."""
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def torch_version(python: str) -> str:
    return subprocess.run([python, "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True,
                          check=True).stdout.strip()


def toy_targets(python: str) -> dict[str, dict[str, float]]:
    code = ("import json, ganzoo; from ganzoo.train.config import get_recipe; "
            f"print(json.dumps({{r: dict(get_recipe(r).toy_targets) for r in {list(RECIPES)!r}}}))")
    return json.loads(subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout)


def command(python: str, recipe: str, seed: int, out: Path, name: str) -> list[str]:
    return [python, "-c", "from ganzoo.cli import main; main()", "run", recipe, "--seed", str(seed), "--quiet",
            "--out", str(out), "--name", name]


class Cell:
    """One run of the matrix, started as a process and read back from its scores.json."""

    def __init__(self, *, python: str, torch: str, recipe: str, seed: int, threads: int, out: Path,
                 cpu: str) -> None:
        self.python, self.torch, self.recipe, self.seed, self.threads = python, torch, recipe, seed, threads
        self.cpu = cpu
        self.name = f"{recipe}-seed{seed}-threads{threads}-torch{torch.replace('+', '_')}"
        self.out = out
        self.process: subprocess.Popen[str] | None = None
        self.started = 0.0

    @property
    def key(self) -> str:
        return f"{self.recipe}/seed{self.seed}/threads{self.threads}/torch{self.torch}/{self.cpu}"

    def start(self) -> None:
        threads = str(self.threads)
        env = {**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
        self.started = time.perf_counter()
        self.process = subprocess.Popen(command(self.python, self.recipe, self.seed, self.out, self.name), env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def result(self) -> dict[str, Any]:
        assert self.process is not None
        stdout, stderr = self.process.communicate()
        wall = time.perf_counter() - self.started
        row: dict[str, Any] = {"recipe": self.recipe, "seed": self.seed, "threads": self.threads, "torch": self.torch,
                               "cpu": self.cpu, "wall_s": round(wall, 1), "returncode": self.process.returncode}
        summary = self.out / self.recipe / self.name / "scores.json"
        if self.process.returncode == 0 and summary.exists():
            row["scores"] = json.loads(summary.read_text())["scores"]
        else:
            row["error"] = (stderr or stdout).strip().splitlines()[-1:] or ["no output"]
        return row


def run_matrix(cells: list[Cell], *, cores: int, on_done: Any, poll_s: float = 1.0) -> None:
    """Start cells while their threads fit in ``cores``; report each as it ends.

    A cell may start ahead of an earlier one that does not fit yet (one-thread runs pair up while a
    two-thread run waits), but only among the first waiting Python's cells: one torch version's cells
    all start before the next one's, so a miss under the first shows up within its part of the matrix's
    time (a CycleGAN miss at two threads once came last, after every one-thread cell of both versions).
    The price: a core may stand idle while a version's last one-thread run ends.
    """
    waiting, running = list(cells), []
    while waiting or running:
        busy = sum(c.threads for c in running)
        first_python = waiting[0].python if waiting else None
        for cell in list(waiting):
            if cell.python != first_python:
                break
            if busy + cell.threads <= cores or not running:
                cell.start()
                running.append(cell)
                waiting.remove(cell)
                busy += cell.threads
        time.sleep(poll_s)
        for cell in [c for c in running if c.process is not None and c.process.poll() is not None]:
            running.remove(cell)
            on_done(cell.key, cell.result())


def headline_ok(row: dict[str, Any], targets: dict[str, float]) -> bool:
    trained = row.get("scores", {}).get("trained", {})
    return bool(trained) and all(trained.get(k, float("-inf")) >= v for k, v in targets.items())


def markdown(results: dict[str, Any]) -> str:
    """One table per recipe: a row per (torch, threads), each seed's target scores, and the wall times."""
    rows, targets = results["cells"], results["targets"]
    lines = ["# Toy results across machines", "",
             "<!-- generated by benchmarks/toy_matrix.py from benchmarks/results/toy-matrix.json; do not edit -->", "",
             "What users' machines differ in, and whether each recipe's toy command (the README's, with "
             "`--seed S`) still meets its recipe's toy targets: the seed, the number of CPU threads, and the "
             "torch version. The scores are ganzoo.metrics.toy's (docs/data.md says what each means); each "
             "cell's wall time is the whole command, run alone on its cores.", "",
             "Each row names the CPU it ran on (rows taken before the matrix recorded it say so); the "
             "seeds' scores can differ between CPUs, not only their times.", "",
             "Run it again: `python benchmarks/toy_matrix.py --python .venv/bin/python --python "
             "OTHER_VENV/bin/python --json benchmarks/results/toy-matrix.json --markdown docs/toy-results.md` "
             "(results merge into the JSON, so a matrix can be taken in parts).", ""]
    for recipe in RECIPES:
        mine = [r for r in rows.values() if r["recipe"] == recipe]
        if not mine:
            continue
        wanted = targets.get(recipe, {})
        shown = sorted(wanted) or ["psnr"]
        goal = ", ".join(f"{k} >= {v}" for k, v in sorted(wanted.items()))
        lines += [f"### {recipe}" + (f" (targets: {goal})" if goal else ""), "",
                  "| CPU | torch | threads | seeds | " + " | ".join(f"{k} per seed" for k in shown)
                  + " | targets met | wall time |", "| --- " * (len(shown) + 6) + "|"]
        for cpu, torch_v, threads in sorted({(_cpu(r), r["torch"], r["threads"]) for r in mine}):
            group = sorted((r for r in mine if (_cpu(r), r["torch"], r["threads"]) == (cpu, torch_v, threads)),
                           key=lambda r: r["seed"])
            per_score = [" ".join(_fmt(r.get("scores", {}).get("trained", {}).get(k)) for r in group) for k in shown]
            met = sum(headline_ok(r, wanted) for r in group)
            walls = [r["wall_s"] for r in group]
            lines.append(f"| {cpu} | {torch_v} | {threads} | {' '.join(str(r['seed']) for r in group)} | "
                         + " | ".join(per_score) + f" | {met}/{len(group)} | {min(walls):.0f}-{max(walls):.0f} s |")
        lines.append("")
    return "\n".join(lines)


def _cpu(row: dict[str, Any]) -> str:
    return row.get("cpu", "not recorded")


def _fmt(value: Any) -> str:
    return "fail" if value is None else f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", default=",".join(RECIPES))
    parser.add_argument("--seeds", default="0-4", help="0-4 or 0,2,5")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--python", action="append", help="an interpreter with ganzoo and one torch (repeat)")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1, help="threads that may run at once")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/toy-matrix.json"))
    parser.add_argument("--markdown", type=Path, help="write the tables here")
    parser.add_argument("--out", type=Path, help="run folders (default: a temporary folder, removed)")
    parser.add_argument("--report-only", action="store_true", help="run nothing: write --markdown from the JSON")
    args = parser.parse_args(argv)
    if args.report_only:
        if not args.markdown:
            parser.error("--report-only needs --markdown")
        args.markdown.write_text(markdown(json.loads(args.json.read_text())) + "\n")
        return 0

    pythons = args.python or [sys.executable]
    results: dict[str, Any] = json.loads(args.json.read_text()) if args.json.exists() else {"cells": {}}
    results.pop("machine", None)  # once the last run's machine for every cell; each cell names its own now
    results["targets"] = toy_targets(pythons[0])
    cpu = f"{cpu_model()}, {os.cpu_count()} cores"
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        cells = [Cell(python=py, torch=torch_version(py), recipe=recipe, seed=seed, threads=threads, out=out, cpu=cpu)
                 for py in pythons for recipe in args.recipes.split(",") for seed in parse_seeds(args.seeds)
                 for threads in (int(t) for t in args.threads.split(","))]
        print(f"{len(cells)} runs, up to {args.cores} threads at a time", flush=True)

        def done(key: str, row: dict[str, Any]) -> None:
            results["cells"][key] = row
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
            trained = row.get("scores", {}).get("trained", row.get("error"))
            print(f"{key}: {row['wall_s']} s {trained}", flush=True)

        run_matrix(cells, cores=args.cores, on_done=done)
    if args.markdown:
        args.markdown.write_text(markdown(results) + "\n")
    failed = [k for k, r in results["cells"].items() if not headline_ok(r, results["targets"].get(r["recipe"], {}))]
    print(f"targets met in {len(results['cells']) - len(failed)} of {len(results['cells'])} runs"
          + (f"; missed: {', '.join(failed)}" if failed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
