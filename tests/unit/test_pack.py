"""Pack and merge between two laptops (two data folders), no server."""

from __future__ import annotations

import json
import os
import zipfile

import pytest

from fieldkit.errors import FieldkitError
from tests.support.builders import edit_segment as _edit
from tests.support.builders import laptop, snapshot
from tests.support.builders import segment as _segment
from tests.support.builders import segment_ids as _segment_ids
from tests.support.cli import fk as run_cli


@pytest.fixture
def two(tmp_path):
    """Laptop A with a built project, laptop B with the same project from A's pack."""
    from fieldkit.team.ops import merge_pack
    from fieldkit.team.pack import write_pack
    from tests.support.builders import build_project

    a = laptop(tmp_path, "a")
    ha = a.create("Team study")
    built = build_project(ha, extra_sessions=2, segs=5, events=3)
    b = laptop(tmp_path, "b")
    write_pack(ha, tmp_path / "first.fkpack")
    res = merge_pack(b, tmp_path / "first.fkpack")
    assert res.created and res.outcome.inserted > 0
    hb = b.open("Team study")
    yield a, ha, b, hb, built
    ha.close()
    hb.close()


def test_merge_copies_everything_and_twice_changes_nothing(two, tmp_path):
    from fieldkit.team.ops import merge_pack
    from fieldkit.team.pack import write_pack

    a, ha, b, hb, _ = two
    assert snapshot(ha) == snapshot(hb)
    assert len(snapshot(ha)) > 50
    write_pack(ha, tmp_path / "again.fkpack")
    for _ in range(2):
        res = merge_pack(b, tmp_path / "again.fkpack")
        assert res.outcome.changes == 0, res.outcome.summary()
    assert snapshot(ha) == snapshot(hb)


def test_changes_on_both_laptops_conflict_and_settle(two, tmp_path):
    from fieldkit.team.ops import list_conflicts, merge_pack, settle
    from fieldkit.team.pack import write_pack

    a, ha, b, hb, _ = two
    both, only_a, only_b = _segment_ids(ha)
    _edit(hb, both, "B's reading")
    _edit(hb, only_b, "Only B touched this")
    _edit(ha, only_a, "Only A touched this")
    _edit(ha, both, "A's reading, later")          # A's change is the later one
    write_pack(ha, tmp_path / "a2.fkpack")
    res = merge_pack(b, tmp_path / "a2.fkpack")
    assert res.outcome.conflicts == 1, res.outcome.summary()
    # the winner is chosen without clocks; the other reading is set aside
    kept = _segment(hb, both).edited
    lost = ({"A's reading, later", "B's reading"} - {kept}).pop()
    assert _segment(hb, only_a).edited == "Only A touched this"
    assert _segment(hb, only_b).edited == "Only B touched this"
    [c] = list_conflicts(hb)
    assert c["record_id"] == both and c["kept_side"] == "merged"
    assert c["other"]["edited"] == lost and c["kept"]["edited"] == kept
    # the same pack again: no new conflict
    assert merge_pack(b, tmp_path / "a2.fkpack").outcome.changes == 0
    settle(hb, str(c["id"])[:8], "other")
    assert _segment(hb, both).edited == lost
    assert list_conflicts(hb) == []
    # back to A: B's settled version and B's own edit arrive without a new conflict on A
    write_pack(hb, tmp_path / "b1.fkpack")
    res = merge_pack(a, tmp_path / "b1.fkpack")
    assert res.outcome.conflicts == 0, res.outcome.summary()
    assert _segment(ha, both).edited == lost
    assert list_conflicts(ha) == [] and len(list_conflicts(ha, include_settled=True)) == 1
    assert _segment(ha, only_b).edited == "Only B touched this"
    assert snapshot(ha) == snapshot(hb)


def test_informant_code_clash_is_asked_never_joined(two, tmp_path):
    from fieldkit.store.models import Informant
    from fieldkit.team.ops import merge_pack
    from fieldkit.team.pack import write_pack

    a, ha, b, hb, _ = two
    with ha.db.transaction() as s:
        s.add(Informant(project_id=ha.project_id, code="L09", name="Per Hansen", role="nurse"))
    with hb.db.transaction() as s:
        s.add(Informant(project_id=hb.project_id, code="L09", name="Liv Berg", role="leader"))
    write_pack(ha, tmp_path / "a2.fkpack")
    before = snapshot(hb)
    with pytest.raises(FieldkitError) as exc:
        merge_pack(b, tmp_path / "a2.fkpack")
    assert "L09" in exc.value.message and "--recode" in exc.value.hint
    assert snapshot(hb) == before
    asked = []
    res = merge_pack(b, tmp_path / "a2.fkpack", ask=lambda c: asked.append(c.code) or ("rename", "L10"))
    assert asked == ["L09"] and res.outcome.inserted == 1
    from sqlmodel import select

    with hb.db.session() as s:
        codes = {i.code: i.name for i in s.exec(select(Informant))}
    assert codes["L09"] == "Liv Berg" and codes["L10"] == "Per Hansen"
    # remembered: the same pack again neither asks nor changes anything
    assert merge_pack(b, tmp_path / "a2.fkpack").outcome.changes == 0


