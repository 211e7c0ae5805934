"""The plugin door: entry points, isolation of broken plugins, duplicates, env switches, plugin files,
runtime registration."""

import logging
import sys

import pytest

import ganzoo
from ganzoo import plugins
from ganzoo.errors import DuplicateComponentError, PluginError, UnknownComponentError
from tests.conftest import run_ganzoo

GOOD = """
import ganzoo
from torch import nn

class TinyGenerator(nn.Module):
    '''A one-layer generator from a third-party plugin.'''
    input_kind = "image"

    def __init__(self, *, in_channels: int = 3, out_channels: int = 3):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)

    def forward(self, x):
        return self.conv(x).tanh()

@ganzoo.hookimpl
def ganzoo_register_generators(register):
    register(TinyGenerator, name="tinygen", aliases=["tiny_gen"], paper="https://example.org")

@ganzoo.hookimpl
def ganzoo_register_commands(cli):
    import click

    @cli.command()
    def hello():
        '''Say hello from a plugin.'''
        click.echo("hello from goodplugin")
"""

RAISES_IN_HOOK = """
import ganzoo

def factory(*, width: int = 1):
    return width

@ganzoo.hookimpl
def ganzoo_register_generators(register):
    register(factory, name="halfway", summary="registered before the failure")

@ganzoo.hookimpl
def ganzoo_register_losses(register):
    raise RuntimeError("boom in hook")
"""

DUPLICATE = """
import ganzoo

def other(**kw):
    return "other"

@ganzoo.hookimpl
def ganzoo_register_generators(register):
    register(other, name="resnet9", summary="a clash")
"""

REPLACER = """
import ganzoo

def mine(**kw):
    return "mine"

@ganzoo.hookimpl
def ganzoo_register_generators(register):
    register(mine, name="resnet9", summary="replaces the built-in", replace=True)
"""


def test_entry_point_plugin_registers_components(plugin_factory):
    plugin_factory.install("goodplugin", GOOD, version="1.2.3")
    entry = ganzoo.get_entry("generator", "tiny_gen")
    assert entry.name == "tinygen" and entry.plugin == "goodplugin"
    assert entry.summary == "A one-layer generator from a third-party plugin."
    net = ganzoo.create_generator("tinygen", in_channels=1)
    assert net.conv.in_channels == 1
    info = {i.name: i for i in plugins.plugin_infos()}["goodplugin"]
    assert info.status == "loaded" and info.version == "1.2.3" and info.source == "entry point"
    assert "ganzoo_register_generators" in info.hooks


def test_builtins_load_first_and_are_listed():
    infos = plugins.plugin_infos()
    assert infos[0].name == "ganzoo" and infos[0].source == "builtin" and infos[0].status == "loaded"


def test_import_error_is_isolated(plugin_factory, caplog):
    plugin_factory.install("brokenplugin", "import not_a_module_anywhere\n")
    plugin_factory.install("goodplugin", GOOD)
    with caplog.at_level(logging.WARNING, logger="ganzoo.plugins"):
        assert "tinygen" in ganzoo.list_components("generator")
    info = {i.name: i for i in plugins.plugin_infos()}["brokenplugin"]
    assert info.status == "failed" and "ModuleNotFoundError" in info.error
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "brokenplugin" in warnings[0] and "\n" not in warnings[0]


def test_raising_hook_withdraws_partial_registrations(plugin_factory):
    plugin_factory.install("raiser", RAISES_IN_HOOK)
    assert "resnet9" in ganzoo.list_components("generator")
    info = {i.name: i for i in plugins.plugin_infos()}["raiser"]
    assert info.status == "failed" and "boom in hook" in info.error
    # the generator hook ran (and registered) before the loss hook raised: that entry is withdrawn
    assert "halfway" not in ganzoo.list_components("generator")


