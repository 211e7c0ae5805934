"""Training and inference speed of ganzoo against the plain reference step: ``ganzoo bench`` as a script.

The measurement lives in :mod:`ganzoo.bench` (so that an installed ganzoo has it too); this file only
runs it from a checkout, with the same options::

    python benchmarks/train_speed.py --smoke                       # tiny sizes, a few steps (CI)
    python benchmarks/train_speed.py --profile cpu --json benchmarks/results/cpu.json
    python benchmarks/train_speed.py --json benchmarks/results/GPU_NAME.json --markdown docs/benchmarks.md
"""

from __future__ import annotations

import sys

from ganzoo.cli import cli

if __name__ == "__main__":
    sys.exit(cli.main(args=["bench", *sys.argv[1:]], prog_name="ganzoo", standalone_mode=True))
