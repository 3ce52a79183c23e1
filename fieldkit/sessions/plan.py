"""Planning a session: what it can be made of (guides, tag schemes, researchers,
informants), the plan itself, when it is to be held, saving it from the setup screen
with its consent ticks (one transaction), its people and guide as the runtime and the
debrief read them, and marking it begun or ended without audio.

When: a plan has a date and time (``Session.planned_at``, stored in UTC), kept apart from
``starts_at`` (when the interview actually began). Typed as researchers write it:
"2026-03-04 10:00", "2026-03-04 10.00", "4.3.2026 10:00", or a date alone.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING

from fieldkit.errors import FieldkitError
from fieldkit.i18n import _

if TYPE_CHECKING:
    from sqlmodel import Session as DBSession

    from fieldkit.instruments.guides.model import Guide
    from fieldkit.projects import ProjectHandle
    from fieldkit.sessions.consent import ConsentTicks, MissingConsent
    from fieldkit.store.models import Session


_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%d.%m.%y %H:%M", "%d.%m.%y")


def parse_when(text: str) -> datetime | None:
    """Local date and time typed in a form, as an aware UTC datetime; "" is None."""
    text = " ".join(text.replace("kl.", " ").replace("T", " ").split())
    if not text:
        return None
    text = re.sub(r"(\d{1,2})[.:](\d{2})$", r"\1:\2", text) if " " in text else text
    for fmt in _FORMATS:
        try:
            local = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return local.astimezone().astimezone(timezone.utc)
    raise FieldkitError(_("{text!r} is not a date and time like 2026-03-04 10:00.").format(text=text),
                        hint=_("Write the date as YYYY-MM-DD (or DD.MM.YYYY) and the "
                                 "time as HH:MM."))


def format_when(when: datetime | None) -> str:
    """A stored time in local time, as the form shows it."""
    if when is None:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone().strftime("%Y-%m-%d %H:%M")


def set_planned_at(handle: "ProjectHandle", session_id: uuid.UUID, when: datetime | date | None) -> None:
    """Set (or clear) when a planned session is to be held."""
    from fieldkit.store.models import Session

    with handle.db.transaction() as s:
        sess = s.get(Session, session_id)
        if sess is None:
            raise FieldkitError(_("No session {session_id} in this project.").format(session_id=session_id))
        sess.planned_at = _utc(when)
        s.add(sess)


def _utc(when: datetime | date | None) -> datetime | None:
    """A planned time as stored: a date alone is its local midnight; UTC."""
    if isinstance(when, date) and not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day).astimezone()
    return when.astimezone(timezone.utc) if when is not None else None


def planned_at(handle: "ProjectHandle", session_id: uuid.UUID) -> datetime | None:
    from fieldkit.store.models import Session

    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        return sess.planned_at if sess is not None else None


@dataclass
class GuideChoice:
    version_id: uuid.UUID
    label: str
    header: list[str]
    informant_types: list[str]


@dataclass
class PersonChoice:
    id: uuid.UUID
    label: str      # initials for researchers, code for informants
    detail: str     # name (researchers) / role, organisation and consent state (informants)


@dataclass
class InformantChoice(PersonChoice):
    letter: date | None = None
    written: date | None = None
    withdrawn: date | None = None


@dataclass
class SetupChoices:
    guides: list[GuideChoice]
    schemes: list[tuple[uuid.UUID, str]]
    researchers: list[PersonChoice]
    informants: list[InformantChoice]


def ensure_tag_schemes(handle: "ProjectHandle") -> None:
    """Install the bundled tag schemes, in the project's language (bokmål for a Norwegian
    project), into a project that has none."""
    from sqlmodel import select

    from fieldkit.instruments.tags import bundled_tag_schemes, install_tag_scheme, scheme_language
    from fieldkit.store.models import Project, TagScheme

    with handle.db.session() as s:
        has_scheme = s.exec(select(TagScheme).where(TagScheme.project_id == handle.project_id)).first()
        project = s.get(Project, handle.project_id)
        lang = scheme_language(project.language if project else None)
    if has_scheme is None:
        for path in bundled_tag_schemes(lang):
            install_tag_scheme(handle.db, handle.project_id, path)


def setup_choices(handle: "ProjectHandle") -> SetupChoices:
    """What a session can be made of. Installs the bundled tag schemes into a project
    that has none, so the interview screen always has tag keys."""
    from sqlmodel import select

    from fieldkit.people.informants import consent_state
    from fieldkit.instruments.guides.store import latest_versions
    from fieldkit.store.models import Informant, Researcher, TagScheme

    ensure_tag_schemes(handle)
    guides = []
    for g, version in latest_versions(handle.db, handle.project_id):
        outline = version.outline or {}
        guides.append(GuideChoice(version.id, f"{g.title} (v{version.number})",
                                  list(outline.get("header", [])), list(outline.get("informant_types", []))))
    with handle.db.session() as s:
        schemes = [(t.id, t.name) for t in s.exec(
            select(TagScheme).where(TagScheme.project_id == handle.project_id).order_by(TagScheme.name))]
        researchers = [PersonChoice(r.id, r.initials, r.name) for r in s.exec(
            select(Researcher).where(Researcher.project_id == handle.project_id).order_by(Researcher.initials))]
        informants = [
            InformantChoice(i.id, i.code, ", ".join(x for x in (i.role, i.organisation, consent_state(i)) if x),
                            i.info_letter_sent_on, i.written_consent_on, i.withdrawn_on)
            for i in s.exec(select(Informant).where(Informant.project_id == handle.project_id)
                            .order_by(Informant.code))
        ]
    return SetupChoices(guides, schemes, researchers, informants)


@dataclass
class SessionPlan:
    title: str
    kind: str = "individual"
    guide_version_id: uuid.UUID | None = None
    tag_scheme_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    observer_id: uuid.UUID | None = None
    place: str = ""
    header: dict[str, str] = field(default_factory=dict)
    informants: list[str] = field(default_factory=list)   # informant codes (in seat order)
    is_pilot: bool = False
    follows_id: uuid.UUID | None = None   # the session this one follows (observation -> interview)


def save_session(handle: "ProjectHandle", plan: SessionPlan, session_id: uuid.UUID | None = None) -> uuid.UUID:
    """Create a planned session, or change one that has not started. Participants follow
    ``plan.informants`` (speaker label = pseudonym code)."""
    with handle.db.transaction() as s:
        return _write_plan(s, handle, plan, session_id).id


def save_setup(handle: "ProjectHandle", plan: SessionPlan, session_id: uuid.UUID | None, *,
               when: datetime | date | None, consents: dict[str, "ConsentTicks"],
               author_id: uuid.UUID | None = None, asked: bool = False,
               ) -> tuple[uuid.UUID, list["MissingConsent"]]:
    """What the setup screen keeps: the plan, when it is to be held and the consent ticks
    (see :func:`fieldkit.sessions.consent.store_consent_ticks`), in one transaction, so a
    failed consent write leaves nothing of the plan half-saved. Returns the session's id
    and what consent is still missing."""
    from fieldkit.sessions.consent import missing_consents, store_ticks_in

    with handle.db.transaction() as s:
        sess = _write_plan(s, handle, plan, session_id)
        sess.planned_at = _utc(when)
        s.add(sess)
        store_ticks_in(s, handle, sess.id, consents, author_id=author_id, asked=asked)
        sid = sess.id
    return sid, missing_consents(handle, sid)


def _write_plan(s: "DBSession", handle: "ProjectHandle", plan: SessionPlan,
                session_id: uuid.UUID | None) -> "Session":
    """The plan written in the caller's transaction; returns the stored session."""
    from sqlmodel import select

    from fieldkit.store.models import Informant, Session, SessionKind, SessionParticipant, SessionStatus

    if not plan.title.strip():
        raise FieldkitError(_("The session needs a title."))
    if plan.lead_id is not None and plan.lead_id == plan.observer_id:
        raise FieldkitError(_("The lead interviewer and the observer must be two people."))
    if session_id is None:
        sess = Session(project_id=handle.project_id, title=plan.title.strip())
    else:
        sess = s.get(Session, session_id)
        if sess is None:
            raise FieldkitError(_("No session {id} in this project.").format(id=session_id))
        if sess.status != SessionStatus.planned:
            raise FieldkitError(_("The session {title} has started; its setup can no longer change.").format(
                title=repr(sess.title)))
    sess.title = plan.title.strip()
    sess.kind = SessionKind(plan.kind)
    sess.guide_version_id = plan.guide_version_id
    sess.tag_scheme_id = plan.tag_scheme_id
    sess.lead_id, sess.observer_id = plan.lead_id, plan.observer_id
    sess.place, sess.is_pilot = plan.place.strip(), plan.is_pilot
    sess.header = {k: v for k, v in plan.header.items() if v.strip()}
    if plan.follows_id is not None and plan.follows_id == sess.id:
        raise FieldkitError(_("A session cannot follow itself."))
    sess.related_session_id = plan.follows_id
    s.add(sess)
    s.flush()
    wanted = {}
    seats: dict[uuid.UUID, int] = {}
    for code in plan.informants:
        inf = s.exec(select(Informant).where(Informant.project_id == handle.project_id,
                                             Informant.code == code)).first()
        if inf is None:
            raise FieldkitError(_("No informant with code {code} in this project.").format(code=repr(code)))
        if inf.withdrawn_on:
            raise FieldkitError(_("{code} withdrew on {date} and cannot take part.").format(
                code=code, date=inf.withdrawn_on))
        wanted[inf.id] = code
        seats[inf.id] = len(seats) + 1     # seat numbers follow the order chosen in setup
    for part in s.exec(select(SessionParticipant).where(SessionParticipant.session_id == sess.id)):
        if part.informant_id not in wanted:
            s.delete(part)
        else:
            wanted.pop(part.informant_id)
            part.seat = seats[part.informant_id]
            s.add(part)
    for inf_id, code in wanted.items():
        s.add(SessionParticipant(session_id=sess.id, informant_id=inf_id, speaker_label=code,
                                 seat=seats[inf_id]))
    return sess


