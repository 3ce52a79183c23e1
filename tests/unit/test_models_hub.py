"""Model download and add against a real local server that speaks the hub's protocol.

The server (tests/support/hub_server.py, http.server on 127.0.0.1) serves folder listings
with sizes, SHA-256 of large (LFS) files and git blob ids of small ones, redirects a large
file to its content address with ``X-Linked-Etag``, and serves bytes with ``ETag``, Range
and If-Range. It can cut a transfer off halfway, serve damaged bytes, or get a new version
of a file between two attempts. A full disk is a real one: a file-size limit
(RLIMIT_FSIZE) on the real command in a subprocess, and a small tmpfs where this machine
lets root mount one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from fieldkit.transcription import hub
from fieldkit.transcription.models import ModelError, available_models, resolve_model
from tests.support.cli import fk as run_cli
from tests.support.hub_server import HubServer

TINY = resolve_model("tiny.en")


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
    with HubServer(tmp_path / "hub") as h:
        monkeypatch.setenv(hub.HUB_ENV, h.url)
        yield h


SHA_TINY = hashlib.sha256((TINY / "model.bin").read_bytes()).hexdigest()
STAGING = ".download-nb-whisper-tiny"


def test_download_cut_off_resumes_and_installs(cache, fake_hub):
    size = (TINY / "model.bin").stat().st_size
    fake_hub.cut_after["model.bin"] = size // 3
    seen: list[tuple[int, int]] = []
    with pytest.raises(ModelError, match="was cut off .*model.bin") as err:
        hub.download("nb-whisper-tiny", on_progress=lambda d, t: seen.append((d, t)))
    assert "continues where it stopped" in (err.value.hint or "")
    assert not (cache / "nb-whisper-tiny").exists(), "nothing installed after a cut-off download"
    partial = cache / STAGING / "model.bin"
    got_before = partial.stat().st_size
    assert 0 < got_before < size
    assert [m.name for m in available_models()].count("nb-whisper-tiny") == 0
    fake_hub.requests.clear()
    path = hub.download("nb-whisper-tiny", on_progress=lambda d, t: seen.append((d, t)))
    assert path == cache / "nb-whisper-tiny"
    # the second run asked only for the missing bytes, of the same version (If-Range: its tag),
    # at the content address the hub redirected to
    assert fake_hub.fetched("ct2/model.bin") == [(f"bytes={got_before}-", f'"{SHA_TINY}"')]
    assert any(p.startswith(f"/cdn/{SHA_TINY}/") for _m, p, _r, _i in fake_hub.requests)
    assert hashlib.sha256((path / "model.bin").read_bytes()).hexdigest() == SHA_TINY
    assert sorted(f.name for f in path.iterdir()) == ["config.json", "model.bin", "source.json",
                                                      "tokenizer.json", "vocabulary.txt"]
    assert not (cache / STAGING).exists()
    assert seen[-1][0] == seen[-1][1] > size
    assert resolve_model("nb-whisper-tiny") == path
    # only the ct2 folder's files were asked for (the repository's real layout)
    assert all("/ct2/" in p or p.startswith("/api/") for _m, p, _r, _i in fake_hub.requests)


def test_download_resumed_after_the_hub_changed_the_file_starts_that_file_again(cache, fake_hub):
    size = (TINY / "model.bin").stat().st_size
    fake_hub.cut_after["model.bin"] = size // 2
    with pytest.raises(ModelError, match="cut off"):
        hub.download("nb-whisper-tiny")
    # a new version on the hub before the second attempt (a byte in the weights changed)
    data = bytearray((TINY / "model.bin").read_bytes())
    data[-10] ^= 0x01
    fake_hub.replace("NbAiLab/nb-whisper-tiny/ct2/model.bin", bytes(data))
    fake_hub.requests.clear()
    path = hub.download("nb-whisper-tiny")
    # the old tag did not match: the hub sent the whole new file, not its second half glued to the old first
    (rng, if_range), = fake_hub.fetched("ct2/model.bin")
    assert rng and if_range == f'"{SHA_TINY}"'
    assert (path / "model.bin").read_bytes() == bytes(data)


def test_download_corrupt_file_is_refused_and_fetched_again(cache, fake_hub):
    fake_hub.corrupt.add("tokenizer.json")
    with pytest.raises(ModelError, match="tokenizer.json .* arrived damaged .*checksum"):
        hub.download("nb-whisper-tiny")
    staging = cache / STAGING
    assert not (cache / "nb-whisper-tiny").exists() and not (staging / "tokenizer.json").exists()
    assert (staging / "model.bin").is_file(), "files that arrived whole are kept"
    assert "nb-whisper-tiny" not in {m.name for m in available_models()}
    fake_hub.corrupt.clear()
    fake_hub.requests.clear()
    hub.download("nb-whisper-tiny")
    assert (cache / "nb-whisper-tiny" / "tokenizer.json").read_bytes() == (TINY / "tokenizer.json").read_bytes()
    assert fake_hub.fetched("ct2/model.bin") == [], "model.bin was not fetched again"
    assert fake_hub.fetched("ct2/tokenizer.json") == [(None, None)]


def test_download_corrupt_large_file_through_the_cli(cache, fake_hub, tmp_path):
    fake_hub.corrupt.add("model.bin")
    r = run_cli(tmp_path / "home", "models", "download", "nb-whisper-tiny", ok=False)
    assert r.returncode == ModelError.exit_code, (r.stdout, r.stderr)
    assert "model.bin" in r.stderr and "arrived damaged" in r.stderr and "checksum" in r.stderr
    assert not (cache / "nb-whisper-tiny").exists()
    assert not (cache / STAGING / "model.bin").exists()


_LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a write past the limit fails with EFBIG
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from fieldkit.cli import main
main(sys.argv[2:])
"""


