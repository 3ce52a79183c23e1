"""Issue 26, conflicts: the same winner everywhere, nothing lost, everyone told.

Each defect of the issue, once between data folders with packs (``fieldkit project pack`` /
``merge``) and once through a real PostgreSQL team server (``fieldkit sync``). Edits are
made the way the program makes them (the consent and review functions, the CLI); packs,
merges, syncs, conflict lists and settling go through the real CLI in a subprocess;
the assertions read every copy's database with the standard library's sqlite3 (and the
server with psycopg).
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import date
from pathlib import Path

import pytest

from tests.support import pg_server
from tests.support.builders import build_project, laptop
from tests.support.cli import fk
from tests.support.merging import (
    SLUG,
    conflicts,
    fk_env,
    full_snapshot,
    hand_edit,
    hexid,
    opened,
    pack_merge,
    retranscribe,
    rows,
    snapshot_of,
    url,
)
from tests.support.merging import drop_schema as _drop
from tests.support.merging import segments as _segments

@pytest.fixture
def packs(tmp_path):
    """Laptop A with a built project, laptop B with its copy from A's pack (CLI)."""

    a = laptop(tmp_path, "a")
    ha = a.create("Team study")
    built = build_project(ha, extra_sessions=1, segs=6, events=3)
    ha.close()
    b = laptop(tmp_path, "b")
    pack_merge(a.root, b.root, tmp_path, "first")
    assert snapshot_of(a.root) == snapshot_of(b.root)
    yield a, b, built


# --------------------------------------------------------------------------- the scenarios


def withdrawal_and_refusal_edits(a, b, built) -> None:
    """B: L02 withdraws; L01 says no to recording. A (not yet synced): L02's consent date
    and where the form is kept change; L01's answer is recorded as yes."""
    from sqlmodel import select

    from fieldkit.store.models import Informant

    fk(b.root, "informant", "withdraw", "L02", "-p", SLUG, "--on", "2026-03-10")
    fk(b.root, "consent", "-p", SLUG, "--session", "Intervju med Kari Nordmann",
       "--informant", "L01", "--recording", "no")
    with opened(a) as ha, ha.db.transaction() as s:
        inf = s.exec(select(Informant).where(Informant.code == "L02")).one()
        inf.written_consent_on = date(2026, 2, 2)
        inf.consent_kept_at = "Archive room 3"
        s.add(inf)
    fk(a.root, "consent", "-p", SLUG, "--session", "Intervju med Kari Nordmann",
       "--informant", "L01", "--recording", "yes")


def assert_withdrawal_and_refusal(roots: list[Path], built) -> None:
    for root in roots:
        [(w, c, k)] = rows(root, "SELECT withdrawn_on, written_consent_on, consent_kept_at "
                                 "FROM informant WHERE code = 'L02'")
        assert (w, c, k) == ("2026-03-10", "2026-02-02", "Archive room 3"), root
        [(rc,)] = rows(root, "SELECT p.recording_consent FROM sessionparticipant p "
                             "JOIN informant i ON i.id = p.informant_id WHERE i.code = 'L01' "
                             "AND p.session_id = ?", hexid(built.sessions[0]))
        assert rc == 0, root                      # the "no" stands
        found = [v for v in conflicts(root).values()
                 if v[0] == "sessionparticipant" and v[4].get("recording_consent") is True]
        assert len(found) == 1, (root, conflicts(root))
        assert found[0][3]["recording_consent"] is False
        # the withdrawal was merged, not a conflict
        assert not [v for v in conflicts(root).values() if v[0] == "informant"], root
        out = fk(root, "project", "conflicts", SLUG).stdout
        assert "recording consent: kept False, other True" in out, out


