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


async def test_live_turns_show_a_suggestion_in_both_guide_panes_and_c_confirms(tmp_path):
    """While the interview runs: the live transcript's new segments (no speakers yet, as
    the live transcriber writes them) are matched in the lead's terminal; the lead's and
    the observer's guide panes show the suggestion beside the question; c confirms it."""
    from fieldkit.instruments.guides.store import import_guide, set_session_guide
    from fieldkit.tui.screens.interview import InterviewScreen
    from tests.support.screens import SLUG, interview_project, planned_session

    ws = interview_project(tmp_path / "data")
    sid, lead, _observer = planned_session(ws)
    with ws.open(SLUG) as h:
        version, _ = import_guide(h.db, h.project_id, DATA / "guide.md")
        set_session_guide(h.db, sid, version)
    d = json.loads((DATA / "held01.json").read_text(encoding="utf-8"))
    lead_app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    obs_app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with lead_app.run_test(size=(120, 36)) as lp, obs_app.run_test(size=(120, 36)) as op:
        await settle(lead_app, lp)
        await settle(obs_app, op)
        lead_app.push_screen(InterviewScreen(SLUG, sid, record=False))
        obs_app.push_screen(InterviewScreen(SLUG, sid, observer=True))
        await settle(lead_app, lp)
        await settle(obs_app, op)
        lead_iv, obs_iv = lead_app.screen, obs_app.screen
        panel = lambda iv: str(iv.query_one("#guide-panel").render())  # noqa: E731
        assert "asked?" not in panel(lead_iv)
        # the first segments arrive: small talk, then the question about the role (q1)
        with ws.open(SLUG) as h, h.db.transaction() as s:
            for seg in d["segments"][:6]:
                s.add(TranscriptSegment(session_id=sid, start_ms=seg["start"], end_ms=seg["end"],
                                        verbatim=seg["text"]))
        await until(lp, lambda: "asked? c confirms" in panel(lead_iv), "the lead's pane shows the suggestion")
        await until(op, lambda: "asked? c confirms" in panel(obs_iv), "the observer's pane shows it")
        with ws.open(SLUG) as h:
            with h.db.session() as s:
                sugg = list(s.exec(select(Event).where(Event.session_id == sid, Event.kind == EventKind.suggest)))
        assert [(e.question_id, e.code) for e in sugg] == [("q1", "suggested")]
        q1_at = next(t["at_ms"] for t in d["truth"] if t["question"] == "q1")
        assert sugg[0].position_ms == q1_at
        assert json.loads(sugg[0].text)["made_at_ms"] is not None     # made while the session ran
        await lp.press("c")
        await until(lp, lambda: "asked?" not in panel(lead_iv), "the suggestion answered")
    with ws.open(SLUG) as h, h.db.session() as s:
        evs = list(s.exec(select(Event).where(Event.session_id == sid,
                                              Event.kind.in_([EventKind.suggest, EventKind.coverage]))
                          .order_by(Event.wall_time)))
    assert [(e.kind, e.code, e.question_id, e.position_ms, e.created_by) for e in evs] == [
        (EventKind.suggest, "suggested", "q1", q1_at, None),
        (EventKind.suggest, "confirmed", "q1", q1_at, lead),
        (EventKind.coverage, "covered", "q1", q1_at, lead)]


def test_time_box_notices_at_half_and_three_quarters():
    from fieldkit.instruments.guides.parser import parse_guide
    from fieldkit.sessions.live import timebox_due

    g = parse_guide((DATA / "guide.md").read_text(encoding="utf-8"))   # 5+15+15+10+10 = 55 min planned
    done: set[int] = set()
    assert timebox_due(g, {"q1": "covered"}, set(), 27 * 60_000, done) is None
    share, themes = timebox_due(g, {"q1": "covered"}, {"p5"}, int(27.5 * 60_000), done)
    assert share == 50 and themes == ["Overganger og utskrivning", "Rammebetingelser", "Resultater og vurderinger"]
    done.add(50)
    assert timebox_due(g, {}, set(), 40 * 60_000, done) is None
    share, themes = timebox_due(g, {"q1": "covered", "q7": "partly"}, set(), 42 * 60_000, done, {"q8"})
    assert share == 75 and themes == ["Samarbeidsarenaer", "Overganger og utskrivning"]