def test_full_disk_mid_download_leaves_nothing_half_installed(cache, fake_hub, tmp_path):
    """The real command in a process whose files may not grow past 20 MB: model.bin (75 MB)
    cannot be written whole, as on a disk that fills up during the download."""
    env = {**os.environ, "FIELDKIT_HOME": str(tmp_path / "home"), "FIELDKIT_LANG": "en", "COLUMNS": "200"}
    r = subprocess.run([sys.executable, "-c", _LIMITED, str(20 << 20), "models", "download", "nb-whisper-tiny"],
                       capture_output=True, text=True, env=env, timeout=300, check=False)
    assert r.returncode == ModelError.exit_code, (r.stdout, r.stderr)
    assert "Not enough room on the disk for nb-whisper-tiny" in r.stderr, r.stderr
    assert "Nothing was installed" in r.stderr and "Free some room" in r.stderr
    assert "Could not reach" not in r.stderr
    # nothing installed, nothing half-written left taking room
    assert sorted(p.name for p in cache.iterdir()) == []
    # with room again the same command installs it
    r = subprocess.run([sys.executable, "-m", "fieldkit", "models", "download", "nb-whisper-tiny"],
                       capture_output=True, text=True, env=env, timeout=300, check=False)
    assert r.returncode == 0, r.stderr
    assert hashlib.sha256((cache / "nb-whisper-tiny" / "model.bin").read_bytes()).hexdigest() == SHA_TINY


@pytest.fixture
def small_disk(tmp_path):
    """A real 40 MB file system (tmpfs), where root may mount one."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(mnt)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_download_refused_up_front_when_the_disk_is_too_small(small_disk, fake_hub, monkeypatch):
    monkeypatch.setenv("FIELDKIT_CACHE", str(small_disk / "cache"))
    with pytest.raises(ModelError, match=r"Not enough room on the disk for nb-whisper-tiny: it needs \d+ MB") as err:
        hub.download("nb-whisper-tiny")
    assert "Free some room" in err.value.hint
    assert fake_hub.fetched("model.bin") == [], "nothing was fetched"
    assert list((small_disk / "cache" / "models").iterdir()) == []


def test_no_network_and_a_silent_hub_give_clear_messages(cache, tmp_path):
    with pytest.raises(ModelError, match="No downloadable model called 'nb-whisper-huge'"):
        hub.download("nb-whisper-huge")
    # nothing listens at that port: the machine is offline as far as the hub goes
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"FIELDKIT_HUB_URL": f"http://127.0.0.1:{port}"}
    r = run_cli(tmp_path / "home", "models", "download", "nb-whisper-base", ok=False, env=env)
    assert r.returncode == ModelError.exit_code
    assert "No connection to the model hub" in r.stderr and "offline" in r.stderr, r.stderr
    assert "models add" in r.stderr and "Traceback" not in r.stderr
    assert not cache.exists() or list(cache.iterdir()) == []
    # a hub that takes the connection and never answers: a time-out, said as such
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        env = {"FIELDKIT_HUB_URL": f"http://127.0.0.1:{s.getsockname()[1]}", hub.TIMEOUT_ENV: "1"}
        r = run_cli(tmp_path / "home", "models", "download", "nb-whisper-base", ok=False, env=env)
    assert r.returncode == ModelError.exit_code
    assert "stopped answering (nothing for 1 s)" in r.stderr, r.stderr
    # and in Norwegian
    r = run_cli(tmp_path / "home", "models", "download", "nb-whisper-base", ok=False, lang="nb",
                env={"FIELDKIT_HUB_URL": f"http://127.0.0.1:{port}"})
    assert "Ingen forbindelse med modellhuben" in r.stderr, r.stderr


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
    with tarfile.open(t, "w:gz", compresslevel=1) as tf:   # gzip all the same; level 9 took 10 s
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


def test_download_nb_whisper_picks_the_size_measured_to_run_here(cache, fake_hub, tmp_path):
    # bench figures of this laptop: base and small too slow for the final pass, tiny fits
    hub.record_speed("nb-whisper-base", 2.0, threads=2)
    hub.record_speed("nb-whisper-small", 3.0, threads=2)
    r = run_cli(tmp_path / "home", "models", "download", "nb-whisper")
    assert "NB-Whisper for this laptop: nb-whisper-tiny: 78 MB" in r.stdout, r.stdout
    assert "Installed nb-whisper-tiny" in r.stdout
    assert hashlib.sha256((cache / "nb-whisper-tiny" / "model.bin").read_bytes()).hexdigest() == SHA_TINY
    # the speed of that download was kept: the next expected time is measured, not a guess
    assert "speed of the last download" in hub.describe_download("nb-whisper-small")