def test_purge_clears_saved_versions_that_name_her(packs, tmp_path):
    """A's earlier versions of a segment in another session (kept as merge bases) name
    L01; after her purge no saved version on A holds her name, though the segment stays."""
    a, b, built = packs
    with opened(a) as ha:
        seg = [s for s in _segments(ha) if s.session_id == built.sessions[1]][0]
        hand_edit(ha, seg.id, "Kari Nordmann sa det samme")
    pack_merge(a.root, b.root, tmp_path, "named")            # stamps: a version naming her
    with opened(a) as ha:
        hand_edit(ha, seg.id, "En leder sa det samme")
    pack_merge(a.root, b.root, tmp_path, "renamed")          # her name now in an earlier version
    saved = "SELECT count(*) FROM recordstate WHERE data LIKE '%Nordmann%' OR anc LIKE '%Nordmann%'"
    assert rows(a.root, saved) != [(0,)]                      # the scan has something to find
    fk(a.root, "informant", "withdraw", "L01", "-p", SLUG)
    fk(a.root, "purge", "-p", SLUG, "--informant", "L01", "--yes")
    assert rows(a.root, saved) == [(0,)]
    assert rows(a.root, "SELECT edited FROM transcriptsegment WHERE id = ?", hexid(seg.id)) == [
        ("En leder sa det samme",)]


def test_pack_withdrawal_and_refusal_survive_other_edits(packs, tmp_path):
    a, b, built = packs
    withdrawal_and_refusal_edits(a, b, built)
    out = pack_merge(a.root, b.root, tmp_path, "a2")
    assert "1 conflict" in out, out
    pack_merge(b.root, a.root, tmp_path, "b2")
    assert_withdrawal_and_refusal([a.root, b.root], built)
    assert full_snapshot(a.root) == full_snapshot(b.root)


def deletion_and_retranscription_edits(a, b, built) -> dict:
    """B hand-corrects two segments of session 1 and edits a note; A (not yet synced)
    re-transcribes session 1 (the second corrected segment's words are heard in two new
    segments) and deletes the note."""
    from fieldkit.store.models import Event

    with opened(b) as hb:
        segs = [s for s in _segments(hb) if s.session_id == built.sessions[0]]
        carried, split = segs[2], segs[3]        # "Hvem jobber du tettest med?" / a long one
        hand_edit(hb, carried.id, "Hvem jobber du aller tettest med?")
        hand_edit(hb, split.id, "Mest med Bjørn og Ståle på DPS i Tromsø, sier hun.")
        with hb.db.transaction() as s:
            note = s.get(Event, built.note_id)
            note.text = "B corrected this note"
            s.add(note)
    with opened(a) as ha:
        retranscribe(ha, built.sessions[0])
        # the second one's words now lie in two segments: no single place to carry it to
        from sqlmodel import select

        from fieldkit.store.models import TranscriptSegment
        with ha.db.transaction() as s:
            new = s.exec(select(TranscriptSegment).where(
                TranscriptSegment.session_id == built.sessions[0],
                TranscriptSegment.start_ms > split.start_ms, TranscriptSegment.start_ms < split.end_ms)).one()
            words = new.verbatim.split()
            mid = (new.start_ms + new.end_ms) // 2
            s.add(TranscriptSegment(session_id=new.session_id, run_id=new.run_id, start_ms=mid,
                                    end_ms=new.end_ms, verbatim=" ".join(words[3:])))
            new.end_ms, new.verbatim = mid, " ".join(words[:3])
            s.add(new)
            s.delete(s.get(Event, built.note_id))
    return {"carried": carried, "split": split}


def assert_deletion_and_retranscription(roots: list[Path], built, info: dict) -> None:
    carried, split = info["carried"], info["split"]
    for root in roots:
        # the old segments are gone, the correction sits on the new segment with its words
        assert not rows(root, "SELECT id FROM transcriptsegment WHERE id IN (?, ?)",
                        hexid(carried.id), hexid(split.id))
        got = rows(root, "SELECT verbatim, edited, run_id FROM transcriptsegment "
                         "WHERE session_id = ? AND start_ms = ?", hexid(built.sessions[0]),
                   carried.start_ms + 40)
        assert got and got[0][1] == "Hvem jobber du aller tettest med?" and got[0][2], (root, got)
        open_ = conflicts(root)
        # the correction with no single place to go is kept for the researcher
        kept = [v for v in open_.values() if v[1] == hexid(split.id)]
        assert len(kept) == 1 and kept[0][2] == "deleted", (root, open_)
        assert kept[0][4]["edited"] == "Mest med Bjørn og Ståle på DPS i Tromsø, sier hun."
        # the deleted note that B had changed: deleted, B's text in the conflict list
        note = [v for v in open_.values() if v[1] == hexid(built.note_id)]
        assert len(note) == 1 and note[0][4]["text"] == "B corrected this note", (root, open_)
        assert not rows(root, "SELECT id FROM event WHERE id = ?", hexid(built.note_id))
        # the carried one is on record too (settled: "carried")
        done = [v for k, v in conflicts(root, settled=True).items() if v[1] == hexid(carried.id)]
        assert len(done) == 1 and done[0][2] == "carried"
        out = fk(root, "project", "conflicts", SLUG).stdout
        assert "sier hun" in out and "B corrected this note" in out, out


