"""Whatever a person types or pastes reaches the other copy whole: pack/merge between two
laptops and sync through a real PostgreSQL team server (tests/support/pg_server.py) give the
other copy the same text, by the one rule (fieldkit.text), also when the first copy holds
text an older fieldkit stored unchecked (a NUL byte once stopped every sync of the team).
A record the other side refuses is named, and the rest of the exchange goes through."""

from __future__ import annotations

import os
import sqlite3
import uuid

import pytest
from hypothesis import HealthCheck, example, given, settings

from fieldkit.text import clean_text
from tests.support import pg_server
from tests.support.builders import laptop
from tests.support.text import big_text, user_text

needs_pg = pytest.mark.skipif(pg_server.pg_bindir() is None and not os.environ.get("CI"),
                              reason="PostgreSQL is not installed (CI installs it)")
SETTINGS = settings(max_examples=5, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _stored(db, sql: str, *params) -> list:  # noqa: ANN001, ANN002
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def _raw(handle, sql: str, *params) -> None:  # noqa: ANN001, ANN002
    """Written past fieldkit, as an older version stored text (no rule)."""
    con = sqlite3.connect(handle.db.path)
    con.execute(sql, params)
    con.commit()
    con.close()


def _no_surrogates(text: str) -> str:
    """What SQLite can hold at all (it stores UTF-8: a lone surrogate never got in)."""
    return "".join(c for c in text if not 0xD800 <= ord(c) <= 0xDFFF)


def enter(handle, sid: uuid.UUID, text: str) -> dict[str, uuid.UUID]:  # noqa: ANN001
    """``text`` as a note, an informant's role and a transcript edit through fieldkit, and
    as an older version's note (written raw, NUL and all). Returns the record ids."""
    from fieldkit.people.informants import add_informant
    from fieldkit.instruments.events import add_event
    from fieldkit.store.models import TranscriptSegment
    from fieldkit.sessions.review import edit_segment

    ids = {}
    ids["note"] = add_event(handle.db, sid, "note", position_ms=1000, text=text).id
    ids["informant"] = add_informant(handle, "R" + uuid.uuid4().hex[:6], role=text).id
    with handle.db.transaction() as s:
        seg = TranscriptSegment(session_id=sid, start_ms=0, end_ms=500, verbatim="v")
        s.add(seg)
    edit_segment(handle, seg.id, text + " e")
    ids["segment"] = seg.id
    old = add_event(handle.db, sid, "note", position_ms=2000, text="placeholder").id
    _raw(handle, "UPDATE event SET text = ?, updated_at = updated_at WHERE id = ?",
         "old\x00" + _no_surrogates(text), old.hex)
    ids["old"] = old
    return ids


def expected(text: str) -> dict[str, object]:
    return {"note": clean_text(text), "informant": clean_text(text),
            "segment": clean_text(text + " e").strip() or None, "old": clean_text("old" + _no_surrogates(text))}


def stored(db, ids: dict[str, uuid.UUID]) -> dict[str, object]:  # noqa: ANN001
    one = lambda sql, rid: _stored(db, sql, rid.hex)[0][0]  # noqa: E731
    return {"note": one("SELECT text FROM event WHERE id = ?", ids["note"]),
            "informant": one("SELECT role FROM informant WHERE id = ?", ids["informant"]),
            "segment": one("SELECT edited FROM transcriptsegment WHERE id = ?", ids["segment"]),
            "old": one("SELECT text FROM event WHERE id = ?", ids["old"])}


# ---------------------------------------------------------------------------- pack / merge


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    from fieldkit.team.ops import merge_pack
    from fieldkit.team.pack import write_pack
    from tests.support.builders import build_project

    root = tmp_path_factory.mktemp("pair")
    a = laptop(root, "a")
    ha = a.create("Tekst team")
    built = build_project(ha, extra_sessions=0, segs=3, events=2)
    write_pack(ha, root / "first.fkpack")
    b = laptop(root, "b")
    assert merge_pack(b, root / "first.fkpack").created
    yield root, a, ha, b, built
    ha.close()


@pytest.mark.slow
@SETTINGS
@given(text=user_text.filter(lambda t: clean_text(t).strip()))
@example(text="Møte\x0bTirsdag\x01 \x00rolle\u2028leder\r\nslutt")
@example(text=big_text())
def test_pack_and_merge_give_the_other_laptop_the_same_cleaned_text(pair, text: str) -> None:
    from fieldkit.team.ops import merge_pack
    from fieldkit.team.pack import write_pack

    root, a, ha, b, built = pair
    ids = enter(ha, built.sessions[0], text)
    pack = root / f"{uuid.uuid4().hex[:8]}.fkpack"
    write_pack(ha, pack)
    res = merge_pack(b, pack)
    assert not res.outcome.refused, res.outcome.refused
    hb_db = b.projects_dir / "tekst-team" / "project.db"
    assert stored(hb_db, ids) == expected(text)
    assert merge_pack(b, pack).outcome.changes == 0          # merging again changes nothing


def test_merge_names_a_record_this_project_refuses_and_brings_in_the_rest(tmp_path) -> None:
    """Both laptops gave the key z to a different tag: the incoming tag cannot be stored
    here (one key, one tag). It is named with what to do; the note made with it arrives;
    once renamed on the other laptop it comes in at the next merge."""
    from click.testing import CliRunner
    from sqlmodel import select

    from fieldkit.cli import cli
    from fieldkit.instruments.events import add_event
    from fieldkit.store.models import TagCode, TagScheme
    from fieldkit.team.ops import merge_pack
    from fieldkit.team.pack import write_pack
    from tests.support.builders import build_project

    a = laptop(tmp_path, "a")
    ha = a.create("Tagg studie")
    built = build_project(ha, extra_sessions=0, segs=3, events=2)
    write_pack(ha, tmp_path / "first.fkpack")
    b = laptop(tmp_path, "b")
    merge_pack(b, tmp_path / "first.fkpack")
    hb = b.open("Tagg studie")

    def add_tag(handle, code: str):  # noqa: ANN001, ANN202
        with handle.db.transaction() as s:
            scheme = s.exec(select(TagScheme)).first()
            tag = TagCode(scheme_id=scheme.id, code=code, label=code, key="z")
            s.add(tag)
        return tag.id

    theirs = add_tag(ha, "a_tag")
    add_tag(hb, "b_tag")
    note = add_event(ha.db, built.sessions[0], "note", position_ms=10, text="Notat\x0bfra A").id
    hb.close()
    write_pack(ha, tmp_path / "second.fkpack")
    r = CliRunner().invoke(cli, ["--data-dir", str(b.root), "project", "merge", str(tmp_path / "second.fkpack")])
    assert r.exit_code == 1, r.output
    assert f"Not taken: this project refused the incoming tagcode {theirs.hex[:8]} (a_tag)" in r.output
    assert "tried again at the next exchange" in r.output
    db = b.projects_dir / "tagg-studie" / "project.db"
    assert _stored(db, "SELECT text FROM event WHERE id = ?", note.hex) == [("Notat\nfra A",)]
    assert _stored(db, "SELECT count(*) FROM tagcode WHERE id = ?", theirs.hex) == [(0,)]
    # renamed on laptop A: the next merge brings it in
    with ha.db.transaction() as s:
        tag = s.get(TagCode, theirs)
        tag.key = "y"
        s.add(tag)
    write_pack(ha, tmp_path / "third.fkpack")
    res = merge_pack(b, tmp_path / "third.fkpack")
    assert not res.outcome.refused
    assert _stored(db, "SELECT key FROM tagcode WHERE id = ?", theirs.hex) == [("y",)]
    ha.close()


# ---------------------------------------------------------------------------- sync


@pytest.fixture(scope="module")
def pg():
    if pg_server.pg_bindir() is None:
        pytest.skip("PostgreSQL is not installed (CI installs it)")
    server = pg_server.start()
    import psycopg

    with psycopg.connect(server.url(), autocommit=True) as conn:
        for role in ("alice", "bob"):
            conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{role}-pw'")
    yield server
    server.stop()


def url(pg, role):  # noqa: ANN001
    return pg.url(role, f"{role}-pw")


@pytest.fixture(scope="module")
def team(pg, tmp_path_factory):
    from fieldkit.team.server import init_project
    from fieldkit.team.sync import clone_project, sync_project
    from tests.support.builders import build_project

    root = tmp_path_factory.mktemp("team")
    slug = "tekst-" + uuid.uuid4().hex[:6]
    init_project(pg.url(), slug, researchers=["alice", "bob"])
    a = laptop(root, "a")
    ha = a.create(slug)
    built = build_project(ha, extra_sessions=0, segs=3, events=2)
    sync_project(ha, url(pg, "alice"))
    b = laptop(root, "b")
    hb = clone_project(b, slug, url(pg, "bob"))
    sync_project(hb, url(pg, "bob"))
    yield slug, ha, hb, built
    ha.close()
    hb.close()


def server_text(pg, slug: str, ids: dict[str, uuid.UUID]) -> dict[str, object]:  # noqa: ANN001
    """The same fields on the team server, read with psycopg directly."""
    import psycopg

    from fieldkit.team.server import schema_for

    sch = schema_for(slug)
    with psycopg.connect(pg.url()) as conn:
        one = lambda sql, rid: conn.execute(sql.format(s=sch), (rid,)).fetchone()[0]  # noqa: E731
        return {"note": one('SELECT text FROM "{s}".event WHERE id = %s', ids["note"]),
                "informant": one('SELECT role FROM "{s}".informant WHERE id = %s', ids["informant"]),
                "segment": one('SELECT edited FROM "{s}".transcriptsegment WHERE id = %s', ids["segment"]),
                "old": one('SELECT text FROM "{s}".event WHERE id = %s', ids["old"])}


@needs_pg
@pytest.mark.slow
@SETTINGS
@given(text=user_text.filter(lambda t: clean_text(t).strip()))
@example(text="note with a NUL\x00 byte, Word's\x0bbreak and a\u2028separator")
@example(text=big_text())
def test_sync_gives_the_team_the_same_cleaned_text_even_from_an_older_version(pg, team, text: str) -> None:
    from fieldkit.team.sync import sync_project

    slug, ha, hb, built = team
    ids = enter(ha, built.sessions[0], text)
    ra = sync_project(ha, url(pg, "alice"))
    assert not ra.refused and ra.pushed >= 4, ra.summary()
    assert server_text(pg, slug, ids) == expected(text)
    rb = sync_project(hb, url(pg, "bob"))
    assert not rb.refused and not rb.pulled.refused
    assert stored(hb.db.path, ids) == expected(text)


@needs_pg
def test_a_record_the_server_or_this_laptop_refuses_is_named_and_the_rest_syncs(pg, team, tmp_path) -> None:
    """The team server refuses one note (a check the team added); the laptop's own tag
    clashes with the team's (the same key for another tag), both ways. Each refused record
    is named with what to do, everything else is exchanged, and once put right the next
    sync carries it."""
    import psycopg
    from click.testing import CliRunner
    from sqlmodel import select

    from fieldkit.cli import cli
    from fieldkit.instruments.events import add_event
    from fieldkit.store.models import TagCode, TagScheme
    from fieldkit.team.server import schema_for
    from fieldkit.team.sync import sync_project

    slug, ha, hb, built = team
    sch = schema_for(slug)
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        conn.execute(f'''CREATE FUNCTION "{sch}".no_secret() RETURNS trigger AS $$
            BEGIN IF NEW.text LIKE '%HEMMELIG%' THEN RAISE EXCEPTION 'the team keeps no secrets here'; END IF;
            RETURN NEW; END $$ LANGUAGE plpgsql''')
        conn.execute(f'CREATE TRIGGER no_secret BEFORE INSERT OR UPDATE ON "{sch}".event '
                     f'FOR EACH ROW EXECUTE FUNCTION "{sch}".no_secret()')
    sid = built.sessions[0]
    secret = add_event(ha.db, sid, "note", position_ms=10, text="HEMMELIG notat").id
    fine = add_event(ha.db, sid, "note", position_ms=20, text="Vanlig\x0bnotat").id
    r = CliRunner().invoke(cli, ["--data-dir", str(ha.folder.parent.parent), "sync", "-p", slug,
                                 "--server", url(pg, "alice")])
    assert r.exit_code == 11, r.output
    assert f"Not synced: the team server refused event {secret.hex[:8]} (HEMMELIG notat)" in r.output
    assert "the team keeps no secrets here" in r.output and "then sync again" in r.output
    rb = sync_project(hb, url(pg, "bob"))
    assert _stored(hb.db.path, "SELECT text FROM event WHERE id = ?", fine.hex) == [("Vanlig\nnotat",)]
    assert _stored(hb.db.path, "SELECT count(*) FROM event WHERE id = ?", secret.hex) == [(0,)]
    assert not rb.refused

    # both laptops give the key z to a different tag; A syncs first
    def add_tag(handle, code: str):  # noqa: ANN001, ANN202
        with handle.db.transaction() as s:
            scheme = s.exec(select(TagScheme)).first()
            tag = TagCode(scheme_id=scheme.id, code=code, label=code, key="z")
            s.add(tag)
        return tag.id

    tag_a, tag_b = add_tag(ha, "a_tag"), add_tag(hb, "b_tag")
    note_b = add_event(hb.db, sid, "note", position_ms=30, text="B sitt notat").id
    ra = sync_project(ha, url(pg, "alice"))
    assert [x.record_id for x in ra.refused] == [str(secret)]       # still refused, still named
    rb = sync_project(hb, url(pg, "bob"))
    assert [x.record_id for x in rb.refused] == [str(tag_b)]         # the server has a z
    assert [x.record_id for x in rb.pulled.refused] == [str(tag_a)]  # this laptop has a z
    assert rb.pulled.refused[0].label == "a_tag"
    ra = sync_project(ha, url(pg, "alice"))
    assert _stored(ha.db.path, "SELECT text FROM event WHERE id = ?", note_b.hex) == [("B sitt notat",)]

    # put right: B gives its tag another key, the team drops its check
    with hb.db.transaction() as s:
        tag = s.get(TagCode, tag_b)
        tag.key = "w"
        s.add(tag)
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        conn.execute(f'DROP TRIGGER no_secret ON "{sch}".event')
    rb = sync_project(hb, url(pg, "bob"))
    assert not rb.refused and not rb.pulled.refused, (rb.refused, rb.pulled.refused)
    ra = sync_project(ha, url(pg, "alice"))
    assert not ra.refused
    rb = sync_project(hb, url(pg, "bob"))
    keys = dict(_stored(hb.db.path, "SELECT id, key FROM tagcode WHERE id IN (?, ?)", tag_a.hex, tag_b.hex))
    assert keys == {tag_a.hex: "z", tag_b.hex: "w"}                  # the team's arrived after all
    assert _stored(hb.db.path, "SELECT text FROM event WHERE id = ?", secret.hex) == [("HEMMELIG notat",)]
