"""Projects the screen tests open: a planned interview (``interview_project``,
``planned_session``, ``recorded_session``) and an informant registry (``registry_project``)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

from sqlmodel import select

from fieldkit.instruments.guides.store import import_guide
from fieldkit.people.informants import add_informant
from fieldkit.projects import Workspace
from fieldkit.sessions.plan import SessionPlan, guide_of, save_session, setup_choices
from fieldkit.store.models import (
    Event,
    EventKind,
    Recording,
    RecordingState,
    Researcher,
    Session,
    SessionStatus,
    TranscriptSegment,
)

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "guides" / "en-frontline-professionals.md"
#: the interview project's folder name
SLUG = "field-study"
#: the informant registry project's folder name
REGISTRY_SLUG = "registry-study"


def interview_project(root: Path, informants: bool = True) -> Workspace:
    """A project "Field study" with two researchers, the English guide and (unless not
    wanted) informants I01 (consent given) and I02."""
    ws = Workspace(root).ensure()
    with ws.create("Field study", language="en") as h:
        with h.db.transaction() as s:
            s.add(Researcher(project_id=h.project_id, name="Ada Lead", initials="AL"))
            s.add(Researcher(project_id=h.project_id, name="Ola Observer", initials="OO"))
        import_guide(h.db, h.project_id, GUIDE)
        if informants:
            add_informant(h, "I01", name="Kari Nordmann", role="nurse", organisation="DPS",
                          info_letter_sent_on=date(2026, 1, 5), written_consent_on=date(2026, 1, 9))
            add_informant(h, "I02", name="Per Hansen", role="leader")
    return ws


def planned_session(ws: Workspace, informants=("I01",)):
    """A planned interview in the interview project: (session id, lead id, observer id)."""
    with ws.open(SLUG) as h:
        c = setup_choices(h)
        sid = save_session(h, SessionPlan("Interview A", guide_version_id=c.guides[0].version_id,
                                          tag_scheme_id=next(i for i, n in c.schemes if n == "Interview"),
                                          lead_id=c.researchers[0].id, observer_id=c.researchers[1].id,
                                          informants=list(informants)))
        return sid, c.researchers[0].id, c.researchers[1].id


def recorded_session(ws: Workspace):
    """A session with a finished recording and events at fixed times (deterministic)."""
    from fieldkit.sessions.live import tag_keys
    from fieldkit.store.models import TranscriptSegment

    sid, lead, observer = planned_session(ws)
    t0 = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
    with ws.open(SLUG) as h:
        guide = guide_of(h, sid)
        tags = {t.code: t for t in tag_keys(h, sid)}
        q = [q for _t, q in guide.iter_questions()]
        with h.db.transaction() as s:
            rec = Recording(session_id=sid, state=RecordingState.complete, folder="audio/x",
                            clock_ms=754_000, duration_ms=754_000, started_at=t0)
            s.add(rec)
            sess = s.get(Session, sid)
            sess.status, sess.starts_at = SessionStatus.recorded, t0
            rows = [
                (61_000, EventKind.tag, "key_quote", "", lead, tags["key_quote"].id, None),
                (95_500, EventKind.coverage, "covered", q[0].id, lead, None, None),
                (130_000, EventKind.note, "", "", observer, None, "Describes the weekly team meeting"),
                (212_000, EventKind.tag, "digression", "", observer, tags["digression"].id, None),
                (300_000, EventKind.coverage, "partly", q[1].id, lead, None, None),
                (402_000, EventKind.tag, "follow_up", "", observer, tags["follow_up"].id, None),
            ]
            for n, (pos, kind, code, qid, author, tag_id, text) in enumerate(rows):
                s.add(Event(session_id=sid, kind=kind, code=code, question_id=qid, created_by=author,
                            tag_code_id=tag_id, text=text or "", position_ms=pos,
                            end_ms=250_000 if code == "digression" else None,
                            wall_time=t0.replace(minute=n + 1)))
            s.add(TranscriptSegment(session_id=sid, start_ms=745_000, end_ms=751_000,
                                    verbatim="so that is how the week usually goes"))
    return sid


def registry_project(root: Path) -> Workspace:
    """A project "Registry study" with informants I01 and I02 (folder REGISTRY_SLUG)."""
    ws = Workspace(root).ensure()
    with ws.create("Registry study") as h:
        add_informant(h, "I01", name="Kari Nordmann", role="nurse", organisation="DPS",
                      info_letter_sent_on=date(2026, 1, 5), written_consent_on=date(2026, 1, 9),
                      attributes={"years": 12})
        add_informant(h, "I02", name="Per Hansen", role="leader", info_letter_sent_on=date(2026, 2, 1))
    return ws

def reviewable_project(root: Path):
    """A project with a guide, two researchers, an informant with consent and one planned
    session that has a short transcript (so review has rows)."""
    ws = Workspace(root).ensure()
    with ws.create("Field study", language="en") as h:
        with h.db.transaction() as s:
            s.add(Researcher(project_id=h.project_id, name="Ada Lead", initials="AL"))
            s.add(Researcher(project_id=h.project_id, name="Ola Observer", initials="OO"))
        import_guide(h.db, h.project_id, GUIDE)
        add_informant(h, "I01", name="Kari Nordmann", role="nurse", organisation="DPS",
                      info_letter_sent_on=date(2026, 1, 5), written_consent_on=date(2026, 1, 9))
        c = setup_choices(h)
        sid = save_session(h, SessionPlan("Interview A", guide_version_id=c.guides[0].version_id,
                                          tag_scheme_id=next(i for i, n in c.schemes if n == "Interview"),
                                          lead_id=c.researchers[0].id, observer_id=c.researchers[1].id,
                                          informants=["I01"]))
        with h.db.transaction() as s:
            for n, text in enumerate(["So what do you do at work?", "I work at the NAV office."]):
                s.add(TranscriptSegment(session_id=sid, start_ms=n * 5000, end_ms=n * 5000 + 4500, verbatim=text))
        return ws, sid, c.researchers[0].id


def _events(ws: Workspace, sid, kind=None) -> list[Event]:
    with ws.open(SLUG) as h, h.db.session() as s:
        q = select(Event).where(Event.session_id == sid)
        if kind is not None:
            q = q.where(Event.kind == kind)
        return list(s.exec(q.order_by(Event.wall_time, Event.created_at)))


def every_screen(sid, lead, slug: str = SLUG):
    """(name, a function making the screen) for every screen of a session in the
    reviewable project (or of ``slug``; the home screen is the app's first)."""
    from fieldkit.tui.screens.confirm import ConfirmScreen
    from fieldkit.tui.screens.coverage import CoverageScreen
    from fieldkit.tui.screens.debrief import DebriefScreen
    from fieldkit.tui.screens.export import ExportScreen
    from fieldkit.tui.screens.informants import InformantsScreen
    from fieldkit.tui.screens.interview import InterviewScreen
    from fieldkit.tui.screens.review import ReviewScreen
    from fieldkit.tui.screens.setup import SetupScreen
    from fieldkit.tui.screens.team import TeamScreen

    return [
        ("setup", lambda: SetupScreen(slug, sid)),
        ("interview", lambda: InterviewScreen(slug, sid, record=False)),
        ("observer", lambda: InterviewScreen(slug, sid, observer=True)),
        ("debrief", lambda: DebriefScreen(slug, sid, author_id=lead)),
        ("review", lambda: ReviewScreen(slug, sid)),
        ("informants", lambda: InformantsScreen(slug)),
        ("coverage", lambda: CoverageScreen(slug)),
        ("export", lambda: ExportScreen(slug)),
        ("team", lambda: TeamScreen(slug)),
        ("confirm", lambda: ConfirmScreen("Stop the interview?")),
    ]
