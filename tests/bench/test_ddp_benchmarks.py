"""benchmarks/ddp_overhead.py (DDP's own cost per step, at world size 1) and benchmarks/ddp_scaling.py (the
expected scaling, from what a step computes and what it all-reduces)."""

import json
import subprocess
import sys
from pathlib import Path

from tests.bench.scripts import benchmark_script

ROOT = Path(__file__).resolve().parents[2]


def test_the_overhead_is_timed_for_the_plain_and_the_wrapped_step(tmp_path):
    out = tmp_path / "overhead.json"
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "ddp_overhead.py"), "--device", "cpu",
                             "--recipe", "dcgan", "--size", "32", "--width", "8", "--batch", "2", "--steps", "2",
                             "--repeats", "1", "--warmup", "1", "--threads", "1", "--json", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    (row,) = json.loads(out.read_text())["rows"]
    assert row["recipe"] == "dcgan" and row["wrapped"] == {"gen": "DistributedNetwork", "disc": "DistributedNetwork"}
    assert row["plain_ms"] > 0 and row["ddp_ms"] > 0
    assert abs(row["ratio"] - row["ddp_ms"] / row["plain_ms"]) < 1e-3


def test_the_scaling_estimate_sends_each_updated_gradient_once_per_step(tmp_path):
    ddp_scaling = benchmark_script("ddp_scaling")
    document = json.loads((ROOT / "benchmarks" / "results" / "ddp-scaling.json").read_text())
    for row in document["cases"]:
        parameters = sum(row["parameters_by_group"].values())
        assert row["gradient_bytes_all_reduced"] == parameters * 4  # fp32 gradients, G and D once a step
        node = row["node"]
        assert node["bytes_per_gpu"] == round(2 * 7 / 8 * parameters * 4)  # a ring all-reduce over 8 GPUs
        assert 0 < node["mfu"]["efficiency_no_overlap"] <= node["mfu"]["efficiency_full_overlap"] <= 1
    page = ddp_scaling.markdown(document)
    assert "cyclegan" in page and "pix2pix" in page and "dcgan" in page
