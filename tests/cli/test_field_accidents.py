"""Accidents of fieldwork on the command line (issue 21's walk): an export onto a disk
that fills up, a laptop in another time zone, and what the event table says about
consent and the recording marks. Exports are read back with independent parsers."""

from __future__ import annotations

import csv
import os
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from fieldkit.errors import ExitCode
from fieldkit.store.models import Event, EventKind, Session
from tests.support.cli import fk
from tests.support.screens import SLUG, interview_project, recorded_session


@pytest.fixture(scope="module")
def field(tmp_path_factory):
    """A recorded session with consent given, recording marks, tags, notes and a
    transcript line: (data folder, session id)."""
    from fieldkit.sessions.consent import record_session_consent

    root = tmp_path_factory.mktemp("accidents") / "data"
    ws = interview_project(root)
    sid = recorded_session(ws)
    with ws.open(SLUG) as h:
        record_session_consent(h, sid, "I01", False)     # asked before the form was ticked
        record_session_consent(h, sid, "I01", True)
        from fieldkit.sessions.notes import add_note

        add_note(h, sid, 140_000, "Pasted from my phone:\nline two: she hesitated\nline three", None)
        with h.db.transaction() as s:
            for pos, code in ((0, "start"), (300_000, "pause"), (310_000, "resume"), (754_000, "stop")):
                s.add(Event(session_id=sid, kind=EventKind.recording, code=code, position_ms=pos))
    return root, sid


def _events_csv(folder: Path) -> list[dict]:
    with open(next(folder.glob("*-events.csv")), encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_the_event_table_says_what_each_consent_answer_and_recording_mark_was(field, tmp_path):
    """A consent row said only "consent" (yes or no was dropped) and the recording's
    start, pause, resume and stop rows were four alike "audio recording" rows."""
    root, _sid = field
    fk(root, "export", "-p", SLUG, "--all", "-f", "csv", "-f", "xlsx", "--out", str(tmp_path))
    rows = _events_csv(tmp_path)
    consent = [(r["kind"], r["text"], r["about"]) for r in rows if r["kind"] == "consent"]
    assert consent == [("consent", "recording no", "I01"), ("consent", "recording yes", "I01")]
    marks = [(r["time"], r["text"]) for r in rows if r["kind"] == "audio recording"]
    assert marks == [("00:00:00", "start"), ("00:05:00", "pause"), ("00:05:10", "resume"), ("00:12:34", "stop")]
    from openpyxl import load_workbook

    sheet = load_workbook(next(tmp_path.glob("*.xlsx")), read_only=True)["Events"]
    values = list(sheet.values)
    head = list(values[0])
    kind, text = head.index("kind"), head.index("text")
    assert [r[text] for r in values[1:] if r[kind] == "consent"] == ["recording no", "recording yes"]


def _fill(folder: Path, leave: int) -> None:
    """Fill the disk holding ``folder`` until ``leave`` bytes are free."""
    with open(folder / "filler.bin", "ab") as fh:
        while (free := os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize) > leave:
            try:
                fh.write(b"\0" * min(64 * 1024, free - leave))
                fh.flush()
            except OSError:
                break


def test_an_export_onto_a_full_disk_names_the_file_and_leaves_nothing_half_done(field, small_disk):
    """The disk fills up in the middle of an export: a traceback was printed and the
    files written before it stayed, an export with its Word file but not its tables.
    Now the message names the file and the reason, and this export leaves no file."""
    root, _sid = field
    out = small_disk / "export"
    out.mkdir()
    _fill(small_disk, leave=48 * 1024)       # room for a Word file or two, not for everything
    r = fk(root, "export", "-p", SLUG, "--all", "-f", "md", "-f", "docx", "-f", "xlsx", "-f", "qdpx",
           "--out", str(out), ok=False)
    assert r.returncode == ExitCode.FAILED, r.stderr
    assert "Traceback" not in r.stderr and "No space left" not in r.stderr and "Exception ignored" not in r.stderr
    assert "could not be written: the disk is full" in r.stderr, r.stderr
    named = r.stderr.split(" could not be written")[0].rsplit(" ", 1)[-1]
    assert named.startswith(str(out)) and Path(named).suffix in (".md", ".docx", ".xlsx", ".qdpx")
    assert sorted(p.name for p in out.iterdir()) == []


@pytest.fixture
def oslo(monkeypatch):
    """This process on Norwegian time (the laptop's zone), put back afterwards."""
    monkeypatch.setenv("TZ", "Europe/Oslo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_an_evening_interview_is_dated_in_exports_as_the_app_dates_it(field, tmp_path, oslo):
    """Stored times are UTC; the app shows them in the laptop's zone. An interview at
    00:30 Norwegian time (23:30 UTC the day before) was dated the day before in every
    export: file names, the Word and Markdown header, the tables, the coverage matrix."""
    from docx import Document

    from fieldkit.projects import Workspace
    from fieldkit.sessions.overview import local_time

    root, sid = field
    with Workspace(root).open(SLUG) as h, h.db.transaction() as s:
        sess = s.get(Session, sid)
        sess.starts_at = datetime(2026, 3, 2, 23, 30, tzinfo=timezone.utc)
    assert local_time(datetime(2026, 3, 2, 23, 30, tzinfo=timezone.utc)) == "2026-03-03 00:30"   # as home shows it
    from fieldkit.export import session_choices

    with Workspace(root).open(SLUG) as h:                          # the app's export screen
        assert [c.date for c in session_choices(h)] == ["2026-03-03"]
    fk(root, "export", "-p", SLUG, "--all", "-f", "md", "-f", "docx", "-f", "csv", "--out", str(tmp_path))
    md = next(tmp_path.glob("*.md"))
    assert md.name.startswith("2026-03-03_"), md.name
    assert "- **Date:** 2026-03-03" in md.read_text(encoding="utf-8")
    cells = {r.cells[0].text: r.cells[1].text for r in Document(next(tmp_path.glob("*.docx"))).tables[0].rows}
    assert cells["Date"] == "2026-03-03"
    assert {r["session_date"] for r in _events_csv(tmp_path)} == {"2026-03-03"}
    with open(next(tmp_path.glob("*-coverage.csv")), encoding="utf-8-sig", newline="") as f:
        assert next(csv.reader(f))[-1].endswith("(2026-03-03)")


def test_a_pasted_note_of_several_lines_stays_one_note_in_markdown_and_text(field, tmp_path):
    """A note pasted with its line breaks: in Markdown only its first line was in the
    quote (the others ran on as one line of the quote's paragraph), in text only the first
    was indented under the transcript."""
    from markdown_it import MarkdownIt

    root, _sid = field
    fk(root, "export", "-p", SLUG, "--all", "-f", "md", "-f", "txt", "--out", str(tmp_path))
    html = MarkdownIt().render(next(tmp_path.glob("*.md")).read_text(encoding="utf-8"))
    quote = next(q for q in html.split("<blockquote>")[1:] if "Pasted from" in q).split("</blockquote>")[0]
    assert "Pasted from my phone:<br />\nline two: she hesitated<br />\nline three" in quote, quote
    # every event its own paragraph of the quote, not one run-on line
    assert "<p>[00:02:10] Note (OO): Describes the weekly team meeting</p>" in html
    text = next(tmp_path.glob("*.txt")).read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(text) if "Pasted from" in line)
    assert text[at + 1] == "    line two: she hesitated" and text[at + 2].startswith("    line three"), text[at:at + 3]
