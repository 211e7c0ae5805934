"""Downloads end to end from servers on 127.0.0.1: real layouts, resume, retries, checks, safety."""

import dataclasses
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
import zipfile

import pytest
from PIL import Image

from ganzoo.data import DownloadError, PairedFolder, UnpairedFolder, download_dataset, download_file, resolve_data
from ganzoo.data.download import CATALOG, SUMS_FILE, extract_archive
from tests.conftest import run_ganzoo
from ganzoo.testing.servers import FakeHub, FileServer


def png_bytes(colour, size=(8, 8)):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def pix2pix_archive(name="facades", *, padding=0):
    """A tar.gz in pix2pix's layout: NAME/train/*.jpg with A|B side by side, NAME/val, NAME/test; ``padding``
    adds that many random bytes in a README (to make a transfer take a while)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        if padding:
            info = tarfile.TarInfo(f"{name}/README")
            info.size = padding
            tf.addfile(info, io.BytesIO(os.urandom(padding)))
        for split in ("train", "val", "test"):
            for i in range(2):
                data = png_bytes((200, 10, 10), size=(16, 8))
                info = tarfile.TarInfo(f"{name}/{split}/{i}.jpg")
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def cyclegan_archive(name="horse2zebra"):
    """A zip in CycleGAN's layout: NAME/trainA, trainB, testA, testB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for folder in ("trainA", "trainB", "testA", "testB"):
            for i in range(2):
                zf.writestr(f"{name}/{folder}/{i}.jpg", png_bytes((10, 200, 10)))
    return buffer.getvalue()