def test_pack_deletion_meets_newer_edit_and_retranscription_keeps_hand_edits(packs, tmp_path):
    a, b, built = packs
    info = deletion_and_retranscription_edits(a, b, built)
    out = pack_merge(a.root, b.root, tmp_path, "a2")
    assert "2 conflicts" in out, out
    pack_merge(b.root, a.root, tmp_path, "b2")
    assert_deletion_and_retranscription([a.root, b.root], built, info)
    assert full_snapshot(a.root) == full_snapshot(b.root)
    # the researcher puts the split correction back as it was: it travels
    [cid] = [k for k, v in conflicts(b.root).items() if v[1] == hexid(info["split"].id)]
    fk(b.root, "project", "settle", SLUG, cid[:8], "--keep", "other")
    pack_merge(b.root, a.root, tmp_path, "b3")
    for root in (a.root, b.root):
        assert rows(root, "SELECT edited FROM transcriptsegment WHERE id = ?", hexid(info["split"].id)) \
            == [("Mest med Bjørn og Ståle på DPS i Tromsø, sier hun.",)]
        assert cid not in conflicts(root)
    assert full_snapshot(a.root) == full_snapshot(b.root)


def both_edit(a, b, built, n: int = 6) -> list[uuid.UUID]:
    """Both laptops correct the same n segments differently."""
    with opened(a) as ha:
        ids = [s.id for s in _segments(ha) if s.session_id == built.sessions[1]][:n]
        for i, sid in enumerate(ids):
            hand_edit(ha, sid, f"A's reading {i}")
    with opened(b) as hb:
        for i, sid in enumerate(ids):
            hand_edit(hb, sid, f"B's reading {i}")
    return ids


def test_pack_loser_is_kept_on_both_sides_and_settling_travels(packs, tmp_path):
    a, b, built = packs
    ids = both_edit(a, b, built, 2)
    out_b = pack_merge(a.root, b.root, tmp_path, "a2")
    out_a = pack_merge(b.root, a.root, tmp_path, "b2")
    # each side is told, and both hold the same two conflicts
    assert "2 conflicts" in out_b and "2 conflicts" in out_a, (out_a, out_b)
    ca, cb = conflicts(a.root), conflicts(b.root)
    assert ca == cb and len(ca) == 2
    assert full_snapshot(a.root) == full_snapshot(b.root)
    for _cid, (_t, rid, _k, kept, other) in ca.items():
        i = ids.index(uuid.UUID(rid))
        assert {kept["edited"], other["edited"]} == {f"A's reading {i}", f"B's reading {i}"}
    # A settles one (keeps the other reading), B the other (keeps what is there)
    c1, c2 = sorted(ca)
    fk(a.root, "project", "settle", SLUG, c1[:8], "--keep", "other")
    fk(b.root, "project", "settle", SLUG, c2[:8], "--keep", "kept")
    pack_merge(a.root, b.root, tmp_path, "a3")
    pack_merge(b.root, a.root, tmp_path, "b3")
    for root in (a.root, b.root):
        assert conflicts(root) == {}
        assert "No conflicts to settle." in fk(root, "project", "conflicts", SLUG).stdout
        rid1 = ca[c1][1]
        assert rows(root, "SELECT edited FROM transcriptsegment WHERE id = ?", rid1) == [(ca[c1][4]["edited"],)]
    assert full_snapshot(a.root) == full_snapshot(b.root)


