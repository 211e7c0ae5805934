"""Downloading the data sets people train on, safely.

- A cache folder: ``GANZOO_DATA_DIR``, else ``$XDG_CACHE_HOME/ganzoo/datasets`` (``~/.cache/...``).
- Transfers resume from a ``.part`` file (HTTP Range) and a dropped connection (a cut stream, a reset, a
  timeout) is retried with backoff; a server that cannot resume makes the transfer start over. The
  received size is checked against the server's, and the SHA-256 against the catalog's published sum, or
  else against the one recorded the first time that address was downloaded (:data:`SUMS_FILE`).
- One process at a time downloads a data set or a file (an OS lock that dies with its process): a second
  one says whom it waits for, then reuses the result.
- Archives extract into a temporary folder beside the target, then one atomic rename puts the data set
  in place: an interrupted download or extraction never leaves a half data set where ganzoo would use it.
- Archive members that would land outside the target (absolute paths, ``..``, links pointing out,
  devices) make the whole archive refused.
- ``GANZOO_DATASET_MIRROR`` replaces the reference project's base address; ``hf-hub:ORG/NAME[@REV]``
  data set repos come through ``huggingface_hub`` (which honours ``HF_ENDPOINT``, ``HF_HOME``, ...).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import http.client
import json
import os
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Callable

from ganzoo.errors import GanzooError, first_line
from ganzoo.fsutil import OutputError, atomic_write, describe_os_error, ensure_writable_dir, exclusive_lock

DEFAULT_MIRROR = "http://efrosgans.eecs.berkeley.edu"
CHUNK = 1 << 16
#: Beside downloaded files: the SHA-256 of each address the first time it was downloaded (trust on first
#: use), for files whose sum nobody publishes; later downloads of that address must match it.
SUMS_FILE = "sha256.json"
#: The end of the message for a data set archive whose published sum does not match.
DATASET_ADVICE = "check it yourself, extract it and pass the folder to --data"


class DownloadError(GanzooError):
    """A transfer, a check or an extraction failed; nothing half-done was left in the cache."""


@dataclasses.dataclass(frozen=True)
class RemoteDataset:
    """One archive of the reference project: where it lives and which data mode its layout feeds."""

    name: str
    mode: str  # "paired" (pix2pix's tar.gz) or "unpaired" (CycleGAN's zip)
    summary: str
    sha256: str | None = None  # a published sum, checked when known (else trust on first use)
    size: int | None = None  # the published size in bytes, with the sum

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
#: Size and SHA-256 of CycleGAN's archives as TensorFlow Datasets publishes them for the same files:
#: https://github.com/tensorflow/datasets/blob/master/tensorflow_datasets/url_checksums/cycle_gan.txt
#: (it lists them at their former address, https://people.eecs.berkeley.edu/~taesung_park/CycleGAN/datasets/,
#: from which the reference project moved them to efrosgans.eecs.berkeley.edu/cyclegan/datasets/).
#: No sums of pix2pix's tar.gz files are published anywhere we found: those are trusted on first use.
_CYCLEGAN_SUMS = {
    "apple2orange": (78456409, "845a191e9af8926408ea597001cd03a452e3300a1f44a79fe329b3d59f6e3eb8"),
    "cezanne2photo": (279885071, "3a6c10ca21f9485862f1cbd707744b9dc258954a04631271d23a3605eeb63cff"),
    "cityscapes": (279601602, "d2f6910fd056c1ee9873777ae838e7ac4a2c833598ae62a04188e5ab2f4ea036"),
    "facades": (35135868, "9a31ebf3a31b9b5cd195dd5bf62e9308e00cb94604d1019e3889ac84248695c0"),
    "horse2zebra": (116867962, "a74d9d392eecca9966b51287a76ca126af473d9de4f3e8fc0e9cda08fa1730a1"),
    "iphone2dslr_flower": (339964458, "8fcb5e374d631b107e1d961b8c4cd0a186aa2a4ff3e279923f4c426128de7113"),
    "maps": (1476754427, "639534f69dbf9f36bef8d6292a7698006361221f83f0285d7c9ca78afe6e8a9e"),
    "monet2photo": (305231073, "88f91b00fc228f97c9411fbf1880ec1d119c98f1722e4cfcfaa2fb35fac05b04"),
    "summer2winter_yosemite": (132640856, "167fe1726807a9d22bd106b4a6c0bd7953b688af924ac1bf967439c4961e49f9"),
    "ukiyoe2photo": (292946532, "02a2a2fb5ecf425ca1bf86aca7304377da64a2a1d3b86df54eb65e4068bf3b08"),
    "vangogh2photo": (306590349, "362c3473e70be0944bda08d49d660eafdc2854df55d697835b8186d1d79caaff"),
}
_PUBLISHED = {("unpaired", name): sums for name, sums in _CYCLEGAN_SUMS.items()}
CATALOG: dict[str, dict[str, RemoteDataset]] = {}
for _mode, _table in (("paired", _PIX2PIX), ("unpaired", _CYCLEGAN)):
    for _name, _summary in _table.items():
        _size, _sha256 = _PUBLISHED.get((_mode, _name), (None, None))
        CATALOG.setdefault(_name, {})[_mode] = RemoteDataset(_name, _mode, _summary, sha256=_sha256, size=_size)


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
    """Download and extract a catalog data set once; later calls return the cached folder.

    A second process asking for the same data set while one downloads it waits (saying for which pid)
    and then reuses the finished folder: the two never share a ``.part`` file.
    """
    remote = remote_dataset(name, mode=mode)
    target = Path(to).expanduser() / name if to else cache_dir() / remote.source / name
    if target.is_dir():
        return target
    ensure_writable_dir(target.parent, what="data set folder")
    downloads = ensure_writable_dir(cache_dir() / "downloads", what="download cache")
    url = remote.url()
    what = f"data set {name} ({remote.source})"
    with exclusive_lock(lock_path(downloads, f"{remote.source}-{name}.dataset"), what=what, wait=True,
                        on_wait=say_waiting(what)):
        if target.is_dir():  # the process we waited for finished it
            return target
        archive = download_file(url, downloads / f"{remote.source}-{url.rsplit('/', 1)[-1]}", sha256=remote.sha256,
                                size=remote.size, progress=progress)
        extract_archive(archive, target)
        archive.unlink(missing_ok=True)
    return target


def download_file(url: str, dest: Path, *, sha256: str | None = None, size: int | None = None, retries: int = 3,
                  timeout: float = 60, progress: bool = True, backoff: float = 1.0,
                  trust_on_first_use: bool = True, mismatch_advice: str = DATASET_ADVICE) -> Path:
    """Fetch ``url`` to ``dest`` through ``dest.part``, resuming and retrying; check size and checksum.

    ``retries`` counts the failed tries in a row that brought no new bytes (a slow, flaky link that keeps
    making progress is not given up on). Without a published ``sha256``, the sum recorded in
    :data:`SUMS_FILE` beside ``dest`` the first time ``url`` was downloaded is checked (and recorded now
    if there is none), unless ``trust_on_first_use`` is False. ``mismatch_advice`` ends the message of a
    published sum that does not match: what the user can do instead (data sets: extract a copy by hand).
    """
    dest = Path(dest)
    ensure_writable_dir(dest.parent, what="download folder")
    part = dest.with_name(dest.name + ".part")
    what = f"the download of {dest.name}"
    with exclusive_lock(lock_path(dest.parent, dest.name), what=what, wait=True, on_wait=say_waiting(what)):
        _fetch(url, part, retries=retries, timeout=timeout, progress=progress, backoff=backoff)
        _verify(url, part, sha256=sha256, size=size, sums=dest.parent / SUMS_FILE if trust_on_first_use else None,
                advice=mismatch_advice)
        os.replace(part, dest)
    return dest


def lock_path(folder: Path, name: str) -> Path:
    """The lock file for ``name`` in ``folder``: kept in a hidden ``.locks`` folder, since lock files
    outlive their holders (deleting one while a process waits on it would let a third one in)."""
    return folder / ".locks" / f"{name}.lock"


def say_waiting(what: str) -> Callable[[str], None]:
    """What a process that has to wait for another's download prints, so that it does not look hung."""

    def say(pid: str) -> None:
        print(f"{what} is in progress in another ganzoo process (pid {pid}); waiting for it", file=sys.stderr,
              flush=True)

    return say


