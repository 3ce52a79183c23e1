"""Storage: models, relations, delete rules, migrations, and opening bad databases."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, select

from fieldkit.errors import DatabaseError
from fieldkit.store import db as dbmod
from fieldkit.store.db import SCHEMA_HEAD, open_database
from fieldkit.store.models import (
    Event,
    EventKind,
    Guide,
    GuideVersion,
    Informant,
    Project,
    Recording,
    RecordingFile,
    Researcher,
    Session,
    SessionParticipant,
    TagCode,
    TagScheme,
    TranscriptSegment,
)


def _populate(database) -> dict[str, uuid.UUID]:
    with database.transaction() as s:
        p = Project(name="P", slug="p")
        s.add(p)
        s.flush()
        lead = Researcher(project_id=p.id, name="Ada Lead", initials="AL")
        inf = Informant(project_id=p.id, code="L01", name="Kari Nordmann", role="leader")
        g = Guide(project_id=p.id, slug="g", title="Guide")
        s.add_all([lead, inf, g])
        s.flush()
        gv = GuideVersion(guide_id=g.id, number=1, content_hash="x", source_text="# T")
        ts = TagScheme(project_id=p.id, name="interview")
        s.add_all([gv, ts])
        s.flush()
        tc = TagCode(scheme_id=ts.id, code="quote", label="Key quote", key="k")
        sess = Session(project_id=p.id, title="S1", guide_version_id=gv.id, lead_id=lead.id)
        s.add_all([tc, sess])
        s.flush()
        rec = Recording(session_id=sess.id, folder="audio/x")
        s.add(rec)
        s.flush()
        s.add(RecordingFile(recording_id=rec.id, seq=0, path="audio/x/0.flac", offset_ms=0))
        s.add(SessionParticipant(session_id=sess.id, informant_id=inf.id, speaker_label="I1"))
        s.add(Event(session_id=sess.id, kind=EventKind.tag, position_ms=1200, tag_code_id=tc.id,
                    code="quote", informant_id=inf.id, created_by=lead.id))
        s.add(TranscriptSegment(session_id=sess.id, start_ms=0, end_ms=900, verbatim="hei",
                                speaker_informant_id=inf.id))
        return {"project": p.id, "session": sess.id, "informant": inf.id, "lead": lead.id,
                "guide_version": gv.id, "tag": tc.id, "recording": rec.id}


@pytest.fixture
def database(tmp_path: Path):
    d = open_database(tmp_path / "project.db", create=True)
    yield d
    d.close()


def test_pragmas_and_uuid_keys(database):
    with database.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert c.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    ids = _populate(database)
    assert all(isinstance(v, uuid.UUID) for v in ids.values())
    with database.session() as s:
        sess = s.get(Session, ids["session"])
        assert sess.created_at.tzinfo is not None
        assert [e.code for e in sess.events] == ["quote"]
        assert sess.participants[0].informant.code == "L01"
        assert sess.recordings[0].files[0].path.endswith("0.flac")
        assert sess.segments[0].text == "hei"
        assert s.get(Project, ids["project"]).sessions[0].id == sess.id


def test_edited_layer_never_replaces_verbatim(database):
    ids = _populate(database)
    with database.transaction() as s:
        seg = s.exec(select(TranscriptSegment)).one()
        seg.edited = "Hei."
    with database.session() as s:
        seg = s.exec(select(TranscriptSegment)).one()
        assert (seg.verbatim, seg.edited, seg.text) == ("hei", "Hei.", "Hei.")
    assert ids


def test_updated_at_moves_on_update(database):
    ids = _populate(database)
    with database.session() as s:
        before = s.get(Informant, ids["informant"]).updated_at
    with database.transaction() as s:
        s.get(Informant, ids["informant"]).role = "nurse"
    with database.session() as s:
        assert s.get(Informant, ids["informant"]).updated_at > before


def test_delete_session_cascades(database):
    ids = _populate(database)
    with database.transaction() as s:
        s.delete(s.get(Session, ids["session"]))
    with database.session() as s:
        for model in (Event, TranscriptSegment, Recording, RecordingFile, SessionParticipant):
            assert s.exec(select(model)).all() == [], model
        assert s.get(Informant, ids["informant"]) is not None


def test_delete_informant_unlinks_but_keeps_others(database):
    ids = _populate(database)
    with database.transaction() as s:
        s.delete(s.get(Informant, ids["informant"]))
    with database.session() as s:
        assert s.exec(select(SessionParticipant)).all() == []
        ev = s.exec(select(Event)).one()
        seg = s.exec(select(TranscriptSegment)).one()
        assert ev.informant_id is None and seg.speaker_informant_id is None


def test_used_guide_version_cannot_be_deleted(database):
    ids = _populate(database)
    with pytest.raises(IntegrityError):
        with database.transaction() as s:
            s.delete(s.get(GuideVersion, ids["guide_version"]))


def test_delete_project_removes_everything(database):
    ids = _populate(database)
    with database.transaction() as s:
        s.delete(s.get(Project, ids["project"]))
    with database.session() as s:
        for table in SQLModel.metadata.sorted_tables:
            if table.name != "auditentry":
                assert s.exec(select(table)).all() == [], table.name


def test_unique_pseudonym_code_per_project(database):
    ids = _populate(database)
    with pytest.raises(IntegrityError):
        with database.transaction() as s:
            s.add(Informant(project_id=ids["project"], code="L01"))


# ------------------------------------------------------------------ migrations


def test_head_constant_matches_alembic():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(dbmod.MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(cfg)
    assert script.get_current_head() == SCHEMA_HEAD
    assert [r.revision for r in script.walk_revisions()][::-1] == list(dbmod.KNOWN_REVISIONS)


@pytest.mark.real_migrations
def test_migrated_schema_matches_models(tmp_path: Path):
    """Empty -> head through every migration gives exactly the tables the models declare."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    d = open_database(tmp_path / "p.db", create=True)
    with d.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    d.close()
    assert diff == []


