"""The docs site: its generated pages match the code, and ``mkdocs build --strict`` passes (a broken
link, a missing page, or a docstring mkdocstrings cannot render fails it)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_generated_pages_are_current():
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "generate.py"), "--check"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (
        f"{result.stdout}{result.stderr[-2000:]}\nrun `python docs/generate.py` and commit the pages it rewrites")


def test_a_stale_region_is_found(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import generate
    finally:
        sys.path.remove(str(ROOT / "docs"))
    page = "intro\n<!-- BEGIN generated: recipe:pix2pix -->\nold table\n<!-- END generated -->\nafter\n"
    filled = generate.fill_regions(page, generate.render_region)
    assert filled.startswith("intro\n<!-- BEGIN generated: recipe:pix2pix -->\n")
    assert filled.endswith("<!-- END generated -->\nafter\n") and "old table" not in filled
    assert "| l1 | `l1` | 100 |" in filled, "the recipe's L1 role and weight"
    assert generate.fill_regions(filled, generate.render_region) == filled, "filling is idempotent"


def test_site_builds_strict(tmp_path):
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                            cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-4000:]
    api = (tmp_path / "site" / "api" / "index.html").read_text()
    assert "create_generator" in api and "Build a generator" in api, "the API page renders the docstrings"
    home = (tmp_path / "site" / "index.html").read_text()
    assert "images/toy-cyclegan.png" in home
    assert (tmp_path / "site" / "images" / "toy-cyclegan.png").is_file()
