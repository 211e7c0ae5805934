"""Local HTTP servers on 127.0.0.1 for download tests: nothing leaves the machine.

- :class:`FileServer` serves bytes by path with HTTP Range support, counts requests, and can cut a
  response short (to test resuming).
- :class:`FakeHub` answers the Hugging Face Hub's API the way ``huggingface_hub`` calls it (repo info,
  file tree, resolve with commit and ETag headers), for repos held in memory.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

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
             *, head: bool = False, cut_after: int | None = None) -> None:
        request.send_response(status)
        for key, value in (headers or {}).items():
            request.send_header(key, value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        if head:
            return
        if cut_after is not None:  # announce everything, send part, drop the connection
            request.wfile.write(body[:cut_after])
            request.wfile.flush()
            request.close_connection = True
            return
        request.wfile.write(body)


def send_file(server: _Server, request: BaseHTTPRequestHandler, data: bytes, *, head: bool,
              headers: dict[str, str] | None = None, cut_after: int | None = None) -> None:
    """Send ``data``, honouring a ``Range: bytes=N-`` header with 206 or 416."""
    headers = dict(headers or {})
    wanted = request.headers.get("Range")
    if wanted and wanted.startswith("bytes="):
        start = int(wanted[6:].split("-")[0])
        if start >= len(data):
            server.send(request, 416, b"", {"Content-Range": f"bytes */{len(data)}"}, head=head)
            return
        headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        server.send(request, 206, data[start:], headers, head=head, cut_after=cut_after)
        return
    server.send(request, 200, data, headers, head=head, cut_after=cut_after)


class FileServer(_Server):
    """Serves ``files`` (path -> bytes). ``cut_first[path] = n`` sends only n bytes of the first response."""

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__()
        self.files = files
        self.cut_first: dict[str, int] = {}

    def handle(self, request: BaseHTTPRequestHandler, *, head: bool) -> None:
        path = urlparse(request.path).path
        self.requests.append((request.command, path, request.headers.get("Range")))
        if path not in self.files:
            self.send(request, 404, b"not found", head=head)
            return
        send_file(self, request, self.files[path], head=head, cut_after=self.cut_first.pop(path, None))


class FakeHub(_Server):
    """Hub repos in memory: ``repos[(repo_type, repo_id)] = {path: bytes}`` (repo_type "model" or "dataset")
    is the ``main`` branch; ``revisions[(repo_type, repo_id)][name] = {path: bytes}`` adds tags or branches.
    Every request's ``Authorization`` header is kept in ``auth``."""

    def __init__(self) -> None:
        super().__init__()
        self.repos: dict[tuple[str, str], dict[str, bytes]] = {}
        self.revisions: dict[tuple[str, str], dict[str, dict[str, bytes]]] = {}
        self.auth: list[str | None] = []

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
