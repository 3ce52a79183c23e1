"""The guide listens, in the review screen (Pilot): s makes suggestions from the transcript,
c confirms and x dismisses one, enter jumps to the moment; checked in the database."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import select
from textual.widgets import OptionList

from fieldkit.store.models import Event, EventKind, Researcher, Session, TranscriptSegment
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.review import ReviewScreen, SuggestionsScreen
from tests.support.wait import settle, until

DATA = Path(__file__).resolve().parents[1] / "data" / "guide_listens"


def _session(project) -> tuple:  # noqa: ANN001
    from fieldkit.instruments.guides.store import import_guide

    d = json.loads((DATA / "held04.json").read_text(encoding="utf-8"))
    version, _ = import_guide(project.db, project.project_id, DATA / "guide.md")
    with project.db.transaction() as s:
        al = s.exec(select(Researcher).where(Researcher.initials == "AL")).one()
        oo = s.exec(select(Researcher).where(Researcher.initials == "OO")).one()
        sess = Session(project_id=project.project_id, title="Held04", guide_version_id=version.id, lead_id=al.id)
        s.add(sess)
        s.flush()
        for seg in d["segments"]:
            lead = seg["speaker"] == d["lead"]
            s.add(TranscriptSegment(session_id=sess.id, start_ms=seg["start"], end_ms=seg["end"],
                                    verbatim=seg["text"], speaker_label="AL" if lead else "S2",
                                    speaker_researcher_id=al.id if lead else None))
        return sess.id, al.id, oo.id


def _events(project, sid, *kinds) -> list[Event]:  # noqa: ANN001
    with project.db.session() as s:
        return list(s.exec(select(Event).where(Event.session_id == sid, Event.kind.in_(kinds))
                           .order_by(Event.wall_time, Event.created_at)))


async def test_review_suggests_and_confirms_or_dismisses(project, workspace):
    sid, lead, _oo = _session(project)
    slug = project.project().slug
    app = FieldkitApp(data_dir=workspace.root, project=slug)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(app, pilot)
        app.push_screen(ReviewScreen(slug, sid))
        await settle(app, pilot)
        review = app.screen
        await until(pilot, lambda: review.data is not None, "the transcript loaded")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SuggestionsScreen), "the suggestions open")
        modal = app.screen
        items = list(modal.items)
        stored = _events(project, sid, EventKind.suggest)
        assert len(items) >= 3 and sorted((e.question_id, e.position_ms) for e in stored) == \
            sorted((x.question, x.at_ms) for x in items)
        assert _events(project, sid, EventKind.coverage, EventKind.probe) == []   # not coverage by itself
        await pilot.press("c")        # the first: confirmed; the cursor moves to the next
        await until(pilot, lambda: modal.items[0].state == "confirmed", "the first confirmed")
        await pilot.press("x")        # the second: dismissed
        await until(pilot, lambda: modal.items[1].state == "dismissed", "the second dismissed")
        answers = [e for e in _events(project, sid, EventKind.suggest) if e.code != "suggested"]
        assert [(e.code, e.question_id, e.created_by) for e in answers] == [
            ("confirmed", items[0].question, lead), ("dismissed", items[1].question, lead)]
        first = items[0]
        kind = EventKind.probe if first.question.startswith("p") else EventKind.coverage
        cov = _events(project, sid, EventKind.coverage, EventKind.probe)
        assert [(e.kind, e.question_id, e.position_ms) for e in cov] == [(kind, first.question, first.at_ms)]
        # enter on the third jumps to where it was asked
        third = items[2]
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is review, "back in the review")
        def at_third() -> bool:
            i = review.query_one("#review-list", OptionList).highlighted
            k, obj = review.rows[i]
            return k == "segment" and obj.start_ms <= third.at_ms < obj.end_ms
        await until(pilot, at_third, "the cursor on the third suggestion's moment")
        # and the confirmed question shows as coverage in the review's markers
        await until(pilot, lambda: any(m.kind in ("coverage", "probe") for m in review.data.markers),
                    "the confirmed coverage among the markers")
