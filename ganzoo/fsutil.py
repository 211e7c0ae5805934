"""Writing files so that nothing is lost: atomic replacement and per-folder locks.

Every file ganzoo writes into a run folder, a bundle or a cache goes through :func:`atomic_write` (a
temporary file beside the target, flushed and synced, then renamed over it): a kill or a full disk at any
byte leaves either the old file or the new one, never half of one. A folder one process works in is
held with :func:`exclusive_lock`, an OS lock (``flock``) that the kernel releases when the process ends
however it ends, so a killed process leaves no stale lock behind.

This module imports no torch.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from typing import Callable, Iterator

from ganzoo.errors import GanzooError


class OutputError(GanzooError):
    """A file or folder could not be written (read-only, full disk, not a folder); nothing half-written was kept."""


class LockHeld(GanzooError):
    """Another process holds the lock of a folder (a run training in it, a data set downloading)."""


def describe_os_error(exc: OSError) -> str:
    """``exc`` as a short phrase, with advice for the cases people meet (a full disk, no permission)."""
    reason = exc.strerror or type(exc).__name__
    if exc.errno == errno.ENOSPC:
        return f"{reason} (free some space or choose another place)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{reason} (choose a place you can write to)"
    return reason


def ensure_writable_dir(folder: Path, *, what: str = "output folder") -> Path:
    """Create ``folder`` (and its parents) and prove a file can be written in it, or raise
    :class:`OutputError` naming it: checked before the expensive work starts, not after."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".ganzoo-write-test-{os.getpid()}"
        with open(probe, "wb") as f:
            f.write(b"ok")
            f.flush()
            os.fsync(f.fileno())
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write the {what} {folder}: {describe_os_error(exc)}") from exc
    return folder


def atomic_write(path: Path, data: str | bytes, *, sync: bool = True) -> Path:
    """Replace ``path`` with ``data`` atomically: readers and crashes see the old file or the new one.

    ``sync`` flushes the data to the disk before the rename (and the folder after it), so a power cut
    cannot leave an empty file under the new name; pass False for files that are cheap to lose.
    Raises :class:`OutputError` (and removes the temporary file) when it cannot write.
    """
    path = Path(path)
    payload = data.encode() if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(payload)
            if sync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
        if sync:
            fsync_dir(path.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise OutputError(f"cannot write {path}: {describe_os_error(exc)}") from exc
    return path


def fsync_dir(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (a no-op where folders cannot be opened, as on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _read_holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "unknown"
    except OSError:
        return "unknown"


@contextlib.contextmanager
def exclusive_lock(path: Path, *, what: str, wait: bool = False,
                   on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold an OS lock on the file ``path`` (created if needed; this function never deletes it) for the
    ``with`` block.

    A second process gets :class:`LockHeld` naming ``what`` and the holder's pid, or with ``wait=True``
    blocks until the holder is done (``on_wait(pid)`` is called first, to say so). The lock is the
    kernel's: it goes away with the process, whether it exits, raises or is killed.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise OutputError(f"cannot create the lock {path}: {describe_os_error(exc)}") from exc
    try:
        if not _try_lock(fd):
            holder = _read_holder(path)
            if not wait:
                raise LockHeld(f"{what} is in use by another ganzoo process (pid {holder}); "
                               "wait for it to finish, or stop it")
            if on_wait is not None:
                on_wait(holder)
            _lock(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _lock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
        return
    fcntl.flock(fd, fcntl.LOCK_EX)
