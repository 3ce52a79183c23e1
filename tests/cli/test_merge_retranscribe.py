"""Issue 26: a hand edit survives a real re-transcription made on another laptop.

Laptop A transcribes a recording of real speech with the real tiny.en model (CLI), B gets
it by pack and corrects a segment, A (not having B's correction) transcribes the session
again; after packs both ways the correction sits on A's new segment that holds the same
words, on both laptops, and the conflict list records that it was carried."""

from __future__ import annotations

import json
import sqlite3

import pytest
import soundfile as sf

from tests.support.cli import fk
from tests.support.real_speech import joined, needs_speech
from tests.support.builders import laptop

pytestmark = [needs_speech, pytest.mark.slow]


def _q(root, sql, *args):
    con = sqlite3.connect(root / "projects" / "eng" / "project.db")
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def test_hand_edit_is_carried_onto_a_real_retranscription(tmp_path):
    from fieldkit.recording.importer import import_recording
    from fieldkit.store.models import Session
    from fieldkit.sessions.review import edit_segment
    from fieldkit.transcription.service import set_project_model

    a, b = laptop(tmp_path, "a"), laptop(tmp_path, "b")
    h = a.create("Eng", language="en")
    set_project_model(h, "tiny.en")
    audio, _ref = joined(["en_jfk"], gap_s=0.5)
    sf.write(tmp_path / "jfk.wav", audio, 16000, subtype="PCM_16")
    with h.db.transaction() as s:
        sess = Session(project_id=h.project_id, title="Interview")
        s.add(sess)
    import_recording(h, sess.id, tmp_path / "jfk.wav")
    h.close()
    fk(a.root, "transcribe", "Interview", "-p", "Eng")
    fk(a.root, "project", "pack", "eng", "-o", str(tmp_path / "a1.fkpack"))
    fk(b.root, "project", "merge", str(tmp_path / "a1.fkpack"))
    [(old_id, start, end, verbatim)] = _q(b.root, "SELECT id, start_ms, end_ms, verbatim FROM transcriptsegment "
                                                  "ORDER BY start_ms LIMIT 1")
    corrected = verbatim.strip().rstrip(".") + " (corrected by B)."
    with b.open("eng") as hb:
        import uuid

        edit_segment(hb, uuid.UUID(old_id), corrected)
    fk(a.root, "transcribe", "Interview", "-p", "Eng", "--beam-size", "1")
    assert not _q(a.root, "SELECT id FROM transcriptsegment WHERE id = ?", old_id), "A replaced it"
    fk(a.root, "project", "pack", "eng", "-o", str(tmp_path / "a2.fkpack"))
    fk(b.root, "project", "merge", str(tmp_path / "a2.fkpack"))
    fk(b.root, "project", "pack", "eng", "-o", str(tmp_path / "b2.fkpack"))
    fk(a.root, "project", "merge", str(tmp_path / "b2.fkpack"))
    for root in (a.root, b.root):
        assert not _q(root, "SELECT id FROM transcriptsegment WHERE id = ?", old_id)
        got = _q(root, "SELECT edited FROM transcriptsegment WHERE start_ms < ? AND end_ms > ? "
                       "AND edited IS NOT NULL", end, start)
        assert got == [(corrected,)] or any("(corrected by B)" in (g[0] or "") for g in got), (root, got)
        kinds = {(r[0], json.loads(r[1]).get("edited")) for r in _q(
            root, "SELECT kept_side, other FROM syncconflict WHERE record_id = ?", old_id)}
        assert kinds == {("carried", corrected)}, (root, kinds)
    assert _q(a.root, "SELECT id, edited FROM transcriptsegment ORDER BY id") == \
        _q(b.root, "SELECT id, edited FROM transcriptsegment ORDER BY id")
