"""Encryption at rest: nothing readable on disk without the passphrase."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sqlmodel import select

from fieldkit.privacy import crypto
from fieldkit.projects import Workspace
from fieldkit.store.models import Informant, Session, TranscriptSegment
from tests.support.cli import fk as run_cli

WORDS = ["tverrfaglig", "Solbakken", "Hemmelighetsen"]


def _signal() -> np.ndarray:
    rng = np.random.default_rng(7)
    return (rng.standard_normal(16000 * 3) * 8000).astype(np.int16)


def _pcm_found(folder: Path, pcm: bytes) -> list[str]:
    probe = pcm[16000:16064]  # 32 samples from the middle: never in ciphertext by chance
    return [p.name for p in folder.rglob("*") if p.is_file() and probe in p.read_bytes()]


def _text_found(folder: Path) -> list[str]:
    return [f"{p.name}:{w}" for p in folder.rglob("*") if p.is_file()
            for w in WORDS if w.encode() in p.read_bytes()]


def _fill(handle, audio_key=None) -> bytes:
    with handle.db.transaction() as s:
        s.add(Informant(project_id=handle.project_id, code="L01", name="Ola Hemmelighetsen"))
        sess = Session(project_id=handle.project_id, title="S")
        s.add(sess)
        s.flush()
        s.add(TranscriptSegment(session_id=sess.id, start_ms=0, end_ms=1000,
                                verbatim=f"Vi jobber {WORDS[0]} i {WORDS[1]}."))
    pcm = _signal()
    path = handle.folder / "audio" / "s1.wav"
    if audio_key is None:
        sf.write(path, pcm, 16000, subtype="PCM_16")
    else:
        import io

        buf = io.BytesIO()
        sf.write(buf, pcm, 16000, format="WAV", subtype="PCM_16")
        with crypto.EncryptedWriter(path, audio_key) as w:
            data = buf.getvalue()
            for i in range(0, len(data), 4096):  # one record per block, as a recorder does
                w.write(data[i:i + 4096])
    return pcm.tobytes()


def test_encrypted_project_leaves_no_plaintext(tmp_path: Path):
    ws = Workspace(tmp_path).ensure()
    h = ws.create("Secret", passphrase="riktig hest batteri")
    pcm = _fill(h, h.key)
    h.close()
    assert _text_found(h.folder) == [] and _pcm_found(h.folder, pcm) == []
    with pytest.raises(crypto.WrongPassphrase):
        ws.open("secret", passphrase="feil")
    with pytest.raises(crypto.ProjectLocked):
        ws.open("secret")
    with ws.open("secret", passphrase="riktig hest batteri") as h2:
        with h2.db.session() as s:
            assert s.exec(select(Informant)).one().name == "Ola Hemmelighetsen"
        data, sr = sf.read(crypto.open_audio(h2.folder / "audio" / "s1.wav", h2.key), dtype="int16")
        assert sr == 16000 and data.tobytes() == pcm


def test_encrypt_existing_project(tmp_path: Path):
    ws = Workspace(tmp_path).ensure()
    h = ws.create("Plain")
    pcm = _fill(h)
    from fieldkit.store.db import backup_sqlite

    backup_sqlite(h.db.path, "0001", h.db.engine)
    h.close()
    assert _text_found(h.folder) and _pcm_found(h.folder, pcm)
    leftovers = crypto.encrypt_project(h.folder, "ny passfrase")
    assert leftovers == []
    assert _text_found(h.folder) == [] and _pcm_found(h.folder, pcm) == []
    with ws.open("plain", passphrase="ny passfrase") as h2:
        with h2.db.session() as s:
            assert WORDS[0] in s.exec(select(TranscriptSegment)).one().verbatim
        data, _ = sf.read(crypto.open_audio(h2.folder / "audio" / "s1.wav", h2.key), dtype="int16")
        assert data.tobytes() == pcm


def test_torn_tail_loses_only_the_last_record(tmp_path: Path):
    key = crypto.ProjectKey(os.urandom(32), os.urandom(32))
    path = tmp_path / "a.fkea"
    with crypto.EncryptedWriter(path, key) as w:
        for i in range(5):
            w.write(bytes([i]) * 1000)
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.truncate(size - 10)  # a crash in the middle of writing record 5
    assert crypto.read_encrypted(path, key) == b"".join(bytes([i]) * 1000 for i in range(4))
    with crypto.EncryptedWriter(path, key) as w:  # recording continues after recovery
        w.write(b"\x09" * 10)
    assert crypto.read_encrypted(path, key).endswith(b"\x03" * 1000 + b"\x09" * 10)
    other = crypto.ProjectKey(os.urandom(32), os.urandom(32))
    with pytest.raises(crypto.WrongPassphrase):
        crypto.read_encrypted(path, other)


def test_a_growing_encrypted_recording_is_read_in_part(tmp_path: Path):
    """The live transcriber reads the newest seconds of an encrypted recording being
    written: only the records a range touches are decrypted (a record index that grows
    with the file), and the length is the plaintext's, not an estimate from the size."""
    key = crypto.ProjectKey(os.urandom(32), os.urandom(32))
    path = tmp_path / "0000.pcm"
    rng = np.random.default_rng(3)
    plain = b""
    w = crypto.EncryptedWriter(path, key, fsync=False)
    reader = crypto.RecordReader(path, key)
    for round_ in range(3):
        for _ in range(20):
            chunk = rng.integers(0, 256, int(rng.integers(1, 3000)), dtype=np.uint8).tobytes()
            w.write(chunk)
            plain += chunk
        with open(path, "ab") as fh:       # a record being written right now: not yet read
            fh.write(b"\x00\x00\x10\x00" + b"x" * 20)
        assert reader.refresh() == len(plain)
        for start, count in [(0, 10), (len(plain) - 5000, 5000), (123, 4567), (len(plain) - 1, 100)]:
            assert reader.read(start, count) == plain[start:start + count]
        w.close()
        size = path.stat().st_size
        with open(path, "r+b") as fh:      # the torn record goes when writing continues
            fh.truncate(size - 24)
        w = crypto.EncryptedWriter(path, key, fsync=False)
    w.close()
    assert crypto.read_encrypted(path, key) == plain
    assert reader.read(0, len(plain) + 10) == plain