def test_the_tests_template_database_is_what_migrating_gives(tmp_path: Path):
    """The other tests' new databases are copies of a migrated template
    (tests/support/template_db.py): a copy has the schema, triggers and revision that running
    every migration gives."""
    from tests.support import template_db

    def schema(path: Path) -> tuple:
        # line by line, in any order: the batch migrations write a table's foreign keys in a
        # different order from one run to the next
        con = sqlite3.connect(path)
        try:
            return (sorted((t, n, tbl, sorted(line.strip().rstrip(",") for line in (sql or "").splitlines()))
                           for t, n, tbl, sql in con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master")),
                    con.execute("SELECT version_num FROM alembic_version").fetchall(),
                    con.execute("PRAGMA journal_mode").fetchone())
        finally:
            con.close()

    assert dbmod.upgrade is template_db.templated_upgrade
    open_database(tmp_path / "copied.db", create=True).close()
    migrated = dbmod.make_engine(tmp_path / "migrated.db")
    template_db._real_upgrade(migrated)
    migrated.dispose()
    assert schema(tmp_path / "copied.db") == schema(tmp_path / "migrated.db")
    assert schema(tmp_path / "copied.db")[1] == [(SCHEMA_HEAD,)]


def test_previous_revision_is_backed_up_and_migrated(tmp_path: Path):
    path = tmp_path / "project.db"
    engine = dbmod.make_engine(path)
    dbmod.upgrade(engine, "0001")
    with engine.begin() as c:
        c.exec_driver_sql(
            "INSERT INTO project (id, created_at, updated_at, name, slug, description, language,"
            " vocabulary, redaction_terms, transcription, is_demo) VALUES"
            " ('0123456789abcdef0123456789abcdef', '2026-01-01 00:00:00', '2026-01-01 00:00:00',"
            " 'Old', 'old', '', 'no', '', '[]', '{}', 0)"
        )
    engine.dispose()
    d = open_database(path)
    assert d.migrated_from == "0001"
    assert d.backup_path is not None and d.backup_path.exists()
    assert dbmod.read_revision(d.engine) == SCHEMA_HEAD
    with d.session() as s:
        assert s.exec(select(Project)).one().name == "Old"
    d.close()
    # the backup is the old database, untouched
    con = sqlite3.connect(d.backup_path)
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
    con.close()


def test_newer_database_is_refused_and_untouched(tmp_path: Path):
    path = tmp_path / "project.db"
    open_database(path, create=True).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(DatabaseError, match="newer fieldkit"):
        open_database(path)
    assert path.read_bytes() == before


def test_corrupt_database_is_refused_and_untouched(tmp_path: Path):
    path = tmp_path / "project.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(DatabaseError, match=r"damaged or is not a fieldkit database") as err:
        open_database(path)
    assert str(path) in err.value.message
    assert path.read_bytes() == b"this is not sqlite at all" * 100


def test_truncated_database_is_refused(tmp_path: Path):
    path = tmp_path / "project.db"
    d = open_database(path, create=True)
    _populate(d)
    d.close()
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\x00" * 50 + data[150:2000])
    (tmp_path / "project.db-wal").unlink(missing_ok=True)
    with pytest.raises(DatabaseError):
        open_database(path)


def test_foreign_sqlite_file_is_refused(tmp_path: Path):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE notes (x)")
    con.commit()
    con.close()
    with pytest.raises(DatabaseError, match="no fieldkit schema"):
        open_database(path)


LOCKER = """
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("PRAGMA journal_mode=%s" % sys.argv[2])
con.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(30)
"""


@pytest.mark.parametrize("journal", ["DELETE", "WAL"])
def test_locked_database_gives_clear_message(tmp_path: Path, journal: str):
    path = tmp_path / "project.db"
    engine = dbmod.make_engine(path)
    dbmod.upgrade(engine, "0001")  # so opening has to write (migrate)
    engine.dispose()
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA journal_mode={journal}")
    con.close()
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(path), journal],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline().strip() == "locked"
        with pytest.raises(DatabaseError, match="locked by another program"):
            open_database(path)
    finally:
        locker.kill()
        locker.wait()
    d = open_database(path)  # once the other program is gone, it opens and migrates
    assert dbmod.read_revision(d.engine) == SCHEMA_HEAD
    d.close()


