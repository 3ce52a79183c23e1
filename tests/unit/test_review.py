"""Transcript review without the UI: edits keep the verbatim layer, speakers, find and
replace, quotes, themes and the reviewed status."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.builders import words as _words
from sqlmodel import select

from fieldkit.errors import FieldkitError
from fieldkit.store.models import Event, EventKind, Session, SessionStatus, TranscriptSegment
from fieldkit.sessions.review import (
    assign_speaker, edit_segment, find_replace, find_segments, load_review, mark_quote, mark_reviewed,
    quote_reference,
)

REPO = Path(__file__).resolve().parents[2]


def _segs(project, sid):  # noqa: ANN001, ANN202
    with project.db.session() as s:
        return list(s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sid)
                           .order_by(TranscriptSegment.start_ms)))


def test_load_review_merges_segments_events_speakers_and_themes(transcript):
    project, sid, lead, observer = transcript
    data = load_review(project, sid)
    assert len(data.segments) == 4 and not data.has_audio
    assert [(sp.key, sp.label) for sp in data.speakers] == [("1", "I01"), ("2", "AL"), ("3", "OO")]
    assert [(m.kind, m.label, m.author) for m in data.markers] == [
        ("note", "Youth team story", "OO"),
        ("coverage", "covered: Tell me about the last time you needed help from another service for a user.", "AL")]
    assert [(t.title, t.position_ms) for t in data.themes] == [("Working with other services", 11_000)]


def test_edit_keeps_verbatim_and_an_unchanged_text_clears_the_edit(transcript):
    project, sid, *_ = transcript
    seg = _segs(project, sid)[3]
    assert edit_segment(project, seg.id, "Usually the NAV office or the GP.") == "Usually the NAV office or the GP."
    after = _segs(project, sid)[3]
    assert after.verbatim == "Usually the nav office or the GP, eh, the doctor."
    assert after.text == "Usually the NAV office or the GP."
    assert edit_segment(project, seg.id, after.verbatim + "  ") is None
    assert _segs(project, sid)[3].edited is None


def test_assign_speaker_informant_or_researcher(transcript):
    project, sid, lead, _ = transcript
    data = load_review(project, sid)
    seg0, seg1 = _segs(project, sid)[:2]
    assign_speaker(project, seg0.id, data.speakers[1])   # AL asks
    assign_speaker(project, seg1.id, data.speakers[0])   # I01 answers
    s0, s1 = _segs(project, sid)[:2]
    assert (s0.speaker_label, s0.speaker_researcher_id, s0.speaker_informant_id) == ("AL", lead, None)
    assert s1.speaker_label == "I01" and s1.speaker_informant_id is not None and s1.speaker_researcher_id is None
    assign_speaker(project, seg1.id, data.speakers[1])
    s1 = _segs(project, sid)[1]
    assert s1.speaker_informant_id is None and s1.speaker_researcher_id == lead


def test_find_replace_works_on_the_edited_layer_only(transcript):
    project, sid, *_ = transcript
    assert find_replace(project, sid, "nav office", "NAV office") == 2
    segs = _segs(project, sid)
    assert segs[1].edited is None  # "NAV office" was already right there: unchanged text, no edit
    assert segs[3].edited == "Usually the NAV office or the GP, eh, the doctor."
    assert segs[3].verbatim == "Usually the nav office or the GP, eh, the doctor."
    assert find_replace(project, sid, "eh", "") == 1            # whole words only: "when" untouched
    assert _segs(project, sid)[2].edited is None
    assert find_replace(project, sid, "GP", "doctor (GP)", case=True) == 1
    assert "doctor (GP)" in _segs(project, sid)[3].edited
    with pytest.raises(FieldkitError):
        find_replace(project, sid, "  ", "x")
    assert find_segments(load_review(project, sid), "DOCTOR") == [3]


def test_quote_has_a_stable_reference_and_review_status(transcript):
    project, sid, lead, _ = transcript
    seg = _segs(project, sid)[1]
    ev = mark_quote(project, sid, seg.start_ms, seg.end_ms, seg.text, lead)
    assert ev.code == quote_reference(sid, 5000) == f"S{sid.hex[:8]}@00:00:05"
    with project.db.session() as s:
        stored = s.exec(select(Event).where(Event.kind == EventKind.quote)).one()
        assert (stored.position_ms, stored.end_ms, stored.text) == (5000, 9500, seg.text)
    with pytest.raises(FieldkitError):
        mark_quote(project, sid, 10, 5, "x")
    mark_reviewed(project, sid)
    with project.db.session() as s:
        assert s.get(Session, sid).status == SessionStatus.reviewed


def test_uncertain_words_in_order_and_not_in_edited_text(transcript):
    from fieldkit.sessions.review import UNCERTAIN_BELOW, UNCERTAIN_LEAD_MS, next_uncertain, uncertain_words

    project, sid, *_ = transcript
    segs = _segs(project, sid)
    low = UNCERTAIN_BELOW - 0.2
    with project.db.transaction() as s:
        for g, probs in zip(segs, ([0.99] * 7, [0.9, low, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, low],
                                   [0.9] * 9, [low] + [0.95] * 9)):
            row = s.get(TranscriptSegment, g.id)
            row.words = _words(row.verbatim, row.start_ms, probs)
            s.add(row)
    data = load_review(project, sid)
    found = [(w.segment, w.word, w.text) for w in uncertain_words(data)]
    assert found == [(1, 1, "work"), (1, 8, "youth."), (3, 0, "Usually")]
    first = next_uncertain(data, None, 1)
    assert (first.segment, first.word) == (1, 1)
    assert first.play_span() == (5400 - UNCERTAIN_LEAD_MS, 5750 + UNCERTAIN_LEAD_MS)
    assert next_uncertain(data, (1, 1), 1).word == 8
    assert next_uncertain(data, (1, 8), 1).segment == 3
    assert next_uncertain(data, (3, 0), 1) is None
    assert next_uncertain(data, (3, 0), -1).word == 8
    assert next_uncertain(data, None, -1).segment == 3
    edit_segment(project, segs[1].id, "I work at the NAV office, mostly with young people.")
    assert [w.segment for w in uncertain_words(load_review(project, sid))] == [3]   # edited: the researcher's words


def test_assign_voice_names_every_segment_of_the_voice_and_marks_it_manual(transcript):
    from fieldkit.sessions.review import assign_voice

    project, sid, lead, _ = transcript
    segs = _segs(project, sid)
    with project.db.transaction() as s:
        for g, voice in zip(segs, ["S1", "S2", "S1", "S2"]):
            row = s.get(TranscriptSegment, g.id)
            row.speaker_auto = row.speaker_label = voice
            s.add(row)
    data = load_review(project, sid)
    assert data.voices == {"S1": "S1", "S2": "S2"}
    assert assign_voice(project, sid, "S2", data.speakers[0]) == 2       # S2 is I01
    after = _segs(project, sid)
    assert [(g.speaker_label, g.speaker_manual) for g in after] == [
        ("S1", False), ("I01", True), ("S1", False), ("I01", True)]
    assert load_review(project, sid).voices == {"S1": "S1", "S2": "I01"}
    with pytest.raises(FieldkitError, match="S7"):
        assign_voice(project, sid, "S7", data.speakers[0])
    assign_speaker(project, after[0].id, data.speakers[1])
    assert _segs(project, sid)[0].speaker_manual
