"""How long ``ganzoo --help`` takes to start, against a bare ``python -c pass`` measured in the same run.

Registration is by reference and plugins load lazily, so ``--help`` should cost little more than the
interpreter itself; the target is under one second in all, on a 2-core CPU machine. Each command runs in
a fresh interpreter, once to warm the bytecode cache (kept under a temporary ``PYTHONPYCACHEPREFIX``, as
an installed package has its ``.pyc`` files, even where ``PYTHONDONTWRITEBYTECODE`` is set), then
``--runs`` times; the best time counts (the least disturbed by other work)::

    python benchmarks/cli_startup.py                      # every installed plugin
    python benchmarks/cli_startup.py --builtins-only      # GANZOO_PLUGINS= : the core alone
    python benchmarks/cli_startup.py --json startup.json  # also write the numbers
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs of each command; the best counts (10)")
    parser.add_argument("--builtins-only", action="store_true", help="load no third-party plugin (GANZOO_PLUGINS=)")
    parser.add_argument("--json", metavar="PATH", help="also write the results to this JSON file")
    args = parser.parse_args()

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if args.builtins_only:
        env["GANZOO_PLUGINS"] = ""
    with tempfile.TemporaryDirectory(prefix="ganzoo-pycache-") as pycache:
        env["PYTHONPYCACHEPREFIX"] = pycache
        best_time(HELP, runs=1, env=env)  # warm-up: writes the bytecode cache
        bare = best_time(BARE, runs=args.runs, env=env)
        ganzoo_help = best_time(HELP, runs=args.runs, env=env)
    result = {
        "python_c_pass_s": round(bare, 4),
        "ganzoo_help_s": round(ganzoo_help, 4),
        "difference_s": round(ganzoo_help - bare, 4),
        "target_s": TARGET_S,
        "within_target": ganzoo_help < TARGET_S,
        "runs": args.runs,
        "builtins_only": args.builtins_only,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    print(f"python -c pass  {bare:.3f} s")
    print(f"ganzoo --help   {ganzoo_help:.3f} s")
    print(f"difference      {ganzoo_help - bare:.3f} s  (target: --help under {TARGET_S:.1f} s: "
          f"{'met' if result['within_target'] else 'missed'})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
