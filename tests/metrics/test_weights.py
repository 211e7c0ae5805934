"""The feature networks' weights: found without downloading, refused when not the pinned file (unless asked),
fetched once from a server on 127.0.0.1 (timm's through a fake Hub), and every error one line that says
what to do."""

from __future__ import annotations

import dataclasses
import hashlib
import os

import pytest

from ganzoo.data.download import DownloadError
from ganzoo.errors import UsageError
from ganzoo.metrics import weights as weights_module
from ganzoo.metrics.weights import (INCEPTION, WEIGHTS, MissingWeightsError, WeightsMismatchError,
                                    fetch_timm_weights, fetch_weights, file_sha256, locate_weights, timm_weights_path,
                                    weights_dir, weights_record)
from ganzoo.testing.servers import FileServer

FAKE = b"not really an Inception, but 64 bytes of it".ljust(64, b".")


def fake_weights(data: bytes = FAKE, **changes) -> weights_module.WeightsFile:
    """INCEPTION with the size and SHA-256 of ``data``: fetch and verify run as for the real file."""
    return dataclasses.replace(INCEPTION, sha256=hashlib.sha256(data).hexdigest(), size=len(data), **changes)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "weights"
    monkeypatch.setenv("GANZOO_WEIGHTS_DIR", str(folder))
    return folder


def one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message, message
    return message


def test_the_pinned_file_is_consistent_with_its_name():
    assert WEIGHTS["inception"] is INCEPTION
    assert INCEPTION.url.endswith("/" + INCEPTION.filename)
    assert INCEPTION.filename.endswith(f"-{INCEPTION.sha256[:8]}.pth"), "torch-hub names files by their sum's start"
    assert len(INCEPTION.sha256) == 64 and INCEPTION.megabytes == "96 MB"


def test_weights_dir_defaults_to_the_user_cache_and_follows_its_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert weights_dir() == tmp_path / "xdg" / "ganzoo" / "weights"
    monkeypatch.setenv("GANZOO_WEIGHTS_DIR", str(tmp_path / "mine"))
    assert weights_dir() == tmp_path / "mine"


def test_missing_weights_say_in_one_line_how_to_get_them(cache):
    with pytest.raises(MissingWeightsError) as exc:
        locate_weights(INCEPTION)
    message = one_line(exc)
    assert message.startswith(f"the Inception weights (2015-12-05, 96 MB) are not in {cache}: run ")
    for advice in ("`ganzoo weights fetch inception`", "--weights PATH", "GANZOO_INCEPTION_WEIGHTS",
                   INCEPTION.filename, INCEPTION.url):
        assert advice in message
    assert isinstance(exc.value, UsageError) and exc.value.exit_code == 2
    assert not cache.exists(), "looking for weights creates nothing and downloads nothing"


def test_the_home_folder_is_written_as_a_tilde(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / ".cache"))
    with pytest.raises(MissingWeightsError, match=r"are not in ~/\.cache/ganzoo/weights: run"):
        locate_weights(INCEPTION)


def test_a_path_or_variable_naming_no_file_is_said_so(cache, tmp_path, monkeypatch):
    with pytest.raises(MissingWeightsError, match=f"no weights file at {tmp_path / 'nope.pth'} \\(given for"):
        locate_weights(INCEPTION, path=tmp_path / "nope.pth")
    monkeypatch.setenv("GANZOO_INCEPTION_WEIGHTS", str(tmp_path / "gone.pth"))
    with pytest.raises(MissingWeightsError, match="gone.pth \\(named by GANZOO_INCEPTION_WEIGHTS for") as exc:
        locate_weights(INCEPTION)
    assert "ganzoo weights fetch inception" in one_line(exc)


def test_an_explicit_path_comes_first_then_the_variable_then_the_cache(cache, tmp_path, monkeypatch):
    weights = fake_weights()
    cache.mkdir()
    (cache / weights.filename).write_bytes(FAKE)
    (tmp_path / "env.pth").write_bytes(FAKE)
    (tmp_path / "given.pth").write_bytes(FAKE)
    assert locate_weights(weights) == cache / weights.filename
    monkeypatch.setenv("GANZOO_INCEPTION_WEIGHTS", str(tmp_path / "env.pth"))
    assert locate_weights(weights) == tmp_path / "env.pth"
    assert locate_weights(weights, path=str(tmp_path / "given.pth")) == tmp_path / "given.pth"


