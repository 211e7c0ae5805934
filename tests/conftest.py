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
