"""A day in the field: the sessions of one date, per site, and what is still to plan.

Teams run full-day blocks at a site (the network leader first, then a group interview,
single and telephone interviews after) and switch lead and observer between interviews.
The day plan lists, per site, each session's time, kind, informants, lead, observer and
guide, and what is still missing: a lead, an observer, a guide, informants, an
information letter or written consent. It is printed by ``fieldkit plan`` and written
as Markdown or Word to bring along.

* The date of a session is its planned start (``Session.planned_at``, set in the setup
  screen, where the data model has it) or else its start time (``starts_at``), in the
  laptop's local time.
* Its site is the site of its informants (their case network or municipality label),
  else the session's place.
* Informants are named by pseudonym code, role and organisation: a plan is a paper that
  leaves the laptop. Real names only on request (``names=True``), and the document then
  says it holds personal data.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from fieldkit.errors import ExitCode, FieldkitError
from fieldkit.i18n import _

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle

NO_SITE = "Site not set"
KIND_WORDS = {"individual": "individual interview", "group": "group interview",
              "focus_group": "focus group", "observation": "observation",
              "telephone": "telephone interview", "notes_only": "conversation (notes only)"}


class PlanExists(FieldkitError):
    exit_code = ExitCode.EXISTS


@dataclass
class PlannedSession:
    id: uuid.UUID
    title: str
    kind: str                       # SessionKind value
    time: datetime | None           # local time; None when the session has no time yet
    place: str
    site: str
    informants: list[str]           # "I01 (nurse, DPS)"
    lead: str | None                # "Kari Lie (KL)"
    observer: str | None
    guide: str | None               # "Lederintervju v2"
    follows: str | None = None      # the title of the session it follows (observation + interview)
    is_pilot: bool = False
    status: str = "planned"
    to_plan: list[str] = field(default_factory=list)
    lead_initials: str | None = None
    observer_initials: str | None = None

    @property
    def when(self) -> str:
        return self.time.strftime("%H:%M") if self.time else "--:--"

    @property
    def kind_words(self) -> str:
        return KIND_WORDS.get(self.kind, self.kind.replace("_", " "))


@dataclass
class SiteDay:
    site: str
    sessions: list[PlannedSession]


@dataclass
class DayPlan:
    project: str
    day: date
    sites: list[SiteDay]
    names: bool = False

    @property
    def sessions(self) -> list[PlannedSession]:
        return [s for site in self.sites for s in site.sessions]

    @property
    def open_items(self) -> list[PlannedSession]:
        return [s for s in self.sessions if s.to_plan]


def _local(when: datetime | date | None) -> datetime | None:
    if when is None:
        return None
    if not isinstance(when, datetime):       # a planned date without a time
        return datetime(when.year, when.month, when.day).astimezone()
    if when.tzinfo is None:                  # stored times are UTC
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone()


def planned_time(sess) -> datetime | None:  # noqa: ANN001 - store.models.Session
    """The session's planned start in local time: ``planned_at`` if the data model has
    that field and it is set, else ``starts_at``."""
    return _local(getattr(sess, "planned_at", None) or sess.starts_at)


def day_plan(handle: "ProjectHandle", day: date, *, names: bool = False) -> DayPlan:
    """Every session of ``day`` in the project, grouped by site, with what is missing."""
    from sqlmodel import select

    from fieldkit.store.models import (Guide, GuideVersion, Informant, Researcher, Session,
                                       SessionParticipant)

    with handle.db.session() as s:
        project = handle.project()
        researchers = list(s.exec(select(Researcher).where(Researcher.project_id == handle.project_id)))
        people = {r.id: f"{r.name} ({r.initials})" if r.name else r.initials for r in researchers}
        initials = {r.id: r.initials for r in researchers}
        titles = {}
        chosen = []
        for sess in s.exec(select(Session).where(Session.project_id == handle.project_id)
                           .order_by(Session.created_at)):
            titles[sess.id] = sess.title
            when = planned_time(sess)
            if when is not None and when.date() == day:
                chosen.append((sess, when))
        out: list[PlannedSession] = []
        for sess, when in chosen:
            infs = list(s.exec(select(Informant).join(SessionParticipant)
                               .where(SessionParticipant.session_id == sess.id)
                               .order_by(Informant.code)))
            guide = None
            if sess.guide_version_id is not None:
                row = s.exec(select(Guide, GuideVersion).join(GuideVersion)
                             .where(GuideVersion.id == sess.guide_version_id)).first()
                if row is not None:
                    guide = f"{row[0].title} v{row[1].number}"
            sites = sorted({i.site.strip() for i in infs if i.site.strip()})
            site = " / ".join(sites) or sess.place.strip() or NO_SITE
            todo = []
            if sess.lead_id is None:
                todo.append("no lead")
            if sess.observer_id is None:
                todo.append("no observer")
            if guide is None and sess.kind.value != "notes_only":
                todo.append("no guide")
            if not infs:
                todo.append("no informants")
            for i in infs:
                if i.withdrawn_on:
                    todo.append(f"{i.code} withdrew on {i.withdrawn_on}")
                elif not i.info_letter_sent_on:
                    todo.append(f"information letter to {i.code}")
                elif not i.written_consent_on:
                    todo.append(f"written consent from {i.code}")
            out.append(PlannedSession(
                sess.id, sess.title, sess.kind.value, when, sess.place, site,
                [_informant(i, names) for i in infs], people.get(sess.lead_id), people.get(sess.observer_id),
                guide, titles.get(sess.related_session_id) if sess.related_session_id else None,
                sess.is_pilot, sess.status.value, todo,
                initials.get(sess.lead_id), initials.get(sess.observer_id)))
    by_site: dict[str, list[PlannedSession]] = {}
    for p in sorted(out, key=lambda p: (_order(p.time), p.title)):
        by_site.setdefault(p.site, []).append(p)
    # sites in the order the day visits them; sessions without a site last
    sites = sorted(by_site.items(), key=lambda kv: (kv[0] == NO_SITE, _order(kv[1][0].time), kv[0]))
    return DayPlan(project.name, day, [SiteDay(k, v) for k, v in sites], names)


def _order(when: datetime | None) -> tuple[bool, float]:
    return (when is None, when.timestamp() if when is not None else 0.0)


def _informant(inf, names: bool) -> str:  # noqa: ANN001
    about = ", ".join(x for x in (inf.role, inf.organisation) if x)
    who = f"{inf.code} {inf.name}" if names and inf.name else inf.code
    return f"{who} ({about})" if about else who


# --------------------------------------------------------------------------- documents


def _heading(plan: DayPlan) -> str:
    return f"Day in the field: {plan.project}, {plan.day.strftime('%A')} {plan.day.isoformat()}"


def _lines(p: PlannedSession) -> list[tuple[str, str]]:
    rows = [("Kind", p.kind_words + ("  (pilot)" if p.is_pilot else ""))]
    if p.place and p.place != p.site:
        rows.append(("Place", p.place))
    if p.follows:
        rows.append(("Follows", p.follows))
    rows += [("Informants", ", ".join(p.informants) or "none yet"),
             ("Lead", p.lead or "not chosen"), ("Observer", p.observer or "not chosen"),
             ("Guide", p.guide or "not chosen")]
    if p.to_plan:
        rows.append(("To plan", "; ".join(p.to_plan)))
    return rows


def to_markdown(plan: DayPlan) -> str:
    out = [f"# {_heading(plan)}", ""]
    if plan.names:
        out += ["*Holds personal data (informants' names): keep it safe and shred it after use.*", ""]
    if not plan.sites:
        out += ["No sessions on this day.", ""]
    for site in plan.sites:
        out += [f"## {site.site}", ""]
        for p in site.sessions:
            out += [f"### {p.when} {p.title}", ""]
            out += [f"- **{k}:** {v}" for k, v in _lines(p)]
            out.append("")
    todo = plan.open_items
    out += ["## Still to plan", ""]
    out += [f"- {p.when} {p.title}: {'; '.join(p.to_plan)}" for p in todo] or ["- Nothing: every session is planned."]
    return "\n".join(out) + "\n"


def to_docx(plan: DayPlan) -> bytes:
    import docx

    doc = docx.Document()
    doc.core_properties.title = _heading(plan)
    doc.add_heading(_heading(plan), level=1)
    if plan.names:
        doc.add_paragraph("Holds personal data (informants' names): keep it safe and shred it after use.").runs[0].italic = True
    if not plan.sites:
        doc.add_paragraph("No sessions on this day.")
    for site in plan.sites:
        doc.add_heading(site.site, level=2)
        for p in site.sessions:
            doc.add_heading(f"{p.when} {p.title}", level=3)
            table = doc.add_table(rows=0, cols=2)
            table.style = "Table Grid"
            for k, v in _lines(p):
                cells = table.add_row().cells
                cells[0].text, cells[1].text = k, v
    doc.add_heading("Still to plan", level=2)
    todo = plan.open_items
    for p in todo:
        doc.add_paragraph(f"{p.when} {p.title}: {'; '.join(p.to_plan)}", style="List Bullet")
    if not todo:
        doc.add_paragraph("Nothing: every session is planned.")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def write_plan(plan: DayPlan, path: Path, *, force: bool = False) -> Path:
    """Write the plan as Markdown (.md, .txt) or Word (.docx), whole or not at all."""
    from fieldkit.export.atomic import atomic_write

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".md", ".markdown", ".txt"):
        data = to_markdown(plan).encode("utf-8")
    elif suffix == ".docx":
        data = to_docx(plan)
    else:
        raise FieldkitError(_("Cannot write a plan as {name}: use a .md or .docx "
                                "file name.").format(name=path.name),
                            hint=_("For example: -o dag-kommune-a.md or -o "
                                     "dag-kommune-a.docx"))
    if not path.parent.is_dir():
        raise FieldkitError(_("The folder {parent} does not exist.").format(parent=path.parent))
    try:
        atomic_write(path, lambda f: f.write(data), overwrite=force)
    except FileExistsError:
        raise PlanExists(_("{path} already exists; nothing was written.").format(path=path),
                         hint=_("Choose another name, or add --force to replace it.")) from None
    except OSError as exc:
        raise FieldkitError(_("Could not write {path}: {value}.").format(path=path, value=exc.strerror or exc)) from exc
    return path
