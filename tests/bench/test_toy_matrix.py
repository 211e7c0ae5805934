"""benchmarks/toy_matrix.py: the toy commands across seeds, threads, torch versions and CPUs (issue 12)."""

import json
import sys

from tests.bench.scripts import BENCHMARKS, benchmark_script


def _matrix():
    return benchmark_script("toy_matrix")


def _row(seed, accuracy, *, cpu=None, threads=2):
    row = {"recipe": "cut", "seed": seed, "threads": threads, "torch": "2.14.1", "wall_s": 170.0, "returncode": 0,
           "scores": {"trained": {"shape_accuracy": accuracy}}}
    return {**row, "cpu": cpu} if cpu else row


def test_cells_of_two_cpus_are_kept_apart_and_each_row_names_its_cpu(tmp_path):
    matrix = _matrix()
    amd, intel = "AMD EPYC 9B14, 2 cores", "Intel(R) Xeon(R) Processor, 2 cores"
    cells = [matrix.Cell(python=sys.executable, torch="2.14.1", recipe="cut", seed=1, threads=2, out=tmp_path, cpu=cpu)
             for cpu in (amd, intel)]
    assert cells[0].key != cells[1].key, "the same seed on another CPU is another cell, not an overwrite"
    results = {"targets": {"cut": {"shape_accuracy": 0.9}},
               "cells": {"a0": _row(0, 0.594, cpu=amd), "a1": _row(1, 0.382, cpu=amd), "i1": _row(1, 0.262, cpu=intel),
                         "old": _row(0, 0.95, threads=1)}}
    table = matrix.markdown(results)
    lines = [line for line in table.splitlines() if line.startswith("| ")]
    assert lines[0].startswith("| CPU | torch | threads | seeds | shape_accuracy per seed |")
    assert f"| {amd} | 2.14.1 | 2 | 0 1 | 0.594 0.382 | 0/2 |" in table
    assert f"| {intel} | 2.14.1 | 2 | 1 | 0.262 | 0/1 |" in table
    assert "| not recorded | 2.14.1 | 1 | 0 | 0.950 | 1/1 |" in table, "a cell taken before CPUs were recorded"


def test_report_only_rewrites_the_table_from_the_json(tmp_path):
    matrix = _matrix()
    results = {"targets": {"cut": {"shape_accuracy": 0.9}}, "cells": {"x": _row(0, 0.5, cpu="Some CPU, 2 cores")}}
    (tmp_path / "m.json").write_text(json.dumps(results))
    assert matrix.main(["--report-only", "--json", str(tmp_path / "m.json"), "--markdown", str(tmp_path / "m.md")]) == 0
    assert "| Some CPU, 2 cores | 2.14.1 | 2 | 0 | 0.500 | 0/1 |" in (tmp_path / "m.md").read_text()


def test_the_committed_table_is_the_committed_results():
    """docs/toy-results.md is generated from benchmarks/results/toy-matrix.json: a cell added to one and not
    the other, or a table edited by hand, fails here."""
    root = BENCHMARKS.parent
    results = json.loads((root / "benchmarks" / "results" / "toy-matrix.json").read_text())
    assert (root / "docs" / "toy-results.md").read_text() == _matrix().markdown(results) + "\n", \
        "regenerate: python benchmarks/toy_matrix.py --report-only --json benchmarks/results/toy-matrix.json " \
        "--markdown docs/toy-results.md"


class _FakeProcess:
    """Ends after a given number of polls."""

    def __init__(self, polls):
        self.polls = polls

    def poll(self):
        self.polls -= 1
        return 0 if self.polls <= 0 else None


class _FakeCell:
    """A cell that records when it starts, and runs for ``polls``."""

    def __init__(self, python, seed, threads, polls, log):
        self.python, self.seed, self.threads, self.polls, self.log = python, seed, threads, polls, log
        self.key = f"{python}/seed{seed}/threads{threads}"
        self.process = None

    def start(self):
        self.log.append(self.key)
        self.process = _FakeProcess(self.polls)

    def result(self):
        return {}


def test_each_pythons_cells_start_before_the_next_ones_and_one_thread_runs_pair_up():
    matrix = _matrix()
    log, done = [], []
    # Seed 0's one-thread run ends first: a free core that the old scheduler gave to the next Python's
    # one-thread run, ahead of this Python's two-thread runs.
    polls = {0: 1, 1: 3}
    cells = [_FakeCell(py, seed, threads, polls[seed] * threads, log)
             for py in ("torchA", "torchB") for seed in (0, 1) for threads in (1, 2)]
    matrix.run_matrix(cells, cores=2, on_done=lambda key, row: done.append(key), poll_s=0)
    assert log == ["torchA/seed0/threads1", "torchA/seed1/threads1", "torchA/seed0/threads2", "torchA/seed1/threads2",
                   "torchB/seed0/threads1", "torchB/seed1/threads1", "torchB/seed0/threads2", "torchB/seed1/threads2"]
    assert sorted(done) == sorted(c.key for c in cells)