def test_a_file_that_is_not_the_pinned_one_is_refused_unless_asked(cache, tmp_path):
    weights = fake_weights()
    tampered = tmp_path / "tampered.pth"
    tampered.write_bytes(FAKE[:-1] + b"!")
    actual = hashlib.sha256(tampered.read_bytes()).hexdigest()
    with pytest.raises(WeightsMismatchError) as exc:
        locate_weights(weights, path=tampered)
    message = one_line(exc)
    assert str(tampered) in message and actual in message and weights.sha256 in message
    assert "--unverified-weights" in message and "not comparable with published numbers" in message
    assert locate_weights(weights, path=tampered, verify=False) == tampered
    assert weights_record(weights, tampered) == {"weights": "tampered.pth", "sha256": actual, "standard": False,
                                                 "url": weights.url}
    good = tmp_path / "good.pth"
    good.write_bytes(FAKE)
    assert weights_record(weights, locate_weights(weights, path=good))["standard"] is True


def test_a_bad_copy_in_the_cache_is_told_to_be_fetched_again(cache):
    weights = fake_weights()
    cache.mkdir()
    (cache / weights.filename).write_bytes(b"truncated")
    with pytest.raises(WeightsMismatchError, match="delete it and run `ganzoo weights fetch inception` again"):
        locate_weights(weights)


def test_a_file_is_hashed_once_until_it_changes(tmp_path, monkeypatch):
    calls = []
    real = weights_module.sha256_of
    monkeypatch.setattr(weights_module, "sha256_of", lambda path: calls.append(path) or real(path))
    path = tmp_path / "w.pth"
    path.write_bytes(FAKE)
    assert file_sha256(path) == file_sha256(path) == hashlib.sha256(FAKE).hexdigest()
    assert len(calls) == 1
    path.write_bytes(FAKE + b"more")
    os.utime(path, ns=(1, 1))  # a new size and mtime, whatever the clock's resolution
    assert file_sha256(path) == hashlib.sha256(FAKE + b"more").hexdigest()
    assert len(calls) == 2


def test_fetch_downloads_once_and_then_uses_the_copy(cache):
    weights = fake_weights()
    with FileServer({"/w.pth": FAKE}) as server:
        path = fetch_weights(weights, url=server.url + "/w.pth", progress=False)
        assert path == cache / weights.filename and path.read_bytes() == FAKE
        gets = [r for r in server.requests if r[0] == "GET"]
        assert len(gets) == 1
        assert fetch_weights(weights, url=server.url + "/w.pth", progress=False) == path
        assert len(server.requests) == len([r for r in server.requests if r[0] == "GET"]) == 1, "no second request"
    assert locate_weights(weights) == path


def test_fetch_replaces_a_bad_copy(cache):
    weights = fake_weights()
    cache.mkdir()
    (cache / weights.filename).write_bytes(b"x" * len(FAKE))
    with FileServer({"/w.pth": FAKE}) as server:
        assert fetch_weights(weights, url=server.url + "/w.pth", progress=False).read_bytes() == FAKE


def test_fetch_refuses_other_bytes_and_keeps_nothing(cache):
    weights = fake_weights()
    other = FAKE[::-1]  # the same size, other bytes
    with FileServer({"/w.pth": other}) as server:
        with pytest.raises(DownloadError) as exc:
            fetch_weights(weights, url=server.url + "/w.pth", progress=False)
    message = one_line(exc)
    assert "checksum mismatch" in message and weights.sha256 in message
    assert "pass --weights PATH or set GANZOO_INCEPTION_WEIGHTS" in message and "--data" not in message
    assert not (cache / weights.filename).exists()
    with pytest.raises(MissingWeightsError):
        locate_weights(weights)


@pytest.fixture
def hub(fake_hub):
    """A fake Hugging Face Hub on 127.0.0.1 behind the real client (which timm downloads through)."""
    return fake_hub


def test_fetch_timm_weights_keeps_the_feature_part_as_safetensors(cache, hub):
    import safetensors.torch
    import timm
    import torch

    torch.manual_seed(0)
    published = timm.create_model("test_resnet", pretrained=False).state_dict()  # with its classifier, as on the Hub
    hub.repos[("model", "timm/test_resnet.r160_in1k")] = {"model.safetensors": safetensors.torch.save(published)}
    path = fetch_timm_weights("test_resnet")
    assert path == timm_weights_path("test_resnet") == cache / "timm" / "test_resnet.safetensors"
    assert hub.fetched() == {"model.safetensors"}
    kept = safetensors.torch.load_file(path)
    assert set(kept) == set(published) - {"fc.weight", "fc.bias"}
    assert all(torch.equal(kept[k], published[k]) for k in kept)


def test_fetch_timm_weights_names_what_went_wrong_in_one_line(cache, hub):
    with pytest.raises(UsageError, match=r"timm has no model 'resnet_nope'.*timm.list_models\(\)") as exc:
        fetch_timm_weights("resnet_nope")
    one_line(exc)
    with pytest.raises(DownloadError, match=r"could not fetch the timm weights of test_resnet from the Hugging Face "
                                            r"Hub \(timm/test_resnet.r160_in1k\): not found there$") as exc:
        fetch_timm_weights("test_resnet")  # the fake Hub has no such repo
    one_line(exc)
    assert not timm_weights_path("test_resnet").exists()