def load_plan(handle: "ProjectHandle", session_id: uuid.UUID) -> SessionPlan:
    from sqlmodel import select

    from fieldkit.store.models import Informant, Session, SessionParticipant

    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None:
            raise FieldkitError(_("No session {id} in this project.").format(id=session_id))
        codes = list(s.exec(
            select(Informant.code).join(SessionParticipant).where(SessionParticipant.session_id == session_id)
            .order_by(SessionParticipant.seat, Informant.code)))
        return SessionPlan(sess.title, sess.kind.value, sess.guide_version_id, sess.tag_scheme_id, sess.lead_id,
                           sess.observer_id, sess.place, dict(sess.header), codes, sess.is_pilot,
                           sess.related_session_id)


def begin_session(handle: "ProjectHandle", session_id: uuid.UUID) -> None:
    """The interview has begun (with or without a recording): its start time is set, so
    a notes-only session still gives every note a time (since the start)."""
    from fieldkit.store.models import Session, utcnow

    with handle.db.transaction() as s:
        sess = s.get(Session, session_id)
        if sess is not None and sess.starts_at is None:
            sess.starts_at = utcnow()


def end_notes_only(handle: "ProjectHandle", session_id: uuid.UUID) -> None:
    """A session that was held without recording is over."""
    from fieldkit.store.models import Session, SessionStatus, utcnow

    with handle.db.transaction() as s:
        sess = s.get(Session, session_id)
        if sess is not None and sess.status in (SessionStatus.planned, SessionStatus.recording):
            sess.status, sess.ended_at = SessionStatus.recorded, utcnow()


