"""Pytest fixtures ganzoo ships for plugin authors, and for its own tests.

Load them from your plugin's ``tests/conftest.py`` (opt-in: ganzoo registers no ``pytest11`` entry
point, so installing ganzoo changes nobody's test session)::

    pytest_plugins = ["ganzoo.testing"]

    @pytest.fixture
    def ganzoo_plugins():
        return ["example"]          # the entry-point names of the plugins under test

Then, in a test:

- ``ganzoo_registry``: the plugin host with only ganzoo's own plugins and yours loaded, strictly (a plugin
  that fails to load fails the test instead of being skipped with a warning). Other installed plugins
  and the ``GANZOO_*`` switches of the shell do not reach it; everything is forgotten after the test.
- ``tiny_run(recipe, ...)``: trains a recipe a few steps at tiny size in ``tmp_path`` and returns the
  :class:`ganzoo.Run`.
- ``fake_hub``: a fake Hugging Face Hub on 127.0.0.1 (:class:`~ganzoo.testing.servers.FakeHub`) that
  this process's ``huggingface_hub`` and any subprocess talk to; pushes land in it.
- ``ganzoo_caches``: a Hugging Face home and ganzoo cache folders of the test's own; the three fixtures
  above use it, so nothing a test downloads is read by another and a user's real caches stay untouched.

This module imports pytest, so only pytest should import it (``import ganzoo`` never does).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ganzoo import plugins
from ganzoo.plugins import first_party_plugins
from ganzoo.testing.servers import FakeHub, FileServer

if TYPE_CHECKING:
    from ganzoo.train.run import Run

__all__ = ["FakeHub", "FileServer", "GANZOO_ENV", "OUTSIDE_ENV", "TINY_SETTINGS", "TINY_WIDTHS",
           "first_party_plugins", "hub_env", "isolate_caches", "isolate_plugins", "point_hub_client_at", "tiny_sets",
           "ganzoo_caches", "ganzoo_plugins", "ganzoo_registry", "tiny_run", "fake_hub"]

#: ganzoo's own switches (ganzoo.plugins), which a test must set itself or not at all.
GANZOO_ENV = ("GANZOO_PLUGINS", "GANZOO_DISABLE_PLUGINS", "GANZOO_STRICT_PLUGINS", "GANZOO_PLUGINS_DIR")
#: Mirrors and tokens a developer's shell may set, which no test may pick up by accident.
OUTSIDE_ENV = ("HF_ENDPOINT", "HF_TOKEN", "HF_HUB_OFFLINE", "HF_HUB_CACHE", "GANZOO_DATASET_MIRROR",
               "GANZOO_REFERENCE_MIRROR", "GANZOO_INCEPTION_WEIGHTS", "GANZOO_WEIGHTS_DIR")

#: What makes any recipe train in a second or two on a CPU: 32x32 images, a short schedule, a metrics row
#: per step, and few samples to score on the toy set.
TINY_SETTINGS: dict[str, Any] = {"image_size": 32, "steps": 3, "batch_size": 2, "log_every": 1, "score_samples": 8}
#: Width options set to 8 on whichever component of a run takes them (a plugin's network may take neither).
TINY_WIDTHS: dict[str, int] = {"ngf": 8, "ndf": 8}


# -- the mechanisms, usable without the fixtures -------------------------------------------------------


def isolate_caches(monkeypatch: pytest.MonkeyPatch, home: Path) -> Path:
    """Point the Hugging Face home and ganzoo's cache folders into ``home`` and drop :data:`OUTSIDE_ENV`.

    ``huggingface_hub`` reads ``HF_HOME`` once, at import, so its constants are patched too when it is
    already imported. Returns ``home``.
    """
    for var in OUTSIDE_ENV:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_HOME", str(home / "hf"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xdg"))
    monkeypatch.setenv("GANZOO_DATA_DIR", str(home / "datasets"))
    monkeypatch.setenv("GANZOO_MODELS_DIR", str(home / "models"))
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        monkeypatch.setattr(constants, "HF_HOME", str(home / "hf"), raising=False)
        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hf" / "hub"), raising=False)
    return home


def isolate_plugins(monkeypatch: pytest.MonkeyPatch, *, only: Iterable[str] | None = None,
                    strict: bool = False) -> None:
    """Forget every loaded plugin and clear :data:`GANZOO_ENV`; the next registry use loads afresh.

    Args:
        only: entry-point plugins to load besides ganzoo's built-in components (``GANZOO_PLUGINS``);
            None loads every installed plugin.
        strict: make a plugin failure raise instead of skipping the plugin (``GANZOO_STRICT_PLUGINS``).
    """
    for var in GANZOO_ENV:
        monkeypatch.delenv(var, raising=False)
    if only is not None:
        monkeypatch.setenv("GANZOO_PLUGINS", ",".join(only))
    if strict:
        monkeypatch.setenv("GANZOO_STRICT_PLUGINS", "1")
    plugins.reset()


def point_hub_client_at(monkeypatch: pytest.MonkeyPatch, url: str, cache: Path) -> None:
    """Make this process's ``huggingface_hub`` (and, through the environment, any subprocess) use the Hub
    at ``url`` with its cache in ``cache``. The client reads ``HF_ENDPOINT`` once, at import, into two
    constants, which are patched as the variable would have set them."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "ENDPOINT", url)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", url + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_ENDPOINT", url)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")


