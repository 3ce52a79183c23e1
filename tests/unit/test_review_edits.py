"""Review's structural edits without the UI (issue 24): merge with the next segment,
split at a text position (time from word timings, both layers cut consistently), the
speaker of the words after the cursor, undo of every edit, snippets, the transcription
pedal's transport and the flags (repeated phrases)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from fieldkit.errors import FieldkitError
from fieldkit.sessions.review import (
    ChangedSince, edit_segment, edit_segment_undoable, load_review, mark_quote_undoable, merge_with_next,
    repeated_flags, replace_all, split_plan, split_segment, undo_change, assign_speaker_undoable,
)
from fieldkit.store.models import Event, TranscriptSegment
from tests.support.builders import words as _words


def _segs(project, sid):
    with project.db.session() as s:
        return list(s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sid)
                           .order_by(TranscriptSegment.start_ms)))


def _rows(project, sid):
    return [(g.start_ms, g.end_ms, g.verbatim, g.edited, g.speaker_label, len(g.words or [])) for g in _segs(project, sid)]


@pytest.fixture
def timed(transcript):
    """The review fixture's four segments with word timings (400 ms a word)."""
    project, sid, lead, observer = transcript
    with project.db.transaction() as s:
        for g in s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sid)):
            g.words = _words(g.verbatim, g.start_ms, [0.9] * len(g.verbatim.split()))
            s.add(g)
    return project, sid, lead, observer


def test_split_cuts_both_layers_and_time_at_the_words_and_undo_restores(timed):
    project, sid, *_ = timed
    original = _rows(project, sid)
    seg = _segs(project, sid)[1]           # "I work at the NAV office, mostly with youth." at 5000
    at = seg.verbatim.index("mostly")
    data = load_review(project, sid)
    change = split_segment(project, seg.id, at, data.speakers[0])
    segs = _segs(project, sid)
    assert len(segs) == 5
    a, b = segs[1], segs[2]
    assert (a.verbatim, a.edited, a.id) == ("I work at the NAV office,", None, seg.id)
    assert (b.verbatim, b.edited) == ("mostly with youth.", None)
    # "mostly" is word 6: it starts at 5000 + 6*400; the first part ends with word 5's end
    assert (a.start_ms, a.end_ms, b.start_ms, b.end_ms) == (5000, 5000 + 5 * 400 + 350, 5000 + 6 * 400, 9500)
    assert [w["w"].strip() for w in b.words] == ["mostly", "with", "youth."]
    assert (a.speaker_label, b.speaker_label, b.speaker_manual) == ("", "I01", True)
    assert change.focus == b.id
    assert undo_change(project, change) == 1
    assert _rows(project, sid) == original


def test_split_of_an_edited_segment_cuts_the_edit_at_the_cursor_and_the_verbatim_at_a_word(timed):
    project, sid, *_ = timed
    seg = _segs(project, sid)[3]          # "Usually the nav office or the GP, eh, the doctor."
    edit_segment(project, seg.id, "Usually the NAV office or the GP - the doctor.")
    shown = "Usually the NAV office or the GP - the doctor."
    plan = split_plan(_segs(project, sid)[3], shown.index("or the"))
    assert plan.edited == ("Usually the NAV office", "or the GP - the doctor.")
    assert plan.verbatim == ("Usually the nav office", "or the GP, eh, the doctor.")
    assert plan.first_end_ms == 15000 + 3 * 400 + 350 and plan.second_start_ms == 15000 + 4 * 400
    # mid-word in a segment not edited: the cut moves to the word's start
    first = _segs(project, sid)[0]
    plan = split_plan(first, first.verbatim.index("work") + 2)
    assert (plan.verbatim, plan.edited) == (("So what do you do at", "work?"), (None, None))
    assert (plan.first_end_ms, plan.second_start_ms) == (5 * 400 + 350, 6 * 400)
    with pytest.raises(FieldkitError):
        split_plan(_segs(project, sid)[3], 0)
    with pytest.raises(FieldkitError):
        split_plan(_segs(project, sid)[3], len(shown))


