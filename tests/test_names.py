"""The one name grammar: sources, families whose arguments hold dots, weights tags, aliases, errors."""

import pytest

import ganzoo
from ganzoo.errors import UnknownComponentError
from ganzoo.names import ComponentName, parse_name
from ganzoo.registry import Entry, Pretrained, Registry


@pytest.mark.parametrize("text, expected", [
    ("resnet9", ComponentName(base="resnet9")),
    ("ResNet9", ComponentName(base="resnet9")),
    ("resnet9.horse2zebra", ComponentName(base="resnet9", tag="horse2zebra")),
    ("timm:resnet18.a1_in1k", ComponentName(base="timm", argument="resnet18.a1_in1k")),
    ("timm:hf-hub:timm/resnet18.a1_in1k", ComponentName(base="timm", argument="hf-hub:timm/resnet18.a1_in1k")),
    ("hf-hub:org/name@v1", ComponentName(source="hf-hub:org/name@v1")),
    ("reference:cyclegan/horse2zebra", ComponentName(source="reference:cyclegan/horse2zebra")),
    ("./bundle", ComponentName(source="./bundle")),
    ("~/models/x", ComponentName(source="~/models/x")),
    ("/abs/run", ComponentName(source="/abs/run")),
    ("runs/cyclegan/day", ComponentName(source="runs/cyclegan/day")),
])
def test_parse_name(text, expected):
    parsed = parse_name(text)
    assert parsed == expected
    assert parse_name(str(parsed)) == parsed, "a parsed name prints back as a name that parses the same"


@pytest.mark.parametrize("text, message", [
    ("", "empty name"),
    ("hf-hub:no-org", "ORG/NAME"),
    ("reference:", "needs a model name"),
    ("resnet9.", "write resnet9.TAG"),
    ("timm:", "without a member"),
])
def test_malformed_names_are_one_clear_error(text, message):
    with pytest.raises(UnknownComponentError, match=message):
        parse_name(text)


def family(model, *, width: int = 4):
    return ("family", model, width)


def registry_with(**pretrained):
    reg = Registry("discriminator")
    reg.add(Entry(name="timm", kind="discriminator", factory_ref=family, summary="a family", family=True,
                  pretrained={tag: Pretrained(tag, source) for tag, source in pretrained.items()}))
    reg.add(Entry(name="patchgan", kind="discriminator", factory_ref=dict, summary="plain", aliases=("basic",),
                  pretrained={"facades": Pretrained("facades", "hf-hub:org/facades")}))
    return reg


def test_family_argument_keeps_dots_unless_the_tail_is_a_registered_tag():
    reg = registry_with(mine="hf-hub:org/mine")
    entry, parsed = reg.lookup("timm:resnet18.a1_in1k")
    assert entry.name == "timm" and parsed.argument == "resnet18.a1_in1k" and parsed.tag is None
    entry, parsed = reg.lookup("timm:resnet18.mine")
    assert parsed.argument == "resnet18" and parsed.tag == "mine"
    with pytest.raises(UnknownComponentError, match="names pretrained weights"):
        reg.resolve("timm:resnet18.mine")
    assert reg.resolve("timm:resnet18.a1_in1k") == (entry, "resnet18.a1_in1k")


def test_tags_and_aliases_resolve_to_one_entry():
    reg = registry_with()
    entry, parsed = reg.lookup("basic.facades")
    assert entry.name == "patchgan" and parsed.tag == "facades"
    assert reg.pretrained("BASIC.facades")[1].source == "hf-hub:org/facades"
    with pytest.raises(UnknownComponentError, match=r"no pretrained weights 'facade' \(did you mean patchgan.facades\?\)"):
        reg.lookup("patchgan.facade")
    with pytest.raises(UnknownComponentError, match="names no pretrained weights"):
        reg.pretrained("patchgan")


def test_unknown_names_and_sources_in_a_registry():
    reg = registry_with()
    with pytest.raises(UnknownComponentError, match=r"did you mean patchgan.*valid discriminators: patchgan, timm:NAME"):
        reg.lookup("patchgn.facades")
    with pytest.raises(UnknownComponentError, match="names a saved model"):
        reg.lookup("hf-hub:org/model")
    assert "hf-hub:org/model" not in reg and "timm:x.y" in reg and "basic" in reg


def test_timm_names_with_a_pretrained_tag_build():
    net = ganzoo.create_discriminator("timm:test_resnet.r160_in1k", init_type=None)
    assert type(net).__name__ == "TimmDiscriminator"


def test_the_registries_apply_the_grammar():
    entry, parsed = ganzoo.get_registry("generator").lookup("resnet_9blocks.horse2zebra")
    assert (entry.name, parsed.tag) == ("resnet9", "horse2zebra")
    entry, parsed = ganzoo.get_registry("discriminator").lookup("timm:resnet18.a1_in1k")
    assert (entry.name, parsed.argument, parsed.tag) == ("timm", "resnet18.a1_in1k", None)
