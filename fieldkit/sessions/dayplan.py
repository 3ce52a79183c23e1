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
from fieldkit.i18n import N_, _

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle

NO_SITE = N_("Site not set")
KIND_WORDS = {"individual": N_("individual interview"), "pair": N_("pair interview"), "group": N_("group interview"),
              "focus_group": N_("focus group"), "observation": N_("observation"),
              "telephone": N_("telephone interview"), "notes_only": N_("conversation (notes only)")}
KIND_SHORT = {"individual": N_("single"), "pair": N_("pair"), "group": N_("group"), "focus_group": N_("focus group"),
              "observation": N_("observation"), "telephone": N_("phone"), "notes_only": N_("notes only")}


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
    def kind_short(self) -> str:
        """The kind in a word or two, for a narrow column ("group", "phone")."""
        return _(KIND_SHORT[self.kind]) if self.kind in KIND_SHORT else self.kind.replace("_", " ")

    @property
    def kind_words(self) -> str:
        """The kind in the user's language ("group interview", "gruppeintervju")."""
        return _(KIND_WORDS[self.kind]) if self.kind in KIND_WORDS else self.kind.replace("_", " ")


@dataclass
class SiteDay:
    site: str
    sessions: list[PlannedSession]


@dataclass
class DayPlan:
    project: str
    day: date | None                # None: the sessions without a date yet
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
    plans = _plans(handle, names, lambda when: when is not None and when.date() == day)
    project = handle.project()
    return plans.get(day) or DayPlan(project.name, day, [], names)


def field_days(handle: "ProjectHandle", *, names: bool = False) -> list[DayPlan]:
    """Every day of the project that has sessions, in date order, each grouped by site
    (the home screen's day view). Sessions without a date come last, in a plan whose
    ``day`` is None: they are still to plan."""
    plans = _plans(handle, names, lambda when: True)
    return [plans[d] for d in sorted(plans, key=lambda d: (d is None, d or date.min))]


def field_days_for(workspace, slug: str) -> list[DayPlan]:  # noqa: ANN001 - projects.Workspace
    """For the home screen: the field days of the project ``slug`` (codes, never names)."""
    with workspace.open(workspace.projects_dir / slug) as handle:
        return field_days(handle)


def _plans(handle: "ProjectHandle", names: bool, wanted) -> dict:  # noqa: ANN001
    """The sessions ``wanted(local start)`` accepts, as day plans keyed by date (None:
    no date yet)."""
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
            if wanted(when):
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
                todo.append(_("no lead"))
            if sess.observer_id is None:
                todo.append(_("no observer"))
            if guide is None and sess.kind.value != "notes_only":
                todo.append(_("no guide"))
            if not infs:
                todo.append(_("no informants"))
            for i in infs:
                if i.withdrawn_on:
                    todo.append(_("{code} withdrew on {date}").format(code=i.code, date=i.withdrawn_on))
                elif not i.info_letter_sent_on:
                    todo.append(_("information letter to {code}").format(code=i.code))
                elif not i.written_consent_on:
                    todo.append(_("written consent from {code}").format(code=i.code))
            out.append(PlannedSession(
                sess.id, sess.title, sess.kind.value, when, sess.place, site,
                [_informant(i, names) for i in infs], people.get(sess.lead_id), people.get(sess.observer_id),
                guide, titles.get(sess.related_session_id) if sess.related_session_id else None,
                sess.is_pilot, sess.status.value, todo,
                initials.get(sess.lead_id), initials.get(sess.observer_id)))
        project_name = project.name
    by_day: dict[date | None, dict[str, list[PlannedSession]]] = {}
    for p in sorted(out, key=lambda p: (_order(p.time), p.title)):
        by_day.setdefault(p.time.date() if p.time else None, {}).setdefault(p.site, []).append(p)
    plans = {}
    for day, by_site in by_day.items():
        # sites in the order the day visits them; sessions without a site last
        sites = sorted(by_site.items(), key=lambda kv: (kv[0] == NO_SITE, _order(kv[1][0].time), kv[0]))
        plans[day] = DayPlan(project_name, day, [SiteDay(k, v) for k, v in sites], names)  # type: ignore[arg-type]
    return plans