@pytest.fixture
def data_env(tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_DATA_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def publish(monkeypatch, name, mode, data):
    """Make the catalog publish ``data``'s size and SHA-256 for NAME, as it does for the real archives."""
    entry = CATALOG[name][mode]
    monkeypatch.setitem(CATALOG[name], mode, dataclasses.replace(entry, sha256=hashlib.sha256(data).hexdigest(),
                                                                 size=len(data)))


@pytest.fixture
def mirror(monkeypatch):
    files = {
        "/pix2pix/datasets/facades.tar.gz": pix2pix_archive(),
        "/cyclegan/datasets/horse2zebra.zip": cyclegan_archive(),
        "/cyclegan/datasets/facades.zip": cyclegan_archive("facades"),
    }
    publish(monkeypatch, "horse2zebra", "unpaired", files["/cyclegan/datasets/horse2zebra.zip"])
    publish(monkeypatch, "facades", "unpaired", files["/cyclegan/datasets/facades.zip"])
    with FileServer(files) as server:
        monkeypatch.setenv("GANZOO_DATASET_MIRROR", server.url)
        yield server


def test_pix2pix_dataset_downloads_extracts_and_loads(data_env, mirror):
    root = download_dataset("facades", mode="paired", progress=False)
    assert root == data_env / "pix2pix" / "facades"
    assert sorted(p.name for p in root.iterdir()) == ["test", "train", "val"]
    item = PairedFolder(root=root, preprocess="none")[0]
    assert item["A"].shape == (3, 8, 8)
    left = sorted(p.name for p in (data_env / "downloads").iterdir())
    assert left == [".locks", "sha256.json"], "the archive is removed after extraction; its sum is kept"
    assert not [p for p in (data_env / "pix2pix").iterdir() if p.name.startswith(".")], "no staging left"


def test_cyclegan_dataset_and_cache_hit(data_env, mirror):
    first = resolve_data("horse2zebra")
    hits = len(mirror.requests)
    second = resolve_data("horse2zebra")
    assert first.root == second.root == data_env / "cyclegan" / "horse2zebra"
    assert len(mirror.requests) == hits, "the second use is served from the cache"
    assert len(UnpairedFolder(root=first.root, preprocess="none")) == 2


def test_ambiguous_name_picks_the_recipe_mode(data_env, mirror):
    assert resolve_data("facades", mode="unpaired").root == data_env / "cyclegan" / "facades"
    assert resolve_data("facades", mode="paired").root == data_env / "pix2pix" / "facades"


def test_to_folder(tmp_path, data_env, mirror):
    root = download_dataset("horse2zebra", to=tmp_path / "mine", progress=False)
    assert root == tmp_path / "mine" / "horse2zebra" and (root / "trainA").is_dir()


H2Z = "/cyclegan/datasets/horse2zebra.zip"


@pytest.mark.parametrize("fault", ["cut", "chunked-cut", "reset"])
def test_dropped_connection_is_retried_and_resumed_with_range(tmp_path, mirror, fault):
    size = len(mirror.files[H2Z])
    mirror.faults[H2Z] = [fault]
    dest = download_file(mirror.url + H2Z, tmp_path / "h.zip", progress=False, backoff=0)
    assert dest.read_bytes() == mirror.files[H2Z]
    gets = [r for r in mirror.requests if r[0] == "GET"]
    assert len(gets) == 2 and gets[0][2] is None
    assert gets[1][2].startswith("bytes=") and 0 < int(gets[1][2][6:-1]) <= size // 3 + 1, "the second try asks for the rest"


def test_a_stalled_transfer_times_out_and_resumes(tmp_path, mirror):
    mirror.faults[H2Z] = ["stall"]
    dest = download_file(mirror.url + H2Z, tmp_path / "h.zip", progress=False, backoff=0, timeout=0.3)
    assert dest.read_bytes() == mirror.files[H2Z]
    assert [r[2] is not None for r in mirror.requests] == [False, True]


def test_progress_resets_the_retry_count(tmp_path, mirror):
    """Three drops in a row with retries=1 still finish: each try brought new bytes."""
    mirror.faults[H2Z] = ["cut", "cut", "cut"]
    dest = download_file(mirror.url + H2Z, tmp_path / "h.zip", progress=False, backoff=0, retries=1)
    assert dest.read_bytes() == mirror.files[H2Z] and len(mirror.requests) == 4


def test_a_server_that_cannot_resume_restarts_cleanly(tmp_path):
    data = cyclegan_archive()
    with FileServer({"/f.zip": data}, ranges=False) as server:
        server.faults["/f.zip"] = ["cut"]
        dest = download_file(server.url + "/f.zip", tmp_path / "f.zip", progress=False, backoff=0)
    assert dest.read_bytes() == data, "the 200 after a Range request replaced the part instead of extending it"


@pytest.mark.parametrize("content_range", [True, False], ids=["content-range", "head"])
def test_416_is_complete_only_when_the_part_is_the_whole_file(tmp_path, content_range):
    data = cyclegan_archive()
    with FileServer({"/f.zip": data}, content_range_on_416=content_range) as server:
        (tmp_path / "f.zip.part").write_bytes(data + b"stale tail of an older, longer file")
        dest = download_file(server.url + "/f.zip", tmp_path / "f.zip", progress=False, backoff=0)
        assert dest.read_bytes() == data
        asked = ["GET", "GET"] if content_range else ["GET", "HEAD", "GET"]
        assert [r[0] for r in server.requests] == asked, "416, (HEAD for the size,) then the whole file again"
        (tmp_path / "g.zip.part").write_bytes(data)  # every byte is here already: nothing more is fetched
        before = len(server.requests)
        assert download_file(server.url + "/f.zip", tmp_path / "g.zip", progress=False).read_bytes() == data
        assert len(server.requests) - before == (1 if content_range else 2)


def test_checksum_mismatch_deletes_and_fails(tmp_path, mirror):
    with pytest.raises(DownloadError, match="checksum mismatch"):
        download_file(mirror.url + "/cyclegan/datasets/horse2zebra.zip", tmp_path / "h.zip", sha256="0" * 64,
                      progress=False)
    assert not (tmp_path / "h.zip").exists() and not (tmp_path / "h.zip.part").exists()


def test_checksum_match(tmp_path, mirror):
    import hashlib

    data = mirror.files["/cyclegan/datasets/horse2zebra.zip"]
    dest = download_file(mirror.url + "/cyclegan/datasets/horse2zebra.zip", tmp_path / "h.zip",
                         sha256=hashlib.sha256(data).hexdigest(), progress=False)
    assert dest.stat().st_size == len(data)


def test_the_catalog_publishes_cyclegans_sums():
    unpaired = [variants["unpaired"] for variants in CATALOG.values() if "unpaired" in variants]
    assert len(unpaired) == 11 and all(len(r.sha256) == 64 and r.size > 10**7 for r in unpaired)
    assert all(variants["paired"].sha256 is None for variants in CATALOG.values() if "paired" in variants)


def test_a_data_set_that_is_not_the_published_file_is_refused(data_env, mirror, monkeypatch):
    publish(monkeypatch, "horse2zebra", "unpaired", b"what was published")
    with pytest.raises(DownloadError, match="not the published 18"):
        download_dataset("horse2zebra", progress=False)
    assert not (data_env / "cyclegan").exists() or not list((data_env / "cyclegan").iterdir())
    assert not list((data_env / "downloads").glob("*.zip*")), "the bad file was deleted"


def test_unpublished_sums_are_recorded_on_first_use_and_checked_after(tmp_path, mirror):
    path = "/pix2pix/datasets/facades.tar.gz"
    url = mirror.url + path
    download_file(url, tmp_path / "f.tar.gz", progress=False)
    record = json.loads((tmp_path / SUMS_FILE).read_text())[url]
    assert record["sha256"] == hashlib.sha256(mirror.files[path]).hexdigest()
    assert record["size"] == len(mirror.files[path])
    download_file(url, tmp_path / "f.tar.gz", progress=False)  # the same file again: fine
    mirror.files[path] = pix2pix_archive("changed")
    with pytest.raises(DownloadError, match=f"differs from the copy first downloaded on .*remove its entry from "
                                            f"{tmp_path / SUMS_FILE}") as failure:
        download_file(url, tmp_path / "g.tar.gz", progress=False)
    assert "\n" not in str(failure.value)
    assert not (tmp_path / "g.tar.gz").exists() and not (tmp_path / "g.tar.gz.part").exists()


def test_not_found_is_a_clear_error(tmp_path, mirror):
    with pytest.raises(DownloadError, match="HTTP 404.*GANZOO_DATASET_MIRROR"):
        download_file(mirror.url + "/nope.zip", tmp_path / "x.zip", progress=False)


def test_unreachable_server_retries_then_fails(tmp_path):
    with pytest.raises(DownloadError, match="after 2 tries"):
        download_file("http://127.0.0.1:9/x.zip", tmp_path / "x.zip", retries=1, backoff=0, progress=False)


@pytest.mark.parametrize("evil", ["../escape.txt", "/abs/escape.txt", "ok/../../escape.txt"])
def test_archive_members_outside_target_are_refused(tmp_path, evil):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("data/trainA/1.jpg", b"x")
        zf.writestr(evil, b"gotcha")
    target = tmp_path / "out" / "data"
    with pytest.raises(DownloadError, match="refusing archive member"):
        extract_archive(archive, target)
    assert not target.exists() and not (tmp_path / "escape.txt").exists()
    assert not list((tmp_path / "out").iterdir()), "no staging folder left behind"


def test_tar_symlink_is_refused(tmp_path):
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tf:
        link = tarfile.TarInfo("data/link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
    with pytest.raises(DownloadError, match="not a plain file"):
        extract_archive(archive, tmp_path / "data")


def test_corrupt_archive_leaves_nothing(tmp_path):
    archive = tmp_path / "broken.zip"
    archive.write_bytes(cyclegan_archive()[:100])
    with pytest.raises(DownloadError):
        extract_archive(archive, tmp_path / "out" / "data")
    assert not (tmp_path / "out" / "data").exists()


def test_cli_download_end_to_end(tmp_path, mirror):
    env = {**os.environ, "GANZOO_DATASET_MIRROR": mirror.url, "GANZOO_DATA_DIR": str(tmp_path / "cache")}
    result = run_ganzoo("data", "download", "facades", "--mode", "paired", "--quiet", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "cache" / "pix2pix" / "facades")
    bad = run_ganzoo("data", "download", "facades", env=env)
    assert bad.returncode == 1 and "--mode paired or --mode unpaired" in bad.stderr


def test_hub_dataset_through_the_real_client(tmp_path):
    with FakeHub() as hub:
        hub.repos[("dataset", "org/shapes")] = {"trainA/0.png": png_bytes((1, 2, 3)), "trainB/0.png": png_bytes((4, 5, 6)),
                                                "README.md": b"# shapes"}
        env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_DISABLE_TELEMETRY": "1"}
        result = run_ganzoo("data", "download", "hf-hub:org/shapes", env=env)
        assert result.returncode == 0, result.stderr
        root = result.stdout.strip()
        assert root.startswith(str(tmp_path / "hf" / "hub" / "datasets--org--shapes" / "snapshots"))
        assert len(UnpairedFolder(root=root, preprocess="none")) == 1
        missing = run_ganzoo("data", "download", "hf-hub:org/nothing", env=env)
        assert missing.returncode == 1 and "no data set repo 'org/nothing'" in missing.stderr
        assert len(missing.stderr.strip().splitlines()) == 1


FACADES = "/pix2pix/datasets/facades.tar.gz"
DOWNLOAD = [sys.executable, "-c", "from ganzoo.cli import main; main()", "data", "download", "facades",
            "--mode", "paired", "--quiet"]


def as_at_a_terminal():
    """Give the child SIGINT's default disposition, so Python turns Ctrl-C into KeyboardInterrupt, however
    pytest was started: a process a shell starts as a background job ignores SIGINT, and its children
    inherit that (the download would then finish and exit 0)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for(condition, *, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def started_transfer(part):
    return part.exists() and part.stat().st_size > 0


@pytest.fixture
def slow_mirror(tmp_path):
    """A server that sends pix2pix's facades at about 80 KiB/s, and the environment of a CLI that uses it."""
    with FileServer({FACADES: pix2pix_archive(padding=160_000)}, pace=0.05) as server:
        env = {**os.environ, "GANZOO_DATASET_MIRROR": server.url, "GANZOO_DATA_DIR": str(tmp_path / "cache")}
        yield server, env, tmp_path / "cache"


def test_two_processes_downloading_one_data_set_transfer_it_once(slow_mirror):
    server, env, cache = slow_mirror
    first = subprocess.Popen(DOWNLOAD, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: started_transfer(cache / "downloads" / "pix2pix-facades.tar.gz.part"))
    second = subprocess.Popen(DOWNLOAD, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out1, err1 = first.communicate(timeout=60)
    out2, err2 = second.communicate(timeout=60)
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    assert out1 == out2 == f"{cache / 'pix2pix' / 'facades'}\n"
    assert f"in progress in another ganzoo process (pid {first.pid}); waiting for it" in err2
    assert len([r for r in server.requests if r[0] == "GET"]) == 1, "the second reused the first's result"


def test_ctrl_c_during_a_download_exits_130_and_keeps_only_the_resumable_part(slow_mirror):
    server, env, cache = slow_mirror
    part = cache / "downloads" / "pix2pix-facades.tar.gz.part"
    process = subprocess.Popen(DOWNLOAD, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=as_at_a_terminal)
    wait_for(lambda: started_transfer(part))
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130 and out == ""
    assert len(err.strip().splitlines()) == 1 and "interrupted" in err, err
    assert started_transfer(part) and not list((cache / "pix2pix").iterdir()), "no half data set, only the .part"
    kept = part.stat().st_size
    server.pace = 0
    again = subprocess.run(DOWNLOAD, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert server.requests[-1][2] == f"bytes={kept}-", "the next run resumed where Ctrl-C stopped"
    assert (cache / "pix2pix" / "facades" / "train").is_dir()
