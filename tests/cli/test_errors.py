"""Every command ends a failure in one line and a non-zero exit: against a Hub, a data set server and a
reference server that cannot be reached, and with inputs that are wrong (missing, not a bundle, junk,
an output place that cannot be written)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from ganzoo.hub.convert import convert_checkpoint
from tests.hub.test_convert import LEGACY

#: The CLI with backoff sleeps skipped: the Hub client waits 23 s between its retries of a dead address,
#: and the behaviour under test is what comes out at the end, not the waiting.
NO_SLEEP = "import time; time.sleep = lambda seconds: None; from ganzoo.cli import main; main()"


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    """A converted bundle, a folder that is no bundle, a junk checkpoint, an image and a regular file."""
    root = tmp_path_factory.mktemp("places")
    convert_checkpoint(LEGACY, role="generator", name="resnet_9blocks", out=root / "bundle")
    (root / "not-a-bundle").mkdir()
    (root / "not-a-bundle" / "notes.txt").write_text("hello")
    (root / "foreign").mkdir()
    (root / "foreign" / "config.json").write_text("{}")
    (root / "junk.pth").write_bytes(b"\x00junk" * 100)
    (root / "file").write_text("a regular file, so nothing can be created under it")
    from PIL import Image

    Image.new("RGB", (32, 32), (200, 100, 0)).save(root / "day.png")
    return root


@pytest.fixture
def dead_env(tmp_path):
    dead = f"http://127.0.0.1:{closed_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    return {**env, "HF_ENDPOINT": dead, "HF_HOME": str(tmp_path / "hf"), "HF_TOKEN": "hf_test",
            "HF_HUB_DISABLE_TELEMETRY": "1", "GANZOO_DATASET_MIRROR": dead, "GANZOO_REFERENCE_MIRROR": dead}


def fails_in_one_line(args: list[str], env: dict[str, str], *, code: int = 1) -> str:
    result = subprocess.run([sys.executable, "-c", NO_SLEEP, *args], capture_output=True, text=True, env=env,
                            timeout=120)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code, result.stderr
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert result.stdout == ""
    return lines[0]


@pytest.mark.parametrize("args, said", [
    (["push", "{bundle}", "me/model"], "could not push to me/model: "),
    (["pull", "hf-hub:org/model"], "config.json of hf-hub:org/model is not in the Hub cache, and the Hub cannot be reached"),
    (["translate", "hf-hub:org/model", "{day}", "--out", "{tmp}/t"], "the Hub cannot be reached"),
    (["sample", "hf-hub:org/model", "--out", "{tmp}/grid.png"], "the Hub cannot be reached"),
    (["data", "download", "hf-hub:org/shapes"], "could not download hf-hub:org/shapes: "),
    (["data", "download", "facades", "--mode", "paired", "--quiet"],
     "could not download http://127.0.0.1:{port}/pix2pix/datasets/facades.tar.gz after 4 tries: Connection refused"),
    (["pull", "reference:cyclegan/horse2zebra"], "/cyclegan/pretrained_models/horse2zebra.pth after 4 tries"),
], ids=["push", "pull", "translate", "sample", "data-hub", "data-mirror", "pull-reference"])
def test_an_unreachable_server_is_one_line(args, said, places, dead_env, tmp_path):
    fill = {"bundle": places / "bundle", "day": places / "day.png", "tmp": tmp_path,
            "port": dead_env["HF_ENDPOINT"].rsplit(":", 1)[1]}
    line = fails_in_one_line([a.format(**fill) for a in args], dead_env)
    assert said.format(**fill) in line


@pytest.mark.parametrize("args, said, code", [
    (["push", "{places}/missing", "me/model"], "no folder", 1),
    (["push", "{places}/not-a-bundle", "me/model"], "is neither a run folder nor a model bundle", 1),
    (["pull", "{places}/foreign"], "is not a ganzoo model bundle", 1),
    (["convert", "{places}/junk.pth", "--gen", "resnet_9blocks", "--out", "{tmp}/b"], "is not a PyTorch checkpoint", 1),
    (["convert", str(LEGACY), "--gen", "resnet_9blocks", "--out", "{places}/file/b"], "cannot write", 1),
    (["pull", "{places}/bundle", "--out", "{places}/file/copy"], "cannot write the output folder", 1),
    (["translate", "{places}/bundle", "{places}/missing.png", "--out", "{tmp}/t"], "no image file", 2),
    (["translate", "{places}/bundle", "{places}/day.png", "--out", "{places}/file/t"], "cannot write the output folder", 1),
    (["sample", "{places}/bundle", "--out", "{tmp}/grid.png"], "translates images; use `ganzoo translate", 1),
    (["data", "download", "facades", "--mode", "paired", "--to", "{places}/file/data"],
     "cannot write the data set folder", 1),
], ids=["push-missing", "push-not-a-bundle", "pull-foreign-config", "convert-junk", "convert-unwritable",
        "pull-out-unwritable", "translate-missing-image", "translate-out-unwritable", "sample-translator",
        "data-to-unwritable"])
def test_a_bad_input_is_one_line(args, said, code, places, dead_env, tmp_path):
    line = fails_in_one_line([a.format(places=places, tmp=tmp_path) for a in args], dead_env, code=code)
    assert said in line
    assert not (places / "file").is_dir(), "nothing was created under a regular file"
