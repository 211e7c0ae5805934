"""Downloading the data sets people train on, safely.

- A cache folder: ``GANZOO_DATA_DIR``, else ``$XDG_CACHE_HOME/ganzoo/datasets`` (``~/.cache/...``).
- Transfers resume from a ``.part`` file (HTTP Range) and are retried with backoff; the received size is
  checked against the server's, and the SHA-256 where the catalog knows it.
- Archives extract into a temporary folder beside the target, then one atomic rename puts the data set
  in place: an interrupted download or extraction never leaves a half data set where ganzoo would use it.
- Archive members that would land outside the target (absolute paths, ``..``, links pointing out,
  devices) make the whole archive refused.
- ``GANZOO_DATASET_MIRROR`` replaces the reference project's base address; ``hf-hub:ORG/NAME[@REV]``
  data set repos come through ``huggingface_hub`` (which honours ``HF_ENDPOINT``, ``HF_HOME``, ...).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from ganzoo.errors import GanzooError, first_line

DEFAULT_MIRROR = "http://efrosgans.eecs.berkeley.edu"
CHUNK = 1 << 16


class DownloadError(GanzooError):
    """A transfer, a check or an extraction failed; nothing half-done was left in the cache."""


@dataclasses.dataclass(frozen=True)
class RemoteDataset:
    """One archive of the reference project: where it lives and which data mode its layout feeds."""

    name: str
    mode: str  # "paired" (pix2pix's tar.gz) or "unpaired" (CycleGAN's zip)
    summary: str
    sha256: str | None = None  # checked when known

    @property
    def source(self) -> str:
        return "pix2pix" if self.mode == "paired" else "cyclegan"

    def url(self, mirror: str | None = None) -> str:
        base = (mirror or os.environ.get("GANZOO_DATASET_MIRROR") or DEFAULT_MIRROR).rstrip("/")
        suffix = "tar.gz" if self.mode == "paired" else "zip"
        return f"{base}/{self.source}/datasets/{self.name}.{suffix}"


_PIX2PIX = {
    "facades": "400 architectural label maps and facade photos (CMP Facades)",
    "cityscapes": "2975 Cityscapes semantic labels and street photos",
    "maps": "1096 aerial photos and Google Maps tiles",
    "edges2shoes": "50k shoe photos and their edges",
    "edges2handbags": "137k handbag photos and their edges",
    "night2day": "20k night and day photos of the same scenes",
}
_CYCLEGAN = {
    "horse2zebra": "horses and zebras from ImageNet",
    "apple2orange": "apples and oranges from ImageNet",
    "summer2winter_yosemite": "Yosemite in summer and in winter (Flickr)",
    "monet2photo": "Monet paintings and landscape photos",
    "cezanne2photo": "Cezanne paintings and landscape photos",
    "ukiyoe2photo": "Ukiyo-e prints and landscape photos",
    "vangogh2photo": "Van Gogh paintings and landscape photos",
    "maps": "aerial photos and Google Maps tiles, unpaired",
    "cityscapes": "Cityscapes labels and photos, unpaired",
    "facades": "CMP facade labels and photos, unpaired",
    "iphone2dslr_flower": "flower photos from iPhones and from DSLRs",
}
CATALOG: dict[str, dict[str, RemoteDataset]] = {}
for _mode, _table in (("paired", _PIX2PIX), ("unpaired", _CYCLEGAN)):
    for _name, _summary in _table.items():
        CATALOG.setdefault(_name, {})[_mode] = RemoteDataset(_name, _mode, _summary)


def user_cache_dir(name: str, *, env: str) -> Path:
    """``$env`` if set, else ``$XDG_CACHE_HOME/ganzoo/NAME`` (``~/.cache/ganzoo/NAME``)."""
    if os.environ.get(env):
        return Path(os.environ[env]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ganzoo" / name


def cache_dir() -> Path:
    """Where data sets are kept: ``GANZOO_DATA_DIR`` or the user's cache folder."""
    return user_cache_dir("datasets", env="GANZOO_DATA_DIR")


