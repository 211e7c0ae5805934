"""``import ganzoo`` must stay cheap: no torch, no plugin loading, no network."""

import os
import subprocess
import sys

import pytest


def test_import_loads_neither_torch_nor_plugins():
    code = (
        "import sys, ganzoo, ganzoo.plugins as p\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "assert 'torchvision' not in sys.modules and 'timm' not in sys.modules\n"
        "assert p._host is None, 'plugins loaded at import'\n"
        "import ganzoo.cli\n"
        "assert 'torch' not in sys.modules, 'the CLI module imported torch'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_public_api_resolves_lazily():
    import ganzoo

    assert callable(ganzoo.create_generator)
    assert "create_generator" in dir(ganzoo)
    try:
        ganzoo.no_such_name
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("unknown attribute did not raise")


CLI_WITHOUT_TORCH = [["--help"], ["list"], ["list", "generator"], ["info", "resnet9"], ["plugins"]]


@pytest.mark.parametrize("args", CLI_WITHOUT_TORCH, ids=" ".join)
def test_listing_commands_import_no_torch(args):
    """Registration is by reference: listing, --help, info (options included) and plugins import no network.

    Only the built-in plugin loads here (``GANZOO_PLUGINS=``): the first-party recipe plugins are checked by
    the same test once their modules are torch-free.
    """
    code = (
        "import sys\n"
        "from ganzoo.cli import cli\n"
        "cli.main(sys.argv[1:], prog_name='ganzoo', standalone_mode=False)\n"
        "heavy = sorted(m for m in ('torch', 'torchvision', 'timm', 'numpy') if m in sys.modules)\n"
        "print('IMPORTED', heavy)\n"
    )
    env = {**os.environ, "GANZOO_PLUGINS": ""}
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "IMPORTED []"
    if args[0] == "info":
        assert "ngf=64" in result.stdout and "n_blocks=9" in result.stdout, "options with their defaults"