def test_pack_fast_clock_does_not_decide(packs, tmp_path):
    """The same edits with A's clock an hour fast, and then (on copies of both laptops
    from before) with B's clock an hour fast: the same winners."""
    a, b, built = packs
    a2, b2 = laptop(tmp_path, "a-copy"), laptop(tmp_path, "b-copy")
    shutil.rmtree(a2.root)
    shutil.rmtree(b2.root)
    shutil.copytree(a.root, a2.root)
    shutil.copytree(b.root, b2.root)
    winners = []
    for (x, y), fast in (((a, b), "a"), ((a2, b2), "b")):
        skew = {"FIELDKIT_CLOCK_SKEW": "3600"}
        with opened(x) as hx:
            ids = [s.id for s in _segments(hx) if s.session_id == built.sessions[1]][:6]
        for who, ws in (("A", x), ("B", y)):
            env = skew if (who == "A") == (fast == "a") else None
            old = os.environ.get("FIELDKIT_CLOCK_SKEW")
            if env:
                os.environ.update(env)
            try:
                with opened(ws) as h:
                    for i, sid in enumerate(ids):
                        hand_edit(h, sid, f"{who}'s reading {i}")
            finally:
                os.environ.pop("FIELDKIT_CLOCK_SKEW", None)
                if old is not None:
                    os.environ["FIELDKIT_CLOCK_SKEW"] = old
        pack_merge(x.root, y.root, tmp_path, f"x-{fast}", skew if fast == "a" else None)
        pack_merge(y.root, x.root, tmp_path, f"y-{fast}", skew if fast == "b" else None)
        assert full_snapshot(x.root) == full_snapshot(y.root)
        got = {sid: rows(x.root, "SELECT edited FROM transcriptsegment WHERE id = ?", sid.hex)[0][0]
               for sid in ids}
        assert len(conflicts(x.root)) == 6
        winners.append(got)
        # updated_at shows whose clock was fast: the fast laptop's edits look later
    assert winners[0] == winners[1]


def test_pack_older_pack_after_newer_changes_nothing(packs, tmp_path):
    a, b, built = packs
    with opened(a) as ha:
        ids = [s.id for s in _segments(ha)][:2]
        hand_edit(ha, ids[0], "v1 of the first")
        hand_edit(ha, ids[1], "v1 of the second")
    fk(a.root, "project", "pack", SLUG, "-o", str(tmp_path / "v1.fkpack"))
    with opened(a) as ha:
        hand_edit(ha, ids[0], "v2 of the first")
        hand_edit(ha, ids[1], "v2 of the second")
    fk(a.root, "project", "pack", SLUG, "-o", str(tmp_path / "v2.fkpack"))
    c = laptop(tmp_path, "c")
    shutil.rmtree(c.root)
    shutil.copytree(b.root, c.root)
    out = fk(b.root, "project", "merge", str(tmp_path / "v2.fkpack")).stdout
    assert "2 updated" in out, out
    after_v2 = full_snapshot(b.root)
    for _ in range(2):
        out = fk(b.root, "project", "merge", str(tmp_path / "v1.fkpack")).stdout
        assert "0 new, 0 updated, 0 deleted, 0 conflicts" in out, out
        assert full_snapshot(b.root) == after_v2
    # the other order on another copy ends the same
    fk(c.root, "project", "merge", str(tmp_path / "v1.fkpack"))
    fk(c.root, "project", "merge", str(tmp_path / "v2.fkpack"))
    assert full_snapshot(c.root) == after_v2 == full_snapshot(a.root)
    assert conflicts(b.root) == {} and conflicts(c.root) == {}


# --------------------------------------------------------------------------- the team server

needs_pg = pytest.mark.skipif(pg_server.pg_bindir() is None and not os.environ.get("CI"),
                              reason="PostgreSQL is not installed (CI installs it)")


@pytest.fixture(scope="module")
def pg():
    if pg_server.pg_bindir() is None and not os.environ.get("CI"):
        pytest.skip("PostgreSQL is not installed (CI installs it)")
    server = pg_server.start()
    import psycopg

    with psycopg.connect(server.url(), autocommit=True) as conn:
        for role in ("alice", "bob", "carol"):
            conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{role}-pw'")
    yield server
    server.stop()