def test_withdrawal_purge_travels_in_a_pack(two, tmp_path):
    from sqlmodel import select

    from fieldkit.privacy.purge import execute_purge, plan_informant_purge
    from fieldkit.store.models import AuditEntry, Informant, TranscriptSegment
    from fieldkit.team.ops import merge_pack
    from fieldkit.team.pack import write_pack

    a, ha, b, hb, built = two
    with hb.db.session() as s:
        from fieldkit.store.models import Session as S

        assert s.get(S, built.sessions[0]) is not None
    execute_purge(ha, plan_informant_purge(ha, "L01"))
    write_pack(ha, tmp_path / "a2.fkpack")
    res = merge_pack(b, tmp_path / "a2.fkpack")
    assert res.outcome.purged_informants == ["L01"]
    with hb.db.session() as s:
        assert "L01" not in {i.code for i in s.exec(select(Informant))}
        on_b = {x.id: x.verbatim for x in s.exec(select(TranscriptSegment))}
        assert "purge_informant" in {e.action for e in s.exec(select(AuditEntry))}
    with ha.db.session() as s:
        on_a = {x.id: x.verbatim for x in s.exec(select(TranscriptSegment))}
    assert on_a == on_b
    from fieldkit.store.models import Session

    with hb.db.session() as s:   # her individual interview went whole, on B as on A
        assert s.get(Session, built.sessions[0]) is None
    assert not any(b"Intervju med Kari" in p.read_bytes() for p in hb.folder.rglob("project.db*"))


def test_encrypted_pack_and_wrong_passphrase(tmp_path):
    from fieldkit.privacy.crypto import WrongPassphrase
    from fieldkit.store.models import Informant
    from fieldkit.team.ops import merge_pack
    from fieldkit.team.pack import write_pack

    a = laptop(tmp_path, "a")
    ha = a.create("Secret study", passphrase="correct horse")
    with ha.db.transaction() as s:
        s.add(Informant(project_id=ha.project_id, code="L01", name="Kari Nordmann"))
    write_pack(ha, tmp_path / "s.fkpack")
    ha.close()
    raw = (tmp_path / "s.fkpack").read_bytes()
    assert b"Kari" not in raw and b"L01" not in raw
    b = laptop(tmp_path, "b")
    with pytest.raises(WrongPassphrase):
        merge_pack(b, tmp_path / "s.fkpack", passphrase="wrong")
    assert list(b.project_folders()) == []
    res = merge_pack(b, tmp_path / "s.fkpack", passphrase="correct horse")
    assert res.created and res.outcome.inserted == 1   # the informant (the project row came first)
    with b.open("Secret study", passphrase="correct horse") as hb:
        assert hb.key is not None
        with hb.db.session() as s:
            assert s.exec(__import__("sqlmodel").select(Informant)).one().name == "Kari Nordmann"
    # a plain copy of the same project takes no plain copy of the encrypted project's data
    hc = laptop(tmp_path, "c").create("Secret study")
    with hc.db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE project SET id = ?", (hb.project_id.hex,))
    hc.close()
    with pytest.raises(FieldkitError) as exc:
        merge_pack(laptop(tmp_path, "c"), tmp_path / "s.fkpack", passphrase="correct horse")
    assert "is of an encrypted project" in exc.value.message
    with laptop(tmp_path, "c").open("Secret study") as hc:
        with hc.db.session() as s:
            assert s.exec(__import__("sqlmodel").select(Informant)).all() == []