def session_people(handle: "ProjectHandle", session_id: uuid.UUID) -> tuple["Session", dict[uuid.UUID, str]]:
    """The session and its researchers {id: "AL (Ada Lead)"} (lead first)."""
    from fieldkit.store.models import Researcher, Session

    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None:
            raise FieldkitError(_("No session {id} in this project.").format(id=session_id))
        people = {}
        for rid in (sess.lead_id, sess.observer_id):
            if rid is not None:
                r = s.get(Researcher, rid)
                if r is not None:
                    people[r.id] = f"{r.initials} ({r.name})"
        s.expunge(sess)
        return sess, people


def guide_of(handle: "ProjectHandle", session_id: uuid.UUID) -> "Guide | None":
    from fieldkit.instruments.guides.coverage import session_guide
    from fieldkit.store.models import Session

    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None or sess.guide_version_id is None:
            return None
    return session_guide(handle.db, session_id)


def add_people(handle: "ProjectHandle", session_id: uuid.UUID, *, lead: str | None = None,
               observer: str | None = None, informants: list[str] | tuple[str, ...] = (),
               kind: str | None = None) -> None:
    """Say who was there, at any stage of a session (an imported recording): the lead and
    the observer by their initials, informants by their codes. The people a session already
    has stay; a given lead or observer takes that seat; informants are added after the
    seats already taken. Nothing changes unless every name is known."""
    from sqlmodel import select

    from fieldkit.store.models import Informant, Researcher, Session, SessionKind, SessionParticipant

    with handle.db.transaction() as s:
        sess = s.get(Session, session_id)
        if sess is None:
            raise FieldkitError(_("No session {id} in this project.").format(id=session_id))

        def researcher(initials: str, option: str) -> uuid.UUID:
            r = s.exec(select(Researcher).where(Researcher.project_id == handle.project_id,
                                                Researcher.initials == initials.strip())).first()
            if r is None:
                known = ", ".join(s.exec(select(Researcher.initials).where(
                    Researcher.project_id == handle.project_id).order_by(Researcher.initials))) or "-"
                raise FieldkitError(_("{option} {initials}: no researcher with these initials in this "
                                      "project.").format(option=option, initials=initials),
                                    hint=_("Researchers here: {known}. Add one with `fieldkit researcher "
                                           "add`.").format(known=known))
            return r.id

        if lead:
            sess.lead_id = researcher(lead, "--lead")
        if observer:
            sess.observer_id = researcher(observer, "--observer")
        if sess.lead_id is not None and sess.lead_id == sess.observer_id:
            raise FieldkitError(_("The lead interviewer and the observer must be two people."))
        if kind:
            sess.kind = SessionKind(kind)
        s.add(sess)
        parts = list(s.exec(select(SessionParticipant).where(SessionParticipant.session_id == session_id)))
        have = {p.informant_id for p in parts}
        seat = max((p.seat or 0 for p in parts), default=0)
        for code in informants:
            inf = s.exec(select(Informant).where(Informant.project_id == handle.project_id,
                                                 Informant.code == code.strip())).first()
            if inf is None:
                raise FieldkitError(_("No informant with code {code} in this project.").format(code=repr(code)),
                                    hint=_("Add the informant first: fieldkit informant add ..."))
            if inf.withdrawn_on:
                raise FieldkitError(_("{code} withdrew on {date} and cannot take part.").format(
                    code=code, date=inf.withdrawn_on))
            if inf.id in have:
                continue
            seat += 1
            have.add(inf.id)
            s.add(SessionParticipant(session_id=session_id, informant_id=inf.id, speaker_label=inf.code,
                                     seat=seat if seat <= 9 else None))