class _Incomplete(Exception):
    """The transfer ended before the whole file was here (or what was here was not the file): try again."""


#: What a dropped or stalled connection raises, at connect or mid-stream: worth another try.
#: (``urllib.error.HTTPError`` is a ``URLError`` too; it is told apart before these are caught.)
_RETRYABLE = (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError, _Incomplete)
#: Answers that may change if asked again; other HTTP errors (404, 403, ...) fail at once.
_RETRYABLE_STATUS = frozenset({408, 425, 429})


def _fetch(url: str, part: Path, *, retries: int, timeout: float, progress: bool, backoff: float) -> None:
    """Bring ``part`` to the whole file, retrying dropped connections with exponential backoff."""
    failures = 0
    while True:
        before = _size(part)
        try:
            _transfer(url, part, timeout=timeout, progress=progress)
            return
        except urllib.error.HTTPError as exc:
            if exc.code < 500 and exc.code not in _RETRYABLE_STATUS:
                raise DownloadError(f"could not download {url}: HTTP {exc.code} {exc.reason}"
                                    + (" (is GANZOO_DATASET_MIRROR right?)" if exc.code == 404 else "")) from exc
            error: Exception = exc
        except _RETRYABLE as exc:
            error = exc
        failures = 0 if _size(part) > before else failures + 1
        if failures > retries:
            raise DownloadError(f"could not download {url} after {retries + 1} tries: {_reason(error)}") from error
        time.sleep(backoff * 2 ** max(failures - 1, 0))


