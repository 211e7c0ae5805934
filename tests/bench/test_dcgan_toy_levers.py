"""benchmarks/dcgan_toy_levers.py: the DCGAN toy's loop with levers, some not options of ganzoo yet (issue 12)."""

import json
import subprocess
import sys
from pathlib import Path

import torch
from torch import nn

from tests.bench.scripts import benchmark_script

ROOT = Path(__file__).resolve().parents[2]


def _levers():
    return benchmark_script("dcgan_toy_levers")


def test_each_lever_changes_the_networks_it_names():
    levers = _levers()
    plain = levers.argparse.Namespace(ngf=8, ndf=8, upsample="transposed", spectral_norm=True, full_res=0,
                                      mbstd=False)
    gen, disc = levers.build(plain)
    assert sum(isinstance(m, nn.ConvTranspose2d) for m in gen.modules()) == 4  # the earlier toy's generator (the script's default)
    changed = levers.argparse.Namespace(**{**vars(plain), "upsample": "nearest", "full_res": 4, "mbstd": True})
    gen, disc = levers.build(changed)
    assert [m.stride for m in gen.modules() if isinstance(m, nn.ConvTranspose2d)] == [(1, 1)]  # only 1x1 -> 4x4
    assert sum(isinstance(m, nn.Upsample) for m in gen.modules()) == 3
    assert isinstance(disc.main[0], nn.Conv2d) and disc.main[0].stride == (1, 1)
    assert isinstance(disc.main[-2], levers.MinibatchStd)
    z = torch.randn(8, 100, 1, 1)
    images = gen(z)
    assert images.shape == (8, 3, 32, 32) and disc(images).shape == (8, 1)


def test_the_minibatch_deviation_sees_a_batch_without_variety():
    levers = _levers()
    same = torch.ones(8, 2, 4, 4)
    varied = torch.randn(8, 2, 4, 4)
    assert levers.MinibatchStd()(same)[:, -1].abs().max() < 1e-3
    assert levers.MinibatchStd()(varied)[:, -1].min() > 0.1


def test_a_short_run_prints_its_scores_and_writes_its_grid(tmp_path):
    grid = tmp_path / "grid.png"
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "dcgan_toy_levers.py"), "--steps", "4",
                             "--batch", "8", "--ngf", "8", "--ndf", "8", "--loss", "logistic", "--r1", "1",
                             "--r1-every", "2", "--no-spectral-norm", "--upsample", "nearest", "--grid", str(grid)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    row = json.loads(result.stdout.strip().splitlines()[-1])
    assert row["args"]["r1"] == 1.0 and row["args"]["upsample"] == "nearest"
    assert set(row["scores_400"]) == {"palette_fit", "recognisable", "coverage", "shape_presence"}
    assert all(0 <= v <= 1 for v in row["scores_100"].values())
    assert grid.is_file()
