"""The declared public surface: ``ganzoo.__all__`` resolves, first-party plugins use nothing else, and
the torch-free modules stay torch-free."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import ganzoo

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_FILES = sorted((ROOT / "plugins").rglob("*.py"))


def test_there_are_plugin_modules_to_check():
    assert {p.parent.name for p in PLUGIN_FILES} >= {"ganzoo_cyclegan", "ganzoo_pix2pix", "ganzoo_dcgan"}


def ganzoo_uses(tree: ast.AST) -> list[tuple[int, str]]:
    """``(line, problem)`` for each use of ganzoo beyond ``import ganzoo`` and names in ``ganzoo.__all__``."""
    public = set(ganzoo.__all__)
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("ganzoo."):
                    problems.append((node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.startswith("ganzoo."):
                problems.append((node.lineno, f"from {node.module} import ..."))
            elif node.module == "ganzoo":
                problems += [(node.lineno, f"from ganzoo import {a.name} (not in ganzoo.__all__)")
                             for a in node.names if a.name not in public]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "ganzoo":
            if node.attr not in public:
                problems.append((node.lineno, f"ganzoo.{node.attr} (not in ganzoo.__all__)"))
    return problems


@pytest.mark.parametrize("path", PLUGIN_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_first_party_plugins_import_only_the_public_surface(path):
    problems = ganzoo_uses(ast.parse(path.read_text(), filename=str(path)))
    assert not problems, "\n".join(f"{path.relative_to(ROOT)}:{line}: {what}" for line, what in problems)


def test_the_checker_finds_private_imports():
    source = ("import ganzoo\nimport ganzoo.train.engine\nfrom ganzoo.step import Step\n"
              "from ganzoo import Recipe, _LAZY\nx = ganzoo.plugins\ny = ganzoo.hookimpl\n")
    assert [line for line, _ in ganzoo_uses(ast.parse(source))] == [2, 3, 4, 5]


@pytest.mark.parametrize("name", ganzoo.__all__)
def test_every_public_name_resolves(name):
    value = getattr(ganzoo, name)
    assert value is not None
    assert name in dir(ganzoo)


def test_the_declaration_modules_import_no_torch():
    code = ("import sys\n"
            "import ganzoo, ganzoo.recipe, ganzoo.train.spec, ganzoo.train.config\n"
            "from ganzoo import Recipe, Slot, Network, AuxLoss, RunSpec, hookimpl, train\n"
            "import ganzoo_cyclegan, ganzoo_pix2pix, ganzoo_dcgan\n"
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]", f"torch was imported: {result.stdout.strip()[:300]}"