def test_merge_joins_both_layers_and_undo_brings_the_next_back_with_its_id(timed):
    project, sid, *_ = timed
    original = _rows(project, sid)
    first, second = _segs(project, sid)[2:4]
    edit_segment(project, second.id, "Usually the NAV office or the GP.")
    before_merge = _rows(project, sid)
    change = merge_with_next(project, first.id)
    segs = _segs(project, sid)
    assert len(segs) == 3
    m = segs[2]
    assert (m.id, m.start_ms, m.end_ms) == (first.id, 10000, 19500)
    assert m.verbatim == "And who do you call when it gets difficult? Usually the nav office or the GP, eh, the doctor."
    assert m.edited == "And who do you call when it gets difficult? Usually the NAV office or the GP."
    assert len(m.words) == 9 + 10
    undo_change(project, change)
    assert _rows(project, sid) == before_merge
    assert _segs(project, sid)[3].id == second.id
    with pytest.raises(FieldkitError):
        merge_with_next(project, _segs(project, sid)[-1].id)
    assert _rows(project, sid) != original          # the edit is still there


def test_undo_of_edits_speakers_quotes_and_replace_all(timed):
    project, sid, lead, _ = timed
    original = _rows(project, sid)
    seg = _segs(project, sid)[0]
    data = load_review(project, sid)
    changes = [edit_segment_undoable(project, seg.id, "So, what do you do at work?"),
               assign_speaker_undoable(project, seg.id, data.speakers[1]),
               replace_all(project, sid, "work", "job")]
    quote = mark_quote_undoable(project, sid, 0, 4500, "So what", lead)
    with project.db.session() as s:
        assert s.get(Event, quote.event_id) is not None
    assert _segs(project, sid)[0].text == "So, what do you do at job?"
    undo_change(project, quote)
    with project.db.session() as s:
        assert s.get(Event, quote.event_id) is None
    for change in reversed(changes):
        undo_change(project, change)
    assert _rows(project, sid) == original
    # a change made since (another terminal) is not thrown away by an undo
    change = edit_segment_undoable(project, seg.id, "first")
    edit_segment(project, seg.id, "second")
    with pytest.raises(ChangedSince):
        undo_change(project, change)
    assert _segs(project, sid)[0].edited == "second"


def test_snippets_expand_where_typed_and_fill_in_the_session(transcript):
    from fieldkit.sessions.snippets import remove_snippet, session_expansion, set_snippet, snippets

    project, sid, *_ = transcript
    assert set_snippet(project, ",,i", "{informant}") is True
    assert set_snippet(project, ",,l", "{lead}:") is True
    assert set_snippet(project, "(ll)", "(laughs)") is True
    assert set_snippet(project, "(ll)", "(laughter)") is False
    assert snippets(project) == {",,i": "{informant}", ",,l": "{lead}:", "(ll)": "(laughter)"}
    with pytest.raises(FieldkitError):
        set_snippet(project, "a b", "x")
    with pytest.raises(FieldkitError):
        set_snippet(project, ",,x", "{nobody}")
    exp = session_expansion(project, sid)
    assert exp.expand("said ,,i ", 9) == ("said I01 ", 9)
    assert exp.expand("said ,,i.", 9) == ("said I01.", 9)
    assert exp.expand("abc,,i ", 7) == ("abc,,i ", 7)               # not the start of a word
    assert exp.expand("x ,,i", 5) == ("x ,,i", 5)                   # not finished yet
    assert exp.expand("x ,,i", 5, at_end=True) == ("x I01", 5)      # saved: it is finished
    assert exp.expand("(ll) ", 5) == ("(laughter) ", 11)
    assert exp.expand(",,l ok", 4) == ("AL: ok", 4)
    remove_snippet(project, ",,l")
    with pytest.raises(FieldkitError):
        remove_snippet(project, ",,l")