@pytest.fixture
def team(pg, tmp_path):
    """Laptops A (alice) and B (bob) with the project through the server (CLI sync)."""
    from fieldkit.team.server import init_project

    slug = SLUG
    _drop(pg, slug)                      # a fresh server project per test
    init_project(pg.url(), slug, researchers=["alice", "bob"], supervisors=["carol"])
    a = laptop(tmp_path, "a")
    ha = a.create("Team study")
    built = build_project(ha, extra_sessions=1, segs=6, events=3)
    ha.close()
    sync(a, pg, "alice")
    b = laptop(tmp_path, "b")
    sync(b, pg, "bob")
    assert snapshot_of(a.root) == snapshot_of(b.root)
    yield a, b, built


def sync(ws, pg, role: str, env: dict | None = None) -> str:
    return fk_env(ws.root, env, "sync", "-p", SLUG, "--server", url(pg, role)).stdout


def server_rows(pg, sql: str, *args) -> list[tuple]:
    import psycopg

    from fieldkit.team.server import schema_for

    with psycopg.connect(pg.url()) as conn:
        conn.execute(f'SET search_path TO "{schema_for(SLUG)}"')
        return conn.execute(sql, args).fetchall()


@needs_pg
def test_sync_withdrawal_and_refusal_survive_other_edits(pg, team):
    a, b, built = team
    withdrawal_and_refusal_edits(a, b, built)
    sync(b, pg, "bob")
    out = sync(a, pg, "alice")
    assert "1 conflict" in out, out
    out = sync(b, pg, "bob")
    assert "1 conflict" in out, out              # B is told as well
    assert_withdrawal_and_refusal([a.root, b.root], built)
    [(w, k)] = server_rows(pg, "SELECT withdrawn_on, consent_kept_at FROM informant WHERE code = 'L02'")
    assert (str(w), k) == ("2026-03-10", "Archive room 3")
    assert server_rows(pg, "SELECT p.recording_consent FROM sessionparticipant p JOIN informant i "
                           "ON i.id = p.informant_id WHERE i.code = 'L01' AND p.session_id = %s",
                       built.sessions[0]) == [(False,)]
    assert len(server_rows(pg, "SELECT id FROM syncconflict WHERE settled_at IS NULL")) == 1
    assert full_snapshot(a.root) == full_snapshot(b.root)


@needs_pg
def test_sync_deletion_meets_newer_edit_and_retranscription_keeps_hand_edits(pg, team):
    a, b, built = team
    info = deletion_and_retranscription_edits(a, b, built)
    sync(b, pg, "bob")          # B's corrections reach the server first
    out = sync(a, pg, "alice")  # then A's re-transcription and deletion meet them
    assert "2 conflicts" in out, out
    out = sync(b, pg, "bob")
    assert "2 conflicts" in out, out
    assert_deletion_and_retranscription([a.root, b.root], built, info)
    assert full_snapshot(a.root) == full_snapshot(b.root)
    assert server_rows(pg, "SELECT edited FROM transcriptsegment WHERE session_id = %s AND start_ms = %s",
                       built.sessions[0], info["carried"].start_ms + 40) == [("Hvem jobber du aller tettest med?",)]


@needs_pg
def test_sync_loser_is_kept_on_both_sides_and_settling_travels(pg, team):
    a, b, built = team
    ids = both_edit(a, b, built, 2)
    sync(a, pg, "alice")
    out_b = sync(b, pg, "bob")
    out_a = sync(a, pg, "alice")
    assert "2 conflicts" in out_b and "2 conflicts" in out_a, (out_a, out_b)
    ca, cb = conflicts(a.root), conflicts(b.root)
    assert ca == cb and len(ca) == 2
    c1, c2 = sorted(ca)
    fk(a.root, "project", "settle", SLUG, c1[:8], "--keep", "other")
    fk(b.root, "project", "settle", SLUG, c2[:8], "--keep", "kept")
    sync(a, pg, "alice")
    sync(b, pg, "bob")
    sync(a, pg, "alice")
    for root in (a.root, b.root):
        assert conflicts(root) == {}
        assert rows(root, "SELECT edited FROM transcriptsegment WHERE id = ?", ca[c1][1]) == [(ca[c1][4]["edited"],)]
    assert server_rows(pg, "SELECT count(*) FROM syncconflict WHERE settled_at IS NULL") == [(0,)]
    assert full_snapshot(a.root) == full_snapshot(b.root)
    assert {uuid.UUID(v[1]) for v in ca.values()} == set(ids)


