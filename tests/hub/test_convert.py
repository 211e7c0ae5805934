"""Converting the reference CycleGAN/pix2pix checkpoints: options read from the tensors, outputs equal."""

import errno
import json
import shutil
from pathlib import Path

import pytest
import safetensors.torch
import torch

import ganzoo
from ganzoo.fsutil import OutputError
from ganzoo.hub.convert import ConversionError, convert_checkpoint
from tests.conftest import run_ganzoo
from tests.nn.test_reference import FIXTURES, INDEX, NETWORKS

LEGACY = FIXTURES / "resnet_9blocks_instance_ngf16_legacy_running_stats.pth"
PLAIN_IO = FIXTURES / "resnet_9blocks_instance_ngf16.io.pth"


def reference_output_gap(bundle, network, io_file):
    io = torch.load(io_file, weights_only=True)
    net = ganzoo.Model.from_pretrained(bundle).network(network)
    assert not net.training, "networks come back in eval mode"
    with torch.no_grad():
        return (net(io["input"]) - io["output"]).abs().max().item()


@pytest.mark.parametrize("fixture", sorted(NETWORKS))
def test_every_reference_fixture_converts_to_the_reference_output(fixture, tmp_path):
    kind, reference_name, options = NETWORKS[fixture]
    meta = INDEX["fixtures"][fixture]
    out = convert_checkpoint(FIXTURES / meta["checkpoint"], role=kind, name=reference_name, out=tmp_path / "b")
    config = json.loads((out / "config.json").read_text())
    (network, spec), = config["networks"].items()
    for key, value in options.items():  # width, norm, dropout, depth, channels: all read from the tensors
        assert spec["options"].get(key, ganzoo.get_entry(kind, spec["name"]).defaults.get(key)) == value, key
    assert reference_output_gap(out, network, FIXTURES / meta["io"]) < 1e-5


def test_resnet_depth_is_read_from_the_tensors(tmp_path):
    """resnet_6blocks weights given as resnet9 still convert: the block count comes from the file."""
    out = convert_checkpoint(FIXTURES / "resnet_6blocks_instance_ngf16.pth", role="generator", name="resnet9",
                             out=tmp_path / "b")
    spec = json.loads((out / "config.json").read_text())["networks"]["gen_ab"]
    assert spec["options"]["n_blocks"] == 6
    assert reference_output_gap(out, "gen_ab", FIXTURES / "resnet_6blocks_instance_ngf16.io.pth") < 1e-5


def test_legacy_instance_norm_running_stats_are_accepted(tmp_path):
    state = torch.load(LEGACY, weights_only=True)
    assert any(k.endswith("running_mean") for k in state), "the fixture is the old format"
    out = convert_checkpoint(LEGACY, role="generator", name="resnet_9blocks", norm="instance", out=tmp_path / "b")
    assert reference_output_gap(out, "gen_ab", PLAIN_IO) < 1e-5


def test_dataparallel_prefix_is_removed(tmp_path):
    state = torch.load(FIXTURES / "basic_D_instance_in3_ndf16.pth", weights_only=True)
    torch.save({f"module.{k}": v for k, v in state.items()}, tmp_path / "latest_net_D.pth")
    out = convert_checkpoint(tmp_path / "latest_net_D.pth", role="discriminator", name="basic", out=tmp_path / "b")
    assert reference_output_gap(out, "disc", FIXTURES / "basic_D_instance_in3_ndf16.io.pth") < 1e-5


def test_a_wrong_norm_is_explained(tmp_path):
    with pytest.raises(ConversionError, match="--norm batch does not fit.*no batch-norm weights, which is instance"):
        convert_checkpoint(LEGACY, role="generator", name="resnet9", norm="batch", out=tmp_path / "b")
    assert not (tmp_path / "b").exists(), "nothing is written for a refused checkpoint"


def test_the_wrong_architecture_is_refused_clearly(tmp_path):
    with pytest.raises(ConversionError, match="is not a unet256 checkpoint: no tensor 'model.model.0.weight'"):
        convert_checkpoint(LEGACY, role="generator", name="unet256", out=tmp_path / "b")
    with pytest.raises(ConversionError, match="cannot read its options from a checkpoint"):
        convert_checkpoint(LEGACY, role="generator", name="dcgan", out=tmp_path / "b")


def test_extra_and_misshaped_tensors_are_named(tmp_path):
    state = torch.load(FIXTURES / "pixel_D_batch_in6_ndf16.pth", weights_only=True)
    torch.save({**state, "net.9.weight": torch.zeros(3)}, tmp_path / "extra.pth")
    with pytest.raises(ConversionError, match=r"unexpected \['net.9.weight'\]"):
        convert_checkpoint(tmp_path / "extra.pth", role="discriminator", name="pixel", out=tmp_path / "b")
    torch.save({**state, "net.3.bias": torch.zeros(5)}, tmp_path / "shape.pth")
    with pytest.raises(ConversionError, match=r"mis-shaped \['net.3.bias \(5,\) != \(32,\)'\]"):
        convert_checkpoint(tmp_path / "shape.pth", role="discriminator", name="pixel", out=tmp_path / "b")


