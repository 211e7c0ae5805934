"""benchmarks/recipe_cost.py: one step of each recipe, side by side, each in its own process; and the
committed page is the one its committed figures give."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "recipe_cost.py"


def test_it_measures_each_recipe_in_its_own_process(tmp_path):
    out, page = tmp_path / "cost.json", tmp_path / "cost.md"
    result = subprocess.run([sys.executable, str(SCRIPT), "--recipes", "cyclegan,cut", "--sizes", "toy", "--steps", "1",
                             "--warmup", "0", "--json", str(out), "--markdown", str(page)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = json.loads(out.read_text())["rows"]
    assert [(r["recipe"], r["sizes"], r["image_size"], r["batch"]) for r in rows] == [("cyclegan", "toy", 32, 4),
                                                                                      ("cut", "toy", 32, 4)]
    assert all(r["step_ms"] > 0 and r["memory_mb"] >= 0 for r in rows)
    cyclegan, cut = (r["parameters"] for r in rows)
    assert set(cyclegan) == {"gen_ab", "gen_ba", "disc_a", "disc_b"} and set(cut) == {"gen", "disc", "projector"}
    assert sum(cut.values()) < sum(cyclegan.values()), "one generator and one discriminator instead of two each"
    text = page.read_text()
    assert "| cyclegan |" in text and "| cut |" in text and "x1.00 | x1.00 |" in text


def test_the_committed_page_is_made_from_the_committed_figures(tmp_path):
    page = tmp_path / "page.md"
    subprocess.run([sys.executable, str(SCRIPT), "--report-only", "--json", str(ROOT / "benchmarks" / "results" /
                    "recipe-cost.json"), "--markdown", str(page)], check=True, timeout=60)
    assert page.read_text() == (ROOT / "docs" / "recipe-cost.md").read_text(), (
        "benchmarks/recipe_cost.py --report-only --json benchmarks/results/recipe-cost.json "
        "--markdown docs/recipe-cost.md")
