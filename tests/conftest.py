"""Shared fixtures: a fresh plugin host per test, and throw-away plugin distributions."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.register_assert_rewrite("ganzoo.testing")  # imported below before pytest_plugins loads it

from ganzoo import plugins  # noqa: E402
from ganzoo.testing import GANZOO_ENV, isolate_plugins  # noqa: E402

pytest_plugins = ["ganzoo.testing"]  # the fixtures plugin authors get: fake_hub, tiny_run, ganzoo_registry


@pytest.fixture(autouse=True)
def isolated_caches(ganzoo_caches):
    """Every test gets its own Hugging Face home and ganzoo cache folders, so nothing a test downloads
    or converts is read by another, and the user's real caches are never touched. It is the fixture
    plugin authors get, set up first, so that fixtures using it later (fake_hub) do not set it up again."""
    return ganzoo_caches


@pytest.fixture(autouse=True)
def fresh_plugins(monkeypatch):
    """Each test starts with no plugin loaded and none of ganzoo's environment switches set."""
    isolate_plugins(monkeypatch)
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