def test_transport_rewinds_on_resume_jumps_and_changes_speed():
    from fieldkit.recording.playback import Transport

    t = Transport(end_ms=60_000, rewind_ms=2000)
    assert t.start(10_000, now=100.0) == 10_000
    assert t.at(101.5) == 11_500
    assert t.pause(103.0) == 13_000 and not t.playing
    assert t.resume(200.0) == 11_000                    # 2 s before where it paused
    assert t.jump(-5000, 201.0) == 7_000                # 12 s played, back 5
    assert t.jump(5000, 201.0) == 12_000
    assert t.change_rate(-1, 201.0) == 0.9 and t.change_rate(-1, 201.0) == 0.75
    assert t.at(205.0) == 12_000 + 3000                 # 4 s at 0.75
    assert t.change_rate(+1, 205.0) == 0.9
    t.pause(205.0)
    assert t.jump(-20_000, 300.0) == 0                  # never before the start
    t.start(59_000, 300.0)
    assert t.finished(302.0) and t.at(302.0) == 60_000
    t.start(1000, 400.0, until_ms=2000)
    assert not t.finished(400.5) and t.finished(401.2)       # at 0.9 the second takes 1.11 s


def test_stretch_keeps_the_pitch_and_changes_the_length():
    import numpy as np

    from fieldkit.recording.playback import stretch

    sr = 16000
    x = (0.3 * np.sin(2 * np.pi * 440 * np.arange(sr * 2) / sr)).astype(np.float32)
    for rate in (0.75, 1.25):
        y = stretch(x, rate, sr)
        assert abs(len(y) / len(x) - 1 / rate) < 0.05, (rate, len(y))
        spectrum = np.abs(np.fft.rfft(y[sr // 2: sr // 2 + sr]))
        assert abs(np.argmax(spectrum) - 440) <= 2      # 1 Hz bins: still an A


def test_rewind_setting_is_read_and_checked(tmp_path, monkeypatch):
    from fieldkit.recording import playback

    monkeypatch.setenv(playback.ENV_PLAYBACK, str(tmp_path / "playback.toml"))
    assert playback.load_rewind_ms() == playback.REWIND_MS
    playback.save_rewind_ms(3000)
    assert playback.load_rewind_ms() == 3000
    (tmp_path / "playback.toml").write_text("rewind_seconds = 9\n")
    with pytest.raises(FieldkitError):
        playback.load_rewind_ms()


def test_repeated_phrases_are_flagged(transcript):
    project, sid, *_ = transcript
    with project.db.transaction() as s:
        s.add(TranscriptSegment(session_id=sid, start_ms=20_000, end_ms=26_000,
                                verbatim="Takk for meg. Takk for meg. Takk for meg. Takk for meg."))
    flags = repeated_flags(load_review(project, sid))
    assert [(f.kind, f.phrase, f.times, f.start_ms) for f in flags] == [("repeated", "takk for meg", 4, 20_000)]


def test_naming_a_voice_is_undone_for_all_its_segments(transcript):
    from fieldkit.sessions.review import assign_voice_undoable

    project, sid, *_ = transcript
    with project.db.transaction() as s:
        for g, voice in zip(s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sid)
                                   .order_by(TranscriptSegment.start_ms)), ["S1", "S2", "S1", "S2"]):
            g.speaker_auto = g.speaker_label = voice
            s.add(g)
    original = _rows(project, sid)
    data = load_review(project, sid)
    n, change = assign_voice_undoable(project, sid, "S2", data.speakers[0])
    assert n == 2 and len(change.after) == 2
    assert [g.speaker_label for g in _segs(project, sid)] == ["S1", "I01", "S1", "I01"]
    undo_change(project, change)
    assert _rows(project, sid) == original
