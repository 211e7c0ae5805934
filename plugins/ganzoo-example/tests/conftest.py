"""The fixtures ganzoo ships for plugin authors, with this plugin as the one under test."""

import pytest

pytest_plugins = ["ganzoo.testing"]


@pytest.fixture
def ganzoo_plugins():
    """The entry-point name in pyproject.toml: ``ganzoo_registry`` loads it beside ganzoo's own plugins."""
    return ["example"]