class Payload:
    """Something that is not a tensor: loading it would mean unpickling arbitrary code."""


def test_nothing_is_unpickled(tmp_path):
    torch.save({"model.1.weight": torch.zeros(1), "payload": Payload()}, tmp_path / "evil.pth")
    with pytest.raises(ConversionError, match="will not unpickle it"):
        convert_checkpoint(tmp_path / "evil.pth", role="generator", name="resnet9", out=tmp_path / "b")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ConversionError, match="not a PyTorch checkpoint"):
        convert_checkpoint(tmp_path / "junk.pth", role="generator", name="resnet9", out=tmp_path / "b")


def test_cli_converts_a_cyclegan_into_one_bundle_and_translates(tmp_path):
    """G_A, G_B and D_A of a CycleGAN go into one bundle; `ganzoo translate DIR` then uses it."""
    from PIL import Image

    ckpt = FIXTURES / "resnet_6blocks_instance_ngf16.pth"
    out = tmp_path / "horse2zebra"
    first = run_ganzoo("convert", str(LEGACY), "--gen", "resnet_9blocks", "--out", str(out), "--image-size", "64",
                       "--domains", "horse,zebra")
    assert first.returncode == 0, first.stderr
    assert "gen_ab: resnet9 in_channels=3 out_channels=3 ngf=16 norm=instance dropout=False" in first.stdout
    second = run_ganzoo("convert", str(ckpt), "--gen", "resnet9", "--direction", "BtoA", "--out", str(out),
                        "--image-size", "64")
    third = run_ganzoo("convert", str(FIXTURES / "basic_D_instance_in3_ndf16.pth"), "--disc", "basic", "--out",
                       str(out), "--image-size", "64")
    assert second.returncode == 0 and third.returncode == 0, second.stderr + third.stderr
    config = json.loads((out / "config.json").read_text())
    assert set(config["networks"]) == {"gen_ab", "gen_ba", "disc"}
    assert config["directions"] == {"AtoB": "gen_ab", "BtoA": "gen_ba"}
    assert config["domains"] == {"A": "horse", "B": "zebra"} and config["image_size"] == 64
    card = (out / "README.md").read_text()
    assert "library_name: ganzoo" in card and f"| gen_ab | {LEGACY.name} | `" in card, "the card names its sources"
    Image.new("RGB", (80, 60), (200, 120, 40)).save(tmp_path / "horse.png")
    result = run_ganzoo("translate", str(out), str(tmp_path / "horse.png"), "--out", str(tmp_path / "t"))
    assert result.returncode == 0, result.stderr
    written = Image.open(tmp_path / "t" / "horse.png")
    expected = ganzoo.Model.from_pretrained(out).translate(tmp_path / "horse.png")[0]
    assert written.size == (64, 64)
    assert written.tobytes() == expected.tobytes()


def test_cli_convert_errors_are_one_line(tmp_path):
    neither = run_ganzoo("convert", str(LEGACY), "--out", str(tmp_path / "b"))
    wrong = run_ganzoo("convert", str(LEGACY), "--gen", "unet_256", "--out", str(tmp_path / "b"))
    for result in (neither, wrong):
        assert result.returncode == 1
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "--gen NAME or --disc NAME" in neither.stderr
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    occupied = run_ganzoo("convert", str(LEGACY), "--gen", "resnet9", "--out", str(tmp_path / "full"))
    assert occupied.returncode == 1 and "not empty" in occupied.stderr
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"


def test_a_failed_bundle_write_keeps_the_old_bundle_and_leaves_nothing_else(tmp_path, monkeypatch):
    """A full disk while a network is added: the bundle there is untouched, no staging folder is left."""
    out = convert_checkpoint(LEGACY, role="generator", name="resnet_9blocks", out=tmp_path / "b")
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(safetensors.torch, "save_file", full_disk)
    with pytest.raises(OutputError, match=r"cannot write .*/b: No space left on device \(free some space"):
        convert_checkpoint(LEGACY, role="generator", name="resnet_9blocks", out=out, direction="BtoA")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["b"]


def test_pull_out_appears_whole_or_not_at_all(tmp_path, monkeypatch):
    bundle = convert_checkpoint(LEGACY, role="generator", name="resnet_9blocks", out=tmp_path / "b")
    model = ganzoo.Model.from_pretrained(bundle)
    real_copytree = shutil.copytree

    def one_file_then_full_disk(src, dst, **kwargs):
        first = sorted(Path(src).iterdir())[0]
        shutil.copyfile(first, Path(dst) / first.name)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copytree", one_file_then_full_disk)
    with pytest.raises(OutputError, match="No space left on device"):
        model.download(out=tmp_path / "copy")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"], "no half copy, no staging folder"
    monkeypatch.setattr(shutil, "copytree", real_copytree)
    copy = model.download(out=tmp_path / "copy")
    assert {p.name: p.read_bytes() for p in copy.iterdir()} == {p.name: p.read_bytes() for p in bundle.iterdir()}