def hub_env(hub: FakeHub, home: Path, **extra: str) -> dict[str, str]:
    """The environment of a subprocess that should talk to ``hub`` with its Hugging Face home in ``home``
    (and no ``HF_*`` variable of the calling process)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    return {**env, "HF_ENDPOINT": hub.url, "HF_HOME": str(home), "HF_HUB_DISABLE_TELEMETRY": "1", **extra}


def tiny_sets(recipe: str, *, sets: dict[str, Any] | None = None, gen: str | None = None,
              disc: str | None = None, loss: str | None = None, slots: dict[str, str] | None = None,
              **settings: Any) -> dict[str, Any]:
    """``sets`` plus :data:`TINY_WIDTHS` on each slot whose component, as the run would pick it, takes the
    option (``generator.ngf``); a width the caller sets in ``sets``, under any prefix, wins.

    The arguments are :func:`ganzoo.train`'s; the run's specification is built once to see its picks.
    """
    from ganzoo.train.config import SLOT_ALIASES, build_spec, get_recipe

    picks = {"gen": gen, "disc": disc, "loss": loss, **(slots or {})}
    spec = build_spec(recipe, slots=picks, sets=sets, **settings)
    merged = dict(sets or {})
    for role, component in spec.components.items():
        kind = get_recipe(recipe).slots[role].kind
        if kind == "module":  # a network of the recipe's own, built from a reference: in no registry
            continue
        entry, _ = plugins.registry(kind).lookup(component.name)
        prefixes = {role, *(alias for alias, target in SLOT_ALIASES.items() if target == role)}
        for option, value in TINY_WIDTHS.items():
            chosen = any(f"{prefix}.{option}" in merged for prefix in prefixes)
            if option in entry.option_names() and not chosen:
                merged[f"{role}.{option}"] = value
    return merged


# -- the fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def ganzoo_caches(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Hugging Face home and ganzoo cache folders of this test's own (see :func:`isolate_caches`)."""
    return isolate_caches(monkeypatch, tmp_path_factory.mktemp("caches"))


@pytest.fixture
def ganzoo_plugins() -> Sequence[str]:
    """The plugins under test, by entry-point name: override this fixture in your conftest.py.

    The default, none, gives ganzoo's own components and recipes only.
    """
    return ()


@pytest.fixture
def ganzoo_registry(ganzoo_plugins: Sequence[str], ganzoo_caches: Path,
                    monkeypatch: pytest.MonkeyPatch) -> Iterator[plugins.PluginHost]:
    """The plugin host, loaded with ganzoo's built-ins, its first-party recipes and ``ganzoo_plugins``
    only, strictly: a plugin under test that fails to import or register raises
    :class:`ganzoo.PluginError` here, where it would be skipped with a warning for a user.

    Yields the host: ``host.registries[kind]`` holds the entries, ``host.infos[name]`` each plugin's
    load report (what ``ganzoo plugins`` prints). ``ganzoo.create_generator``, ``ganzoo.train`` and the
    CLI in this process use the same host. Forgotten after the test, with every component registered
    from Python during it.
    """
    isolate_plugins(monkeypatch, only=[*first_party_plugins(), *ganzoo_plugins], strict=True)
    host = plugins.get_host()
    missing = [name for name in ganzoo_plugins if name not in host.infos]
    if missing:
        pytest.fail(f"ganzoo_plugins names {', '.join(missing)}, which no installed distribution declares "
                    f"in the entry-point group {plugins.ENTRY_POINT_GROUP!r} (is the plugin pip-installed?)",
                    pytrace=False)
    yield host
    plugins.reset()


@pytest.fixture
def tiny_run(ganzoo_registry: plugins.PluginHost, tmp_path: Path) -> Callable[..., Run]:
    """A function that trains a recipe a few steps at tiny size in ``tmp_path`` and returns the Run.

    ``tiny_run(recipe, *, steps=3, batch_size=2, sets=None, **kwargs)``: the recipe's toy set at 32x32
    with its toy schedule's settings, and ``ngf`` and ``ndf`` 8 on whichever components take them;
    ``sets`` (``{"gen.depth": 2}``) and the keyword arguments of :func:`ganzoo.train` (``gen=``,
    ``disc=``, ``loss=``, ``aux=``, ``data=``, ``lr=``, ...) override. Each call is a new run folder.
    Training goes through :func:`ganzoo.train`, the path users take, so the engine's checks apply.
    """
    import ganzoo

    count = 0

    def run(recipe: str, *, steps: int = TINY_SETTINGS["steps"], batch_size: int = TINY_SETTINGS["batch_size"],
            sets: dict[str, Any] | None = None, **kwargs: Any) -> Run:
        nonlocal count
        count += 1
        settings = {**{k: v for k, v in TINY_SETTINGS.items() if k not in ("steps", "batch_size")}, **kwargs}
        spec_args = {k: v for k, v in settings.items() if k not in ("out", "name", "overwrite", "progress")}
        tiny = tiny_sets(recipe, sets=sets, steps=steps, batch_size=batch_size, **spec_args)
        return ganzoo.train(recipe, steps=steps, batch_size=batch_size, sets=tiny, out=tmp_path / "runs",
                            name=f"tiny-{count}", progress=False, **settings)

    return run


@pytest.fixture
def fake_hub(ganzoo_caches: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    """A fake Hugging Face Hub on 127.0.0.1 behind the real ``huggingface_hub`` client.

    Put repos in ``fake_hub.repos[("model", "org/name")] = {path: bytes}``; ``Model.from_pretrained(
    "hf-hub:org/name")`` and ``ganzoo pull`` in a subprocess fetch them over HTTP. ``push_to_hub`` and
    ``ganzoo push`` land in ``fake_hub.repos`` too (caught at ``HfApi``'s upload methods, see
    :meth:`FakeHub.accept_pushes`); ``fake_hub.fetched()`` says which files were downloaded.
    """
    with FakeHub() as server:
        point_hub_client_at(monkeypatch, server.url, ganzoo_caches / "hf" / "hub")
        server.accept_pushes(monkeypatch)
        yield server
