"""The README's main job: each recipe on its toy set, from the command line, beats its untrained score.

These are full toy schedules (minutes each), marked slow; CI runs them too. How long they take is
measured by the benchmarks, not asserted here (a loaded CI machine would fail a time bound).
"""

import re
import subprocess
import sys

import pytest

SCORE = re.compile(r"untrained ([0-9.]+)(?: dB)? -> trained ([0-9.]+)")


def toy_run(tmp_path, *args):
    # Not tests.conftest.run_ganzoo: its 300 s timeout would be a time bound. This one only stops a hang.
    result = subprocess.run([sys.executable, "-c", "from ganzoo.cli import main; main()", "run", *args, "--quiet",
                             "--out", str(tmp_path), "--name", "toy"], capture_output=True, text=True, timeout=3600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "samples: " in result.stdout
    before, after = (float(v) for v in SCORE.search(result.stdout).groups())
    return before, after


@pytest.mark.slow
def test_cyclegan_readme_command_learns(tmp_path):
    before, after = toy_run(tmp_path, "cyclegan", "--gen", "resnet9", "--loss", "lsgan")
    assert after > before + 6, f"PSNR {before} -> {after} dB"


@pytest.mark.slow
def test_pix2pix_toy_learns(tmp_path):
    before, after = toy_run(tmp_path, "pix2pix")
    assert after > before + 6, f"PSNR {before} -> {after} dB"


def _torch_before(major: int, minor: int) -> bool:
    import importlib.metadata

    found = importlib.metadata.version("torch").split("+")[0].split(".")
    return (int(found[0]), int(found[1])) < (major, minor)


@pytest.mark.slow
@pytest.mark.xfail(_torch_before(2, 15), strict=False,
                   reason="issue 12: on torch 2.14.1 the DCGAN toy schedule ends in noise (validity 0.151, the same "
                          "with ganzoo 0.1.0's code); the schedule is to be fixed there")
def test_dcgan_toy_learns(tmp_path):
    before, after = toy_run(tmp_path, "dcgan")
    assert after > before + 0.3, f"validity {before} -> {after}"
