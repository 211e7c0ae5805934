"""How long ``ganzoo --help`` takes to start, against a bare ``python -c pass`` measured in the same run
(the measurement is :mod:`ganzoo.bench.startup`; ``ganzoo bench`` reports the same figure)::

    python benchmarks/cli_startup.py                      # every installed plugin
    python benchmarks/cli_startup.py --builtins-only      # GANZOO_PLUGINS= : the core alone
    python benchmarks/cli_startup.py --json startup.json  # also write the numbers
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys

from ganzoo.bench.startup import TARGET_S, measure_startup


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs of each command; the best counts (10)")
    parser.add_argument("--builtins-only", action="store_true", help="load no third-party plugin (GANZOO_PLUGINS=)")
    parser.add_argument("--json", metavar="PATH", help="also write the results to this JSON file")
    args = parser.parse_args()

    result = {**measure_startup(runs=args.runs, builtins_only=args.builtins_only),
              "python": platform.python_version(), "cpus": os.cpu_count()}
    print(f"python -c pass  {result['python_c_pass_s']:.3f} s")
    print(f"ganzoo --help   {result['ganzoo_help_s']:.3f} s")
    print(f"difference      {result['difference_s']:.3f} s  (target: --help under {TARGET_S:.1f} s: "
          f"{'met' if result['within_target'] else 'missed'})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