def _reason(exc: Exception) -> str:
    """A failed try in a few words: ``Connection refused``, not ``<urlopen error [Errno 111] ...>``."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        reason = exc.reason
        if isinstance(reason, OSError) and reason.strerror:
            return reason.strerror
        return first_line(reason) if isinstance(reason, BaseException) else str(reason)
    if isinstance(exc, http.client.IncompleteRead):
        return "the connection dropped mid-transfer"
    return first_line(exc)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _transfer(url: str, part: Path, *, timeout: float, progress: bool) -> None:
    """One try: ask for what ``part`` lacks (HTTP Range) and append it, or start over when the server
    sends the whole file; raise :class:`_Incomplete` when fewer bytes came than announced."""
    from tqdm.auto import tqdm

    have = _size(part)
    headers = {"User-Agent": "ganzoo", **({"Range": f"bytes={have}-"} if have else {})}
    try:
        resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code != 416 or not have:
            raise
        _settle_unsatisfiable_range(url, part, exc.headers.get("Content-Range"), timeout=timeout)
        return
    with resp:
        start = _resume_offset(resp, part, have)
        total = _announced_total(resp, start)
        with _open_part(part, append=start > 0) as out, tqdm(
            total=total, initial=start, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1],
            disable=not progress, leave=False,
        ) as bar:
            try:
                while chunk := resp.read1(CHUNK):  # what has arrived: a stall loses none of it
                    _write(out, chunk, part)
                    bar.update(len(chunk))
            except http.client.IncompleteRead as exc:  # a cut chunked transfer: keep what did arrive
                _write(out, exc.partial, part)
                raise
    size = _size(part)
    if total is not None and size != total:
        raise _Incomplete(f"received {size} of {total} bytes")


def _resume_offset(resp: Any, part: Path, have: int) -> int:
    """Where this response's body goes in the file: ``have`` for a 206 that resumes there, 0 for a 200
    (the server ignored the Range: start over)."""
    if resp.status != 206:
        return 0
    if _content_range(resp.headers.get("Content-Range"))[0] != have:
        part.unlink(missing_ok=True)  # a range we did not ask for: trust nothing, start over
        raise _Incomplete(f"the server resumed at another offset than byte {have}")
    return have


def _content_range(header: str | None) -> tuple[int | None, int | None]:
    """(first byte, total size) of ``Content-Range: bytes A-B/TOTAL`` or ``bytes */TOTAL``; None where unsaid."""
    if not header or not header.startswith("bytes "):
        return None, None
    span, _, total = header[6:].partition("/")
    first = span.split("-")[0]
    return (int(first) if first.isdigit() else None), (int(total) if total.isdigit() else None)


def _announced_total(resp: Any, start: int) -> int | None:
    """The whole file's size as this response announces it, or None (then the size cannot be checked)."""
    if resp.status == 206:
        total = _content_range(resp.headers.get("Content-Range"))[1]
        if total is not None:
            return total
    length = resp.headers.get("Content-Length")
    return start + int(length) if length is not None and length.isdigit() else None


def _settle_unsatisfiable_range(url: str, part: Path, content_range: str | None, *, timeout: float) -> None:
    """An HTTP 416 to ``Range: bytes=N-`` means N is at or past the end: the part is complete only if
    the file is exactly N bytes (from ``Content-Range: bytes */TOTAL``, else a HEAD); otherwise it is
    not the server's file (a changed file, a longer part): delete it and raise to start over."""
    have = _size(part)
    total = _content_range(content_range)[1]
    if total is None:
        total = _head_length(url, timeout=timeout)
    if total == have:
        return
    part.unlink(missing_ok=True)
    raise _Incomplete(f"the partial download ({have} bytes) is not the server's file "
                      f"({'unknown size' if total is None else f'{total} bytes'}); starting over")


def _head_length(url: str, *, timeout: float) -> int | None:
    """The ``Content-Length`` a HEAD request announces, or None if it says none or fails."""
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "ganzoo"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
    except (*_RETRYABLE, OSError):
        return None
    return int(length) if length is not None and length.isdigit() else None


