"""How long ``ganzoo --help`` takes to start, against a bare ``python -c pass`` measured in the same run.

Registration is by reference and plugins load lazily, so ``--help`` should cost little more than the
interpreter itself; the target is under one second in all, on a 2-core CPU machine. Each command runs in
a fresh interpreter, once to warm the bytecode cache (kept under a temporary ``PYTHONPYCACHEPREFIX``, as
an installed package has its ``.pyc`` files, even where ``PYTHONDONTWRITEBYTECODE`` is set), then
``runs`` times; the best time counts (the least disturbed by other work).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from typing import Any

TARGET_S = 1.0
HELP = [sys.executable, "-c", "from ganzoo.cli import main; main()", "--help"]
BARE = [sys.executable, "-c", "pass"]


def best_time(command: list[str], *, runs: int, env: dict[str, str]) -> float:
    """The fastest of ``runs`` wall-clock times of ``command`` (which must succeed), in seconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - start)
    return min(times)


def measure_startup(*, runs: int, builtins_only: bool = False) -> dict[str, Any]:
    """``ganzoo --help`` and ``python -c pass``, best of ``runs`` each, and whether the target is met."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if builtins_only:
        env["GANZOO_PLUGINS"] = ""
    with tempfile.TemporaryDirectory(prefix="ganzoo-pycache-") as pycache:
        env["PYTHONPYCACHEPREFIX"] = pycache
        best_time(HELP, runs=1, env=env)  # warm-up: writes the bytecode cache
        bare = best_time(BARE, runs=runs, env=env)
        ganzoo_help = best_time(HELP, runs=runs, env=env)
    return {
        "python_c_pass_s": round(bare, 4),
        "ganzoo_help_s": round(ganzoo_help, 4),
        "difference_s": round(ganzoo_help - bare, 4),
        "target_s": TARGET_S,
        "within_target": ganzoo_help < TARGET_S,
        "runs": runs,
        "builtins_only": builtins_only,
    }
