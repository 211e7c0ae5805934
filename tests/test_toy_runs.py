"""The README's main job: each recipe on its toy set, from the command line, beats its untrained score.

These are full toy schedules (minutes each), marked slow; CI runs them too.
"""

import re
import time

import pytest

from tests.conftest import run_ganzoo

SCORE = re.compile(r"untrained ([0-9.]+)(?: dB)? -> trained ([0-9.]+)")


def toy_run(tmp_path, *args):
    started = time.perf_counter()
    result = run_ganzoo("run", *args, "--quiet", "--out", str(tmp_path), "--name", "toy")
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr[-2000:]
    assert "samples: " in result.stdout
    before, after = (float(v) for v in SCORE.search(result.stdout).groups())
    return before, after, elapsed


@pytest.mark.slow
def test_cyclegan_readme_command_learns_within_five_minutes(tmp_path):
    before, after, elapsed = toy_run(tmp_path, "cyclegan", "--gen", "resnet9", "--loss", "lsgan")
    assert after > before + 6, f"PSNR {before} -> {after} dB"
    assert elapsed < 300, f"took {elapsed:.0f} s"


@pytest.mark.slow
def test_pix2pix_toy_learns(tmp_path):
    before, after, elapsed = toy_run(tmp_path, "pix2pix")
    assert after > before + 6, f"PSNR {before} -> {after} dB"
    assert elapsed < 300


@pytest.mark.slow
def test_dcgan_toy_learns(tmp_path):
    before, after, elapsed = toy_run(tmp_path, "dcgan")
    assert after > before + 0.3, f"validity {before} -> {after}"
    assert elapsed < 300
