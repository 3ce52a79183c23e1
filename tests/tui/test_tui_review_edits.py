"""Correction at typing speed (issue 24) through Textual's Pilot: split at the text cursor
with the speaker of the words after it, merge with the next segment, Ctrl+Z for every
edit, text snippets while editing, and the flags (repeated phrases, speech without
transcript) with their jump key; checked in the database and in exports read back."""

from __future__ import annotations

import zipfile

from sqlmodel import select
from textual.widgets import Input, OptionList

from fieldkit.store.models import Event, EventKind, TranscriptSegment
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.review import ReviewScreen
from tests.support.builders import words as _words
from tests.support.real_speech import clip, joined, needs_speech
from tests.support.wait import settle, until


def _segs(project, sid):
    with project.db.session() as s:
        return list(s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sid)
                           .order_by(TranscriptSegment.start_ms)))


def _rows(project, sid):
    return [(g.start_ms, g.end_ms, g.verbatim, g.edited, g.speaker_label) for g in _segs(project, sid)]


def _with_words(project, sid) -> None:
    with project.db.transaction() as s:
        for g in s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sid)):
            g.words = _words(g.verbatim, g.start_ms, [0.95] * len(g.verbatim.split()))
            s.add(g)


async def _open(app, pilot, slug, sid) -> ReviewScreen:
    await settle(app, pilot)
    screen = ReviewScreen(slug, sid)
    app.push_screen(screen)
    await until(pilot, lambda: screen.data is not None and screen.rows, "the review")
    return screen


def _on_segment(screen: ReviewScreen, start_ms: int) -> None:
    screen._goto(next(i for i, (k, o) in enumerate(screen.rows) if k == "segment" and o.start_ms == start_ms))


async def test_split_merge_and_undo_every_edit_through_the_keys(transcript, workspace, tmp_path):
    project, sid, lead, _ = transcript
    _with_words(project, sid)
    original = _rows(project, sid)
    slug = project.project().slug
    app = FieldkitApp(data_dir=workspace.root, project=slug)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open(app, pilot, slug, sid)
        # split "I work at the NAV office, mostly with youth." before "mostly"; I01 says the rest
        _on_segment(screen, 5000)
        await pilot.press("enter")
        inp = screen.query_one("#review-input", Input)
        await until(pilot, lambda: inp.has_focus, "the edit line")
        inp.cursor_position = inp.value.index("mostly")
        await pilot.press("ctrl+b")
        await until(pilot, lambda: app.screen.query("#split-list"), "who speaks from here")
        await pilot.press("1")
        await until(pilot, lambda: len(_segs(project, sid)) == 5, "the split is stored")
        a, b = _segs(project, sid)[1:3]
        assert (a.verbatim, a.end_ms, a.speaker_label) == ("I work at the NAV office,", 5000 + 5 * 400 + 350, "")
        assert (b.verbatim, b.start_ms, b.end_ms, b.speaker_label, b.speaker_manual) == (
            "mostly with youth.", 5000 + 6 * 400, 9500, "I01", True)
        await until(pilot, lambda: screen.rows[screen.query_one("#review-list", OptionList).highlighted][1].id == b.id,
                    "the cursor on the words after the split")
        after_split = _rows(project, sid)
        # merge the first question with the answer's first part
        _on_segment(screen, 0)
        await pilot.press("J")
        await until(pilot, lambda: len(_segs(project, sid)) == 4, "the merge is stored")
        m = _segs(project, sid)[0]
        assert (m.start_ms, m.end_ms) == (0, 5000 + 5 * 400 + 350)
        assert m.verbatim == "So what do you do at work? I work at the NAV office,"
        # an edit, a speaker, a replace-all and a quote, then undo them all and the merge and the split
        await settle(app, pilot)
        _on_segment(screen, 0)
        await pilot.press("e")
        await until(pilot, lambda: inp.has_focus, "the edit line")
        inp.value = "So, what do you do at work? I work at the NAV office,"
        await pilot.press("enter")
        await until(pilot, lambda: _segs(project, sid)[0].edited is not None, "the edit is stored")
        await settle(app, pilot)
        await pilot.press("2")
        await until(pilot, lambda: _segs(project, sid)[0].speaker_label == "AL", "the speaker is stored")
        await settle(app, pilot)
        await pilot.press("R")
        await until(pilot, lambda: app.screen.query("#replace-find"), "the replace box")
        await pilot.press(*"youth", "enter", *"young people", "enter", "enter")
        await until(pilot, lambda: any(g.edited == "mostly with young people." for g in _segs(project, sid)),
                    "the replace is stored")
        await settle(app, pilot)
        await pilot.press("q")
        await settle(app, pilot)
        with project.db.session() as s:
            assert len(s.exec(select(Event).where(Event.kind == EventKind.quote)).all()) == 1
        for step in range(6):     # quote, replace, speaker, edit, merge, split
            await pilot.press("ctrl+z")
            await settle(app, pilot)
            if step == 0:
                with project.db.session() as s:
                    assert s.exec(select(Event).where(Event.kind == EventKind.quote)).all() == []
            if step == 4:
                assert _rows(project, sid) == after_split
        assert _rows(project, sid) == original
        await pilot.press("ctrl+z")
        await until(pilot, lambda: any("Nothing to undo" in n.message for n in app._notifications), "nothing left")