# ---------------------------------------------------------------------- the guide's header

#: header field words (lower case, without a bracket) -> what the session knows of it; a
#: guide's own words in English or Norwegian ("Informant (code)", "Sted og dato")
_HEADER_FACTS = {
    "interviewer": "lead", "intervjuer": "lead", "lead interviewer": "lead", "moderator": "lead",
    "observer": "observer", "observatør": "observer", "observator": "observer",
    "place and date": "place_date", "sted og dato": "place_date", "place": "place", "sted": "place",
    "date": "date", "dato": "date",
    "informant": "codes", "informants": "codes", "informanter": "codes", "participants": "codes",
    "deltakere": "codes", "informant code": "codes", "informantkode": "codes",
    "role": "roles", "roles": "roles", "rolle": "roles", "roller": "roles",
    "organisation": "orgs", "organization": "orgs", "organisations": "orgs", "organizations": "orgs",
    "organisasjon": "orgs", "organisasjoner": "orgs",
}


@dataclass
class HeaderFacts:
    """What setup has asked for that a guide's header repeats."""
    lead: str = ""
    observer: str = ""
    place: str = ""
    when: datetime | date | None = None
    codes: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    orgs: list[str] = field(default_factory=list)


def header_fact(name: str) -> str | None:
    """Which fact a header field asks for ("Informant (code)" -> "codes"), or None."""
    word = re.sub(r"\s*\(.*?\)\s*", " ", name).strip().lower().rstrip(":")
    return _HEADER_FACTS.get(word)


