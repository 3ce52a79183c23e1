"""A real HTTP server on 127.0.0.1 that speaks the model hub's protocol, for ``models download``.

It serves a folder laid out as ``<root>/<owner>/<name>/<path>`` with the URL layout that
fieldkit's hub module uses (fieldkit/transcription/hub.py), as the real hub does:

- ``GET /api/models/<owner>/<name>/tree/main[/<folder>]``: the folder's listing (JSON: type,
  path, size, git blob ``oid``; for large/binary files an ``lfs`` object with the SHA-256);
- ``GET|HEAD /<owner>/<name>/resolve/main/<path>``: a small file with ``ETag: "<git blob id>"``;
  a large (LFS) file answers ``302`` to a content address ``/cdn/...`` with
  ``X-Linked-Etag: "<sha256>"``, ``X-Linked-Size`` and ``X-Repo-Commit``, as the hub does;
- ``GET /cdn/<sha256>/<owner>/<name>/<path>``: the bytes, ``ETag: "<sha256>"``,
  ``Accept-Ranges: bytes``, ``Range: bytes=N-`` answered with ``206`` and ``Content-Range``,
  ``If-Range`` honoured (a different tag gets the whole file with ``200``).

Faults a test can ask for: ``cut_after[name] = n`` sends ``n`` bytes of that file and drops
the connection (once); ``corrupt.add(name)`` serves it with one byte changed (the listing
and headers still name the good checksum); ``replace(path, data)`` changes a file on the
hub between two requests (a new version, new checksums). Every request is kept in
``requests`` as (method, path, Range, If-Range)."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

#: files stored with Git LFS on the hub (the rest are plain git blobs)
LFS_SUFFIXES = (".bin", ".safetensors", ".pt", ".onnx")
LFS_SIZE = 10 << 20


def _is_lfs(path: Path) -> bool:
    return path.suffix in LFS_SUFFIXES or path.stat().st_size >= LFS_SIZE


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


class HubServer:
    """``with HubServer(root) as hub:`` serves ``root`` at ``hub.url`` until the block ends."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cut_after: dict[str, int] = {}
        self.corrupt: set[str] = set()
        self.requests: list[tuple[str, str, str | None, str | None]] = []
        self.commit = "0123456789abcdef0123456789abcdef01234567"
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="hub-server", daemon=True)

    def __enter__(self) -> HubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def replace(self, rel: str, data: bytes) -> None:
        """A new version of ``<owner>/<name>/<path>`` on the hub: a new file renamed into
        place, never a write into the old one (the hub's files may be hard links to a
        model installed on this machine)."""
        target = self.root / rel
        tmp = target.with_name(f".{target.name}.new")
        tmp.write_bytes(data)
        with self._lock:
            os.replace(tmp, target)

    def fetched(self, suffix: str) -> list[tuple[str | None, str | None]]:
        """(Range, If-Range) of every GET of the bytes of a file whose path ends with ``suffix``."""
        return [(r, ir) for m, p, r, ir in self.requests
                if m == "GET" and p.startswith("/cdn/" if suffix.endswith(LFS_SUFFIXES) else "/")
                and not p.startswith("/api/") and urllib.parse.unquote(p).endswith(suffix)]

    # ------------------------------------------------------------------ the handler

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                self._route(head=True)

            def do_GET(self) -> None:
                self._route(head=False)

            def _route(self, head: bool) -> None:
                hub.requests.append((self.command, self.path, self.headers.get("Range"),
                                     self.headers.get("If-Range")))
                path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
                if path.startswith("/api/models/"):
                    return self._tree(path[len("/api/models/"):])
                if path.startswith("/cdn/"):
                    _cdn, sha, rel = path[1:].split("/", 2)
                    return self._bytes(hub.root / rel, sha, head)
                if "/resolve/main/" in path:
                    repo, rel = path[1:].split("/resolve/main/", 1)
                    return self._resolve(repo, rel, head)
                self._plain(404, b"not found")

            def _plain(self, code: int, body: bytes, ctype: str = "text/plain",
                       headers: dict[str, str] | None = None) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _tree(self, rest: str) -> None:
                parts = rest.strip("/").split("/")
                if len(parts) < 4 or parts[2] != "tree":
                    return self._plain(400, b"bad request")
                base = hub.root / parts[0] / parts[1]
                folder = base.joinpath(*parts[4:])
                if not folder.is_dir():
                    return self._plain(404, json.dumps({"error": "Entry not found"}).encode(), "application/json",
                                       {"X-Error-Code": "EntryNotFound"})
                out = []
                with hub._lock:
                    for f in sorted(folder.iterdir()):
                        rel = f.relative_to(base).as_posix()
                        if f.is_dir():
                            out.append({"type": "directory", "oid": "0" * 40, "size": 0, "path": rel})
                            continue
                        data = f.read_bytes()
                        entry = {"type": "file", "oid": git_blob_id(data), "size": len(data), "path": rel}
                        if _is_lfs(f):
                            entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data),
                                            "pointerSize": 134}
                        out.append(entry)
                self._plain(200, json.dumps(out).encode(), "application/json")

            def _resolve(self, repo: str, rel: str, head: bool) -> None:
                path = hub.root / repo / rel
                if not path.is_file():
                    return self._plain(404, b"Entry not found", headers={"X-Error-Code": "EntryNotFound"})
                with hub._lock:
                    data = path.read_bytes()
                common = {"X-Repo-Commit": hub.commit}
                if _is_lfs(path):
                    sha = hashlib.sha256(data).hexdigest()
                    loc = f"/cdn/{sha}/{urllib.parse.quote(repo)}/{urllib.parse.quote(rel)}"
                    return self._plain(302, b"", headers={**common, "Location": loc,
                                                          "X-Linked-Etag": f'"{sha}"',
                                                          "X-Linked-Size": str(len(data)),
                                                          "ETag": f'"{git_blob_id(data)}"'})
                return self._send_bytes(path, data, git_blob_id(data), head, common)

            def _bytes(self, path: Path, sha: str, head: bool) -> None:
                with hub._lock:
                    data = path.read_bytes() if path.is_file() else None
                if data is None or hashlib.sha256(data).hexdigest() != sha:
                    # a content address: an old version is gone once the file changed
                    return self._plain(404, b"no such content")
                self._send_bytes(path, data, sha, head, {})

            def _send_bytes(self, path: Path, data: bytes, tag: str, head: bool,
                            extra: dict[str, str]) -> None:
                if path.name in hub.corrupt:
                    data = data[:-1] + bytes([data[-1] ^ 0xFF])
                rng = self.headers.get("Range")
                if_range = self.headers.get("If-Range")
                partial = rng is not None and (if_range is None or if_range.removeprefix("W/").strip('"') == tag)
                start = int(rng.split("=", 1)[1].split("-", 1)[0]) if partial else 0
                if partial and start >= len(data):
                    return self._plain(416, b"", headers={"Content-Range": f"bytes */{len(data)}"})
                self.send_response(206 if partial else 200)
                if partial:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data) - start))
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("ETag", f'"{tag}"')
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                if head:
                    return
                body = data[start:]
                cut = hub.cut_after.pop(path.name, None)
                if cut is not None:
                    self.wfile.write(body[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)   # the line drops halfway
                    return
                self.wfile.write(body)

        return Handler


def model_repo(root: Path, repo: str, model: Path, subfolder: str = "ct2") -> Path:
    """``<root>/<repo>/<subfolder>`` holding the files of an installed CTranslate2 model
    (standing in for weights that cannot be fetched here), plus what the real repository
    has beside them (a model card, PyTorch weights fieldkit must not fetch). Files are hard
    links where they can be (the server never writes into them: see :meth:`HubServer.replace`)."""
    import shutil

    folder = root / repo / subfolder if subfolder else root / repo
    folder.mkdir(parents=True)
    for f in model.iterdir():
        if f.is_file() and f.name != "assembled.json":
            try:
                os.link(f, folder / f.name)
            except OSError:
                shutil.copyfile(f, folder / f.name)
    (root / repo / "README.md").write_text("model card")
    (root / repo / "pytorch_model.bin").write_bytes(b"\0" * 2048)
    return folder