@needs_pg
def test_sync_fast_clock_does_not_win_every_conflict(pg, team):
    """A's clock is an hour fast and A syncs last: under "the later change wins" A would
    win all twelve; the winner is chosen without clocks, the same on every copy."""
    a, b, built = team
    with opened(a) as ha:
        ids = [s.id for s in _segments(ha)][:12]
    with opened(b) as hb:
        for i, sid in enumerate(ids):
            hand_edit(hb, sid, f"B's reading {i}")
    os.environ["FIELDKIT_CLOCK_SKEW"] = "3600"
    try:
        with opened(a) as ha:
            for i, sid in enumerate(ids):
                hand_edit(ha, sid, f"A's reading {i}")
    finally:
        os.environ.pop("FIELDKIT_CLOCK_SKEW")
    sync(b, pg, "bob")
    sync(a, pg, "alice", {"FIELDKIT_CLOCK_SKEW": "3600"})
    sync(b, pg, "bob")
    got = [rows(a.root, "SELECT edited FROM transcriptsegment WHERE id = ?", sid.hex)[0][0] for sid in ids]
    assert full_snapshot(a.root) == full_snapshot(b.root)
    assert len(conflicts(a.root)) == len(conflicts(b.root)) == 12
    for sid, kept in zip(ids, got):
        i = ids.index(sid)
        [(other,)] = [(v[4]["edited"],) for v in conflicts(a.root).values() if v[1] == sid.hex]
        assert {kept, other} == {f"A's reading {i}", f"B's reading {i}"}
    assert {g.split("'")[0] for g in got} == {"A", "B"}, got   # 1 in 2048 to fail by chance


@needs_pg
def test_sync_purge_leaves_no_copy_in_the_versions(pg, team):
    """B corrects a segment of L01's interview and has not synced; A purges L01 (her
    withdrawal) and syncs; B syncs. The versions that merging keeps (this laptop's
    earlier versions, the server's tombstones) hold nothing of her anywhere, and her
    interview is in no conflict list."""
    a, b, built = team
    with opened(b) as hb:
        seg = [s for s in _segments(hb) if s.session_id == built.sessions[0]][1]
        hand_edit(hb, seg.id, "Zanzibar-rettelse fra B")
        hand_edit(hb, seg.id, "Zanzibar-rettelse fra B, andre gang")
    fk(a.root, "informant", "withdraw", "L01", "-p", SLUG)
    fk(a.root, "purge", "-p", SLUG, "--informant", "L01", "--yes")
    sync(a, pg, "alice")
    sync(b, pg, "bob")
    sync(a, pg, "alice")
    for root in (a.root, b.root):
        assert not rows(root, "SELECT id FROM session WHERE id = ?", hexid(built.sessions[0]))
        assert not [v for v in conflicts(root, settled=True).values() if v[1] == hexid(seg.id)]
        for f in (root / "projects" / SLUG).glob("project.db*"):
            data = f.read_bytes()
            assert b"Zanzibar" not in data and "Intervju med Kari".encode() not in data, f
    assert server_rows(pg, "SELECT count(*) FROM recordstate WHERE anc::text LIKE '%%Zanzibar%%' "
                           "OR anc::text LIKE '%%Kari Nordmann%%'") == [(0,)]
    assert server_rows(pg, "SELECT count(*) FROM transcriptsegment WHERE session_id = %s",
                       built.sessions[0]) == [(0,)]
    sync(b, pg, "bob")       # B's own audit entry of the purge it carried out
    sync(a, pg, "alice")
    assert full_snapshot(a.root) == full_snapshot(b.root)
