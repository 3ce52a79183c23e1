"""Withdrawal: after a purge nothing of the informant remains anywhere in the project."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf
from sqlmodel import select

from fieldkit.privacy.purge import execute_purge, plan_informant_purge
from fieldkit.store.models import (
    AuditEntry,
    Event,
    EventKind,
    Informant,
    Recording,
    RecordingFile,
    Session,
    SessionKind,
    SessionParticipant,
    TranscriptSegment,
)
from tests.support.cli import fk as run_cli

SR = 16000
SECRET_WORDS = ["blåbærsyltetøy", "Kvitfjellsaken"]  # only Kari says these


def _tone(seconds: float, freq: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * freq * t) * 32767).astype(np.int16)


def _build(project) -> dict:
    h = project
    folder = h.folder
    with h.db.transaction() as s:
        kari = Informant(project_id=h.project_id, code="L01", name="Kari Nordmann", role="leader",
                         consent_kept_at="Arkivskap 3, Kari Nordmann")
        per = Informant(project_id=h.project_id, code="L02", name="Per Hansen", role="nurse")
        s.add_all([kari, per])
        s.flush()
        solo = Session(project_id=h.project_id, title="Interview L01", kind=SessionKind.individual,
                       header={"informant": "Kari Nordmann"})
        group = Session(project_id=h.project_id, title="Group", kind=SessionKind.group)
        s.add_all([solo, group])
        s.flush()
        ids = {"kari": kari.id, "per": per.id, "solo": solo.id, "group": group.id}
        for sess, people in ((solo, [kari]), (group, [kari, per])):
            for p in people:
                s.add(SessionParticipant(session_id=sess.id, informant_id=p.id))
            audio = folder / "audio" / str(sess.id)
            audio.mkdir(parents=True)
            rec = Recording(session_id=sess.id, folder=f"audio/{sess.id}", state="complete",
                            duration_ms=6000)
            s.add(rec)
            s.flush()
            # 0-3 s Kari (440 Hz), 3-6 s Per (660 Hz) in the group; all Kari in solo
            data = np.concatenate([_tone(3, 440), _tone(3, 660 if sess is group else 440)])
            sf.write(audio / "000.flac", data, SR)
            s.add(RecordingFile(recording_id=rec.id, seq=0, path=f"audio/{sess.id}/000.flac",
                                offset_ms=0, duration_ms=6000, complete=True))
        s.add(TranscriptSegment(session_id=solo.id, start_ms=0, end_ms=3000, speaker_informant_id=kari.id,
                                verbatim=f"Jeg heter Kari Nordmann og liker {SECRET_WORDS[0]}.",
                                words=[{"w": SECRET_WORDS[0], "s": 100, "e": 900, "p": 0.9}]))
        s.add(Event(session_id=solo.id, kind=EventKind.note, position_ms=1000,
                    text="Kari virket usikker"))
        s.add(TranscriptSegment(session_id=group.id, start_ms=0, end_ms=3000, speaker_informant_id=kari.id,
                                verbatim=f"Det gjelder {SECRET_WORDS[1]}.", edited=f"Det gjelder {SECRET_WORDS[1]}."))
        s.add(TranscriptSegment(session_id=group.id, start_ms=3000, end_ms=6000, speaker_informant_id=per.id,
                                verbatim="Jeg er enig med Kari, og ventelistene er lange."))
        s.add(Event(session_id=group.id, kind=EventKind.tag, code="key_quote", position_ms=500,
                    informant_id=kari.id, text="Kari sitt poeng"))
        s.add(Event(session_id=group.id, kind=EventKind.tag, code="key_quote", position_ms=3500,
                    informant_id=per.id, text="Per om ventelister"))
    # a backup and an export that hold her words
    (folder / "project.db.bak-0001-20260101-000000").write_text(f"Kari Nordmann {SECRET_WORDS[0]}")
    (folder / "exports").mkdir(exist_ok=True)
    (folder / "exports" / "old.txt").write_text(f"{SECRET_WORDS[1]}")
    # the background final pass's log: session titles, and once a traceback whose SQL
    # parameters carried transcript text
    (folder / "logs").mkdir(exist_ok=True)
    (folder / "logs" / "final-pass.log").write_text(
        f"final pass of 'Interview L01 Kari Nordmann': done (base)\n[parameters: ('{SECRET_WORDS[0]}',)]\n")
    return ids


def _scan(folder: Path, needles: list[str]) -> list[str]:
    hits = []
    for p in folder.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            for n in needles:
                for enc in ("utf-8", "utf-16-le"):
                    if n.encode(enc) in data or n.lower().encode(enc) in data:
                        hits.append(f"{p.name}: {n}")
    return hits


def test_purge_informant_everywhere(project):
    ids = _build(project)
    needles = ["Kari", "Nordmann", *SECRET_WORDS]
    assert _scan(project.folder, needles), "the scan must find the data before the purge"

    plan = plan_informant_purge(project, "L01")
    text = "\n".join(plan.describe())
    assert "Interview L01" in text and "whole session" in text and "(group)" in text
    counts = execute_purge(project, plan)
    assert counts["sessions_deleted"] == 1 and counts["audio_spans_silenced"] == 1

    assert _scan(project.folder, needles) == [], "found in the project folder after purge"
    with project.db.session() as s:
        assert s.get(Informant, ids["kari"]) is None
        assert s.get(Session, ids["solo"]) is None
        per_seg = s.exec(select(TranscriptSegment)).all()
        assert [seg.verbatim for seg in per_seg] == ["Jeg er enig med NN, og ventelistene er lange."]
        assert [e.text for e in s.exec(select(Event))] == ["Per om ventelister"]
        assert s.get(Informant, ids["per"]).name == "Per Hansen"
        audit = s.exec(select(AuditEntry)).one()
        assert audit.action == "purge_informant" and "L01" not in str(audit.detail)
    # the group audio: her span is silent, his is intact
    data, sr = sf.read(project.folder / "audio" / str(ids["group"]) / "000.flac", dtype="int16")
    assert np.abs(data[: 3 * sr]).max() == 0
    assert np.abs(data[3 * sr:]).max() > 5000
    assert not (project.folder / "audio" / str(ids["solo"]) / "000.flac").exists()


def test_dry_run_and_unknown_code_cli(project, tmp_path):
    _build(project)
    data_dir = project.folder.parent.parent
    env = {**os.environ, "FIELDKIT_HOME": str(data_dir)}
    r = run_cli(None, "purge", "--project", project.folder.name, "--informant", "L01", "--dry-run", ok=False, env=env)
    assert r.returncode == 0, r.stderr
    assert "Would remove" in r.stdout and "Interview L01" in r.stdout
    with project.db.session() as s:
        assert s.exec(select(Informant).where(Informant.code == "L01")).first() is not None
    r = run_cli(None, "purge", "--project", project.folder.name, "--informant", "X99", "--yes", ok=False, env=env)
    assert r.returncode == 1 and "No informant with code 'X99'" in r.stderr
    r = run_cli(None, "purge", "--project", project.folder.name, "--informant", "L02", "--yes", ok=False, env=env)
    assert r.returncode == 0 and "Removed" in r.stdout


def test_purge_project_at_deadline(project):
    ids = _build(project)
    with project.db.transaction() as s:
        from fieldkit.store.models import Project

        p = s.get(Project, project.project_id)
        p.redaction_terms = ["ventelistene"]
    env = {**os.environ, "FIELDKIT_HOME": str(project.folder.parent.parent)}
    r = run_cli(None, "purge", "--project", project.folder.name, "--dry-run", ok=False, env=env)
    assert r.returncode == 0 and "4 audio files" not in r.stdout and "2 audio files" in r.stdout
    r = run_cli(None, "purge", "--project", project.folder.name, ok=False, env=env, input="wrong-name\n")
    assert r.returncode == 130  # not confirmed: nothing removed
    assert (project.folder / "audio" / str(ids["group"]) / "000.flac").exists()
    r = run_cli(None, "purge", "--project", project.folder.name, ok=False, env=env, input=project.folder.name + "\n")
    assert r.returncode == 0, r.stderr
    assert _scan(project.folder, ["Kari", "Nordmann", "Hansen", "ventelistene", "Arkivskap"]) == []
    assert [p for p in (project.folder / "audio").rglob("*") if p.is_file()] == []
    with project.db.session() as s:
        assert {i.code for i in s.exec(select(Informant))} == {"L01", "L02"}
        assert s.exec(select(Recording)).all() == []
        texts = [seg.verbatim for seg in s.exec(select(TranscriptSegment))]
        assert "Jeg er enig med NN, og NN er lange." in texts


def test_purges_reach_the_conflict_list(project):
    """Copies in the conflict list go with a withdrawal, and lose names at the deadline."""
    import json as _json

    from sqlmodel import select

    from fieldkit.privacy.purge import execute_project_purge, plan_project_purge
    from fieldkit.store.models import Informant, SyncConflict, TranscriptSegment

    _build(project)
    with project.db.transaction() as s:
        l01 = s.exec(select(Informant).where(Informant.code == "L01")).one()
        l02 = s.exec(select(Informant).where(Informant.code == "L02")).one()
        seg = s.exec(select(TranscriptSegment).where(TranscriptSegment.speaker_informant_id == l01.id)).first()
        for tbl, rid, kept in (("informant", l01.id, {"id": str(l01.id), "name": l01.name}),
                               ("transcriptsegment", seg.id, {"id": str(seg.id), "verbatim": seg.verbatim,
                                                               "session_id": str(seg.session_id)}),
                               ("informant", l02.id, {"id": str(l02.id), "name": l02.name})):
            s.add(SyncConflict(tbl=tbl, record_id=rid, peer="server", kept_side="local", kept=kept,
                               other={**kept, "role": "other"}))
        l01_name, l02_name = l01.name, l02.name
    plan = plan_informant_purge(project, "L01")
    assert plan.conflict_copies == 2
    counts = execute_purge(project, plan)
    assert counts["conflict_copies_deleted"] == 2
    with project.db.session() as s:
        left = s.exec(select(SyncConflict)).all()
    assert [c.record_id for c in left] == [l02.id]
    assert l01_name.split()[-1] not in _json.dumps(left[0].kept) + _json.dumps(left[0].other)
    execute_project_purge(project, plan_project_purge(project))
    with project.db.session() as s:
        [c] = s.exec(select(SyncConflict)).all()
    assert c.kept["name"] == c.other["name"] == "" and l02_name not in _json.dumps(c.kept)