def test_missing_database(tmp_path: Path):
    with pytest.raises(DatabaseError, match="no fieldkit database"):
        open_database(tmp_path / "nope.db")



LOCK_PROBE = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:   # SQLite's shared-lock bytes on the database file (SHARED_FIRST, SHARED_SIZE)
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 510, 0x40000002)
    print("free")
except OSError:
    print("held")
"""


def _old_style_header_read(path, size=16):
    with open(path, "rb") as fh:
        return fh.read(size)


@pytest.mark.parametrize("reader", ["fieldkit", "open-close"])
def test_opening_a_second_handle_keeps_the_first_ones_lock(tmp_path: Path, monkeypatch, reader):
    """A connection in WAL mode holds a shared lock on the database file so that no other
    program takes the database as unused (and checkpoints and removes its write-ahead log
    under it). Opening a second handle in the same process (another screen) must not drop
    that lock: closing any descriptor of the file drops all of a process's POSIX locks."""
    if reader == "open-close":
        monkeypatch.setattr(dbmod, "read_header", _old_style_header_read)
    path = tmp_path / "project.db"
    first = open_database(path, create=True)
    with first.transaction() as s:
        s.add(Project(name="before", slug="before"))

    def probe() -> str:
        return subprocess.run([sys.executable, "-c", LOCK_PROBE, str(path)], capture_output=True,
                              text=True, check=True).stdout.strip()

    assert probe() == "held"
    second = open_database(path)   # reads the file's header while `first` is open
    second.close()
    try:
        # the old way let another program see the database as unused: this is the failure
        assert probe() == ("held" if reader == "fieldkit" else "free")
    finally:
        first.close()