def test_tampered_record_is_not_accepted(tmp_path: Path):
    key = crypto.ProjectKey(os.urandom(32), os.urandom(32))
    path = tmp_path / "a.fkea"
    with crypto.EncryptedWriter(path, key) as w:
        w.write(b"a" * 100)
        w.write(b"b" * 100)
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0xFF
    path.write_bytes(bytes(raw))
    assert crypto.read_encrypted(path, key) == b"a" * 100


def test_cli_wrong_passphrase_and_locked_listing(tmp_path: Path):
    env = {**os.environ, "FIELDKIT_HOME": str(tmp_path), "FIELDKIT_PASSPHRASE": "god passfrase"}
    r = run_cli(None, "project", "new", "Kryptert", "--encrypt", ok=False, env=env)
    assert r.returncode == 0 and "encrypted" in r.stdout, r.stderr
    r = run_cli(None, "project", "list", ok=False, env={**env, "FIELDKIT_PASSPHRASE": "feil"})
    assert r.returncode == 3 and "Wrong passphrase" in r.stderr and "Traceback" not in r.stderr
    env.pop("FIELDKIT_PASSPHRASE")
    r = run_cli(None, "project", "list", ok=False, env=env)
    assert r.returncode == 0 and "(encrypted, locked)" in r.stdout
    r = run_cli(None, "purge", "--project", "kryptert", "--informant", "X", ok=False, env=env)
    assert r.returncode == 5 and "encrypted and locked" in r.stderr


def test_team_sealing_round_trip_and_tampering(tmp_path: Path):
    """What an encrypted project's team server holds: personal fields sealed (bound to
    table, column and record), ids and links clear, hashes permuted; a sealed value
    moved to another record or changed does not open."""
    from fieldkit.errors import FieldkitError
    from fieldkit.team.records import table
    from fieldkit.team.sealing import PERSONAL, open_record, open_state, seal_record, seal_state

    from sqlalchemy import JSON, String

    for tname, cols in PERSONAL.items():       # every listed field exists and holds text/JSON
        t = table(tname)
        for c in cols:
            assert c in t.c and isinstance(getattr(t.c[c].type, "impl", t.c[c].type), (String, JSON)), (tname, c)
    key = crypto.create_key(tmp_path, "riktig hest")
    cipher = crypto.TeamCipher(key)
    seg = {"id": "s1", "session_id": "x1", "speaker_informant_id": "i1", "start_ms": 0,
           "verbatim": "vindmølleparken", "edited": None, "words": [{"w": "vindmølleparken"}]}
    sealed = seal_record(cipher, "transcriptsegment", seg)
    assert "vindm" not in repr(sealed) and sealed["speaker_informant_id"] == "i1"
    assert sealed["edited"] is None and sealed["verbatim"].startswith("fk1:")
    assert open_record(cipher, "transcriptsegment", dict(sealed)) == seg
    conflict = {"id": "c1", "tbl": "transcriptsegment", "record_id": "s1", "kept": {}, "other": seg}
    sc = seal_record(cipher, "syncconflict", conflict)
    assert '"i1"' in repr(sc).replace("'", '"') and "vindm" not in repr(sc)
    assert open_record(cipher, "syncconflict", dict(sc)) == conflict
    st = {"tbl": "transcriptsegment", "hash": "ab" * 16, "anc": [{"vv": {"a": 1}, "h": "cd" * 16, "d": seg}]}
    ss = seal_state(cipher, st)
    assert ss["hash"].startswith("~") and ss["hash"] != st["hash"] and "vindm" not in repr(ss)
    assert open_state(cipher, dict(ss)) == st
    moved = dict(sealed, id="s2")
    with pytest.raises(FieldkitError):
        open_record(cipher, "transcriptsegment", moved)
    (tmp_path / "b").mkdir()
    other = crypto.TeamCipher(crypto.create_key(tmp_path / "b", "annen"))
    with pytest.raises(FieldkitError):
        open_record(other, "transcriptsegment", dict(sealed))
    blob = cipher.seal_blob(b"RIFF audio", b"serveraudio/f1")
    assert b"RIFF" not in blob and cipher.open_blob(blob, b"serveraudio/f1") == b"RIFF audio"
