"""Model download and add against a local server laid out like the real hub.

The server (http.server on 127.0.0.1) serves ``/api/models/<repo>/tree/main/<folder>``
listings with sizes, SHA-256 of large (LFS) files and git blob ids of small ones, and
``/<repo>/resolve/main/<path>`` with HTTP Range support. It can cut a transfer off
halfway, or serve damaged bytes, to try resuming and verification.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from fieldkit.transcription import hub
from fieldkit.transcription.models import ModelError, available_models, resolve_model
from tests.support.cli import fk as run_cli

TINY = resolve_model("tiny.en")


class FakeHub:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.cut_after: int | None = None   # bytes of model.bin sent before the connection drops
        self.corrupt: str | None = None      # file name served with one byte changed
        self.requests: list[tuple[str, str | None]] = []
        hub_ = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # noqa: ANN002
                pass

            def do_GET(self) -> None:  # noqa: N802
                hub_.requests.append((self.path, self.headers.get("Range")))
                if self.path.startswith("/api/models/"):
                    return self._tree(self.path[len("/api/models/"):])
                if "/resolve/main/" in self.path:
                    repo, path = self.path[1:].split("/resolve/main/", 1)
                    return self._file(hub_.root / repo / path)
                self.send_error(404)

            def _tree(self, rest: str) -> None:
                repo_owner, repo_name, _tree, _rev, *folder = rest.split("/")
                base = hub_.root / repo_owner / repo_name
                folder_path = base.joinpath(*folder)
                if not folder_path.is_dir():
                    return self.send_error(404)
                out = []
                for f in sorted(folder_path.iterdir()):
                    rel = f.relative_to(base).as_posix()
                    if f.is_dir():
                        out.append({"type": "directory", "path": rel, "oid": "0" * 40, "size": 0})
                        continue
                    data = f.read_bytes()
                    entry = {"type": "file", "path": rel, "size": len(data),
                             "oid": hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()}
                    if f.name == "model.bin":   # LFS: sha256 in the listing
                        entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data),
                                        "pointerSize": 134}
                    out.append(entry)
                body = json.dumps(out).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _file(self, path: Path) -> None:
                if not path.is_file():
                    return self.send_error(404)
                data = path.read_bytes()
                if hub_.corrupt == path.name:
                    data = data[:-1] + bytes([data[-1] ^ 0xFF])
                start = 0
                rng = self.headers.get("Range")
                if rng:
                    start = int(rng.split("=")[1].split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                body = data[start:]
                if hub_.cut_after is not None and path.name == "model.bin":
                    self.wfile.write(body[: hub_.cut_after])
                    self.wfile.flush()
                    hub_.cut_after = None
                    self.connection.shutdown(2)   # the line drops halfway
                    return
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeHub":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        self.server.shutdown()
        self.server.server_close()


def _repo_like(root: Path) -> None:
    """NbAiLab/nb-whisper-tiny with its CTranslate2 files in ct2/ (tiny.en's weights
    stand in for the real NB-Whisper ones, which cannot be fetched here), plus the
    files the real repository has beside them."""
    ct2 = root / "NbAiLab" / "nb-whisper-tiny" / "ct2"
    ct2.mkdir(parents=True)
    for f in TINY.iterdir():
        if f.is_file():
            os.link(f, ct2 / f.name) if os.stat(f).st_dev == os.stat(ct2).st_dev else shutil.copyfile(f, ct2 / f.name)
    (ct2.parent / "README.md").write_text("model card")
    (ct2.parent / "pytorch_model.bin").write_bytes(b"\0" * 2048)   # not part of the ct2 model


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDKIT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "models"


@pytest.fixture
def fake_hub(tmp_path, monkeypatch):
    _repo_like(tmp_path / "hub")
    with FakeHub(tmp_path / "hub") as h:
        monkeypatch.setenv(hub.HUB_ENV, h.url)
        yield h


def test_download_cut_off_resumes_and_installs(cache, fake_hub):
    size = (TINY / "model.bin").stat().st_size
    fake_hub.cut_after = size // 3
    seen: list[tuple[int, int]] = []
    with pytest.raises(ModelError, match="Could not reach the model hub") as err:
        hub.download("nb-whisper-tiny", on_progress=lambda d, t: seen.append((d, t)))
    assert "continues" in (err.value.hint or "")
    assert not (cache / "nb-whisper-tiny").exists(), "nothing installed after a cut-off download"
    partial = cache / ".download-nb-whisper-tiny" / "model.bin"
    assert 0 < partial.stat().st_size < size
    got_before = partial.stat().st_size
    path = hub.download("nb-whisper-tiny", on_progress=lambda d, t: seen.append((d, t)))
    assert path == cache / "nb-whisper-tiny"
    # the second run asked only for the missing bytes
    ranges = [r for p, r in fake_hub.requests if p.endswith("/ct2/model.bin") and r]
    assert ranges == [f"bytes={got_before}-"]
    assert hashlib.sha256((path / "model.bin").read_bytes()).hexdigest() == \
        hashlib.sha256((TINY / "model.bin").read_bytes()).hexdigest()
    assert not (path / "pytorch_model.bin").exists() and not (cache / ".download-nb-whisper-tiny").exists()
    assert seen[-1][0] == seen[-1][1] > size
    assert "nb-whisper-tiny" in {m.name for m in available_models()}
    assert resolve_model("nb-whisper-tiny") == path
    # only the ct2 folder's files were asked for (the repository's real layout)
    assert all("/ct2/" in p or p.startswith("/api/") for p, _ in fake_hub.requests)


def test_download_corrupt_file_is_refused_and_fetched_again(cache, fake_hub):
    fake_hub.corrupt = "tokenizer.json"
    with pytest.raises(ModelError, match="tokenizer.json .* arrived damaged .*checksum"):
        hub.download("nb-whisper-tiny")
    staging = cache / ".download-nb-whisper-tiny"
    assert not (cache / "nb-whisper-tiny").exists() and not (staging / "tokenizer.json").exists()
    assert (staging / "model.bin").is_file(), "files that arrived whole are kept"
    fake_hub.corrupt = None
    fake_hub.requests.clear()
    hub.download("nb-whisper-tiny")
    assert (cache / "nb-whisper-tiny" / "tokenizer.json").read_bytes() == (TINY / "tokenizer.json").read_bytes()
    assert not any(p.endswith("model.bin") and r is None for p, r in fake_hub.requests), \
        "model.bin was not fetched again"


def test_download_unknown_name_and_unreachable_hub(cache, monkeypatch):
    with pytest.raises(ModelError, match="No downloadable model called 'nb-whisper-huge'"):
        hub.download("nb-whisper-huge")
    monkeypatch.setenv(hub.HUB_ENV, "http://127.0.0.1:9")   # nothing listens there
    with pytest.raises(ModelError, match="Could not reach the model hub"):
        hub.download("nb-whisper-base")
    assert not (cache / "nb-whisper-base").exists()


@pytest.mark.slow
def test_cli_download_then_use_and_transcribe(cache, fake_hub, tmp_path):
    env = {**os.environ, "FIELDKIT_HOME": str(tmp_path / "home")}
    run = lambda *a: run_cli(None, *a, ok=False, env=env)
    r = run("models", "list")
    assert r.returncode == 0 and "nb-whisper-small" in r.stdout and "large-v3-turbo" in r.stdout, r.stderr
    r = run("models", "download", "nb-whisper-tiny")
    assert r.returncode == 0, r.stderr
    assert "Installed nb-whisper-tiny" in r.stdout
    r = run("project", "new", "Eng", "--language", "en")
    assert r.returncode == 0, r.stderr
    r = run("models", "use", "nb-whisper-tiny", "-p", "Eng")
    assert r.returncode == 0 and "final model nb-whisper-tiny" in r.stdout, r.stderr
    # the downloaded model loads and transcribes
    from fieldkit.transcription.engine import load_model
    from fieldkit.transcription.settings import resolve_settings

    assert load_model(resolve_settings(model="nb-whisper-tiny", language="en")) is not None


def _incomplete(folder: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copyfile(TINY / "config.json", folder / "config.json")
    shutil.copyfile(TINY / "tokenizer.json", folder / "tokenizer.json")
    return folder


def test_add_folder_and_archives(cache, tmp_path):
    src = tmp_path / "usb" / "nb-whisper-tiny" / "ct2"
    shutil.copytree(TINY, src)
    path = hub.add(src)
    assert path == cache / "nb-whisper-tiny" and resolve_model("nb-whisper-tiny") == path
    with pytest.raises(ModelError, match="already installed"):
        hub.add(src)
    # the whole repository folder copied: its ct2 folder is found
    assert hub.add(src.parent, name="nb-copy") == cache / "nb-copy"
    # a zip with the model one folder down, a tar.gz with it at the top
    z = tmp_path / "copy.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in TINY.iterdir():
            zf.write(f, f"whisper-copy/{f.name}")
    assert hub.add(z).name == "whisper-copy"
    t = tmp_path / "laptop-model.tar.gz"
    with tarfile.open(t, "w:gz") as tf:
        for f in TINY.iterdir():
            tf.add(f, f.name)
    assert hub.add(t).name == "laptop-model"
    assert not [p for p in cache.iterdir() if p.name.startswith(".")], "no staging left behind"


def test_add_bad_input_installs_nothing(cache, tmp_path):
    cache.mkdir(parents=True)
    with pytest.raises(ModelError, match="has no model.bin|holds no model.bin"):
        hub.add(_incomplete(tmp_path / "half"))
    # model.bin cut short (a copy that stopped)
    short = _incomplete(tmp_path / "short")
    (short / "model.bin").write_bytes((TINY / "model.bin").read_bytes()[:512])
    with pytest.raises(ModelError, match="too small"):
        hub.add(short)
    # a CTranslate2 model of another kind (the header names its spec)
    other = _incomplete(tmp_path / "translator")
    data = bytearray((TINY / "model.bin").read_bytes()[:4096])
    data[6:6 + 12] = b"TransformerS"
    (other / "model.bin").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="not Whisper|not a CTranslate2"):
        hub.add(other)
    # not a model file at all
    junk = _incomplete(tmp_path / "junk")
    (junk / "model.bin").write_bytes(os.urandom(4096))
    with pytest.raises(ModelError, match="not a CTranslate2 model file"):
        hub.add(junk)
    # an archive of something else, and a file that is no archive
    z = tmp_path / "photos.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("holiday/img.txt", "not a model")
    with pytest.raises(ModelError, match="holds no Whisper model"):
        hub.add(z)
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"this is not gzip")
    with pytest.raises(ModelError, match="not a readable archive"):
        hub.add(broken)
    doc = tmp_path / "notes.docx"
    doc.write_bytes(b"x")
    with pytest.raises(ModelError, match="neither a model folder nor an archive"):
        hub.add(doc)
    assert list(cache.iterdir()) == [], "nothing half-installed"


def test_advice_for_norwegian_projects():
    assert "NB-Whisper" in hub.advice("no", "base", installed=["base"])
    assert "models use nb-whisper-small" in hub.advice("no", "base", installed=["base", "nb-whisper-small"])
    assert hub.advice("no", "nb-whisper-small", installed=["nb-whisper-small"]) is None
    assert hub.advice("en", "base", installed=["base"]) is None


def test_project_models_live_model_and_doctor_advice(tmp_path):
    from fieldkit.projects import Workspace
    from fieldkit.transcription.service import project_advice, session_settings, set_project_model
    from fieldkit.store.models import Session

    home = tmp_path / "home"
    with Workspace(home).ensure().create("Nordland", language="no") as h:
        with pytest.raises(ModelError, match="English only"):
            set_project_model(h, "tiny.en", live=True)
        st, tip = set_project_model(h, "base", live=True)
        assert st.live_model == "base" and "NB-Whisper" in tip
        with h.db.transaction() as s:
            sess = Session(project_id=h.project_id, title="x")
            s.add(sess)
        st = session_settings(h, sess.id)
        assert (st.model, st.for_live().model) == ("base", "base")
        assert "NB-Whisper" in (project_advice(h)[1] or "")
    with Workspace(home).create("English study", language="en") as h:
        st, tip = set_project_model(h, "base")
        st, tip = set_project_model(h, "tiny.en", live=True)
        assert (st.model, st.live_model, st.for_live().model, tip) == ("base", "tiny.en", "tiny.en", None)
    env = {**os.environ, "FIELDKIT_HOME": str(home)}
    r = run_cli(None, "doctor", ok=False, env=env)
    notes = [line for line in r.stdout.splitlines() if line.startswith("[NOTE]")]
    assert len(notes) == 1 and "Nordland" in notes[0] and "NB-Whisper" in notes[0], r.stdout
