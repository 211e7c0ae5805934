"""Downloads end to end from servers on 127.0.0.1: real layouts, resume, retries, checks, safety."""

import io
import os
import tarfile
import zipfile

import pytest
from PIL import Image

from ganzoo.data import DownloadError, PairedFolder, UnpairedFolder, download_dataset, download_file, resolve_data
from ganzoo.data.download import extract_archive
from tests.conftest import run_ganzoo
from tests.servers import FakeHub, FileServer


def png_bytes(colour, size=(8, 8)):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def pix2pix_archive(name="facades"):
    """A tar.gz in pix2pix's layout: NAME/train/*.jpg with A|B side by side, NAME/val, NAME/test."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
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


@pytest.fixture
def mirror(monkeypatch):
    files = {
        "/pix2pix/datasets/facades.tar.gz": pix2pix_archive(),
        "/cyclegan/datasets/horse2zebra.zip": cyclegan_archive(),
        "/cyclegan/datasets/facades.zip": cyclegan_archive("facades"),
    }
    with FileServer(files) as server:
        monkeypatch.setenv("GANZOO_DATASET_MIRROR", server.url)
        yield server


def test_pix2pix_dataset_downloads_extracts_and_loads(data_env, mirror):
    root = download_dataset("facades", mode="paired", progress=False)
    assert root == data_env / "pix2pix" / "facades"
    assert sorted(p.name for p in root.iterdir()) == ["test", "train", "val"]
    item = PairedFolder(root=root, preprocess="none")[0]
    assert item["A"].shape == (3, 8, 8)
    assert not list((data_env / "downloads").iterdir()), "the archive is removed after extraction"
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


def test_interrupted_transfer_resumes_with_range(tmp_path, mirror):
    path = "/cyclegan/datasets/horse2zebra.zip"
    size = len(mirror.files[path])
    mirror.cut_first[path] = size // 3
    dest = download_file(mirror.url + path, tmp_path / "h.zip", progress=False, backoff=0)
    assert dest.read_bytes() == mirror.files[path]
    gets = [r for r in mirror.requests if r[0] == "GET"]
    assert gets[0][2] is None and gets[1][2] == f"bytes={size // 3}-", "the second try asks for the rest"


def test_checksum_mismatch_deletes_and_fails(tmp_path, mirror):
    with pytest.raises(DownloadError, match="checksum mismatch"):
        download_file(mirror.url + "/cyclegan/datasets/horse2zebra.zip", tmp_path / "h.zip", sha256="0" * 64,
                      progress=False)
    assert not list(tmp_path.iterdir())


def test_checksum_match(tmp_path, mirror):
    import hashlib

    data = mirror.files["/cyclegan/datasets/horse2zebra.zip"]
    dest = download_file(mirror.url + "/cyclegan/datasets/horse2zebra.zip", tmp_path / "h.zip",
                         sha256=hashlib.sha256(data).hexdigest(), progress=False)
    assert dest.stat().st_size == len(data)


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
