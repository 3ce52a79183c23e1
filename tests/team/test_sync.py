"""Two laptops and a real PostgreSQL 15 team server (started for these tests)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid

import pytest

from fieldkit.errors import FieldkitError
from tests.support import pg_server
from tests.support.builders import add_recording as _add_recording
from tests.support.builders import edit_segment as _edit
from tests.support.builders import laptop, snapshot
from tests.support.builders import segment as _segment
from tests.support.builders import segment_ids as _segment_ids
from tests.support.cli import fk as run_cli
from tests.support.merging import server_snapshot

pytestmark = pytest.mark.skipif(pg_server.pg_bindir() is None and not os.environ.get("CI"),
                                reason="PostgreSQL is not installed (CI installs it)")


@pytest.fixture(scope="module")
def pg():
    server = pg_server.start()
    try:   # stopped whatever happens (tests/support/audio_env.py check finds a server left running)
        import psycopg

        with psycopg.connect(server.url(), autocommit=True) as conn:
            for role in ("alice", "bob", "carol", "dave"):
                conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{role}-pw'")
        yield server
    finally:
        server.stop()


def url(pg, role):
    return pg.url(role, f"{role}-pw")


def comparable(snap_local: dict, snap_server: dict) -> tuple[set, set]:
    return set(snap_local), {k for k in snap_server}


@pytest.fixture
def team(pg, tmp_path):
    """Laptop A (alice) with a project synced to the server, laptop B (bob) with its copy."""
    from fieldkit.team.server import init_project
    from fieldkit.team.sync import clone_project, sync_project
    from tests.support.builders import build_project

    slug = "study-" + uuid.uuid4().hex[:6]
    init_project(pg.url(), slug, researchers=["alice", "bob"], supervisors=["carol"])
    a = laptop(tmp_path, "a")
    ha = a.create(slug)
    built = build_project(ha, extra_sessions=2, segs=5, events=3)
    sync_project(ha, url(pg, "alice"))
    b = laptop(tmp_path, "b")
    hb = clone_project(b, slug, url(pg, "bob"))
    res = sync_project(hb, url(pg, "bob"))
    assert res.pulled.inserted > 50
    yield slug, a, ha, b, hb, built
    ha.close()
    hb.close()


def test_schema_and_migrations_on_postgresql(pg):
    import psycopg

    from fieldkit.store.dbfile import SCHEMA_HEAD
    from fieldkit.store.models import SessionKind
    from fieldkit.team.records import LOCAL_ONLY
    from fieldkit.team.server import init_project
    from sqlmodel import SQLModel

    setup = init_project(pg.url(), "schema-check")
    assert setup.created and setup.revision == SCHEMA_HEAD
    again = init_project(pg.url(), "schema-check")
    assert not again.created
    with psycopg.connect(pg.url()) as conn:
        tables = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'fk_schema_check'")}
        (rev,) = conn.execute("SELECT version_num FROM fk_schema_check.alembic_version").fetchone()
        kinds = {r[0] for r in conn.execute(
            "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
            "JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE t.typname = 'sessionkind' AND n.nspname = 'fk_schema_check'")}
    assert rev == SCHEMA_HEAD
    assert kinds == {k.value for k in SessionKind}        # the pair interview too (0007)
    assert tables == set(SQLModel.metadata.tables) | {"alembic_version"}
    assert LOCAL_ONLY <= tables


def test_two_laptops_edit_and_sync_in_turns(pg, team):
    from fieldkit.team.ops import list_conflicts
    from fieldkit.team.sync import sync_project

    slug, a, ha, b, hb, built = team
    assert snapshot(ha) == snapshot(hb)
    both, only_a, only_b = _segment_ids(ha)
    _edit(hb, both, "B reads it so")
    _edit(hb, only_b, "B alone")
    _edit(ha, only_a, "A alone")
    _edit(ha, both, "A reads it differently, later")
    from fieldkit.instruments.events import add_event

    tag_a = add_event(ha.db, built.sessions[0], "tag", position_ms=5000, code="key_quote",
                      text="A tags it")
    tag_b = add_event(hb.db, built.sessions[0], "tag", position_ms=5000, code="digression",
                      text="B tags the same moment")
    ra = sync_project(ha, url(pg, "alice"))
    assert ra.pushed == 3 and ra.pulled.changes == 0, ra.summary()
    rb = sync_project(hb, url(pg, "bob"))
    assert rb.pulled.conflicts == 1 and rb.pulled.inserted == 1, rb.summary()
    [c] = list_conflicts(hb)
    kept = _segment(hb, both).edited
    # B's two changes, the conflict record, and the merged segment when B's reading won
    # (when A's won, the server holds that content already)
    assert rb.pushed == (4 if kept == "B reads it so" else 3), rb.summary()
    assert kept in {"B reads it so", "A reads it differently, later"}
    lost = ({"B reads it so", "A reads it differently, later"} - {kept}).pop()
    assert c["record_id"] == both and c["other"]["edited"] == lost
    ra2 = sync_project(ha, url(pg, "alice"))
    # A is told too: the conflict arrives as one
    assert ra2.pulled.conflicts == 1, ra2.summary()
    assert [x["id"] for x in list_conflicts(ha)] == [c["id"]]
    assert snapshot(ha) == snapshot(hb)
    srv = server_snapshot(pg, slug)
    assert set(srv) == set(snapshot(ha))          # same records, no duplicates (ids are keys)
    assert srv[("transcriptsegment", both.hex)]["edited"] == kept
    assert {srv[("event", t.id.hex)]["text"] for t in (tag_a, tag_b)} == {"A tags it", "B tags the same moment"}
    # nothing to do: nothing moves
    for h, who in ((ha, "alice"), (hb, "bob")):
        r = sync_project(h, url(pg, who))
        assert r.pushed == r.pushed_deletions == r.pulled.changes == 0, r.summary()


def test_purge_on_one_laptop_reaches_the_other(pg, team):
    from sqlmodel import select

    from fieldkit.privacy.purge import execute_purge, plan_informant_purge
    from fieldkit.store.models import Informant, Session
    from fieldkit.team.sync import sync_project

    slug, a, ha, b, hb, built = team
    execute_purge(ha, plan_informant_purge(ha, "L01"))
    ra = sync_project(ha, url(pg, "alice"))
    assert ra.pushed_deletions > 0
    srv = server_snapshot(pg, slug)
    assert not [k for k, d in srv.items() if k[0] == "informant" and d["code"] == "L01"]
    assert ("session", built.sessions[0].hex) not in srv
    rb = sync_project(hb, url(pg, "bob"))
    assert rb.pulled.purged_informants == ["L01"]
    with hb.db.session() as s:
        assert "L01" not in {i.code for i in s.exec(select(Informant))}
        assert s.get(Session, built.sessions[0]) is None
    # the purge arriving is done here before B pushes anything; B's own purge left its
    # audit entry (counts only), which travels in the same sync like any record
    assert rb.pushed == 1 and rb.pushed_deletions == 0, rb.summary()
    assert sync_project(hb, url(pg, "bob")).pushed == 0
    sync_project(ha, url(pg, "alice"))
    assert snapshot(ha) == snapshot(hb)
    assert set(server_snapshot(pg, slug)) == set(snapshot(hb))


def test_supervisor_reads_but_cannot_write_and_others_see_nothing(pg, team, tmp_path):
    from fieldkit.store.models import Informant
    from fieldkit.team.server import ServerError
    from fieldkit.team.sync import clone_project, sync_project

    slug, a, ha, b, hb, built = team
    c = laptop(tmp_path, "c")
    hc = clone_project(c, slug, url(pg, "carol"))
    sync_project(hc, url(pg, "carol"))                   # reading is allowed
    assert snapshot(hc) == snapshot(ha)
    with hc.db.transaction() as s:
        s.add(Informant(project_id=hc.project_id, code="S01", name="Supervisor's try"))
    before = server_snapshot(pg, slug)
    with pytest.raises(ServerError) as exc:
        sync_project(hc, url(pg, "carol"))
    assert "may not change" in exc.value.message
    assert server_snapshot(pg, slug) == before
    hc.close()
    # dave is in no group of this project: he cannot even read it
    with pytest.raises(ServerError) as exc:
        clone_project(laptop(tmp_path, "d"), slug, url(pg, "dave"))
    assert "not read" in exc.value.message or "no project" in exc.value.message
    import psycopg

    with psycopg.connect(url(pg, "dave")) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(f"SELECT * FROM fk_{slug.replace('-', '_')}.informant").fetchall()


def test_bad_server_addresses_and_logins(pg, team):
    from fieldkit.team.server import ServerError
    from fieldkit.team.sync import sync_project

    slug, a, ha, b, hb, built = team
    before = snapshot(ha)
    with pytest.raises(ServerError) as exc:
        sync_project(ha, pg.url("alice", "wrong"))
    assert "refused the login" in exc.value.message
    with pytest.raises(ServerError) as exc:
        sync_project(ha, f"postgresql://alice:x@127.0.0.1:{pg_server._free_port()}/fieldkit")
    assert "Cannot reach" in exc.value.message and "keep working" in exc.value.hint
    assert snapshot(ha) == before


def _cli(home, *args, env_extra=None, **kw):
    env = {**os.environ, "FIELDKIT_HOME": str(home), **(env_extra or {})}
    return subprocess.Popen([sys.executable, "-m", "fieldkit", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_two_laptops_sync_at_once_from_the_command_line(pg, team):
    from sqlmodel import select

    from fieldkit.store.models import Informant

    slug, a, ha, b, hb, built = team
    for h, code in ((ha, "A50"), (hb, "B50")):
        with h.db.transaction() as s:
            s.add(Informant(project_id=h.project_id, code=code, role="nurse"))
    procs = [_cli(a.root, "sync", "-p", slug, "--server", url(pg, "alice")),
             _cli(b.root, "sync", "-p", slug, "--server", url(pg, "bob"))]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    # the address is remembered (without its password: PGPASSWORD gives it)
    for h, who, root in ((ha, "alice", a.root), (hb, "bob", b.root)):
        p = _cli(root, "sync", "-p", slug, env_extra={"PGPASSWORD": f"{who}-pw"})
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    with ha.db.session() as s:
        codes = [i.code for i in s.exec(select(Informant))]
    assert sorted(codes).count("A50") == 1 and "B50" in codes
    assert snapshot(ha) == snapshot(hb)
    assert set(server_snapshot(pg, slug)) == set(snapshot(ha))


def test_informant_code_clash_on_sync_is_asked(pg, team):
    from sqlmodel import select

    from fieldkit.store.models import Informant
    from fieldkit.team.sync import sync_project

    slug, a, ha, b, hb, built = team
    with ha.db.transaction() as s:
        s.add(Informant(project_id=ha.project_id, code="L77", name="Per", role="nurse"))
    with hb.db.transaction() as s:
        s.add(Informant(project_id=hb.project_id, code="L77", name="Liv", role="leader"))
    sync_project(ha, url(pg, "alice"))
    before = server_snapshot(pg, slug)
    with pytest.raises(FieldkitError) as exc:
        sync_project(hb, url(pg, "bob"))
    assert "L77" in exc.value.message and "--recode L77=" in exc.value.hint
    assert server_snapshot(pg, slug) == before
    sync_project(hb, url(pg, "bob"), recode={"L77": "L78"})
    sync_project(ha, url(pg, "alice"))
    with ha.db.session() as s:
        names = {i.code: i.name for i in s.exec(select(Informant))}
    assert names["L77"] == "Per" and names["L78"] == "Liv"


def test_same_person_registered_on_two_laptops_is_joined_when_said(pg, team):
    from sqlmodel import select

    from fieldkit.instruments.events import add_event
    from fieldkit.store.models import Event, Informant
    from fieldkit.team.sync import sync_project

    slug, a, ha, b, hb, built = team
    with ha.db.transaction() as s:
        s.add(Informant(project_id=ha.project_id, code="L88", role="nurse", site="Nord"))
    with hb.db.transaction() as s:
        mine = Informant(project_id=hb.project_id, code="L88", name="Siri Dahl", role="nurse")
        s.add(mine)
    ev = add_event(hb.db, built.sessions[1], "note", position_ms=100, text="Siri kom sent",
                   informant_id=mine.id)
    sync_project(ha, url(pg, "alice"))
    with pytest.raises(FieldkitError) as exc:
        sync_project(hb, url(pg, "bob"))
    assert "--same-person L88" in exc.value.hint
    sync_project(hb, url(pg, "bob"), same={"L88"})
    sync_project(ha, url(pg, "alice"))
    for h in (ha, hb):
        with h.db.session() as s:
            [one] = [i for i in s.exec(select(Informant)) if i.code == "L88"]
            assert (one.site, one.name) == ("Nord", "Siri Dahl")   # the team's record, our details
            assert s.get(Event, ev.id).informant_id == one.id
    assert snapshot(ha) == snapshot(hb)


def _server_seq(pg, slug) -> int:
    import psycopg

    with psycopg.connect(pg.url()) as conn:
        return conn.execute(f"SELECT coalesce(max(seq), 0) FROM fk_{slug.replace('-', '_')}.recordstate").fetchone()[0]


def test_kill_during_sync_leaves_both_sides_consistent(pg, team):
    """The laptop's database is held busy by another writer so the sync stops after the
    server's commit and before the laptop's; it is killed there (the server's change
    number is the event waited for), then a second sync finishes the job."""
    from fieldkit.store.models import Informant
    from fieldkit.team.sync import sync_project

    slug, a, ha, b, hb, built = team
    _edit(hb, _segment_ids(hb)[0], "edited by B before the cut")
    with hb.db.transaction() as s:
        s.add(Informant(project_id=hb.project_id, code="K01", role="leader"))
    sync_project(hb, url(pg, "bob"))
    _edit(ha, _segment_ids(ha)[1], "edited by A, cut off")
    local_before = snapshot(ha)
    seq0 = _server_seq(pg, slug)
    blocker = sqlite3.connect(ha.db.path, timeout=30)
    blocker.execute("BEGIN IMMEDIATE")          # another writer holds the laptop's database
    proc = _cli(a.root, "sync", "-p", slug, "--server", url(pg, "alice"))
    deadline = time.monotonic() + 120
    while _server_seq(pg, slug) == seq0:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)                        # polling for the event, not waiting a time
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    blocker.rollback()
    blocker.close()
    assert snapshot(ha) == local_before         # the laptop: nothing half-applied
    srv = server_snapshot(pg, slug)
    assert ("informant", [k for k in snapshot(hb) if k[0] == "informant"][0][1]) in srv
    # the server: its records and its change list agree
    import psycopg

    with psycopg.connect(pg.url()) as conn:
        live = {r[0].hex for r in conn.execute(
            f"SELECT record_id FROM fk_{slug.replace('-', '_')}.recordstate WHERE NOT deleted")}
    assert live == {k[1] for k in srv}
    r = sync_project(ha, url(pg, "alice"))      # resumes: finishes what was cut off
    assert r.pulled.conflicts == 0, r.summary()
    sync_project(hb, url(pg, "bob"))
    assert snapshot(ha) == snapshot(hb)
    assert set(server_snapshot(pg, slug)) == set(snapshot(ha))
    assert _segment(hb, _segment_ids(ha)[1]).edited == "edited by A, cut off"


def test_audio_reaches_the_server_only_when_the_team_chooses(pg, team):
    import psycopg

    from fieldkit.team.server import init_project, schema_for
    from fieldkit.team.sync import sync_project

    slug, a, ha, b, hb, built = team
    rel = _add_recording(ha)
    sync_project(ha, url(pg, "alice"))
    q = f"SELECT count(*) FROM {schema_for(slug)}.serveraudio"
    with psycopg.connect(pg.url()) as conn:
        assert conn.execute(q).fetchone()[0] == 0          # records only, by default
    sync_project(hb, url(pg, "bob"))
    assert not (hb.folder / rel).exists()
    init_project(pg.url(), slug, audio=True)               # the team decides: audio too
    r = sync_project(ha, url(pg, "alice"))
    assert r.audio_up == 1
    r = sync_project(hb, url(pg, "bob"))
    assert r.audio_down == 1
    assert (hb.folder / rel).read_bytes() == (ha.folder / rel).read_bytes()


def test_server_with_a_newer_schema_is_refused(pg, team):
    import psycopg

    from fieldkit.team.server import ServerError, schema_for
    from fieldkit.team.sync import sync_project

    slug, a, ha, b, hb, built = team
    with psycopg.connect(pg.url()) as conn:
        conn.execute(f"UPDATE {schema_for(slug)}.alembic_version SET version_num = '0099_future'")
    before = snapshot(ha)
    with pytest.raises(ServerError) as exc:
        sync_project(ha, url(pg, "alice"))
    assert "newer schema" in exc.value.message and "Update fieldkit" in exc.value.hint
    assert snapshot(ha) == before


def test_server_init_command(pg):
    r = run_cli(None, "server", "init", pg.url(), "--project", "cli-made", "--researcher", "alice", "--supervisor", "carol", ok=False)
    assert r.returncode == 0, r.stderr
    assert "Created schema fk_cli_made" in r.stdout and "admin-secret" not in r.stdout
    r = run_cli(None, "server", "init", pg.url(), "--project", "cli-made", "--researcher", "nobody_here", ok=False)
    assert r.returncode != 0 and "no login role 'nobody_here'" in r.stderr and "Traceback" not in r.stderr


def test_connection_dropped_during_sync(pg, team):
    """The server drops the sync's connection while it waits for its turn (another laptop
    holds the project's lock): a clear message, nothing changed on either side."""
    import psycopg

    from fieldkit.store.models import Informant
    from fieldkit.team.server import schema_for
    from fieldkit.team.sync import sync_project

    slug, a, ha, b, hb, built = team
    with ha.db.transaction() as s:
        s.add(Informant(project_id=ha.project_id, code="D01", role="nurse"))
    local_before, server_before = snapshot(ha), server_snapshot(pg, slug)
    holder = psycopg.connect(pg.url(), autocommit=True)
    holder.execute("SELECT pg_advisory_lock(hashtext(%s))", (schema_for(slug),))
    proc = _cli(a.root, "sync", "-p", slug, "--server", url(pg, "alice"))
    deadline = time.monotonic() + 120
    waiting = None
    while waiting is None:                      # the event: its backend waits for the lock
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        row = holder.execute("SELECT a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                             "WHERE l.locktype = 'advisory' AND NOT l.granted").fetchone()
        waiting = row[0] if row else None
        if waiting is None:
            time.sleep(0.05)                    # polling for the event, not waiting a time
    holder.execute("SELECT pg_terminate_backend(%s)", (waiting,))
    out, err = proc.communicate(timeout=120)
    holder.close()
    assert proc.returncode != 0 and "Traceback" not in err
    assert "team server" in err and ("sync again" in err or "sync when" in err), err
    assert snapshot(ha) == local_before
    assert server_snapshot(pg, slug) == server_before
    assert sync_project(ha, url(pg, "alice")).pushed >= 1     # and the next sync works


def test_copy_from_the_server_encrypted(pg, team, tmp_path):
    from fieldkit.privacy.crypto import is_encrypted

    slug, a, ha, b, hb, built = team
    home = tmp_path / "e"
    p = _cli(home, "sync", "-p", slug, "--server", url(pg, "bob"), "--encrypt",
             env_extra={"FIELDKIT_PASSPHRASE": "felt og fjell"})
    out, err = p.communicate(timeout=180)
    assert p.returncode == 0 and out.startswith("Copied from the team server"), err
    folder = home / "projects" / slug
    assert is_encrypted(folder)
    assert b"Kari" not in (folder / "project.db").read_bytes()
    from fieldkit.team.records import all_records, content_hash

    def hashes(h):
        with h.db.engine.connect() as conn:
            return {rid: content_hash(d) for rid, (_t, d) in all_records(conn).items()}

    with laptop(tmp_path, "e").open(slug, passphrase="felt og fjell") as he:
        assert hashes(he) == hashes(hb) and len(hashes(he)) == len(snapshot(hb))


def test_unrelated_deletion_conflict_survives_a_withdrawal_in_the_same_push(pg, team):
    """A push that carries a withdrawal removes the server's conflict copies of *her*
    records only: a deletion that met an edit of something unrelated, pushed in the same
    sync, stays a conflict on the server and on both laptops."""
    from sqlmodel import select

    from fieldkit.privacy.purge import execute_purge, plan_informant_purge
    from fieldkit.store.models import Informant, SessionParticipant, SyncConflict, TranscriptSegment
    from fieldkit.team.server import schema_for
    from fieldkit.team.sync import sync_project
    from tests.support.builders import edit_segment

    slug, a, ha, b, hb, built = team
    with ha.db.session() as s:
        kari = s.exec(select(Informant).where(Informant.code == "L01")).one().id
        hers = set(s.exec(select(SessionParticipant.session_id).where(
            SessionParticipant.informant_id == kari)).all())
        seg_id = next(x.id for x in s.exec(select(TranscriptSegment).order_by(TranscriptSegment.start_ms))
                      if x.session_id not in hers and x.speaker_informant_id != kari)
    edit_segment(hb, seg_id, "B rettet dette for hånd")
    sync_project(hb, url(pg, "bob"))
    with ha.db.transaction() as s:         # A, not synced since, deletes it and purges her
        s.delete(s.get(TranscriptSegment, seg_id))
    execute_purge(ha, plan_informant_purge(ha, "L01"))
    assert sync_project(ha, url(pg, "alice")).pulled.conflicts == 1
    sync_project(hb, url(pg, "bob"))
    import psycopg

    with psycopg.connect(pg.url()) as conn:
        on_server = conn.execute(f"SELECT other::text FROM {schema_for(slug)}.syncconflict "
                                 "WHERE record_id = %s", (seg_id,)).fetchall()
        assert conn.execute(f"SELECT count(*) FROM {schema_for(slug)}.informant WHERE id = %s",
                            (kari,)).fetchone()[0] == 0
    assert len(on_server) == 1 and "B rettet dette" in on_server[0][0]
    for h in (ha, hb):
        with h.db.session() as s:
            [c] = s.exec(select(SyncConflict).where(SyncConflict.record_id == seg_id)).all()
            assert c.kept_side == "deleted" and c.other["edited"] == "B rettet dette for hånd"
