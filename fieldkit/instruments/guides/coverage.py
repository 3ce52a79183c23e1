"""Guide coverage: which questions were asked in a session, and across the project.

Coverage is kept as events (``Event(kind=coverage, code=status, question_id=...)``), each
with its audio position, so it is part of the session's timeline and the latest event
for a question is its current status. Probes used and "returned to an earlier theme"
are events too. Summaries are computed from the events, never stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlmodel import select

from fieldkit.errors import FieldkitError
from fieldkit.instruments.events import add_event
from fieldkit.instruments.guides.model import Guide
from fieldkit.store.models import CoverageStatus, Event, EventKind, GuideVersion, Session, local_day
from fieldkit.i18n import _

if TYPE_CHECKING:
    from fieldkit.store.db import Database


def session_guide(db: "Database", session_id: uuid.UUID) -> Guide:
    with db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None:
            raise FieldkitError(_("No session {session_id}.").format(session_id=session_id))
        if sess.guide_version_id is None:
            raise FieldkitError(_("The session {title!r} has no guide.").format(title=sess.title))
        return Guide.from_outline(s.get(GuideVersion, sess.guide_version_id).outline)


def _check_item(guide: Guide, item_id: str, kinds: tuple[str, ...]) -> None:
    kind = next((k for i, k, *_ in guide.iter_items() if i == item_id), None)
    if kind not in kinds:
        raise FieldkitError(_("{item_id!r} is not a {kinds} of the guide {title!r}.").format(item_id=item_id, kinds=' or '.join(kinds), title=guide.title))


def set_coverage(db: "Database", session_id: uuid.UUID, question_id: str,
                 status: CoverageStatus | str, *, position_ms: int | None,
                 author_id: uuid.UUID | None = None) -> Event:
    status = CoverageStatus(status)
    _check_item(session_guide(db, session_id), question_id, ("question",))
    return add_event(db, session_id, EventKind.coverage, position_ms=position_ms,
                     author_id=author_id, code=status.value, question_id=question_id)


def probe_used(db: "Database", session_id: uuid.UUID, probe_id: str, *,
               position_ms: int | None, author_id: uuid.UUID | None = None) -> Event:
    _check_item(session_guide(db, session_id), probe_id, ("probe",))
    return add_event(db, session_id, EventKind.probe, position_ms=position_ms,
                     author_id=author_id, question_id=probe_id)


def returned_to(db: "Database", session_id: uuid.UUID, theme_or_question_id: str, *,
                position_ms: int | None, author_id: uuid.UUID | None = None) -> Event:
    """The informant went back to an earlier theme."""
    _check_item(session_guide(db, session_id), theme_or_question_id, ("theme", "question"))
    return add_event(db, session_id, EventKind.returned, position_ms=position_ms,
                     author_id=author_id, question_id=theme_or_question_id)


@dataclass
class SessionCoverage:
    guide: Guide
    status: dict[str, CoverageStatus]                  # question id -> latest status
    probes_used: set[str] = field(default_factory=set)
    returns: list[tuple[int | None, str]] = field(default_factory=list)

    def of(self, question_id: str) -> CoverageStatus:
        return self.status.get(question_id, CoverageStatus.not_yet)

    def untouched_themes(self) -> list[str]:
        """Titles of themes where no question was covered, partly covered or skipped."""
        return [t.title for t in self.guide.themes
                if all(self.of(q.id) == CoverageStatus.not_yet for q in t.questions)]

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in CoverageStatus}
        for _t, q in self.guide.iter_questions():
            out[self.of(q.id).value] += 1
        return out


def session_coverage(db: "Database", session_id: uuid.UUID) -> SessionCoverage:
    guide = session_guide(db, session_id)
    cov = SessionCoverage(guide, {})
    with db.session() as s:
        events = s.exec(
            select(Event).where(Event.session_id == session_id,
                                Event.kind.in_([EventKind.coverage, EventKind.probe, EventKind.returned]))
            .order_by(Event.wall_time, Event.created_at)
        ).all()
    for ev in events:
        if ev.kind == EventKind.coverage:
            cov.status[ev.question_id] = CoverageStatus(ev.code)
        elif ev.kind == EventKind.probe:
            cov.probes_used.add(ev.question_id)
        else:
            cov.returns.append((ev.position_ms, ev.question_id))
    return cov


@dataclass
class MatrixRow:
    question_id: str
    theme: str
    text: str
    retired: bool
    cells: dict[uuid.UUID, CoverageStatus | None]   # None: not in that session's guide
    guide_id: uuid.UUID | None = None
    guide_title: str = ""

    @property
    def key(self) -> tuple:
        """Question ids repeat across guides ("q1"): a row is a guide's question."""
        return (self.guide_id, self.question_id)


@dataclass
class MatrixSession:
    id: uuid.UUID
    title: str
    date: str                   # ISO date or ""
    guide_id: uuid.UUID
    guide_version: int

    @property
    def heading(self) -> str:
        """A column heading: the session's title and date."""
        return f"{self.title} ({self.date})" if self.date else self.title