async def test_exports_follow_a_split_and_a_merge(transcript, tmp_path):
    """Word and REFI-QDA exports read back: the split segment is two turns with their
    speakers, the merged one is one."""
    import docx
    from lxml import etree

    from fieldkit.export import run_export
    from fieldkit.export.collect import ExportOptions
    from fieldkit.sessions.review import load_review, merge_with_next, split_segment

    project, sid, *_ = transcript
    _with_words(project, sid)
    segs = _segs(project, sid)
    data = load_review(project, sid)
    split_segment(project, segs[1].id, segs[1].verbatim.index("mostly"), data.speakers[0])
    merge_with_next(project, segs[2].id)
    out = tmp_path / "out"
    run_export(project, ["docx", "qdpx"], None, ExportOptions(), out)
    paragraphs = [p.text for p in docx.Document(str(next(out.glob("*.docx")))).paragraphs]
    assert any("I work at the NAV office," in p and "mostly" not in p for p in paragraphs), paragraphs
    assert any("I01" in p and "mostly with youth." in p for p in paragraphs), paragraphs
    assert any("And who do you call when it gets difficult? Usually the nav office" in p for p in paragraphs)
    with zipfile.ZipFile(next(out.glob("*.qdpx"))) as z:
        root = etree.fromstring(z.read("project.qde"))
        texts = [z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("sources/")]
    assert root.find(".//{urn:QDA-XML:project:1.0}TextSource") is not None
    body = next(t for t in texts if "mostly with youth." in t)
    lines = [ln for ln in body.splitlines() if "youth" in ln or "difficult" in ln]
    assert any(ln.rstrip().endswith("mostly with youth.") and "I01" in ln for ln in lines), lines
    assert any("difficult? Usually the nav office" in ln for ln in lines), lines


async def test_snippets_are_added_in_the_app_and_expand_while_editing(transcript, workspace):
    from fieldkit.sessions.snippets import snippets

    project, sid, *_ = transcript
    slug = project.project().slug
    app = FieldkitApp(data_dir=workspace.root, project=slug)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(app, pilot, slug, sid)
        await pilot.press("S")
        await until(pilot, lambda: app.screen.query("#snippets-new"), "the snippets box")
        await pilot.press(*",,i {informant}", "enter")
        await until(pilot, lambda: snippets(project) == {",,i": "{informant}"}, "the snippet is stored")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen and screen.expansion is not None
                    and screen.expansion.table == {",,i": "I01"}, "the session's snippets")
        _on_segment(screen, 5000)
        await pilot.press("e", "end", *" said ,,i ", *"too ,,i")
        inp = screen.query_one("#review-input", Input)
        assert inp.value == "I work at the NAV office, mostly with youth. said I01 too ,,i"
        await pilot.press("enter")
        await until(pilot, lambda: _segs(project, sid)[1].edited
                    == "I work at the NAV office, mostly with youth. said I01 too I01", "the expanded text is stored")