def _order(when: datetime | None) -> tuple[bool, float]:
    return (when is None, when.timestamp() if when is not None else 0.0)


def _informant(inf, names: bool) -> str:  # noqa: ANN001
    about = ", ".join(x for x in (inf.role, inf.organisation) if x)
    who = f"{inf.code} {inf.name}" if names and inf.name else inf.code
    return f"{who} ({about})" if about else who


# --------------------------------------------------------------------------- documents


WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"), N_("Saturday"),
            N_("Sunday"))


def day_words(day: date | None) -> str:
    """A day as the researchers write it: "Monday 2026-11-23" in English, "mandag
    23.11.2026" in Norwegian; None (sessions without a date) "No date yet"."""
    from fieldkit.i18n import language

    if day is None:
        return _("No date yet")
    weekday = _(WEEKDAYS[day.weekday()])
    return f"{weekday} {day:%d.%m.%Y}" if language() == "nb" else f"{weekday} {day.isoformat()}"


PERSONAL = N_("Holds personal data (informants' names): keep it safe and shred it after use.")
NOTHING_TO_PLAN = N_("Nothing: every session is planned.")


def site_words(site: str) -> str:
    """A site as shown: "Site not set" in the user's language, else its name."""
    return _(NO_SITE) if site == NO_SITE else site


def _heading(plan: DayPlan) -> str:
    return _("Day in the field: {project}, {day}").format(project=plan.project, day=day_words(plan.day))


def _lines(p: PlannedSession) -> list[tuple[str, str]]:
    rows = [(_("Kind"), p.kind_words + ("  (" + _("pilot") + ")" if p.is_pilot else ""))]
    if p.place and p.place != p.site:
        rows.append((_("Place"), p.place))
    if p.follows:
        rows.append((_("Follows"), p.follows))
    rows += [(_("Informants"), ", ".join(p.informants) or _("none yet")),
             (_("Lead"), p.lead or _("not chosen")), (_("Observer"), p.observer or _("not chosen")),
             (_("Guide"), p.guide or _("not chosen"))]
    if p.to_plan:
        rows.append((_("To plan"), "; ".join(p.to_plan)))
    return rows


def to_markdown(plan: DayPlan) -> str:
    out = [f"# {_heading(plan)}", ""]
    if plan.names:
        out += ["*" + _(PERSONAL) + "*", ""]
    if not plan.sites:
        out += [_("No sessions on this day."), ""]
    for site in plan.sites:
        out += [f"## {site_words(site.site)}", ""]
        for p in site.sessions:
            out += [f"### {p.when} {p.title}", ""]
            out += [f"- **{k}:** {v}" for k, v in _lines(p)]
            out.append("")
    todo = plan.open_items
    out += ["## " + _("Still to plan"), ""]
    out += [f"- {p.when} {p.title}: {'; '.join(p.to_plan)}" for p in todo] or ["- " + _(NOTHING_TO_PLAN)]
    return "\n".join(out) + "\n"


def to_docx(plan: DayPlan) -> bytes:
    import docx

    doc = docx.Document()
    doc.core_properties.title = _heading(plan)
    doc.add_heading(_heading(plan), level=1)
    if plan.names:
        doc.add_paragraph(_(PERSONAL)).runs[0].italic = True
    if not plan.sites:
        doc.add_paragraph(_("No sessions on this day."))
    for site in plan.sites:
        doc.add_heading(site_words(site.site), level=2)
        for p in site.sessions:
            doc.add_heading(f"{p.when} {p.title}", level=3)
            table = doc.add_table(rows=0, cols=2)
            table.style = "Table Grid"
            for k, v in _lines(p):
                cells = table.add_row().cells
                cells[0].text, cells[1].text = k, v
    doc.add_heading(_("Still to plan"), level=2)
    todo = plan.open_items
    for p in todo:
        doc.add_paragraph(f"{p.when} {p.title}: {'; '.join(p.to_plan)}", style="List Bullet")
    if not todo:
        doc.add_paragraph(_(NOTHING_TO_PLAN))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def write_plan(plan: DayPlan, path: Path, *, force: bool = False) -> Path:
    """Write the plan as Markdown (.md, .txt) or Word (.docx), whole or not at all."""
    from fieldkit.store.atomic import atomic_write

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
