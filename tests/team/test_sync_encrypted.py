"""Issue 26: encryption does not stop at the laptop.

A project created with ``--encrypt`` is encrypted on the team server too: a real PostgreSQL
server (tests/support/pg_server.py), three data folders as researchers' laptops (alice, bob,
eve) and a supervisor (carol, read-only), driven through the real CLI. The server's tables
(psycopg) and a pg_dump of the project's schema are grepped for the informant's name, her
alias and a distinctive word of her transcript; every laptop's copy is encrypted and the
same after the syncs; a plain copy is refused; a withdrawal still reaches every copy.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.support import pg_server
from tests.support.builders import laptop
from tests.support.cli import fk

pytestmark = pytest.mark.skipif(pg_server.pg_bindir() is None and not os.environ.get("CI"),
                                reason="PostgreSQL is not installed (CI installs it)")

NEEDLES = ("Kari", "Nordmann", "Kaja", "vindmølleparken", "Arkivskap")
PASS = "felles fjellpassord"
ROLES = ("alice", "bob", "eve", "carol")
_PG: list = []


@pytest.fixture(scope="module")
def pg():
    server = pg_server.start()
    import psycopg

    with psycopg.connect(server.url(), autocommit=True) as conn:
        for role in ROLES:
            conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{role}-pw'")
    _PG[:] = [server]
    yield server
    server.stop()


def url(role):
    return _PG[0].url(role, f"{role}-pw")


def sync(root: Path, who: str, slug: str, *extra: str, ok: bool = True, passphrase: str | None = PASS):
    env = {"FIELDKIT_PASSPHRASE": passphrase} if passphrase else {}
    return fk(root, "sync", "-p", slug, "--server", url(who), *extra, ok=ok, env=env)


def schema(slug: str) -> str:
    from fieldkit.team.server import schema_for

    return schema_for(slug)


def server_rows(sql: str, *args):
    import psycopg

    with psycopg.connect(_PG[0].url()) as conn:
        return conn.execute(sql, args).fetchall()


def found_on_server(slug: str) -> list[str]:
    r = subprocess.run(["pg_dump", "--no-owner", "-n", schema(slug), "-d", _PG[0].url()],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    dump = r.stdout.casefold()
    return [n for n in NEEDLES if n.casefold() in dump or json.dumps(n.casefold())[1:-1] in dump]


def state(root: Path, slug: str, passphrase: str | None = PASS) -> tuple[dict, list]:
    """Every synced record (hash of its values) and the conflict list of a laptop's copy,
    read from its (decrypted) database."""
    from fieldkit.team.records import all_records, content_hash

    with laptop(root.parent, root.name).open(slug, passphrase=passphrase) as h:
        with h.db.engine.connect() as conn:
            recs = {(t, rid): content_hash(d) for rid, (t, d) in all_records(conn).items()}
            conf = sorted((str(rid), _text(kept), _text(other)) for rid, kept, other in
                          conn.exec_driver_sql("SELECT record_id, kept, other FROM syncconflict"))
    return recs, conf


def _text(value) -> str:
    value = json.loads(value) if isinstance(value, str) else value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def build(handle) -> dict:
    import numpy as np
    import soundfile as sf

    from fieldkit.privacy import crypto
    from fieldkit.store.models import (Event, EventKind, Informant, Recording, RecordingFile,
                                       RecordingState, Session, SessionParticipant, TranscriptSegment)

    with handle.db.transaction() as s:
        kari = Informant(project_id=handle.project_id, code="L01", name="Kari Nordmann",
                         role="leader", attributes={"aliases": ["Kaja"]}, consent_kept_at="Arkivskap 1")
        s.add(kari)
        s.flush()
        one = Session(project_id=handle.project_id, title="Intervju 1")
        s.add(one)
        s.flush()
        s.add(SessionParticipant(session_id=one.id, informant_id=kari.id))
        seg = TranscriptSegment(session_id=one.id, start_ms=0, end_ms=2000,
                                verbatim="Vi snakket om vindmølleparken i Lyngdal.",
                                words=[{"w": "vindmølleparken", "s": 500, "e": 1400, "p": 0.9}],
                                speaker_informant_id=kari.id)
        s.add(seg)
        s.add(Event(session_id=one.id, kind=EventKind.note, position_ms=100,
                    text="Kaja ringte etterpå."))
        rec = Recording(session_id=one.id, state=RecordingState.complete, folder=f"audio/{one.id}",
                        duration_ms=1000)
        s.add(rec)
        s.flush()
        rel = f"audio/{one.id}/part-001.flac"
        (handle.folder / rel).parent.mkdir(parents=True, exist_ok=True)
        tone = (np.sin(np.arange(16000) / 5) * 8000).astype("int16")
        sf.write(str(handle.folder / rel), tone, 16000)
        if handle.key is not None:
            crypto.encrypt_file_in_place(handle.folder / rel, handle.key)
        s.add(RecordingFile(recording_id=rec.id, seq=1, path=rel, offset_ms=0, duration_ms=1000,
                            complete=True))
        return {"kari": kari.id, "segment": seg.id, "session": one.id, "audio": rel}


def edit(root: Path, slug: str, model: str, rid, **values) -> None:
    import fieldkit.store.models as m

    with laptop(root.parent, root.name).open(slug, passphrase=PASS) as h:
        with h.db.transaction() as s:
            row = s.get(getattr(m, model), rid)
            for k, v in values.items():
                setattr(row, k, v)
            s.add(row)


@pytest.mark.slow
def test_an_encrypted_project_is_encrypted_on_the_server_and_every_copy(pg, tmp_path):
    from fieldkit.privacy import crypto

    slug = "kryptert-" + uuid.uuid4().hex[:6]
    fk(tmp_path, "server", "init", pg.url(), "--project", slug, "--researcher", "alice",
       "--researcher", "bob", "--researcher", "eve", "--supervisor", "carol", "--audio")
    a, b, c, sup = (tmp_path / n for n in ("a", "b", "c", "sup"))
    ha = laptop(tmp_path, "a").create(slug, passphrase=PASS)
    ids = build(ha)
    project_id = ha.project_id
    plain_audio = crypto.read_encrypted(ha.folder / ids["audio"], ha.key)
    ha.close()
    sync(a, "alice", slug)
    # the server holds ids, times and versions in the clear; names, text and audio sealed
    assert found_on_server(slug) == []
    name, = server_rows(f"SELECT name FROM {schema(slug)}.informant")[0]
    assert name.startswith("fk1:")
    code, = server_rows(f"SELECT code FROM {schema(slug)}.informant")[0]
    assert code == "L01"
    hashes = [h for (h,) in server_rows(f"SELECT hash FROM {schema(slug)}.recordstate")]
    assert hashes and all(h.startswith("~") for h in hashes if h)
    blob, = server_rows(f"SELECT data FROM {schema(slug)}.serveraudio")[0]
    assert bytes(blob).startswith(b"FKSA1") and plain_audio[4000:4064] not in bytes(blob)

    # a clone without the passphrase makes nothing; with it, an encrypted copy
    r = sync(tmp_path / "d", "bob", slug, ok=False, passphrase=None)
    assert r.returncode != 0 and "encrypted" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "d" / "projects" / slug).exists()
    r = sync(tmp_path / "d", "bob", slug, ok=False, passphrase="feil passord")
    assert r.returncode != 0 and "Wrong passphrase" in r.stderr, r.stderr
    assert not (tmp_path / "d" / "projects" / slug).exists()
    for root, who in ((b, "bob"), (c, "eve"), (sup, "carol")):
        out = sync(root, who, slug).stdout
        assert out.startswith("Copied from the team server"), out
        folder = root / "projects" / slug
        assert crypto.is_encrypted(folder)
        assert b"Kari" not in (folder / "project.db").read_bytes()
        got = folder / ids["audio"]
        assert crypto.is_encrypted_file(got)
        assert crypto.read_encrypted(got, crypto.unlock(folder, PASS)) == plain_audio

    # edits on three laptops, one field changed on two: merged on plain values, conflict kept
    edit(b, slug, "TranscriptSegment", ids["segment"], edited="B: vindmølleparken, ja")
    edit(c, slug, "TranscriptSegment", ids["segment"], edited="C: vindmølleparken, nei")
    edit(c, slug, "Informant", ids["kari"], consent_kept_at="Arkivskap 2")
    edit(a, slug, "Informant", ids["kari"], role="sykepleier")
    sync(b, "bob", slug)
    assert "1 conflict" in sync(c, "eve", slug).stdout
    for root, who in ((a, "alice"), (b, "bob"), (c, "eve"), (sup, "carol")):
        sync(root, who, slug)
    states = [state(root, slug) for root in (a, b, c, sup)]
    assert all(s == states[0] for s in states), "every copy is the same"
    recs, conf = states[0]
    assert len(conf) == 1 and "vindmølleparken" in conf[0][1] + conf[0][2]
    with laptop(tmp_path, "a").open(slug, passphrase=PASS) as h:
        from fieldkit.store.models import Informant

        with h.db.session() as s:
            kari = s.get(Informant, ids["kari"])
            assert (kari.role, kari.consent_kept_at) == ("sykepleier", "Arkivskap 2")
    assert found_on_server(slug) == []

    # a plain copy of the project (made before it was encrypted there) is refused
    p = laptop(tmp_path, "p")
    hp = p.create(slug)
    with hp.db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE project SET id = ?", (project_id.hex,))
    hp.close()
    r = sync(tmp_path / "p", "eve", slug, ok=False, passphrase=None)
    assert r.returncode != 0 and "this laptop's copy of it is not" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr

    # a withdrawal still finds her rows on the server (ids in the clear) and every copy
    fk(a, "purge", "-p", slug, "--informant", "L01", "--yes", env={"FIELDKIT_PASSPHRASE": PASS})
    for root, who in ((a, "alice"), (b, "bob"), (c, "eve"), (sup, "carol"), (a, "alice"),
                      (b, "bob"), (c, "eve"), (sup, "carol")):
        sync(root, who, slug)
    s = schema(slug)
    assert server_rows(f"SELECT count(*) FROM {s}.informant")[0][0] == 0
    assert server_rows(f"SELECT count(*) FROM {s}.syncconflict")[0][0] == 0
    assert server_rows(f"SELECT count(*) FROM {s}.transcriptsegment")[0][0] == 0
    states = [state(root, slug) for root in (a, b, c, sup)]
    assert states[0] == states[1] == states[2] and states[0][1] == []
    # the supervisor's read-only login keeps its own audit (the purge it applied) locally
    own = {k for k in states[3][0] if k[0] == "auditentry" and k not in states[0][0]}
    assert {k: v for k, v in states[3][0].items() if k not in own} == states[0][0]
    assert not {rid for _t, rid in states[0][0]} & {ids["kari"], ids["segment"]}


@pytest.mark.slow
def test_a_plain_team_project_is_encrypted_on_the_server_when_asked(pg, tmp_path):
    """An encrypted copy of a plain team project says the server holds it in plain text;
    ``--encrypt-server`` seals the server's copy, after which plain copies are refused and
    new copies are encrypted with the same key."""
    slug = "klartekst-" + uuid.uuid4().hex[:6]
    fk(tmp_path, "server", "init", pg.url(), "--project", slug, "--researcher", "alice",
       "--researcher", "bob", "--researcher", "eve", "--audio")
    a, b, c = (tmp_path / n for n in ("a", "b", "c"))
    ha = laptop(tmp_path, "a").create(slug)
    build(ha)
    ha.close()
    sync(a, "alice", slug, passphrase=None)
    out = sync(b, "bob", slug, "--encrypt").stdout
    assert out.startswith("Copied from the team server") and "in plain text" in out, out
    assert sorted(found_on_server(slug)) == sorted(NEEDLES)
    out = sync(b, "bob", slug, "--encrypt-server").stdout
    assert "now encrypted" in out, out
    assert found_on_server(slug) == []
    blob, = server_rows(f"SELECT data FROM {schema(slug)}.serveraudio")[0]
    assert bytes(blob).startswith(b"FKSA1")
    r = sync(a, "alice", slug, ok=False, passphrase=None)
    assert r.returncode != 0 and "this laptop's copy of it is not" in r.stderr, r.stderr
    assert sync(c, "eve", slug).stdout.startswith("Copied from the team server")
    edit(c, slug, "Session", _one_session(c, slug), place="Lyngdal rådhus")
    sync(c, "eve", slug)
    sync(b, "bob", slug)
    assert state(b, slug) == state(c, slug)
    assert found_on_server(slug) == [] and not server_rows(
        f"SELECT 1 FROM {schema(slug)}.session WHERE place LIKE '%%Lyngdal%%'")


def _one_session(root: Path, slug: str):
    from sqlmodel import select

    from fieldkit.store.models import Session

    with laptop(root.parent, root.name).open(slug, passphrase=PASS) as h:
        with h.db.session() as s:
            return s.exec(select(Session)).one().id