@dataclass
class ProjectMatrix:
    sessions: list[tuple[uuid.UUID, str]]
    rows: list[MatrixRow]
    session_info: dict[uuid.UUID, MatrixSession] = field(default_factory=dict)
    guides: list[tuple[uuid.UUID, str, list[int]]] = field(default_factory=list)  # id, title, versions used

    def gaps(self) -> list[tuple[str, int]]:
        """Questions not covered (fully or partly) in some sessions: (text, how many).
        With several guides the text starts with the guide's title."""
        several = len(self.guides) > 1
        out = []
        for r in self.rows:
            missing = sum(1 for v in r.cells.values()
                          if v is not None and v not in (CoverageStatus.covered, CoverageStatus.partly))
            if missing:
                out.append((f"{r.guide_title}: {r.text}" if several else r.text, missing))
        return out

    def headings(self) -> dict[uuid.UUID, str]:
        """Unique column headings: title and date, with the id's start where two agree."""
        heads = {sid: self.session_info[sid].heading if sid in self.session_info else t
                 for sid, t in self.sessions}
        counts: dict[str, int] = {}
        for h in heads.values():
            counts[h] = counts.get(h, 0) + 1
        return {sid: (f"{h} {sid.hex[:6]}" if counts[h] > 1 else h) for sid, h in heads.items()}

    def for_guide(self, guide_id: uuid.UUID) -> "ProjectMatrix":
        """The rows of one guide and the sessions that used it."""
        sids = [(sid, t) for sid, t in self.sessions
                if sid in self.session_info and self.session_info[sid].guide_id == guide_id]
        keep = {sid for sid, _t in sids}
        rows = [MatrixRow(r.question_id, r.theme, r.text, r.retired,
                          {sid: v for sid, v in r.cells.items() if sid in keep}, r.guide_id, r.guide_title)
                for r in self.rows if r.guide_id == guide_id]
        return ProjectMatrix(sids, rows, {sid: self.session_info[sid] for sid in keep},
                             [g for g in self.guides if g[0] == guide_id])


def project_matrix(db: "Database", project_id: uuid.UUID, *, guide_id: uuid.UUID | None = None,
                   include_pilot: bool = False) -> ProjectMatrix:
    """Question x session coverage over sessions that used a guide (pilots left out).

    Rows are keyed by guide and question: a session's coverage only ever fills the rows
    of its own guide (any version), never a question of another guide with the same id."""
    from fieldkit.store.models import Guide as GuideRow

    with db.session() as s:
        q = select(Session, GuideVersion).join(GuideVersion, Session.guide_version_id == GuideVersion.id)
        q = q.where(Session.project_id == project_id)
        if guide_id is not None:
            q = q.where(GuideVersion.guide_id == guide_id)
        if not include_pilot:
            q = q.where(Session.is_pilot == False)  # noqa: E712
        pairs = s.exec(q.order_by(Session.starts_at, Session.created_at)).all()
        latest = {}
        for _sess, gv in pairs:
            if gv.guide_id not in latest or gv.number > latest[gv.guide_id].number:
                latest[gv.guide_id] = gv
        titles = {g.id: g.title for g in s.exec(select(GuideRow).where(GuideRow.project_id == project_id))}
        sids = [sess.id for sess, _gv in pairs]
        events = s.exec(select(Event).where(Event.session_id.in_(sids), Event.kind == EventKind.coverage)
                        .order_by(Event.wall_time, Event.created_at)).all() if sids else []
    status: dict[uuid.UUID, dict[str, CoverageStatus]] = {}
    for ev in events:
        status.setdefault(ev.session_id, {})[ev.question_id] = CoverageStatus(ev.code)
    rows: dict[tuple, MatrixRow] = {}
    # rows in the order of the newest version of each guide, retired ones after
    for gid, gv in latest.items():
        g = Guide.from_outline(gv.outline)
        for theme, qn in g.iter_questions():
            rows.setdefault((gid, qn.id), MatrixRow(qn.id, theme.title, qn.text, False, {}, gid, titles.get(gid, "")))
    sessions, info = [], {}
    outlines: dict[uuid.UUID, Guide] = {}
    versions_used: dict[uuid.UUID, set[int]] = {}
    for sess, gv in pairs:
        sessions.append((sess.id, sess.title))
        info[sess.id] = MatrixSession(sess.id, sess.title, local_day(sess.starts_at),
                                      gv.guide_id, gv.number)
        versions_used.setdefault(gv.guide_id, set()).add(gv.number)
        guide = outlines.get(gv.id) or outlines.setdefault(gv.id, Guide.from_outline(gv.outline))
        got = status.get(sess.id, {})
        for theme, qn in guide.iter_questions():
            row = rows.setdefault((gv.guide_id, qn.id), MatrixRow(qn.id, theme.title, qn.text, True, {},
                                                                  gv.guide_id, titles.get(gv.guide_id, "")))
            row.cells[sess.id] = got.get(qn.id, CoverageStatus.not_yet)
    for row in rows.values():
        for sid, _t in sessions:
            row.cells.setdefault(sid, None)
    guides = [(gid, titles.get(gid, ""), sorted(versions_used.get(gid, ()))) for gid in latest]
    ordered = sorted(rows.values(), key=lambda r: list(latest).index(r.guide_id) if r.guide_id in latest else 0)
    return ProjectMatrix(sessions, ordered, info, guides)
