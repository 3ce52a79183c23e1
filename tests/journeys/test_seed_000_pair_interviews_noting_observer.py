"""Seed study 000: interviews in pairs, one researcher leads and the other observes and
takes notes; quotes are reported by organisation only ("NN, kommune A").

The pair plans the interviews (CLI registry, the setup screen's core), the observer's
timed notes go in from the observer's seat, the transcript is reviewed and a quote is
marked in review (Pilot), and the export attributes the quote by organisation, keeps the
observer's notes under the observer's initials, and warns when an organisation has a
single informant (n=1: the label names the person)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from lxml import etree
from sqlmodel import select
from textual.widgets import OptionList
from tests.support.cli import fk
from tests.support.wait import until as _until

PROJECT = "Samhandling kommune"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


async def test_pair_interviews_with_a_noting_observer_quotes_by_organisation(tmp_path: Path):
    root = tmp_path / "data"
    fk(root, "project", "new", PROJECT, "--language", "no")
    fk(root, "researcher", "add", "Ingrid Berg", "--initials", "IB", "-p", PROJECT)
    fk(root, "researcher", "add", "Tor Dahl", "--initials", "TD", "-p", PROJECT)
    for code, name, role, org in (("L01", "Kari Nordmann", "leder", "kommune A"),
                                  ("L02", "Ola Vik", "fagperson", "kommune A"),
                                  ("L03", "Berit Sand", "leder", "kommune B")):
        fk(root, "informant", "add", code, "-p", PROJECT, "--name", name, "--role", role, "--organisation", org,
           "--letter-sent", "2026-02-01", "--consent", "2026-02-03")

    from fieldkit.instruments.events import add_event
    from fieldkit.projects import Workspace
    from fieldkit.sessions.plan import SessionPlan, save_session, setup_choices
    from fieldkit.store.models import Event, EventKind, Informant, Session, SessionStatus, TranscriptSegment

    with Workspace(root).open(PROJECT) as h:
        c = setup_choices(h)
        who = {r.label: r.id for r in c.researchers}
        ids = {}
        for title, codes in (("Intervju L01", ["L01"]), ("Intervju L02", ["L02"]), ("Intervju L03", ["L03"])):
            ids[title] = save_session(h, SessionPlan(title, lead_id=who["IB"], observer_id=who["TD"],
                                                     informants=codes, place="Rådhuset"))
        slug = h.project().slug
        with h.db.transaction() as s:
            inf = {i.code: i.id for i in s.exec(select(Informant))}
            # the transcript of each interview (as typed by the transcriber): the lead asks,
            # the informant answers and names a colleague
            for title, code in (("Intervju L01", "L01"), ("Intervju L02", "L02"), ("Intervju L03", "L03")):
                sid = ids[title]
                s.add(TranscriptSegment(session_id=sid, start_ms=0, end_ms=4000, verbatim="Hva gjør dere sammen?",
                                        speaker_researcher_id=who["IB"], speaker_label="IB"))
                s.add(TranscriptSegment(session_id=sid, start_ms=4000, end_ms=12000, speaker_informant_id=inf[code],
                                        verbatim=f"Vi har faste møter, og Ola Vik tar referat ({code})."))
                s.get(Session, sid).status = SessionStatus.transcribed
        # the observer's timed notes, from the observer's seat (author TD), and one
        # written after the interview (no time)
        add_event(h.db, ids["Intervju L01"], "note", position_ms=5000, author_id=who["TD"],
                  text="Kari Nordmann ser på klokka")
        add_event(h.db, ids["Intervju L01"], "note", position_ms=None, author_id=who["TD"],
                  text="Stemningen var god.")

    # review the first interview and mark the informant's answer as a quote
    from fieldkit.tui.app import FieldkitApp
    from fieldkit.tui.screens.review import ReviewScreen

    app = FieldkitApp(data_dir=root, project=slug)
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: getattr(app.screen, "summaries", None), "home")
        review = ReviewScreen(slug, ids["Intervju L01"])
        app.push_screen(review)
        await _until(pilot, lambda: review.data is not None and len(review.data.segments) == 2, "the transcript")
        # the observer's note is in place, under the observer's initials
        note = next(o for k, o in review.rows if k == "marker" and o.kind == "note" and o.position_ms == 5000)
        assert note.author == "TD"
        answer = next(i for i, (k, o) in enumerate(review.rows) if k == "segment" and o.start_ms == 4000)
        review.query_one("#review-list", OptionList).highlighted = answer
        await pilot.press("q")
        await _until(pilot, lambda: any(k == "marker" and o.kind == "quote" for k, o in review.rows), "the quote")
        await pilot.press("ctrl+r")
        await _until(pilot, lambda: review.data.status == "reviewed", "reviewed")

    with Workspace(root).open(PROJECT) as h:
        with h.db.session() as s:
            quote = s.exec(select(Event).where(Event.kind == EventKind.quote)).one()
            assert (quote.session_id, quote.position_ms, quote.created_by) == (ids["Intervju L01"], 4000, who["IB"])

    # quotes by organisation only: "NN, kommune A"
    out = tmp_path / "export"
    done = fk(root, "export", "-p", PROJECT, "--all", "-f", "json", "-f", "docx", "--pseudonymise", "organisation",
              "--out", str(out))
    said = done.stdout + done.stderr
    # kommune B has one informant: a quote "NN, kommune B" points at her
    assert "(L03)" in said and "'NN, kommune B'" in said and "points at one person" in said
    assert "'NN, kommune A'" not in said
    bundle = json.loads(next(out.rglob("*.json")).read_text(encoding="utf-8"))
    # the codes in the titles go too: "Intervju L01" would link the quote to the person
    assert [x["title"] for x in bundle["sessions"]] == ["Intervju NN"] * 3
    s1 = next(x for x in bundle["sessions"] if x["id"] == str(ids["Intervju L01"]))
    q = next(e for e in s1["events"] if e["kind"] == "quote")
    quoted = s1["segments"][q["segment_index"]]
    assert quoted["speaker"] == "NN, kommune A"
    assert quoted["verbatim"] == q["text"] == "Vi har faste møter, og NN tar referat (NN)."
    assert "L01" not in json.dumps(bundle, ensure_ascii=False)        # codes would link the person
    notes = {e["text"]: e for e in s1["events"] if e["kind"] == "note"}
    assert set(notes) == {"NN ser på klokka", "Stemningen var god."}
    assert {e["author"] for e in notes.values()} == {"Observer"}     # the noting observer, by function
    speakers = {seg["speaker"] for x in bundle["sessions"] for seg in x["segments"]}
    assert speakers == {"NN, kommune A", "NN, kommune B", "Interviewer"}
    docs = list(out.rglob("*.docx"))
    assert len(docs) == 3
    for doc in docs:
        with zipfile.ZipFile(doc) as z:
            text = " ".join(t.text or "" for t in etree.fromstring(z.read("word/document.xml")).iter(f"{W}t"))
        for name in ("Kari", "Nordmann", "Ola Vik", "Berit", "Ingrid", "Tor Dahl"):
            assert name not in text
        assert "NN, kommune" in text