def test_damaged_truncated_and_newer_packs_change_nothing(two, tmp_path):
    from fieldkit.team.ops import merge_pack
    from fieldkit.team.pack import write_pack

    a, ha, b, hb, _ = two
    from fieldkit.store.models import Informant

    with ha.db.transaction() as s:
        s.add(Informant(project_id=ha.project_id, code="L20", name="Ny Person"))
    good = tmp_path / "good.fkpack"
    write_pack(ha, good)
    before = snapshot(hb)
    data = good.read_bytes()
    cut = tmp_path / "cut.fkpack"
    cut.write_bytes(data[: len(data) * 2 // 3])
    flipped = tmp_path / "flip.fkpack"
    pos = data.index(b"payload") + 200
    flipped.write_bytes(data[:pos] + bytes([data[pos] ^ 0xFF]) + data[pos + 1:])
    for bad in (cut, flipped):
        with pytest.raises(FieldkitError) as exc:
            merge_pack(b, bad)
        assert "damaged" in exc.value.message and str(bad) in exc.value.message
    newer = tmp_path / "newer.fkpack"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(newer, "w") as zout:
        man = json.loads(zin.read("pack.json"))
        man.update(version=99, schema="0099_future", fieldkit="9.0")
        zout.writestr("pack.json", json.dumps(man))
        zout.writestr("payload", zin.read("payload"))
    with pytest.raises(FieldkitError) as exc:
        merge_pack(b, newer)
    assert "newer fieldkit" in exc.value.message
    assert snapshot(hb) == before


def test_cli_pack_merge_twice(tmp_path):
    env = {**os.environ, "FIELDKIT_HOME": str(tmp_path / "a")}
    run = lambda *args, home: run_cli(None, *args, ok=False, env={**env, "FIELDKIT_HOME": str(tmp_path / home)})
    assert run("project", "new", "Felt", home="a").returncode == 0
    assert run("informant", "add", "-p", "Felt", "L01", home="a").returncode in (0, 2)
    r = run("project", "pack", "Felt", "-o", str(tmp_path / "f.fkpack"), home="a")
    assert r.returncode == 0, r.stderr
    r1 = run("project", "merge", str(tmp_path / "f.fkpack"), home="b")
    assert r1.returncode == 0 and r1.stdout.startswith("Created felt"), r1.stdout + r1.stderr
    r2 = run("project", "merge", str(tmp_path / "f.fkpack"), home="b")
    assert r2.returncode == 0, r2.stderr
    assert "0 new, 0 updated, 0 deleted, 0 conflicts" in r2.stdout
    (tmp_path / "bad.fkpack").write_bytes(b"PK\x03\x04 not really")
    r3 = run("project", "merge", str(tmp_path / "bad.fkpack"), home="b")
    assert r3.returncode != 0 and "damaged" in r3.stderr and "Traceback" not in r3.stderr
    r4 = run("project", "conflicts", "felt", home="b")
    assert r4.returncode == 0 and "No conflicts" in r4.stdout


def test_deadline_purge_travels_in_a_pack(two, tmp_path):
    """B recorded audio; A does the deadline purge; B merges A's pack: B's audio and the
    informants' personal data go too, the pseudonymised records stay."""
    from sqlmodel import select

    from fieldkit.privacy.purge import execute_project_purge, plan_project_purge
    from fieldkit.store.models import Informant, Recording, TranscriptSegment
    from fieldkit.team.ops import merge_pack
    from fieldkit.team.pack import write_pack
    from tests.support.builders import add_recording as _add_recording

    a, ha, b, hb, built = two
    rel = _add_recording(hb)
    write_pack(hb, tmp_path / "b.fkpack")
    merge_pack(a, tmp_path / "b.fkpack")
    execute_project_purge(ha, plan_project_purge(ha))
    write_pack(ha, tmp_path / "a.fkpack")
    assert (hb.folder / rel).exists()
    merge_pack(b, tmp_path / "a.fkpack")
    assert not (hb.folder / rel).exists()
    with hb.db.session() as s:
        assert s.exec(select(Recording)).all() == []
        assert {i.name for i in s.exec(select(Informant))} == {""}
        assert len(s.exec(select(TranscriptSegment)).all()) > 0


def test_an_edited_pack_is_refused_naming_the_pack_and_the_record(two, tmp_path):
    """Packs are signed with the sending copy's key: a record, the description or the
    signature changed on the way is refused, and nothing changes here."""
    from fieldkit.store.models import Informant
    from fieldkit.team.ops import merge_pack
    from fieldkit.team.pack import write_pack
    from tests.support.packs import rewrite_pack

    a, ha, b, hb, _ = two
    with ha.db.transaction() as s:
        inf = Informant(project_id=ha.project_id, code="L21", name="Ola Nordmann")
        s.add(inf)
        s.flush()
        inf_id = str(inf.id)
    good = write_pack(ha, tmp_path / "good.fkpack") and tmp_path / "good.fkpack"
    before = snapshot(hb)

    def withdraw_nobody(records):
        for r in records["tables"]["informant"]:
            if r["code"] == "L21":
                r["name"] = "Someone Else"

    edited = rewrite_pack(good, tmp_path / "edited.fkpack", records=withdraw_nobody)
    with pytest.raises(FieldkitError) as exc:
        merge_pack(b, edited)
    msg = exc.value.message
    assert str(edited) in msg and "changed after it was made" in msg, msg
    assert f"informant record {inf_id} (L21)" in msg, msg
    described = rewrite_pack(good, tmp_path / "described.fkpack",
                             manifest=lambda m: m.update(project="Annet"))
    with pytest.raises(FieldkitError) as exc:
        merge_pack(b, described)
    assert "changed after it was made" in exc.value.message
    # signed again by someone else, or the signature dropped: B knows A's key from its first pack
    for sign, says in (("new", "signed with another key"), ("drop", "is not signed")):
        other = rewrite_pack(good, tmp_path / f"{sign}.fkpack", records=withdraw_nobody, sign=sign)
        with pytest.raises(FieldkitError) as exc:
            merge_pack(b, other)
        assert says in exc.value.message and str(other) in exc.value.message, exc.value.message
    assert snapshot(hb) == before
    res = merge_pack(b, good)          # the pack as it was made merges
    assert res.signature == "pinned" and res.outcome.inserted == 1


def test_first_pack_key_is_remembered_and_unknown_fields_refused(tmp_path):
    from fieldkit.team.ops import merge_pack
    from fieldkit.team.pack import write_pack
    from tests.support.packs import rewrite_pack

    ha = laptop(tmp_path, "a").create("Felt")
    good = tmp_path / "good.fkpack"
    write_pack(ha, good)
    ha.close()
    extra = rewrite_pack(good, tmp_path / "extra.fkpack", sign="new",
                         records=lambda r: r["tables"]["project"][0].update(hidden="x"))
    with pytest.raises(FieldkitError) as exc:
        merge_pack(laptop(tmp_path, "b"), extra)
    assert "field this fieldkit does not know: hidden" in exc.value.message
    assert not (tmp_path / "b" / "projects" / "felt").exists()
    unsigned = rewrite_pack(good, tmp_path / "old.fkpack", sign="drop")
    assert merge_pack(laptop(tmp_path, "c"), unsigned).signature == "unsigned"
    r = run_cli(tmp_path / "d", "project", "merge", str(good))
    assert "The first pack from this sender: its key" in r.stdout, r.stdout


def test_a_pack_leaves_out_an_informant_this_laptop_knows_has_withdrawn(two, tmp_path):
    """A recorded withdrawal (not yet purged): her interview, speech and participation stay
    on this laptop; her registry entry goes, with the withdrawal, so the other copy learns."""
    from sqlmodel import select

    from fieldkit.people.informants import withdraw
    from fieldkit.store.models import Informant, SessionParticipant, TranscriptSegment
    from fieldkit.team.pack import read_pack, write_pack

    a, ha, b, hb, built = two
    with ha.db.session() as s:
        kari = s.exec(select(Informant).where(Informant.code == "L01")).one()
        her_segments = {str(x.id) for x in s.exec(select(TranscriptSegment).where(
            TranscriptSegment.speaker_informant_id == kari.id))}
        assert her_segments
    withdraw(ha, "L01")
    counts = write_pack(ha, tmp_path / "w.fkpack")
    assert counts["left_out"] >= len(her_segments) + 1
    recs = read_pack(tmp_path / "w.fkpack").records
    [entry] = [d for d in recs["tables"]["informant"] if d["code"] == "L01"]
    assert entry["withdrawn_on"]
    assert str(built.sessions[0]) not in {d["id"] for d in recs["tables"]["session"]}
    assert not her_segments & {d["id"] for d in recs["tables"]["transcriptsegment"]}
    assert not [d for d in recs["tables"]["sessionparticipant"] if d["informant_id"] == entry["id"]]
    assert not her_segments & set(recs["versions"])
    from fieldkit.team.ops import merge_pack

    assert merge_pack(b, tmp_path / "w.fkpack").outcome.deleted == 0   # left out is not deleted
    with hb.db.session() as s:
        assert s.exec(select(Informant).where(Informant.code == "L01")).one().withdrawn_on
        assert s.exec(select(SessionParticipant).where(SessionParticipant.informant_id == kari.id)).all()