def test_duplicate_from_plugin_names_both(plugin_factory):
    plugin_factory.install("dupe", DUPLICATE)
    assert ganzoo.get_entry("generator", "resnet9").plugin == "ganzoo"
    info = {i.name: i for i in plugins.plugin_infos()}["dupe"]
    assert info.status == "failed"
    assert "'dupe'" in info.error and "'ganzoo'" in info.error


def test_replace_overrides_builtin(plugin_factory):
    plugin_factory.install("replacer", REPLACER)
    entry = ganzoo.get_entry("generator", "resnet9")
    assert entry.plugin == "replacer" and ganzoo.create_component("generator", "resnet9") == "mine"


def test_strict_mode_makes_failures_fatal(plugin_factory, monkeypatch):
    plugin_factory.install("brokenplugin", "raise ValueError('bad plugin')\n")
    monkeypatch.setenv("GANZOO_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="brokenplugin.*bad plugin"):
        ganzoo.list_components("generator")


def test_only_listed_plugins_load(plugin_factory, monkeypatch):
    plugin_factory.install("goodplugin", GOOD)
    plugin_factory.install("dupe", DUPLICATE)
    monkeypatch.setenv("GANZOO_PLUGINS", "goodplugin")
    status = {i.name: i.status for i in plugins.plugin_infos()}
    assert status["ganzoo"] == "loaded" and status["goodplugin"] == "loaded"
    assert status["dupe"] == "disabled" and status["cyclegan"] == "disabled", "first-party recipes are plugins too"


def test_empty_plugin_list_loads_only_builtins(plugin_factory, monkeypatch):
    plugin_factory.install("goodplugin", GOOD)
    monkeypatch.setenv("GANZOO_PLUGINS", "")
    assert "tinygen" not in ganzoo.list_components("generator")
    assert "resnet9" in ganzoo.list_components("generator")


def test_disabled_plugins_do_not_load(plugin_factory, monkeypatch):
    plugin_factory.install("goodplugin", GOOD)
    monkeypatch.setenv("GANZOO_DISABLE_PLUGINS", "goodplugin, other")
    assert "tinygen" not in ganzoo.list_components("generator")
    assert {i.name: i.status for i in plugins.plugin_infos()}["goodplugin"] == "disabled"


def test_plugins_dir_from_env(tmp_path, monkeypatch):
    (tmp_path / "localgen.py").write_text(GOOD)
    (tmp_path / "_private.py").write_text("raise SystemExit('never imported')\n")
    monkeypatch.setenv("GANZOO_PLUGINS_DIR", str(tmp_path))
    assert ganzoo.get_entry("generator", "tinygen").plugin == "localgen"
    info = {i.name: i for i in plugins.plugin_infos()}["localgen"]
    assert info.source == "plugins dir" and info.location.endswith("localgen.py")


def test_missing_plugins_dir_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_PLUGINS_DIR", str(tmp_path / "nope"))
    with pytest.raises(PluginError, match="does not exist"):
        ganzoo.list_components("generator")


def test_runtime_plugin_register_and_unregister():
    class Plugin:
        @ganzoo.hookimpl
        def ganzoo_register_losses(self, register):
            register(lambda **kw: "custom", name="custom-loss", summary="a test loss")

    ganzoo.register_plugin(Plugin(), name="testplugin")
    assert ganzoo.create_loss("custom-loss") == "custom"
    ganzoo.unregister_plugin("testplugin")
    with pytest.raises(UnknownComponentError):
        ganzoo.create_loss("custom-loss")


def test_notebook_decorator_survives_plugin_changes():
    @ganzoo.register_discriminator(name="nbdisc", summary="from a notebook")
    def nbdisc(*, in_channels: int = 3):
        return ("nbdisc", in_channels)

    assert ganzoo.create_component("discriminator", "nbdisc", in_channels=6) == ("nbdisc", 6)

    class Other:
        @ganzoo.hookimpl
        def ganzoo_register_losses(self, register):
            register(lambda: 0, name="zero", summary="zero")

    ganzoo.register_plugin(Other(), name="other")  # rebuilds every registry from the hooks
    assert ganzoo.get_entry("discriminator", "nbdisc").plugin == "__session__"
    with pytest.raises(DuplicateComponentError, match="'ganzoo'"):
        ganzoo.register_generator(lambda: 0, name="resnet9", summary="clash")


def test_cli_survives_broken_plugin_and_reports_it(plugin_factory):
    plugin_factory.install("brokenplugin", "raise RuntimeError('kaput')\n")
    plugin_factory.install("goodplugin", GOOD)
    env = plugin_factory.env()
    help_run = run_ganzoo("--help", env=env)
    assert help_run.returncode == 0 and "hello" in help_run.stdout
    assert "brokenplugin" in help_run.stderr
    listed = run_ganzoo("list", "generator", env=env)
    assert listed.returncode == 0 and "tinygen" in listed.stdout
    report = run_ganzoo("plugins", env=env)
    assert report.returncode == 0
    line = next(l for l in report.stdout.splitlines() if l.startswith("brokenplugin"))
    assert "failed" in line and "kaput" in line
    assert "1.0" in next(l for l in report.stdout.splitlines() if l.startswith("goodplugin"))
    hello = run_ganzoo("hello", env=env)
    assert hello.returncode == 0 and hello.stdout.strip() == "hello from goodplugin"


def test_cli_strict_mode_exits_with_one_line(plugin_factory):
    plugin_factory.install("brokenplugin", "raise RuntimeError('kaput')\n")
    env = {**plugin_factory.env(), "GANZOO_STRICT_PLUGINS": "1"}
    result = run_ganzoo("list", env=env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["Error: plugin 'brokenplugin' failed to load: RuntimeError: kaput"]


def test_cli_plugins_dir_option(tmp_path):
    (tmp_path / "dirplugin.py").write_text(GOOD)
    result = run_ganzoo("--plugins-dir", str(tmp_path), "info", "tinygen")
    assert result.returncode == 0, result.stderr
    assert "from plugin dirplugin" in result.stdout
    assert "hello" in run_ganzoo("--plugins-dir", str(tmp_path), "--help").stdout


def test_registration_by_reference_imports_on_build(plugin_factory):
    plugin_factory.install("refplugin", """
        import ganzoo

        @ganzoo.hookimpl
        def ganzoo_register_generators(register):
            register("refplugin_nets:WideNet", aliases=["wide"])
        """)
    (plugin_factory.site / "refplugin_nets.py").write_text(
        "import sys\n"
        "sys.refplugin_nets_imported = True\n"
        "class WideNet:\n"
        "    '''A network that is imported only when built.'''\n"
        "    def __init__(self, *, width: int = 4):\n"
        "        self.width = width\n"
    )
    plugin_factory.modules.append("refplugin_nets")
    entry = ganzoo.get_entry("generator", "wide")
    assert entry.name == "widenet" and entry.summary == "A network that is imported only when built."
    assert entry.option_names() == ["width"]
    assert "refplugin_nets" not in sys.modules
    assert ganzoo.create_generator("widenet", width=7, init_type=None).width == 7
    assert "refplugin_nets" in sys.modules


def test_a_malformed_reference_fails_its_plugin():
    class Plugin:
        @ganzoo.hookimpl
        def ganzoo_register_losses(self, register):
            register("ganzoo.losses.adversarial.LSGANLoss", name="typo")

    ganzoo.register_plugin(Plugin(), name="typoplugin")
    info = {i.name: i for i in plugins.plugin_infos()}["typoplugin"]
    assert info.status == "failed" and "package.module:Qualname" in info.error


def test_builtin_toy_table_matches_the_toy_sets():
    from ganzoo.builtin import TOY_SETS as listed
    from ganzoo.data.toy import TOY_SETS

    assert listed == {name: (toy.mode, toy.summary) for name, toy in TOY_SETS.items()}
    assert ganzoo.create_component("dataset", "shapes") is TOY_SETS["shapes"]


def test_pluggy_dispatches_registration_hooks_with_isolation():
    calls = []

    class Late:
        @ganzoo.hookimpl
        def ganzoo_register_losses(self, register):
            calls.append("late")
            register(lambda: "late", name="late-loss", summary="normal order")

    class Eager:
        @ganzoo.hookimpl(tryfirst=True)
        def ganzoo_register_losses(self, register):
            calls.append("eager")
            register(lambda: "eager", name="eager-loss", summary="asked to go first")

    class Raiser:
        @ganzoo.hookimpl(tryfirst=True)
        def ganzoo_register_losses(self, register):
            calls.append("raiser")
            raise RuntimeError("boom before the others")

    class Watcher:
        @ganzoo.hookimpl(hookwrapper=True)
        def ganzoo_register_losses(self, register):
            calls.append("before")
            yield
            calls.append(sorted(n for n in ganzoo.list_components("loss") if n.endswith("-loss")))
            register(lambda: "watched", name="watched", summary="registered by a wrapper after the others")

    for name, plugin in [("late", Late()), ("eager", Eager()), ("watcher", Watcher())]:
        ganzoo.register_plugin(plugin, name=name)
    calls.clear()
    ganzoo.register_plugin(Raiser(), name="raiser")  # registering rebuilds every registry through pluggy
    assert calls == ["before", "raiser", "eager", "late", ["eager-loss", "late-loss"]]
    status = {i.name: (i.status, i.error) for i in plugins.plugin_infos()}
    assert status["raiser"][0] == "failed" and "boom before the others" in status["raiser"][1]
    assert ganzoo.get_entry("loss", "watched").plugin == "watcher"
    assert ganzoo.create_loss("eager-loss") == "eager" and "lsgan" in ganzoo.list_components("loss")


def test_a_tryfirst_duplicate_fails_the_later_plugin_not_the_builtins():
    class Early:
        @ganzoo.hookimpl(tryfirst=True)
        def ganzoo_register_generators(self, register):
            register(lambda: "early", name="resnet9", summary="a clash that runs before the built-ins")

    ganzoo.register_plugin(Early(), name="early")
    assert ganzoo.get_entry("generator", "resnet9").plugin == "ganzoo"
    info = {i.name: i for i in plugins.plugin_infos()}["early"]
    assert info.status == "failed" and "'early'" in info.error and "'ganzoo'" in info.error


def test_a_misspelled_hook_fails_its_plugin(plugin_factory):
    plugin_factory.install("typohook", """
        import ganzoo

        @ganzoo.hookimpl
        def ganzoo_register_generator(register):
            register(dict, name="never", summary="registered through a hook that does not exist")
        """)
    assert "never" not in ganzoo.list_components("generator")
    info = {i.name: i for i in plugins.plugin_infos()}["typohook"]
    assert info.status == "failed"
    assert info.error == ("implements unknown hook 'ganzoo_register_generator' "
                          "(did you mean ganzoo_register_generators?)")


@pytest.mark.parametrize("taken", ["ganzoo", "cyclegan", "__session__"])
def test_a_taken_plugin_name_is_refused(taken):
    class Plugin:
        @ganzoo.hookimpl
        def ganzoo_register_losses(self, register):
            register(lambda: 0, name="zero", summary="zero")

    with pytest.raises(PluginError, match=f"the plugin name '{taken}' is taken"):
        ganzoo.register_plugin(Plugin(), name=taken)
    assert {"resnet9", "unet256"} <= set(ganzoo.list_components("generator"))
    assert "cyclegan" in ganzoo.list_components("recipe") and "zero" not in ganzoo.list_components("loss")
    with pytest.raises(PluginError, match="was registered at runtime"):
        ganzoo.unregister_plugin(taken)


def test_a_plugin_file_named_like_a_loaded_plugin_is_refused(tmp_path, monkeypatch):
    (tmp_path / "pix2pix.py").write_text(GOOD)
    monkeypatch.setenv("GANZOO_PLUGINS_DIR", str(tmp_path))
    assert "pix2pix" in ganzoo.list_components("recipe") and "tinygen" not in ganzoo.list_components("generator")
    infos = [i for i in plugins.plugin_infos() if i.name == "pix2pix"]
    assert [(i.source, i.status) for i in infos] == [("entry point", "loaded"), ("plugins dir", "failed")]
    assert "taken by the entry point plugin" in infos[1].error


def test_adding_a_plugins_dir_keeps_what_python_registered(tmp_path):
    @ganzoo.register_loss(name="nbloss", summary="from a notebook")
    def nbloss():
        return "nb"

    class Runtime:
        @ganzoo.hookimpl
        def ganzoo_register_losses(self, register):
            register(lambda: "rt", name="rtloss", summary="from a runtime plugin")

    ganzoo.register_plugin(Runtime(), name="runtime")
    (tmp_path / "dirplugin.py").write_text(GOOD)
    plugins.add_plugins_dir(tmp_path)
    assert ganzoo.get_entry("generator", "tinygen").plugin == "dirplugin"
    assert ganzoo.create_loss("nbloss") == "nb" and ganzoo.create_loss("rtloss") == "rt"


def test_a_plugin_data_set_resolves_by_name(plugin_factory, tmp_path):
    plugin_factory.install("shoesplugin", f"""
        import os
        import ganzoo

        def fetch_shoes(*, mode=None):
            '''Shoe photos, fetched on first use.'''
            root = os.path.join({str(tmp_path)!r}, "shoes-" + str(mode))
            os.makedirs(os.path.join(root, "trainA"), exist_ok=True)
            return root

        @ganzoo.hookimpl
        def ganzoo_register_datasets(register):
            register(fetch_shoes, name="shoes")
        """)
    from ganzoo.data.sources import resolve_data

    source = resolve_data("shoes", mode="unpaired")
    assert source.root == tmp_path / "shoes-unpaired" and not source.is_toy
    with pytest.raises(ganzoo.GanzooError, match=r"did you mean shoes"):
        resolve_data("shoez")


def test_weights_attach_to_entries_of_any_plugin_and_fail_alone():
    class Weights:
        @ganzoo.hookimpl
        def ganzoo_register_weights(self, register):
            register("generator", "resnet_9blocks", tag="mine", source="hf-hub:org/mine", summary="my zebras")
            register("disc", "patchgan", tag="mine", source="hf-hub:org/critic", network="disc_a")

    class Broken:
        @ganzoo.hookimpl
        def ganzoo_register_weights(self, register):
            register("generator", "unet256", tag="early", source="hf-hub:org/early")
            register("generator", "no-such-net", tag="late", source="hf-hub:org/late")

    class Clash:
        @ganzoo.hookimpl
        def ganzoo_register_weights(self, register):
            register("generator", "resnet9", tag="horse2zebra", source="hf-hub:org/other-zebras")

    for name, plugin in [("weights", Weights()), ("broken", Broken()), ("clash", Clash())]:
        ganzoo.register_plugin(plugin, name=name)
    mine = ganzoo.get_entry("generator", "resnet9").pretrained["mine"]
    assert (mine.source, mine.summary, mine.plugin) == ("hf-hub:org/mine", "my zebras", "weights")
    assert ganzoo.get_registry("discriminator").pretrained("basic.mine")[1].network == "disc_a"
    status = {i.name: i for i in plugins.plugin_infos()}
    assert status["broken"].status == "failed" and "unknown generator 'no-such-net'" in status["broken"].error
    assert "early" not in ganzoo.get_entry("generator", "unet256").pretrained, "its first weights are withdrawn"
    assert status["clash"].status == "failed" and "already registered by plugin 'cyclegan'" in status["clash"].error
    assert ganzoo.get_entry("generator", "resnet9").pretrained["horse2zebra"].plugin == "cyclegan"


def test_published_weights_come_from_the_recipe_plugins(monkeypatch):
    from ganzoo.hub.reference import reference_model

    monkeypatch.setenv("GANZOO_DISABLE_PLUGINS", "cyclegan,pix2pix")
    assert ganzoo.get_entry("generator", "resnet9").pretrained == {}
    with pytest.raises(ganzoo.GanzooError, match="unknown reference model 'horse2zebra'"):
        reference_model("horse2zebra")
    monkeypatch.delenv("GANZOO_DISABLE_PLUGINS")
    plugins.reset()
    model = reference_model("horse2zebra")
    assert (model.recipe, model.generator, model.norm, model.domains) == ("cyclegan", "resnet9", "instance",
                                                                          ("horse", "zebra"))
    entry, weights = ganzoo.get_registry("generator").pretrained("unet_256.facades_label2photo")
    assert entry.name == "unet256" and weights.source == "reference:pix2pix/facades_label2photo"


def test_events_reach_every_plugin_and_a_raising_one_is_dropped_once(caplog):
    seen = []

    class RunLogger:
        @ganzoo.hookimpl
        def ganzoo_log(self, run, step, metrics):
            seen.append((run, step, metrics["loss"]))

    class BrokenLogger:
        @ganzoo.hookimpl
        def ganzoo_log(self, run, step, metrics):
            raise OSError("disk full")

        @ganzoo.hookimpl
        def ganzoo_register_losses(self, register):
            register(lambda: "kept", name="kept-loss", summary="a component of the logger's plugin")

    ganzoo.register_plugin(BrokenLogger(), name="brokenlogger")
    host = plugins.get_host()
    with caplog.at_level(logging.WARNING, logger="ganzoo.plugins"):
        with host.temporary_plugin(RunLogger(), name="run-logger"):
            assert "run-logger" in {i.name for i in plugins.plugin_infos()}
            host.notify("ganzoo_log", run="r", step=1, metrics={"loss": 0.5})
            host.notify("ganzoo_log", run="r", step=2, metrics={"loss": 0.25})
    assert seen == [("r", 1, 0.5), ("r", 2, 0.25)]
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "'brokenlogger'" in warnings[0] and "disk full" in warnings[0]
    assert ganzoo.create_loss("kept-loss") == "kept", "a broken logger keeps its plugin's components"
    assert "run-logger" not in {i.name for i in plugins.plugin_infos()}
    with pytest.raises(ValueError, match="not an event hook"):
        host.notify("ganzoo_register_losses", register=print)


def test_a_plugin_added_for_a_run_implements_events_only():
    class Registers:
        @ganzoo.hookimpl
        def ganzoo_register_losses(self, register):
            register(lambda: 0, name="sneaky", summary="not from a run")

    host = plugins.get_host()
    with pytest.raises(PluginError, match="event hooks only, not ganzoo_register_losses"):
        with host.temporary_plugin(Registers(), name="sneaky-logger"):
            pass
    with pytest.raises(PluginError, match="'ganzoo' is taken"):
        with host.temporary_plugin(object(), name="ganzoo"):
            pass
    assert "sneaky-logger" not in {i.name for i in plugins.plugin_infos()}
    host.rebuild()
    assert "sneaky" not in ganzoo.list_components("loss")


def test_loggers_are_a_kind_of_component():
    class Loggers:
        @ganzoo.hookimpl
        def ganzoo_register_loggers(self, register):
            register(dict, name="jsonl", summary="one JSON line per logging interval")

    ganzoo.register_plugin(Loggers(), name="loggers")
    assert ganzoo.list_components("loggers") == ["jsonl", "tensorboard"]
    assert {i.name: i.hooks for i in plugins.plugin_infos()}["loggers"] == ["ganzoo_register_loggers"]