def derived_header(fields: list[str], facts: HeaderFacts) -> dict[str, str]:
    """The header fields the session can fill itself (the lead's and observer's names, the
    place and date, the informants' codes, roles and organisations); others are left out."""
    from fieldkit.i18n import format_date

    day = ""
    if facts.when is not None:
        when = facts.when
        if isinstance(when, datetime):
            when = (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone().date()
        day = format_date(when)
    values = {
        "lead": facts.lead, "observer": facts.observer, "place": facts.place, "date": day,
        "place_date": ", ".join(x for x in (facts.place, day) if x),
        "codes": ", ".join(facts.codes),
        "roles": ", ".join(dict.fromkeys(r for r in facts.roles if r)),
        "orgs": ", ".join(dict.fromkeys(o for o in facts.orgs if o)),
    }
    out = {}
    for name in fields:
        fact = header_fact(name)
        if fact is not None and values[fact]:
            out[name] = values[fact]
    return out


def plan_facts(handle: "ProjectHandle", plan: SessionPlan, when: datetime | date | None) -> HeaderFacts:
    """The facts of a plan (saved or not): the researchers' names, the informants' roles."""
    from sqlmodel import select

    from fieldkit.store.models import Informant, Researcher

    with handle.db.session() as s:
        def name(rid: uuid.UUID | None) -> str:
            r = s.get(Researcher, rid) if rid is not None else None
            return r.name if r is not None else ""

        infs = {i.code: i for i in s.exec(select(Informant).where(
            Informant.project_id == handle.project_id, Informant.code.in_(plan.informants or [""])))}
        chosen = [infs[c] for c in plan.informants if c in infs]
        return HeaderFacts(lead=name(plan.lead_id), observer=name(plan.observer_id), place=plan.place.strip(),
                           when=when, codes=[i.code for i in chosen], roles=[i.role for i in chosen],
                           orgs=[i.organisation for i in chosen])


def session_header(handle: "ProjectHandle", session_id: uuid.UUID, fields: list[str] | None = None) -> dict[str, str]:
    """The session's header as exports show it: what was stored wins, the rest derived
    from the session (a session planned from the command line has no stored header)."""
    from fieldkit.store.models import Session

    plan = load_plan(handle, session_id)
    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        when = sess.planned_at or sess.starts_at
    if fields is None:
        guide = guide_of(handle, session_id)
        fields = list(guide.header) if guide is not None else []
    stored = {str(k): str(v) for k, v in plan.header.items() if str(v).strip()}
    derived = derived_header(fields, plan_facts(handle, plan, when))
    out = {name: stored.get(name) or derived[name] for name in fields if stored.get(name) or name in derived}
    out.update({k: v for k, v in stored.items() if k not in out})
    return out
