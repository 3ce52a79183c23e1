"""A paste keeps everything: a bracketed paste (Textual's Paste event, as the terminal
sends it) of several lines into the note field (the lead's and the observer's interview
screens) and the transcript edit field in review is stored with every line; any other
single-line field joins the lines with spaces. Asserted on the database."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select
from textual import events
from textual.app import App, ComposeResult

from fieldkit.store.models import Event, EventKind, TranscriptSegment
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.interview import InterviewScreen
from fieldkit.tui.screens.review import ReviewScreen
from fieldkit.tui.widgets.inputs import SHOWN_BREAK, Input, LinesInput
from tests.support.wait import until
from tests.support.screens import SLUG, _events
from tests.support.screens import interview_project as _project
from tests.support.screens import planned_session as _planned
from tests.support.wait import settle as _settle

#: a passage from an observation form: Word's manual line break, a Unicode line
#: separator, Windows line ends, a control character and a decomposed letter
PASTED = "Observert kl. 10:12:\x0bL03 ser bort\u2028og nøler.\r\nSa: \u00abdet vet jeg ikke\u00bb\x01 Kafe\u0301."
STORED = "Observert kl. 10:12:\nL03 ser bort\nog nøler.\nSa: \u00abdet vet jeg ikke\u00bb Kafé."


def paste(app, text: str) -> None:  # noqa: ANN001
    """A bracketed paste as it arrives from the terminal: to the app, which hands it to
    the focused widget."""
    app.post_message(events.Paste(text))


async def test_a_pasted_passage_in_the_note_keeps_every_line_for_the_lead_and_the_observer(tmp_path: Path):
    ws = _project(tmp_path / "data")
    sid, lead, observer = _planned(ws)
    lead_app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    obs_app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with lead_app.run_test(size=(100, 30)) as lp, obs_app.run_test(size=(100, 30)) as op:
        await _settle(lead_app, lp)
        await _settle(obs_app, op)
        lead_app.push_screen(InterviewScreen(SLUG, sid, record=False))
        obs_app.push_screen(InterviewScreen(SLUG, sid, observer=True))
        await _settle(lead_app, lp)
        await _settle(obs_app, op)
        for app, pilot, who in ((lead_app, lp, "lead: "), (obs_app, op, "observer: ")):
            await pilot.press("n", *who)
            note = app.screen.query_one("#note", LinesInput)
            assert note.has_focus
            paste(app, PASTED)
            await until(pilot, lambda note=note: "nøler" in note.value, "the paste in the note field")
            assert note.value == who + STORED                      # every line, as the rule keeps it
            shown = note._value.plain                              # what the field draws
            assert f"10:12:{SHOWN_BREAK}L03" in shown and "\n" not in shown   # a break is seen
            await pilot.press("enter")                             # one key saves it
            await until(pilot, lambda note=note: note.value == "", "the note saved")
        await until(lp, lambda: len(_events(ws, sid, EventKind.note)) == 2, "both notes stored", 30)
    notes = {e.created_by: e.text for e in _events(ws, sid, EventKind.note)}
    assert notes == {lead: "lead: " + STORED, observer: "observer: " + STORED}


async def test_a_pasted_correction_in_the_transcript_edit_keeps_every_line(transcript, workspace):  # noqa: F811
    project, sid, _lead, _ = transcript
    slug = project.project().slug
    app = FieldkitApp(data_dir=workspace.root, project=slug)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(app, pilot)
        app.push_screen(ReviewScreen(slug, sid))
        await _settle(app, pilot)
        screen = app.screen
        await pilot.press("down", "enter")                         # edit segment 2
        inp = screen.query_one("#review-input", LinesInput)
        await until(pilot, lambda: inp.has_focus, "the edit field")
        assert inp.value.startswith("I work at")
        inp.value = ""
        paste(app, "I work at the NAV office,\x0bmostly with\u2028young people.\r\n(corrected\x00 from Word)")
        await until(pilot, lambda: "Word" in inp.value, "the paste in the edit field")
        await pilot.press("enter")
        await _settle(app, pilot)
        # the search in the same line joins the lines of a paste
        await pilot.press("slash")
        await until(pilot, lambda: inp.has_focus and not inp.keep_lines, "the find field")
        inp.value = ""
        paste(app, "young\npeople\n")
        await until(pilot, lambda: inp.value == "young people", "the joined search")
        await pilot.press("escape")
    with project.db.session() as s:
        segs = list(s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sid)
                           .order_by(TranscriptSegment.start_ms)))
    assert segs[1].edited == "I work at the NAV office,\nmostly with\nyoung people.\n(corrected from Word)"
    assert segs[1].verbatim == "I work at the NAV office, mostly with youth."


class Fields(App):
    """Single-line fields as the screens use them."""

    def compose(self) -> ComposeResult:
        yield Input(id="plain")
        yield Input(id="secret", password=True)


async def test_a_single_line_field_joins_pasted_lines_and_drops_none():
    app = Fields()
    async with app.run_test() as pilot:
        plain = app.query_one("#plain", Input)
        plain.focus()
        await until(pilot, lambda: plain.has_focus, "focus")
        paste(app, "Kari\x0bNordmann\u2028nurse\r\n\r\nDPS\x1c\x85office\n")
        await until(pilot, lambda: "office" in plain.value, "the paste")
        assert plain.value == "Kari Nordmann nurse DPS office"
        plain.value = "role: "
        plain.cursor_position = len(plain.value)
        paste(app, "leader\nof the unit")
        await until(pilot, lambda: plain.value.endswith("unit"), "the second paste")
        assert plain.value == "role: leader of the unit"
        secret = app.query_one("#secret", Input)
        secret.focus()
        await until(pilot, lambda: secret.has_focus, "focus")
        paste(app, "pass word\u0301\n")                          # as copied: no normal form, no end break
        await until(pilot, lambda: secret.value != "", "the passphrase paste")
        assert secret.value == "pass word\u0301"


async def test_a_paste_of_only_control_characters_stores_no_empty_note(tmp_path: Path):
    """A note of nothing but control characters is not stored as an empty note."""
    ws = _project(tmp_path / "data")
    sid, _lead, _ = _planned(ws)
    app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(app, pilot)
        app.push_screen(InterviewScreen(SLUG, sid, record=False))
        await _settle(app, pilot)
        await pilot.press("n")
        note = app.screen.query_one("#note", LinesInput)
        paste(app, "\x00\x01\x0b")
        await until(pilot, lambda: note.value == "\n", "the paste")
        await pilot.press("enter")
        await until(pilot, lambda: note.value == "" and not note.has_focus, "the note line closed")
        await pilot.press("n", *"real note", "enter")
        await until(pilot, lambda: len(_events(ws, sid, EventKind.note)) == 1, "the real note stored", 30)
    with ws.open(SLUG) as h, h.db.session() as s:
        texts = [e.text for e in s.exec(select(Event).where(Event.session_id == sid, Event.kind == EventKind.note))]
    assert texts == ["real note"]