def _open_part(part: Path, *, append: bool) -> BinaryIO:
    try:
        return open(part, "ab" if append else "wb")
    except OSError as exc:
        raise OutputError(f"cannot write {part}: {describe_os_error(exc)}") from exc


def _write(out: BinaryIO, chunk: bytes, part: Path) -> None:
    """Write a chunk; a full disk is not a network failure, so it is not retried but said plainly."""
    try:
        out.write(chunk)
    except OSError as exc:
        raise OutputError(f"cannot write {part}: {describe_os_error(exc)}") from exc


def _verify(url: str, part: Path, *, sha256: str | None, size: int | None, sums: Path | None,
            advice: str = "") -> None:
    """Check the whole file against the published size and sum, or the sum recorded on first use (and
    record it when there is none); a file that fails is deleted, so the next try starts clean."""
    got = _size(part)
    if size is not None and got != size:
        part.unlink(missing_ok=True)
        raise DownloadError(f"{url} is {got} bytes, not the published {size}; deleted it. Try again; if it "
                            "persists, the server serves another file than the one published")
    if sha256 is None and sums is None:
        return
    digest = sha256_of(part)
    if sha256 is not None:
        if digest != sha256.lower():
            part.unlink(missing_ok=True)
            raise DownloadError(f"checksum mismatch for {url}: expected the published sha256 {sha256}, got "
                                f"{digest}; deleted it. Try again; if it persists, the server serves another file "
                                f"than the one published{': ' + advice if advice else ''}")
        return
    assert sums is not None
    with exclusive_lock(lock_path(sums.parent, sums.name), what=str(sums), wait=True):
        known = _read_sums(sums)
        first = known.get(url)
        if first is None:
            known[url] = {"sha256": digest, "size": got, "recorded": datetime.date.today().isoformat()}
            atomic_write(sums, json.dumps(known, indent=1, sort_keys=True) + "\n")
            return
    if digest != first.get("sha256"):
        part.unlink(missing_ok=True)
        raise DownloadError(f"checksum mismatch for {url}: it differs from the copy first downloaded on "
                            f"{first.get('recorded', '?')} (sha256 {first.get('sha256')}, now {digest}); deleted "
                            f"it. If the file was changed on purpose, remove its entry from {sums} and try again")


def _read_sums(sums: Path) -> dict[str, dict[str, Any]]:
    """The sums recorded on first use, by address (none yet if the file does not exist)."""
    try:
        known = json.loads(sums.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise DownloadError(f"cannot read the recorded checksums {sums} ({first_line(exc)}); delete it to "
                            "record them again") from exc
    if not isinstance(known, dict):
        raise DownloadError(f"{sums} is not a table of checksums; delete it to record them again")
    return known


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
    except OSError as exc:  # a full disk, a read-only folder: nothing half-extracted is left in place
        raise OutputError(f"cannot extract {archive.name} into {target.parent}: {describe_os_error(exc)}") from exc
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


def hub_client_errors() -> tuple[type[BaseException], ...]:
    """What ``huggingface_hub`` raises when the Hub cannot be reached or refuses a request, beyond the
    cases a caller names first: its HTTP errors, ``OSError`` (which the ``requests``-based clients' errors
    are), and the base error of the HTTP library it is built on (``httpx``'s ``ConnectError``, ``ReadTimeout``,
    ... are not ``OSError``s), which ``huggingface_hub.errors`` imports as ``HTTPError``."""
    from huggingface_hub import errors as hub_errors

    transport = getattr(hub_errors, "HTTPError", None)
    extra = (transport,) if isinstance(transport, type) and issubclass(transport, Exception) else ()
    return (hub_errors.HfHubHTTPError, OSError, *extra)


def download_hub_dataset(spec: str, *, to: str | os.PathLike[str] | None = None) -> Path:
    """Fetch a data set repo from the Hugging Face Hub: ``hf-hub:ORG/NAME[@REVISION]``.

    Files land in the standard Hub cache (``HF_HOME``/``HF_HUB_CACHE``) unless ``to`` names a folder.
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError, RepositoryNotFoundError

    repo, revision = parse_hub_spec(spec)
    local_dir = Path(to).expanduser() / repo.split("/")[1] if to else None
    try:
        path = snapshot_download(repo, repo_type="dataset", revision=revision, local_dir=local_dir)
    except RepositoryNotFoundError as exc:
        raise DownloadError(f"no data set repo {repo!r} on the Hub (or it is private: set HF_TOKEN)") from exc
    except (LocalEntryNotFoundError, *hub_client_errors()) as exc:
        raise DownloadError(f"could not download {spec}: {first_line(exc)}") from exc
    return Path(path)
