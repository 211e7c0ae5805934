"""The registry on its own: names, aliases, families, duplicates, close matches, option checks."""

import sys

import pytest

from ganzoo import plugins
from ganzoo.errors import DuplicateComponentError, InvalidOptionError, PluginError, UnknownComponentError
from ganzoo.registry import (KINDS, Entry, Registry, expand_kinds, inspect_factory, load_reference, normalize_kind,
                             read_factory_source)


def make(name, factory=dict, **kw):
    return Entry(name=name, kind="generator", factory_ref=factory, summary=f"{name} summary", **kw)


def net(*, width: int = 4, depth: int = 2):
    return ("net", width, depth)


def family(model, *, width: int = 4):
    return ("family", model, width)


def test_alias_resolves_to_same_entry():
    reg = Registry("generator")
    entry = reg.add(make("resnet9", aliases=("resnet_9blocks",)))
    assert reg.get("resnet_9blocks") is entry
    assert reg.get("RESNET9") is entry
    assert "resnet_9blocks" in reg and "resnet8" not in reg


def test_unknown_name_lists_close_matches_and_choices():
    reg = Registry("generator")
    reg.add(make("resnet9"))
    reg.add(make("unet256"))
    with pytest.raises(UnknownComponentError) as info:
        reg.get("resnet8")
    message = str(info.value)
    assert "did you mean resnet9" in message
    assert "valid generators: resnet9, unet256" in message


def test_duplicate_names_both_plugins_unless_replace():
    reg = Registry("generator")
    reg.add(make("resnet9", plugin="ganzoo"))
    with pytest.raises(DuplicateComponentError) as info:
        reg.add(make("resnet9", plugin="thirdparty"))
    assert "'thirdparty'" in str(info.value) and "'ganzoo'" in str(info.value)
    replaced = reg.add(make("resnet9", plugin="thirdparty"), replace=True)
    assert reg.get("resnet9") is replaced


def test_alias_clash_is_a_duplicate():
    reg = Registry("generator")
    reg.add(make("resnet9", aliases=("resnet_9blocks",), plugin="a"))
    with pytest.raises(DuplicateComponentError):
        reg.add(make("other", aliases=("resnet_9blocks",), plugin="b"))
    assert reg.names() == ["resnet9"]


def test_replace_drops_the_old_aliases():
    reg = Registry("generator")
    reg.add(make("resnet9", aliases=("old",), plugin="a"))
    reg.add(make("resnet9", plugin="b"), replace=True)
    assert "old" not in reg


@pytest.mark.parametrize("bad", ["Resnet9", "9net", "res net", "a.b", "timm:x", ""])
def test_invalid_names_are_refused(bad):
    with pytest.raises(ValueError):
        Registry("generator").add(make(bad))


def test_family_takes_an_argument():
    reg = Registry("generator")
    reg.add(make("timm-unet", factory=family, family=True, example="timm-unet:tiny"))
    entry, argument = reg.resolve("timm-unet:resnet18")
    assert argument == "resnet18"
    assert entry.build(argument, width=2) == ("family", "resnet18", 2)
    with pytest.raises(UnknownComponentError, match="timm-unet:tiny"):
        entry.build(None)
    assert entry.option_names() == ["width"]


def test_plain_entry_refuses_suffix():
    reg = Registry("generator")
    reg.add(make("resnet9", factory=net))
    with pytest.raises(UnknownComponentError, match="takes no"):
        reg.resolve("resnet9:foo")


def test_defaults_then_options_and_unknown_option():
    entry = make("shallow", factory=net, defaults={"depth": 1})
    assert entry.build(width=8) == ("net", 8, 1)
    assert entry.build(depth=3) == ("net", 4, 3)
    assert entry.signature().parameters["depth"].default == 1
    with pytest.raises(InvalidOptionError, match="did you mean width"):
        entry.build(widht=3)


def test_find_with_pattern_matches_aliases():
    reg = Registry("generator")
    reg.add(make("unet256", aliases=("unet_256",)))
    reg.add(make("resnet9"))
    assert [e.name for e in reg.find("unet*")] == ["unet256"]
    assert [e.name for e in reg.find("unet_*")] == ["unet256"]
    assert len(reg.find(None)) == 2


def test_kind_aliases():
    assert normalize_kind("gen") == "generator"
    assert normalize_kind("Discriminators") == "discriminator"
    assert normalize_kind("datasets") == "dataset"
    assert expand_kinds("data") == ["data_mode", "dataset"]
    assert expand_kinds("gen") == ["generator"]
    with pytest.raises(UnknownComponentError, match="valid kinds"):
        normalize_kind("optimizer")


BUILTIN_REFERENCES = sorted((e.kind, e.name, e.factory_ref) for kind in KINDS for e in plugins.registry(kind)
                            if e.plugin == "ganzoo")


@pytest.mark.parametrize("kind, name, reference", BUILTIN_REFERENCES, ids=[f"{k}:{n}" for k, n, _ in BUILTIN_REFERENCES])
def test_builtin_signatures_read_from_source_equal_the_imported_ones(kind, name, reference):
    # Every built-in has its own signature in its source (an inherited one is imported instead: the test below)
    assert read_factory_source(reference) == inspect_factory(load_reference(reference))


def test_a_reference_is_imported_when_built_only(tmp_path, monkeypatch):
    (tmp_path / "lazymod.py").write_text(
        "import sys\n"
        "sys.lazymod_imports = getattr(sys, 'lazymod_imports', 0) + 1\n"
        "class Net:\n"
        "    '''A net.\n\n    Args:\n        width: how wide.\n    '''\n"
        "    def __init__(self, *, width: int = 4, scale: float = -1.5, names=('a', 'b')):\n"
        "        self.width = width\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "lazymod", raising=False)
    entry = make("net", factory="lazymod:Net", defaults={"width": 8})
    assert entry.option_names() == ["width", "scale", "names"] and entry.doc().startswith("A net.")
    assert str(entry.signature()) == "(*, width=8, scale=-1.5, names=('a', 'b'))"
    assert "lazymod" not in sys.modules, "reading options imported the module"
    assert entry.build().width == 8 and entry.build(width=2).width == 2
    assert sys.lazymod_imports == 1 and entry.factory is sys.modules["lazymod"].Net


@pytest.mark.parametrize("source", [
    "import functools\ndef _f(*, width=1): return width\nNet = functools.partial(_f, width=2)\n",
    "import functools\ndef deco(f):\n    @functools.wraps(f)\n    def g(**kw): return f(**kw)\n    return g\n"
    "@deco\ndef Net(*, width=1):\n    return width\n",
    "WIDTH = 3\ndef Net(*, width=WIDTH):\n    return width\n",
    "class Base:\n    def __init__(self, *, width=5): self.width = width\nclass Net(Base):\n    '''Own doc.'''\n",
])
def test_what_the_source_cannot_say_is_imported(source, tmp_path, monkeypatch):
    (tmp_path / "oddmod.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "oddmod", raising=False)
    entry = make("net", factory="oddmod:Net")
    static = read_factory_source("oddmod:Net")
    assert entry.signature() == inspect_factory(load_reference("oddmod:Net")).signature
    assert static is None or static == inspect_factory(load_reference("oddmod:Net"))


def test_bad_references():
    with pytest.raises(ValueError, match="package.module:Qualname"):
        make("net", factory="not a reference")
    entry = make("net", factory="no_such_module_anywhere:Net", plugin="someplugin")
    with pytest.raises(PluginError, match="plugin 'someplugin': cannot import no_such_module_anywhere:Net"):
        entry.build()
