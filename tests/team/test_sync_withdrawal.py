"""Issue 26: a withdrawal that reaches every copy, and one project per team.

A real PostgreSQL server (tests/support/pg_server.py), three data folders as researchers' laptops
(alice, bob, eve) and a supervisor (carol, read-only login), driven through the real CLI
(`fieldkit server init`, `fieldkit sync`, `fieldkit purge`, `fieldkit guide`). Every copy
is checked: the server's tables (psycopg) and a pg_dump of the project's schema, each
laptop's database (a sqlite dump) and folder, and the conflict lists, grepped for the
withdrawn person's name, her alias and a distinctive word of her transcript.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.support import pg_server
from tests.support.cli import fk
from tests.support.builders import laptop, snapshot

pytestmark = pytest.mark.skipif(pg_server.pg_bindir() is None and not os.environ.get("CI"),
                                reason="PostgreSQL is not installed (CI installs it)")

#: the withdrawn informant: her name, her alias, a word only her transcript has
NEEDLES = ("Kari", "Nordmann", "Kaja", "vindmølleparken")
ROLES = ("alice", "bob", "eve", "carol", "dave")


@pytest.fixture(scope="module")
def pg():
    # autovacuum looks every second (the default is a minute): the test waits for it
    server = pg_server.start({"autovacuum_naptime": "1"})
    import psycopg

    with psycopg.connect(server.url(), autocommit=True) as conn:
        for role in ROLES:
            conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{role}-pw'")
    _PG[:] = [server]
    yield server
    server.stop()


def url(pg, role):
    return pg.url(role, f"{role}-pw")


_PG: list = []


def sync(root: Path, who: str, slug: str) -> str:
    """``fieldkit sync`` on a laptop as ``who`` (the address with the password each time:
    the remembered one has none); its output."""
    return fk(root, "sync", "-p", slug, "--server", url(_PG[0], who)).stdout


def snapshot_of(root: Path, slug: str) -> dict:
    class _H:   # what snapshot() reads: the database's path
        class db:
            path = root / "projects" / slug / "project.db"

    return snapshot(_H)


def schema(slug: str) -> str:
    from fieldkit.team.server import schema_for

    return schema_for(slug)


# --------------------------------------------------------------------------- what is found


def found_in_folder(folder: Path, needles=NEEDLES) -> list[str]:
    """Every needle found in a laptop's data folder: database files read as a sqlite dump,
    every other file (WAL, backups, exports, audio) as raw bytes."""
    hits = []
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        if p.suffix == ".db":
            con = sqlite3.connect(f"file:{p}?mode=ro", uri=True)
            text = "\n".join(con.iterdump()).casefold()
            con.close()
        else:
            text = p.read_bytes().decode("utf-8", "replace").casefold()
        hits += [f"{p.relative_to(folder)}: {n}" for n in needles if _in(n, text)]
    return hits


def _in(needle: str, text: str) -> bool:
    """As written, or as JSON writes it (ø as \\u00f8), in any case."""
    forms = {needle.casefold(), json.dumps(needle.casefold())[1:-1]}
    return any(f in text.casefold() for f in forms)


def pg_dump(pg, slug) -> str:
    r = subprocess.run(["pg_dump", "--no-owner", "-n", schema(slug), "-d", pg.url()],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def found_on_server(pg, slug, needles=NEEDLES) -> list[str]:
    dump = pg_dump(pg, slug).casefold()
    return [n for n in needles if _in(n, dump)]


def conflicts(root: Path, slug: str) -> list[tuple]:
    con = sqlite3.connect(root / "projects" / slug / "project.db")
    rows = con.execute("SELECT tbl, record_id, kept, other FROM syncconflict").fetchall()
    con.close()
    return rows


def server_rows(pg, sql: str, *args):
    import psycopg

    with psycopg.connect(pg.url()) as conn:
        return conn.execute(sql, args).fetchall()


# --------------------------------------------------------------------------- the project


def _recording(s, handle, sess, seconds: float):
    """A real FLAC file of a steady tone and its Recording/RecordingFile rows."""
    import numpy as np
    import soundfile as sf

    from fieldkit.store.models import Recording, RecordingFile, RecordingState

    rec = Recording(session_id=sess.id, state=RecordingState.complete, folder=f"audio/{sess.id}",
                    duration_ms=int(seconds * 1000))
    s.add(rec)
    s.flush()
    rel = f"audio/{sess.id}/part-001.flac"
    (handle.folder / rel).parent.mkdir(parents=True, exist_ok=True)
    tone = (np.sin(np.arange(int(16000 * seconds)) / 5) * 8000).astype("int16")
    sf.write(str(handle.folder / rel), tone, 16000)
    rf = RecordingFile(recording_id=rec.id, seq=1, path=rel, offset_ms=0,
                       duration_ms=int(seconds * 1000), complete=True)
    s.add(rf)
    s.flush()
    return rf.id


def build(handle) -> dict:
    """Kari (L01, alias Kaja) alone in one interview and with Bjørn (L02) in a group; a third
    interview with Bjørn names her by name and by alias."""
    from fieldkit.store.models import (
        Event, EventKind, Informant, Session, SessionKind, SessionParticipant, TranscriptSegment,
    )

    pid = handle.project_id
    ids: dict = {}
    with handle.db.transaction() as s:
        kari = Informant(project_id=pid, code="L01", name="Kari Nordmann", role="leader",
                         attributes={"aliases": ["Kaja"]}, consent_kept_at="Arkivskap 1")
        bjorn = Informant(project_id=pid, code="L02", name="Bjørn Åsheim", role="nurse")
        s.add_all([kari, bjorn])
        s.flush()
        one = Session(project_id=pid, title="Intervju 1", kind=SessionKind.individual)
        group = Session(project_id=pid, title="Gruppe", kind=SessionKind.focus_group)
        third = Session(project_id=pid, title="Intervju 3", kind=SessionKind.individual)
        s.add_all([one, group, third])
        s.flush()
        s.add_all([SessionParticipant(session_id=one.id, informant_id=kari.id),
                   SessionParticipant(session_id=group.id, informant_id=kari.id),
                   SessionParticipant(session_id=group.id, informant_id=bjorn.id),
                   SessionParticipant(session_id=third.id, informant_id=bjorn.id)])
        mine = TranscriptSegment(session_id=one.id, start_ms=0, end_ms=2000,
                                 verbatim="Vi snakket om vindmølleparken i Lyngdal.",
                                 speaker_informant_id=kari.id)
        s.add_all([mine,
                   TranscriptSegment(session_id=group.id, start_ms=0, end_ms=2000,
                                     verbatim="Vindmølleparken er feil plassert.",
                                     speaker_informant_id=kari.id),
                   TranscriptSegment(session_id=group.id, start_ms=2000, end_ms=4000,
                                     verbatim="Kari Nordmann har rett om det.",
                                     speaker_informant_id=bjorn.id),
                   TranscriptSegment(session_id=third.id, start_ms=0, end_ms=2000,
                                     verbatim="Jeg snakket med Kaja i går.",
                                     speaker_informant_id=bjorn.id),
                   Event(session_id=third.id, kind=EventKind.note, position_ms=1500,
                         text="Kari Nordmann ringte under intervjuet.")])
        ids["one_file"] = _recording(s, handle, one, 2.0)
        ids["group_file"] = _recording(s, handle, group, 4.0)
        s.flush()
        ids.update(kari=kari.id, bjorn=bjorn.id, one=one.id, group=group.id, third=third.id,
                   segment=mine.id)
    return ids


def _edit_segment(handle, seg_id, text):
    from fieldkit.store.models import TranscriptSegment

    with handle.db.transaction() as s:
        seg = s.get(TranscriptSegment, seg_id)
        seg.edited = text
        s.add(seg)


def _edit_informant(handle, code, **values):
    from sqlmodel import select

    from fieldkit.store.models import Informant

    with handle.db.transaction() as s:
        inf = s.exec(select(Informant).where(Informant.code == code)).one()
        for k, v in values.items():
            setattr(inf, k, v)
        s.add(inf)


def _dead_rows_vacuumed(pg, slug, since, tables) -> bool:
    rows = server_rows(pg, "SELECT relname, n_dead_tup, greatest(last_vacuum, last_autovacuum) "
                           "FROM pg_stat_user_tables WHERE schemaname = %s AND relname = ANY(%s)",
                       schema(slug), list(tables))
    return len(rows) == len(tables) and all(dead == 0 and when is not None and when >= since
                                             for _t, dead, when in rows)


# --------------------------------------------------------------------------- the tests


@pytest.mark.slow
def test_withdrawal_reaches_every_copy(pg, tmp_path):
    import soundfile as sf
    from sqlmodel import select

    from fieldkit.store.models import Event, Informant, Session, SessionParticipant, TranscriptSegment

    slug = "samtykke-" + uuid.uuid4().hex[:6]
    r = fk(tmp_path, "server", "init", pg.url(), "--project", slug, "--researcher", "alice",
           "--researcher", "bob", "--researcher", "eve", "--supervisor", "carol", "--audio")
    assert "Created schema" in r.stdout
    a, b, c, sup = (tmp_path / n for n in ("a", "b", "c", "sup"))
    ha = laptop(tmp_path, "a").create(slug)
    ids = build(ha)
    ha.close()
    sync(a, "alice", slug)
    for root, who in ((b, "bob"), (c, "eve"), (sup, "carol")):
        out = sync(root, who, slug)
        assert out.startswith("Copied from the team server"), out
    # the test's needles are everywhere before the withdrawal (the grep can find them)
    for root in (a, b, c, sup):
        assert len(found_in_folder(root)) >= 3, root
    assert found_on_server(pg, slug) == list(NEEDLES)
    assert server_rows(pg, f"SELECT count(*) FROM {schema(slug)}.serveraudio")[0][0] == 2

    # copies in conflict lists: her transcript on A's, her registry entry on B's
    hb, hc = laptop(tmp_path, "b").open(slug), laptop(tmp_path, "c").open(slug)
    _edit_segment(hc, ids["segment"], "C: vindmølleparken, ja")
    _edit_informant(hc, "L01", consent_kept_at="Skap C")
    hc.close()
    sync(c, "eve", slug)
    ha = laptop(tmp_path, "a").open(slug)
    _edit_segment(ha, ids["segment"], "A: vindmølleparken, nei")
    ha.close()
    assert "1 conflict" in sync(a, "alice", slug)
    _edit_informant(hb, "L01", consent_kept_at="Skap B")
    # B, not yet synced again, records a follow-up with her
    with hb.db.transaction() as s:
        follow = Session(project_id=hb.project_id, title="Oppfølging")
        s.add(follow)
        s.flush()
        s.add(SessionParticipant(session_id=follow.id, informant_id=ids["kari"]))
        s.add(TranscriptSegment(session_id=follow.id, start_ms=0, end_ms=1000,
                                verbatim="Vindmølleparken igjen, sa hun.",
                                speaker_informant_id=ids["kari"]))
        follow_id = follow.id
    hb.close()
    # B syncs its edit and the follow-up: its conflict list gets her registry entry, and
    # A's conflict about her transcript (conflicts travel: every copy lists them)
    assert "2 conflicts" in sync(b, "bob", slug)
    assert [t for t, *_ in conflicts(a, slug)] == ["transcriptsegment"]
    on_b = {t: kept_other for t, *kept_other in conflicts(b, slug)}
    assert sorted(on_b) == ["informant", "transcriptsegment"]
    assert _in("Nordmann", on_b["informant"][2]) and _in("vindmølleparken", conflicts(a, slug)[0][3])

    # B records a second follow-up that it does not sync before the purge reaches it
    hb = laptop(tmp_path, "b").open(slug)
    with hb.db.transaction() as s:
        late = Session(project_id=hb.project_id, title="Sen oppfølging")
        s.add(late)
        s.flush()
        s.add(SessionParticipant(session_id=late.id, informant_id=ids["kari"]))
        s.add(TranscriptSegment(session_id=late.id, start_ms=0, end_ms=1000,
                                verbatim="Vindmølleparken en gang til.",
                                speaker_informant_id=ids["kari"]))
        late_id = late.id
    hb.close()

    # A: the dry run lists what goes and where she is named elsewhere, removes nothing
    sync(a, "alice", slug)
    dry = fk(a, "purge", "-p", slug, "--informant", "L01", "--dry-run").stdout
    assert "Would remove" in dry and "copies of their records in the conflict list" in dry
    assert "Named elsewhere" in dry and "'Intervju 3'" in dry
    assert "'Kaja'" in dry and "'Kari Nordmann'" in dry and "note/tag" in dry and "transcript" in dry
    assert "Gruppe" not in dry.split("Named elsewhere")[1]   # the group session gets NN instead
    con = sqlite3.connect(a / "projects" / slug / "project.db")
    assert con.execute("SELECT count(*) FROM informant WHERE code = 'L01'").fetchone()[0] == 1
    con.close()
    done = fk(a, "purge", "-p", slug, "--informant", "L01", "--yes").stdout
    assert "Removed:" in done and "conflict copies deleted" in done and "'Kaja'" in done
    assert conflicts(a, slug) == []
    # the researcher decides about the mentions: rewrites them
    ha = laptop(tmp_path, "a").open(slug)
    with ha.db.transaction() as s:
        seg = s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == ids["third"])).one()
        seg.verbatim, seg.edited = "Jeg snakket med NN i går.", None
        s.add(seg)
        ev = s.exec(select(Event).where(Event.session_id == ids["third"])).one()
        ev.text = "NN ringte under intervjuet."
        s.add(ev)
    ha.close()
    pushed_at = server_rows(pg, "SELECT now()")[0][0]
    sync(a, "alice", slug)

    # B syncs: the purge is applied before anything leaves B; the unsynced session never does
    out = sync(b, "bob", slug)
    assert "Withdrawn informants purged here too: L01" in out
    for sid in (follow_id, late_id):
        assert server_rows(pg, f"SELECT count(*) FROM {schema(slug)}.session WHERE id = %s", sid)[0][0] == 0
    assert conflicts(b, slug) == []
    # C and the supervisor (read-only: its own purge's audit stays with it) pull
    assert "purged here too: L01" in sync(c, "eve", slug)
    assert "purged here too: L01" in sync(sup, "carol", slug)
    for root, who in ((a, "alice"), (b, "bob"), (c, "eve"), (sup, "carol")):
        sync(root, who, slug)
    # a supervisor who clones afterwards
    late_sup = tmp_path / "sup2"
    sync(late_sup, "carol", slug)

    # ---- every copy
    for root in (a, b, c, sup, late_sup):
        assert found_in_folder(root) == [], root
        con = sqlite3.connect(root / "projects" / slug / "project.db")
        assert con.execute("SELECT count(*) FROM informant WHERE code = 'L01'").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM session WHERE id IN (?, ?, ?)",
                           (ids["one"].hex, follow_id.hex, late_id.hex)).fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM syncconflict").fetchone()[0] == 0
        con.close()
    assert found_on_server(pg, slug) == []
    sch = schema(slug)
    assert server_rows(pg, f"SELECT count(*) FROM {sch}.informant WHERE code = 'L01'")[0][0] == 0
    assert server_rows(pg, f"SELECT count(*) FROM {sch}.syncconflict")[0][0] == 0
    # her interview's audio is gone from the server; the group's is the silenced file
    assert server_rows(pg, f"SELECT count(*) FROM {sch}.serveraudio WHERE file_id = %s",
                       ids["one_file"])[0][0] == 0
    (data,) = server_rows(pg, f"SELECT data FROM {sch}.serveraudio WHERE file_id = %s", ids["group_file"])[0]
    srv_file = tmp_path / "server-group.flac"
    srv_file.write_bytes(data)
    samples, sr = sf.read(str(srv_file), dtype="int16")
    assert not samples[:2 * sr - 1].any() and samples[2 * sr + 10:].any()   # her 2 s are silent
    rel = f"audio/{ids['group']}/part-001.flac"
    for root in (a, b, c):
        here, _sr = sf.read(str(root / "projects" / slug / rel), dtype="int16")
        assert (here == samples).all(), root
        assert not (root / "projects" / slug / f"audio/{ids['one']}").exists() or \
            not any((root / "projects" / slug / f"audio/{ids['one']}").iterdir())
    # every copy holds the same records, and the server the same set
    snaps = [snapshot_of(tmp_path / n, slug) for n in ("a", "b", "c", "sup", "sup2")]
    own_audit = {k for k in set(snaps[3]) - set(snaps[0]) if k[0] == "auditentry"}
    assert len(own_audit) == 1          # the supervisor's own purge audit, kept locally
    for k in own_audit:
        del snaps[3][k]
    for n, sn in zip(("b", "c", "sup", "sup2"), snaps[1:]):
        assert sn == snaps[0], (n, set(sn) ^ set(snaps[0]),
                                [k for k in sn if k in snaps[0] and sn[k] != snaps[0][k]])
    live = {r[0].hex for r in server_rows(pg, f"SELECT record_id FROM {sch}.recordstate WHERE NOT deleted")}
    assert live == {k[1] for k in snaps[0]}
    # the supervisor's own purge audit stayed on its laptop (the server refuses its writes)
    con = sqlite3.connect(sup / "projects" / slug / "project.db")
    sup_audits = {r[0] for r in con.execute("SELECT id FROM auditentry WHERE action = 'purge_informant'")}
    con.close()
    srv_audits = {r[0].hex for r in server_rows(pg, f"SELECT id FROM {sch}.auditentry")}
    assert sup_audits - srv_audits, "the supervisor's own audit entry is kept locally"
    # what the purge touched on the server is vacuumed (here by autovacuum: a researcher's
    # login may not VACUUM tables it does not own)
    tables = ("informant", "session", "transcriptsegment", "serveraudio")
    deadline = time.monotonic() + 120
    while not _dead_rows_vacuumed(pg, slug, pushed_at, tables):
        assert time.monotonic() < deadline, server_rows(
            pg, "SELECT relname, n_dead_tup, last_vacuum, last_autovacuum FROM pg_stat_user_tables "
                "WHERE schemaname = %s", sch)
        time.sleep(0.2)                       # polling for the server's vacuum, not a timing
    informants = {r[0] for r in server_rows(pg, f"SELECT code FROM {sch}.informant")}
    assert informants == {"L02"}
    with laptop(tmp_path, "a").open(slug) as h, h.db.session() as s:
        assert {i.code for i in s.exec(select(Informant))} == {"L02"}


@pytest.mark.slow
def test_pushes_never_carry_a_withdrawn_informants_records(pg, tmp_path):
    """A laptop holds rows of an informant the team withdrew (restored from a backup of
    before the purge): the sync purges them and pushes nothing of hers."""
    import shutil

    slug = "backup-" + uuid.uuid4().hex[:6]
    fk(tmp_path, "server", "init", pg.url(), "--project", slug, "--researcher", "alice",
       "--researcher", "bob")
    a, b = tmp_path / "a", tmp_path / "b"
    ha = laptop(tmp_path, "a").create(slug)
    build(ha)
    ha.close()
    sync(a, "alice", slug)
    sync(b, "bob", slug)
    db = b / "projects" / slug / "project.db"
    saved = tmp_path / "b-before.db"
    shutil.copy(db, saved)                    # B's backup of before the withdrawal
    fk(a, "purge", "-p", slug, "--informant", "L01", "--yes")
    sync(a, "alice", slug)
    sync(b, "bob", slug)
    words = ("vindmølleparken", "Lyngdal")    # her own words (others still name her)
    assert found_in_folder(b, words) == []
    for extra in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        extra.unlink(missing_ok=True)
    shutil.copy(saved, db)                    # ... restored
    assert found_in_folder(b, words)
    out = sync(b, "bob", slug)
    assert "purged here too: L01" in out
    assert found_on_server(pg, slug, words) == [] and found_in_folder(b, words) == []
    assert server_rows(pg, f"SELECT count(*) FROM {schema(slug)}.informant WHERE code = 'L01'")[0][0] == 0


def test_projects_whose_names_agree_in_55_characters_stay_apart(pg, tmp_path):
    import psycopg

    stem = "kommunal-samhandling-om-eldre-med-demens-i-distriktene"   # 55 characters
    one, two = stem + "-nord", stem + "-sor"
    assert schema(one) != schema(two) and len(schema(one)) <= 58
    for name, who in ((one, "alice"), (two, "bob")):
        r = fk(tmp_path, "server", "init", pg.url(), "--project", name, "--researcher", who)
        assert "Created schema" in r.stdout, r.stdout
    a, b = tmp_path / "a", tmp_path / "b"
    for root, name, who, person in ((a, one, "alice", "Kari Nordmann"), (b, two, "bob", "Per Hansen")):
        h = laptop(tmp_path, root.name).create(name)
        from fieldkit.store.models import Informant

        with h.db.transaction() as s:
            s.add(Informant(project_id=h.project_id, code="L01", name=person))
        h.close()
        sync(root, who, name)
    dump_two = pg_dump(pg, two)
    assert "Per Hansen" in dump_two and "Kari Nordmann" not in dump_two
    # bob may not even read the first project
    with psycopg.connect(url(pg, "bob")) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(f"SELECT * FROM {schema(one)}.informant").fetchall()
    # a server set up by an older fieldkit (the name cut at 55 characters): server init
    # renames the project's schema and roles to the new name, and the laptop syncs on
    from fieldkit.team.server import legacy_schema_for

    legacy = legacy_schema_for(one)
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        conn.execute(f"ALTER SCHEMA {schema(one)} RENAME TO {legacy}")
        conn.execute(f"ALTER ROLE {schema(one)}_rw RENAME TO {legacy}_rw")
        conn.execute(f"ALTER ROLE {schema(one)}_ro RENAME TO {legacy}_ro")
    r = fk(tmp_path, "server", "init", pg.url(), "--project", one)
    assert "Updated schema " + schema(one) in r.stdout, r.stdout
    assert "0 new" in sync(a, "alice", one)
    assert server_rows(pg, "SELECT count(*) FROM pg_namespace WHERE nspname = %s", legacy)[0][0] == 0
    # ... and where the second name landed in the first's schema: init refuses, a clone
    # refuses, the project's own laptop refuses to sync
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        conn.execute(f"ALTER SCHEMA {schema(two)} RENAME TO {schema(two)}_old")
        conn.execute(f"ALTER SCHEMA {schema(one)} RENAME TO {schema(two)}")
    r = fk(tmp_path, "server", "init", pg.url(), "--project", two, "--researcher", "bob", ok=False)
    assert r.returncode != 0 and "already holds another project" in r.stderr and "Traceback" not in r.stderr
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        conn.execute(f"GRANT {schema(one)}_rw TO bob")    # as the old, shared schema had it
    r = fk(tmp_path / "c", "sync", "-p", two, "--server", url(pg, "bob"), ok=False)
    assert r.returncode != 0 and "another project" in r.stderr, r.stderr
    assert not (tmp_path / "c" / "projects" / two).exists()
    r = fk(b, "sync", "-p", two, "--server", url(pg, "bob"), ok=False, timeout=120)
    assert r.returncode != 0 and "different project" in r.stderr, r.stderr
    assert "Kari" not in (b / "projects" / two / "project.db").read_bytes().decode("utf-8", "replace")


GUIDE = """---
title: Samarbeid i tjenestene
language: no
---
## Rolle
- Hva er din rolle?
  - Hvor lenge har du hatt den?

