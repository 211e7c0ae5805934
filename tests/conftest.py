"""Shared fixtures: a fresh plugin host per test, and throw-away plugin distributions."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ganzoo import plugins

GANZOO_ENV = ("GANZOO_PLUGINS", "GANZOO_DISABLE_PLUGINS", "GANZOO_STRICT_PLUGINS", "GANZOO_PLUGINS_DIR")
#: Mirrors and tokens a developer's shell may set, which no test may pick up by accident.
OUTSIDE_ENV = ("HF_ENDPOINT", "HF_TOKEN", "HF_HUB_OFFLINE", "HF_HUB_CACHE", "GANZOO_DATASET_MIRROR",
               "GANZOO_REFERENCE_MIRROR", "GANZOO_INCEPTION_WEIGHTS", "GANZOO_WEIGHTS_DIR")


@pytest.fixture(autouse=True)
def isolated_caches(tmp_path_factory, monkeypatch):
    """Every test gets its own Hugging Face home and ganzoo cache folders, so nothing a test downloads
    or converts is read by another, and the user's real caches are never touched."""
    home = tmp_path_factory.mktemp("caches")
    for var in OUTSIDE_ENV:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_HOME", str(home / "hf"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xdg"))
    monkeypatch.setenv("GANZOO_DATA_DIR", str(home / "datasets"))
    monkeypatch.setenv("GANZOO_MODELS_DIR", str(home / "models"))
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:  # the client reads HF_HOME once, at import
        monkeypatch.setattr(constants, "HF_HOME", str(home / "hf"), raising=False)
        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hf" / "hub"), raising=False)
    yield home


@pytest.fixture(autouse=True)
def fresh_plugins(monkeypatch):
    """Each test starts with no plugin loaded and none of ganzoo's environment switches set."""
    for var in GANZOO_ENV:
        monkeypatch.delenv(var, raising=False)
    plugins.reset()
    yield
    plugins.reset()


class PluginFactory:
    """Writes plugin modules as installed distributions (dist-info with an entry point of group
    ``ganzoo``) into one site folder that is put on sys.path, like a pip-installed plugin."""

    def __init__(self, site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.site = site
        self.modules: list[str] = []
        monkeypatch.syspath_prepend(str(site))

    def install(self, name: str, source: str, *, version: str = "1.0", entry_point: str | None = None) -> None:
        module = name.replace("-", "_")
        (self.site / f"{module}.py").write_text(textwrap.dedent(source))
        dist = self.site / f"{module}-{version}.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        (dist / "entry_points.txt").write_text(f"[ganzoo]\n{name} = {entry_point or module}\n")
        self.modules.append(module)

    def env(self) -> dict[str, str]:
        """Environment for a subprocess that should see these distributions."""
        env = {k: v for k, v in os.environ.items() if k not in GANZOO_ENV}
        env["PYTHONPATH"] = os.pathsep.join([str(self.site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        return env

    def cleanup(self) -> None:
        for module in self.modules:
            sys.modules.pop(module, None)


@pytest.fixture
def plugin_factory(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    factory = PluginFactory(site, monkeypatch)
    yield factory
    factory.cleanup()


def run_ganzoo(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the real ``ganzoo`` console entry point in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-c", "from ganzoo.cli import main; main()", *args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=300,
    )


@pytest.fixture(scope="session")
def inception_file(tmp_path_factory):
    """An Inception weights file torch-fidelity loads (the real architecture, seeded random values:
    tests/metrics/conftest.py), shared by every test of the session that computes FID or KID."""
    import torch

    from tests.metrics.conftest import random_inception

    path = tmp_path_factory.mktemp("inception") / "random-inception.pth"
    torch.save(random_inception().state_dict(), path)
    return path
