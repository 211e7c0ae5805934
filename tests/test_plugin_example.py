"""The example plugin (plugins/ganzoo-example) as a user gets it: pip-installed into a fresh virtual
environment, offline, then found by ganzoo through its entry point. Its parts are listed, its recipe
trains, a built-in recipe trains with its generator and loss, and its own tests pass there."""

from __future__ import annotations

import os
import re
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import GANZOO_ENV

EXAMPLE = Path(__file__).resolve().parents[1] / "plugins" / "ganzoo-example"
TINY = ["--steps", "2", "--set", "batch_size=2", "--set", "gen.ngf=8", "--set", "disc.ndf=8", "--set",
        "score_samples=8", "--quiet"]


def venv_python(root: Path) -> Path:
    return root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python, env, source): a venv that sees this environment's packages (ganzoo, torch, pytest,
    setuptools) with the example pip-installed into it from a copy of its folder (a build writes
    build/ and *.egg-info beside the sources, which must not land in the checkout)."""
    root = tmp_path_factory.mktemp("example-venv")
    source = root / "ganzoo-example"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    env_dir = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(env_dir)],
                   check=True, timeout=120)
    python = venv_python(env_dir)
    if sys.prefix != sys.base_prefix:
        # --system-site-packages shows the base interpreter's packages, not those of the virtual
        # environment running this test: add its site folders (and their .pth files: ganzoo may be an
        # editable install) behind the new environment's own.
        purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        folders = ", ".join(repr(folder) for folder in site.getsitepackages())
        Path(purelib, "outer-environment.pth").write_text(f"import site; list(map(site.addsitedir, ({folders},)))\n")
    env = {k: v for k, v in os.environ.items() if k not in GANZOO_ENV}  # PYTHONPATH passes through
    env.update({"OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    result = subprocess.run([python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                             "--quiet", str(source)], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return python, env, source


def ganzoo_cli(installed, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    python, env, _ = installed
    return subprocess.run([python, "-c", "from ganzoo.cli import main; main()", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def test_the_installed_plugin_is_found_through_its_entry_point(installed, tmp_path):
    python, env, source = installed
    where = subprocess.run([python, "-c", "import ganzoo_example; print(ganzoo_example.__file__)"],
                           capture_output=True, text=True, env=env, cwd=tmp_path, check=True).stdout
    assert Path(python).parents[1] in Path(where.strip()).parents, "imported from the venv, not the sources"
    plugins = ganzoo_cli(installed, "plugins")
    assert plugins.returncode == 0, plugins.stderr
    line = next(line for line in plugins.stdout.splitlines() if line.split()[:1] == ["example"])
    assert "loaded" in line and "0.1.0" in line, plugins.stdout
    listed = ganzoo_cli(installed, "list")
    assert listed.returncode == 0, listed.stderr
    for name in ("resize-unet", "charbonnier", "pairgan"):
        assert name in listed.stdout, f"{name} missing from ganzoo list:\n{listed.stdout}"


def test_its_recipe_trains_and_a_builtin_recipe_trains_with_its_parts(installed, tmp_path):
    own = ganzoo_cli(installed, "run", "pairgan", *TINY, "--out", str(tmp_path), "--name", "own")
    assert own.returncode == 0, own.stderr
    assert (tmp_path / "pairgan" / "own" / "checkpoints" / "latest").exists()
    mixed = ganzoo_cli(installed, "run", "pix2pix", "--gen", "resize-unet", "--aux", "l1=charbonnier", *TINY,
                       "--set", "gen.depth=3", "--out", str(tmp_path), "--name", "mixed")
    assert mixed.returncode == 0, mixed.stderr
    config = (tmp_path / "pix2pix" / "mixed" / "config.json").read_text()
    assert '"resize-unet"' in config and '"charbonnier"' in config
    bad = ganzoo_cli(installed, "run", "pairgan", *TINY, "--set", "gen.depth=0", "--out", str(tmp_path))
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert "depth must be a whole number of at least 1" in bad.stderr


def test_the_plugins_own_tests_pass_in_that_environment(installed):
    python, env, source = installed
    result = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], capture_output=True,
                            text=True, env=env, cwd=source, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    tests = sum(text.count("\ndef test_") for text in (p.read_text() for p in (source / "tests").glob("test_*.py")))
    assert re.search(rf"\b{tests} passed\b", result.stdout) and "skipped" not in result.stdout, result.stdout[-2000:]


def test_the_guide_quotes_the_example_verbatim():
    """docs/plugins.md shows the example's real code: each block that starts with a comment naming a file
    of plugins/ganzoo-example is a run of that file's lines, and every file of the example is shown."""
    guide = (EXAMPLE.parents[1] / "docs" / "plugins.md").read_text()
    blocks = re.findall(r"^```\w*\n# (plugins/ganzoo-example/\S+)\n(.*?)^```$", guide, flags=re.M | re.S)
    for path, body in blocks:
        lines, quoted = (EXAMPLE.parents[1] / path).read_text().splitlines(), body.splitlines()
        assert any(lines[i:i + len(quoted)] == quoted for i in range(len(lines))), f"the quote of {path} drifted"
    shown = {path for path, _ in blocks}
    sources = {f"plugins/ganzoo-example/{p.relative_to(EXAMPLE).as_posix()}" for p in EXAMPLE.rglob("*")
               if p.suffix in (".py", ".toml") and "__pycache__" not in p.parts and "build" not in p.parts}
    assert sources <= shown, f"not shown in the guide: {sorted(sources - shown)}"