def remote_dataset(name: str, *, mode: str | None = None) -> RemoteDataset:
    """The catalog entry for ``name``; ``mode`` picks pix2pix's or CycleGAN's when both exist."""
    import difflib

    variants = CATALOG.get(name)
    if variants is None:
        close = difflib.get_close_matches(name, list(CATALOG), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise DownloadError(f"unknown data set {name!r}{hint}; known: {', '.join(sorted(CATALOG))}")
    if mode is not None:
        if mode not in variants:
            raise DownloadError(f"data set {name!r} has no {mode} version; it has: {', '.join(variants)}")
        return variants[mode]
    if len(variants) > 1:
        raise DownloadError(f"data set {name!r} exists paired (pix2pix) and unpaired (CycleGAN); "
                            "choose with --mode paired or --mode unpaired")
    return next(iter(variants.values()))


def download_dataset(name: str, *, mode: str | None = None, to: str | os.PathLike[str] | None = None,
                     progress: bool = True) -> Path:
    """Download and extract a catalog data set once; later calls return the cached folder."""
    remote = remote_dataset(name, mode=mode)
    target = Path(to).expanduser() / name if to else cache_dir() / remote.source / name
    if target.is_dir():
        return target
    url = remote.url()
    archive_name = url.rsplit("/", 1)[-1]
    downloads = cache_dir() / "downloads"
    archive = download_file(url, downloads / f"{remote.source}-{archive_name}", sha256=remote.sha256,
                            progress=progress)
    extract_archive(archive, target)
    archive.unlink(missing_ok=True)
    return target


def download_file(url: str, dest: Path, *, sha256: str | None = None, retries: int = 3, timeout: float = 60,
                  progress: bool = True, backoff: float = 1.0) -> Path:
    """Fetch ``url`` to ``dest`` through ``dest.part``, resuming and retrying; check size and checksum."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    for attempt in range(retries + 1):
        try:
            _transfer(url, part, timeout=timeout, progress=progress)
            break
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and part.exists():  # we already hold every byte
                break
            if exc.code < 500 or attempt == retries:
                raise DownloadError(f"could not download {url}: HTTP {exc.code} {exc.reason}"
                                    + (" (is GANZOO_DATASET_MIRROR right?)" if exc.code == 404 else "")) from exc
        except (urllib.error.URLError, OSError, _Incomplete) as exc:
            if attempt == retries:
                raise DownloadError(f"could not download {url} after {retries + 1} tries: {exc}") from exc
        time.sleep(backoff * 2**attempt)
    if sha256 is not None:
        digest = sha256_of(part)
        if digest != sha256.lower():
            part.unlink(missing_ok=True)
            raise DownloadError(f"checksum mismatch for {url}: expected {sha256}, got {digest}; deleted it")
    os.replace(part, dest)
    return dest


class _Incomplete(Exception):
    """The connection ended before the announced number of bytes arrived."""


def _transfer(url: str, part: Path, *, timeout: float, progress: bool) -> None:
    from tqdm.auto import tqdm

    have = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": "ganzoo", **({"Range": f"bytes={have}-"} if have else {})}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as resp:
        resumed = have > 0 and resp.status == 206
        if not resumed:
            have = 0
        length = resp.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        with open(part, "ab" if resumed else "wb") as out, tqdm(
            total=total, initial=have, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1],
            disable=not progress, leave=False,
        ) as bar:
            while chunk := resp.read(CHUNK):
                out.write(chunk)
                bar.update(len(chunk))
    size = part.stat().st_size
    if total is not None and size != total:
        raise _Incomplete(f"received {size} of {total} bytes")


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _check_member(name: str, target: Path) -> None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise DownloadError(f"refusing archive member {name!r}: it would land outside {target}")


def extract_archive(archive: Path, target: Path) -> Path:
    """Extract a .zip or .tar(.gz) so that ``target`` appears whole or not at all.

    The archive's single top folder (``facades/``) becomes ``target``; an archive with several top
    entries becomes ``target`` as a whole.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    _check_member(info.filename, target)
                    if (info.external_attr >> 16) & 0o170000 == 0o120000:
                        raise DownloadError(f"refusing archive member {info.filename!r}: symbolic link")
                zf.extractall(staging)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                for member in tf.getmembers():
                    _check_member(member.name, target)
                    if not (member.isfile() or member.isdir()):
                        raise DownloadError(f"refusing archive member {member.name!r}: not a plain file or folder")
                if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4 / 3.10.12 filters too
                    tf.extractall(staging, filter="data")
                else:
                    tf.extractall(staging)
        else:
            raise DownloadError(f"{archive} is neither a zip nor a tar archive")
        entries = [e for e in staging.iterdir() if e.name not in ("__MACOSX",)]
        root = entries[0] if len(entries) == 1 and entries[0].is_dir() else staging
        if target.exists():  # someone else finished first; theirs is complete too
            return target
        os.replace(root, target)
        return target
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        raise DownloadError(f"{archive} is corrupt: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def is_repo_id(repo_id: str) -> bool:
    """Whether ``repo_id`` has the Hub's ``ORG/NAME`` form."""
    parts = repo_id.split("/")
    return len(parts) == 2 and all(parts)


def parse_hub_spec(spec: str) -> tuple[str, str | None]:
    """``hf-hub:ORG/NAME[@REVISION]`` -> (``ORG/NAME``, the revision or None), for models and data sets."""
    repo_id, _, revision = spec.removeprefix("hf-hub:").partition("@")
    if not is_repo_id(repo_id):
        raise GanzooError(f"expected hf-hub:ORG/NAME[@REVISION], got {spec!r}")
    return repo_id, revision or None


def download_hub_dataset(spec: str, *, to: str | os.PathLike[str] | None = None) -> Path:
    """Fetch a data set repo from the Hugging Face Hub: ``hf-hub:ORG/NAME[@REVISION]``.

    Files land in the standard Hub cache (``HF_HOME``/``HF_HUB_CACHE``) unless ``to`` names a folder.
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, RepositoryNotFoundError

    repo, revision = parse_hub_spec(spec)
    local_dir = Path(to).expanduser() / repo.split("/")[1] if to else None
    try:
        path = snapshot_download(repo, repo_type="dataset", revision=revision, local_dir=local_dir)
    except RepositoryNotFoundError as exc:
        raise DownloadError(f"no data set repo {repo!r} on the Hub (or it is private: set HF_TOKEN)") from exc
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as exc:
        raise DownloadError(f"could not download {spec}: {first_line(exc)}") from exc
    return Path(path)