## Samarbeid
- Hvem samarbeider du med?
"""

def test_same_guide_on_two_laptops_is_joined_and_a_different_one_gets_a_way_out(pg, tmp_path):
    from sqlmodel import select

    from fieldkit.store.models import GuideVersion, Session

    slug = "guide-" + uuid.uuid4().hex[:6]
    fk(tmp_path, "server", "init", pg.url(), "--project", slug, "--researcher", "alice",
       "--researcher", "bob", "--researcher", "eve")
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    laptop(tmp_path, "a").create(slug).close()
    for root, who in ((a, "alice"), (b, "bob"), (c, "eve")):
        sync(root, who, slug)
    same = tmp_path / "samarbeid.md"
    same.write_text(GUIDE, encoding="utf-8")
    other = tmp_path / "other" / "samarbeid.md"
    other.parent.mkdir()
    other.write_text(GUIDE.replace("Hvem samarbeider du med?", "Hvem ringer du først?"), encoding="utf-8")
    for root, f in ((a, same), (b, same), (c, other)):
        fk(root, "guide", "import", str(f), "-p", slug)
    hb = laptop(tmp_path, "b").open(slug)
    with hb.db.transaction() as s:
        v = s.exec(select(GuideVersion)).one()
        s.add(Session(project_id=hb.project_id, title="Bruker guiden", guide_version_id=v.id))
    hb.close()
    sync(a, "alice", slug)
    assert "joined: samarbeid" in sync(b, "bob", slug)   # joined, not refused
    sch = schema(slug)
    [(gid,)] = server_rows(pg, f"SELECT id FROM {sch}.guide")
    [(vid,)] = server_rows(pg, f"SELECT id FROM {sch}.guideversion")
    assert server_rows(pg, f"SELECT guide_version_id FROM {sch}.session WHERE title = 'Bruker guiden'") == [(vid,)]
    with laptop(tmp_path, "b").open(slug) as h, h.db.session() as s:
        assert [g.id for g in s.exec(select(GuideVersion))] == [vid]
        assert s.exec(select(Session).where(Session.title == "Bruker guiden")).one().guide_version_id == vid
    # a different guide under the same name: named, with the way out, nothing synced
    r = fk(c, "sync", "-p", slug, "--server", url(pg, "eve"), ok=False)
    assert r.returncode != 0 and "samarbeid" in r.stderr and "fieldkit guide rename" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    fk(c, "guide", "rename", "samarbeid", "samarbeid-c", "-p", slug)
    sync(c, "eve", slug)
    assert sorted(r[0] for r in server_rows(pg, f"SELECT slug FROM {sch}.guide")) == ["samarbeid", "samarbeid-c"]
    # remove: only a guide no session uses
    r = fk(b, "guide", "remove", "samarbeid", "-p", slug, ok=False)
    assert r.returncode != 0 and "used by 1 session" in r.stderr
    sync(b, "bob", slug)
    fk(b, "guide", "remove", "samarbeid-c", "-p", slug)
    sync(b, "bob", slug)
    assert [r[0] for r in server_rows(pg, f"SELECT slug FROM {sch}.guide")] == ["samarbeid"]


def test_supervisor_who_exported_still_pulls(pg, tmp_path):
    slug = "veileder-" + uuid.uuid4().hex[:6]
    fk(tmp_path, "server", "init", pg.url(), "--project", slug, "--researcher", "alice",
       "--supervisor", "carol")
    a, sup = tmp_path / "a", tmp_path / "sup"
    ha = laptop(tmp_path, "a").create(slug)
    build(ha)
    ha.close()
    sync(a, "alice", slug)
    sync(sup, "carol", slug)
    fk(sup, "export", "-p", slug, "--all", "-f", "csv", "--out", str(tmp_path / "out"))
    ha = laptop(tmp_path, "a").open(slug)
    _edit_informant(ha, "L02", role="team leader")
    ha.close()
    sync(a, "alice", slug)
    out = sync(sup, "carol", slug)
    assert "1 updated" in out, out
    con = sqlite3.connect(sup / "projects" / slug / "project.db")
    assert con.execute("SELECT role FROM informant WHERE code = 'L02'").fetchone()[0] == "team leader"
    mine = {r[0] for r in con.execute("SELECT id FROM auditentry WHERE action = 'export'")}
    con.close()
    assert mine, "the export's audit entry is kept on the supervisor's laptop"
    on_server = {r[0].hex for r in server_rows(pg, f"SELECT id FROM {schema(slug)}.auditentry")}
    assert not (mine & on_server)
    # anything else it changes is still refused, with nothing changed
    hs = laptop(tmp_path, "sup").open(slug)
    _edit_informant(hs, "L02", role="supervisor's try")
    hs.close()
    r = fk(sup, "sync", "-p", slug, "--server", url(pg, "carol"), ok=False)
    assert r.returncode != 0 and "may not change" in r.stderr
    assert server_rows(pg, f"SELECT role FROM {schema(slug)}.informant WHERE code = 'L02'") == [("team leader",)]



def test_server_copies_go_and_the_tables_are_vacuumed(pg, tmp_path):
    """Conflict copies the server keeps (of her records, or pointing at her) go with the
    withdrawal; the tables are vacuumed by a login that may, and set for autovacuum."""
    import psycopg

    from fieldkit.team.server import engine_for
    from fieldkit.team.withdrawal import PURGE_TABLES, vacuum_tables

    slug = "kopier-" + uuid.uuid4().hex[:6]
    fk(tmp_path, "server", "init", pg.url(), "--project", slug, "--researcher", "alice")
    a = tmp_path / "a"
    ha = laptop(tmp_path, "a").create(slug)
    ids = build(ha)
    ha.close()
    sync(a, "alice", slug)
    sch = schema(slug)
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        for rid, kept in ((ids["segment"], {"verbatim": "Vi snakket om vindmølleparken."}),
                          (uuid.uuid4(), {"informant_id": str(ids["kari"]), "text": "Kari Nordmann"}),
                          (uuid.uuid4(), {"text": "about someone else"})):
            conn.execute(f"INSERT INTO {sch}.syncconflict (id, created_at, updated_at, tbl, record_id, peer, "
                         "kept_side, kept, other, settled_with) VALUES (%s, now(), now(), 'x', %s, 'server', "
                         "'local', %s, '{}', '')", (uuid.uuid4(), rid, json.dumps(kept)))
        opts = dict(r for r in conn.execute(
            "SELECT c.relname, array_to_string(c.reloptions, ',') FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'", (sch,)).fetchall())
    for t in PURGE_TABLES:                            # server init set them for autovacuum
        assert "autovacuum_vacuum_threshold=0" in (opts[t] or ""), (t, opts[t])
    fk(a, "purge", "-p", slug, "--informant", "L01", "--yes")
    sync(a, "alice", slug)
    left = server_rows(pg, f"SELECT kept::text FROM {sch}.syncconflict")
    assert left == [('{"text": "about someone else"}',)]
    # a login that may VACUUM does so; a researcher's login says it may not
    alice = engine_for(url(pg, "alice"), sch)
    admin = engine_for(pg.url(), sch)
    try:
        assert vacuum_tables(alice, sch) is False
        before = server_rows(pg, "SELECT now()")[0][0]
        assert vacuum_tables(admin, sch) is True
    finally:
        alice.dispose()
        admin.dispose()
    rows = server_rows(pg, "SELECT relname, last_vacuum FROM pg_stat_user_tables WHERE schemaname = %s "
                           "AND relname = ANY(%s)", sch, list(PURGE_TABLES))
    assert len(rows) == len(PURGE_TABLES) and all(when is not None and when >= before for _t, when in rows)