@needs_speech
async def test_flags_show_speech_without_transcript_and_repeated_phrases(workspace, tmp_path):
    """Three real clips with pauses; the transcript has words for the first and the last
    only and a loop of one phrase: review lists both flags and f jumps between them."""
    import soundfile as sf

    from fieldkit.recording.importer import import_recording
    from fieldkit.store.models import Session

    names = ["en_jfk", "en_libri61_left", "en_librivox_sense"]
    audio, _ref = joined(names, gap_s=1.5)
    sf.write(tmp_path / "three.wav", audio, 16000)
    lengths = [len(clip(n)[0]) * 1000 // 16000 for n in names]
    project = workspace.create("Flags", language="en")
    with project.db.transaction() as s:
        sess = Session(project_id=project.project_id, title="Three voices")
        s.add(sess)
    import_recording(project, sess.id, tmp_path / "three.wav")
    first_end = lengths[0]
    third = lengths[0] + lengths[1] + 3000
    with project.db.transaction() as s:
        for start, end, text in ((0, first_end, clip(names[0])[1]), (third, third + lengths[2], clip(names[2])[1])):
            toks = text.split()
            step = (end - start) // len(toks)
            s.add(TranscriptSegment(session_id=sess.id, start_ms=start, end_ms=end, verbatim=text,
                                    words=[{"w": " " + t, "s": start + i * step, "e": start + (i + 1) * step,
                                            "p": 0.9} for i, t in enumerate(toks)]))
        s.add(TranscriptSegment(session_id=sess.id, start_ms=third + lengths[2] + 100,
                                end_ms=third + lengths[2] + 900, verbatim="Thank you. Thank you. Thank you. Thank you."))
    slug = project.project().slug
    app = FieldkitApp(data_dir=workspace.root, project=slug)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await _open(app, pilot, slug, sess.id)
        await until(pilot, lambda: any(f.kind == "uncovered" for f in screen.flags), "the speech check", timeout=60)
        uncovered = [f for f in screen.flags if f.kind == "uncovered"]
        assert len(uncovered) == 1
        mid = (lengths[0] + 1500, lengths[0] + 1500 + lengths[1])
        assert abs(uncovered[0].start_ms - mid[0]) < 1500 and abs(uncovered[0].end_ms - mid[1]) < 1500, (uncovered, mid)
        assert [(f.phrase, f.times) for f in screen.flags if f.kind == "repeated"] == [("thank you", 4)]
        lst = screen.query_one("#review-list", OptionList)
        await pilot.press("home", "f")
        kind, row = screen.rows[lst.highlighted]
        assert kind == "marker" and row.kind == "flag" and str(row.label).startswith("speech without transcript")
        assert screen.play_span() == (uncovered[0].start_ms, uncovered[0].end_ms)
        await pilot.press("f")
        assert "4 times in a row" in str(screen.rows[lst.highlighted][1].label)
        await pilot.press("f")                   # round again to the first
        assert screen.rows[lst.highlighted][1].position_ms == uncovered[0].start_ms


async def test_a_foot_pedal_keymap_moves_the_playback_and_merge_keys(transcript, workspace, tmp_path, monkeypatch):
    """A pedal sends keys: keymap.toml puts review.play and review.merge on them by id."""
    project, sid, *_ = transcript
    keymap = tmp_path / "keymap.toml"
    keymap.write_text('"review.play" = "f9"\n"review.merge" = "f10"\n', encoding="utf-8")
    monkeypatch.setenv("FIELDKIT_KEYMAP", str(keymap))
    slug = project.project().slug
    app = FieldkitApp(data_dir=workspace.root, project=slug)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(app, pilot, slug, sid)
        await pilot.press("f9")                  # this session has no audio: said, not crashed
        await until(pilot, lambda: any("no audio" in n.message for n in app._notifications), "the play key moved")
        _on_segment(screen, 0)
        await pilot.press("f10")
        await until(pilot, lambda: len(_segs(project, sid)) == 3, "the merge key moved")
        await pilot.press("J")                   # the old key does nothing now
        await settle(app, pilot)
        assert len(_segs(project, sid)) == 3
        # the pedal works while an edit is open (the text keeps its own keys)
        before = sum("no audio" in n.message for n in app._notifications)
        await pilot.press("e")
        await until(pilot, lambda: screen.query_one("#review-input", Input).has_focus, "the edit line")
        await pilot.press("f9")
        await until(pilot, lambda: sum("no audio" in n.message for n in app._notifications) > before,
                    "the pedal key reaches the screen from the edit line")


async def test_an_edit_that_cannot_be_stored_is_not_shown_as_done_and_is_kept_to_retry(
        transcript, workspace, monkeypatch):
    """Another program holds the database while an edit is saved: the screen showed the
    new text as edited although nothing was stored (gone at the next opening). Now the
    row shows what is stored and the edit line opens again with the typed text; Enter
    stores it once the database is free."""
    import sqlite3

    import fieldkit.store.db as dbmod

    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_MS", 100)
    project, sid, _lead, _ = transcript
    slug = project.project().slug
    app = FieldkitApp(data_dir=workspace.root, project=slug)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open(app, pilot, slug, sid)
        _on_segment(screen, 5000)
        await pilot.press("e")
        inp = screen.query_one("#review-input", Input)
        await until(pilot, lambda: inp.has_focus, "the edit line")
        other = sqlite3.connect(project.db.path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            inp.value = "I work at NN, mostly with youth."
            await pilot.press("enter")
            await until(pilot, lambda: screen.mode == "edit" and inp.has_focus, "the edit line open again")
            assert inp.value == "I work at NN, mostly with youth."
            seg = next(o for k, o in screen.rows if k == "segment" and o.start_ms == 5000)
            assert seg.edited is None
        finally:
            other.rollback()
            other.close()
        assert [r[3] for r in _rows(project, sid)] == [None] * 4
        await pilot.press("enter")
        await until(pilot, lambda: _rows(project, sid)[1][3] == "I work at NN, mostly with youth.", "stored")
