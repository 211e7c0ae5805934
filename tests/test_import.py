"""``import ganzoo`` must stay cheap: no torch, no plugin loading, no network."""

import subprocess
import sys


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
