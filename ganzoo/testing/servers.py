"""Local HTTP servers on 127.0.0.1 for download tests: nothing leaves the machine.

ganzoo's own tests and plugin authors' tests use the same servers (``ganzoo.testing``'s ``fake_hub``
fixture serves a :class:`FakeHub`); this module imports only the standard library.

- :class:`FileServer` serves bytes by path with HTTP Range support, counts requests, and injects the
  faults of a real network on request: a response cut short (plain or chunked), a connection reset, a
  stall, a server that ignores Range, a slow server.
- :class:`FakeHub` answers the Hugging Face Hub's API the way ``huggingface_hub`` calls it (repo info,
  file tree, resolve with commit and ETag headers), for repos held in memory; with
  :meth:`FakeHub.accept_pushes`, what the client uploads lands in those repos.
"""

from __future__ import annotations

import hashlib
import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse


class _Server:
    def __init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                owner.handle(self, head=False)

            def do_HEAD(self):  # noqa: N802
                owner.handle(self, head=True)

            def log_message(self, *args):
                pass

        self.requests: list[tuple[str, str, str | None]] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def handle(self, request: BaseHTTPRequestHandler, *, head: bool) -> None:
        raise NotImplementedError

    @staticmethod
    def send(request: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None,
             *, head: bool = False, fault: str | None = None, pace: float = 0.0, stall: float = 1.0) -> None:
        """Answer with ``body``; ``fault`` sends a third of it and then: ``cut`` closes the connection
        (the full length was announced), ``chunked-cut`` does the same inside a chunked transfer,
        ``reset`` resets the connection, ``stall`` waits ``stall`` seconds. ``pace`` sleeps between
        4 KiB pieces (a slow server)."""
        request.send_response(status)
        for key, value in (headers or {}).items():
            request.send_header(key, value)
        chunked = fault == "chunked-cut" and not head
        request.send_header(*(("Transfer-Encoding", "chunked") if chunked else ("Content-Length", str(len(body)))))
        request.end_headers()
        if head:
            return
        if fault is None:
            for i in range(0, len(body), 4096 if pace else max(len(body), 1)):
                request.wfile.write(body[i:i + 4096] if pace else body)
                request.wfile.flush()
                time.sleep(pace)
            return
        sent = body[:len(body) // 3]
        rest = body[len(sent):]  # chunked: the next chunk is announced whole, and one byte of it sent
        request.wfile.write(b"%x\r\n%s\r\n%x\r\n%s" % (len(sent), sent, len(rest), rest[:1]) if chunked else sent)
        request.wfile.flush()
        request.close_connection = True
        if fault == "reset":
            request.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif fault == "stall":
            time.sleep(stall)


def send_file(server: _Server, request: BaseHTTPRequestHandler, data: bytes, *, head: bool,
              headers: dict[str, str] | None = None, fault: str | None = None, pace: float = 0.0,
              ranges: bool = True, content_range_on_416: bool = True) -> None:
    """Send ``data``, honouring a ``Range: bytes=N-`` header with 206 or 416 (unless ``ranges`` is False:
    then the whole file comes with a 200, as from servers that cannot resume)."""
    headers = dict(headers or {})
    wanted = request.headers.get("Range")
    if ranges and wanted and wanted.startswith("bytes="):
        start = int(wanted[6:].split("-")[0])
        if start >= len(data):
            extra = {"Content-Range": f"bytes */{len(data)}"} if content_range_on_416 else {}
            server.send(request, 416, b"", extra, head=head)
            return
        headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        server.send(request, 206, data[start:], headers, head=head, fault=fault, pace=pace)
        return
    server.send(request, 200, data, headers, head=head, fault=fault, pace=pace)


class FileServer(_Server):
    """Serves ``files`` (path -> bytes). ``faults[path]`` lists faults (see :meth:`_Server.send`) for that
    path's next GET responses, one per request; ``ranges``, ``content_range_on_416`` and ``pace`` are as
    in :func:`send_file`, for every path."""

    def __init__(self, files: dict[str, bytes], *, ranges: bool = True, content_range_on_416: bool = True,
                 pace: float = 0.0) -> None:
        super().__init__()
        self.files = files
        self.faults: dict[str, list[str]] = {}
        self.ranges, self.content_range_on_416, self.pace = ranges, content_range_on_416, pace

    def handle(self, request: BaseHTTPRequestHandler, *, head: bool) -> None:
        path = urlparse(request.path).path
        self.requests.append((request.command, path, request.headers.get("Range")))
        if path not in self.files:
            self.send(request, 404, b"not found", head=head)
            return
        pending = self.faults.get(path) if not head else None
        send_file(self, request, self.files[path], head=head, fault=pending.pop(0) if pending else None,
                  pace=self.pace, ranges=self.ranges, content_range_on_416=self.content_range_on_416)


class FakeHub(_Server):
    """Hub repos in memory: ``repos[(repo_type, repo_id)] = {path: bytes}`` (repo_type "model" or "dataset")
    is the ``main`` branch; ``revisions[(repo_type, repo_id)][name] = {path: bytes}`` adds tags or branches.
    Every request's ``Authorization`` header is kept in ``auth``; pushes caught by :meth:`accept_pushes`
    are kept in ``created`` (repo id, keyword arguments) and ``uploads`` (repo id, files, keyword arguments).
    """

    def __init__(self) -> None:
        super().__init__()
        self.repos: dict[tuple[str, str], dict[str, bytes]] = {}
        self.revisions: dict[tuple[str, str], dict[str, dict[str, bytes]]] = {}
        self.auth: list[str | None] = []
        self.created: list[tuple[str, dict[str, Any]]] = []
        self.uploads: list[tuple[str, dict[str, bytes], dict[str, Any]]] = []
        self.tokens: list[Any] = []

    def accept_pushes(self, monkeypatch: Any) -> None:
        """Catch ``HfApi.create_repo`` and ``HfApi.upload_folder`` at the client's boundary: the uploaded
        folder becomes the repo's ``main`` (or the ``revision`` it names) here, and downloads then come
        back over HTTP through the real client. The real upload goes through the Hub's commit API and Xet
        storage, which no local server imitates faithfully, so the push is caught one step before the
        network instead.

        ``monkeypatch`` is pytest's (anything with ``setattr(target, name, value)`` that undoes it later).
        """
        import huggingface_hub

        hub = self

        def create_repo(api: Any, repo_id: str, **kwargs: Any) -> str:
            hub.created.append((repo_id, kwargs))
            hub.tokens.append(api.token)
            hub.repos.setdefault((kwargs.get("repo_type") or "model", repo_id), {})
            return f"{hub.url}/{repo_id}"

        def upload_folder(api: Any, *, repo_id: str, folder_path: Any, **kwargs: Any) -> Any:
            root = Path(folder_path)
            files = {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
            hub.uploads.append((repo_id, files, kwargs))
            key, revision = (kwargs.get("repo_type") or "model", repo_id), kwargs.get("revision") or "main"
            if revision == "main":
                hub.repos[key] = files
            else:  # a branch: main must exist already, as on the Hub
                hub.revisions.setdefault(key, {})[revision] = files
            return huggingface_hub.CommitInfo(commit_url=f"{hub.url}/{repo_id}/commit/{hub.commit(files)}",
                                              commit_message=kwargs.get("commit_message") or "",
                                              commit_description="", oid=hub.commit(files))

        monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", create_repo)
        monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", upload_folder)

    @staticmethod
    def commit(files: dict[str, bytes]) -> str:
        digest = hashlib.sha1()
        for path in sorted(files):
            digest.update(path.encode() + hashlib.sha1(files[path]).digest())
        return digest.hexdigest()

    def _find(self, parts: list[str], repo_type: str, revision: str):
        """(repo_id, files); files is None for an unknown repo and "revision" for an unknown revision."""
        repo_id = "/".join(parts[:2])
        main = self.repos.get((repo_type, repo_id))
        if main is None:
            return repo_id, None
        tagged = self.revisions.get((repo_type, repo_id), {})
        if revision == "main":
            return repo_id, main
        if revision in tagged:
            return repo_id, tagged[revision]
        for files in (main, *tagged.values()):
            if self.commit(files) == revision:
                return repo_id, files
        return repo_id, "revision"

    def _missing(self, request, files, *, head: bool) -> bool:
        if files is None:
            self.send(request, 404, b'{"error": "Repository not found"}', {"X-Error-Code": "RepoNotFound"}, head=head)
        elif files == "revision":
            self.send(request, 404, b'{"error": "Invalid rev id"}', {"X-Error-Code": "RevisionNotFound"}, head=head)
        else:
            return False
        return True

    def handle(self, request: BaseHTTPRequestHandler, *, head: bool) -> None:
        path = unquote(urlparse(request.path).path)
        self.requests.append((request.command, path, request.headers.get("Range")))
        self.auth.append(request.headers.get("Authorization"))
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) >= 6 and parts[1] in ("models", "datasets"):
            repo_type = parts[1][:-1]
            repo_id, files = self._find(parts[2:4], repo_type, parts[5])
            if self._missing(request, files, head=head):
                return
            sha = self.commit(files)
            if parts[4] == "revision":
                body = {"id": repo_id, "sha": sha, "siblings": [{"rfilename": p} for p in sorted(files)]}
            elif parts[4] == "tree":
                body = [{"type": "file", "path": p, "size": len(data), "oid": hashlib.sha1(data).hexdigest()}
                        for p, data in sorted(files.items())]
            else:
                self.send(request, 404, b"{}", head=head)
                return
            self.send(request, 200, json.dumps(body).encode(), {"Content-Type": "application/json"}, head=head)
            return
        repo_type = "dataset" if parts[0] == "datasets" else "model"
        if repo_type == "dataset":
            parts = parts[1:]
        if len(parts) >= 5 and parts[2] == "resolve":
            repo_id, files = self._find(parts[:2], repo_type, parts[3])
            if self._missing(request, files, head=head):
                return
            file_path = "/".join(parts[4:])
            if file_path not in files:
                self.send(request, 404, b"", {"X-Error-Code": "EntryNotFound"}, head=head)
                return
            data = files[file_path]
            headers = {"X-Repo-Commit": self.commit(files), "ETag": f'"{hashlib.sha256(data).hexdigest()}"'}
            send_file(self, request, data, head=head, headers=headers)
            return
        self.send(request, 404, b"", head=head)

    def fetched(self) -> set[str]:
        """The repo files whose contents were sent (GET on a resolve address)."""
        return {p.split("/resolve/", 1)[1].split("/", 1)[1] for method, p, _ in self.requests
                if method == "GET" and "/resolve/" in p}
