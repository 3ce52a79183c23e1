"""Planning a session: what it can be made of (guides, tag schemes, researchers,
informants), the plan itself, and marking it begun or ended without audio."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from fieldkit.errors import FieldkitError
from fieldkit.i18n import _

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle


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


def setup_choices(handle: "ProjectHandle") -> SetupChoices:
    """What a session can be made of. Installs the bundled tag schemes into a project
    that has none, so the interview screen always has tag keys."""
    from sqlmodel import select

    from fieldkit.consent import consent_state
    from fieldkit.guides.store import latest_versions
    from fieldkit.store.models import Informant, Researcher, TagScheme
    from fieldkit.tags import bundled_tag_schemes, install_tag_scheme

    with handle.db.session() as s:
        has_scheme = s.exec(select(TagScheme).where(TagScheme.project_id == handle.project_id)).first()
    if has_scheme is None:
        for path in bundled_tag_schemes():
            install_tag_scheme(handle.db, handle.project_id, path)
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


def add_researcher(handle: "ProjectHandle", name: str, initials: str) -> uuid.UUID:
    from sqlmodel import select

    from fieldkit.store.models import Researcher

    name, initials = name.strip(), initials.strip().upper()
    if not name or not initials:
        raise FieldkitError(_("A researcher needs a name and initials."))
    with handle.db.transaction() as s:
        if s.exec(select(Researcher).where(Researcher.project_id == handle.project_id,
                                           Researcher.initials == initials)).first():
            raise FieldkitError(_("The initials {initials} are already used in this project.").format(
                initials=repr(initials)))
        r = Researcher(project_id=handle.project_id, name=name, initials=initials)
        s.add(r)
    return r.id


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
    from sqlmodel import select

    from fieldkit.store.models import Informant, Session, SessionKind, SessionParticipant, SessionStatus

    if not plan.title.strip():
        raise FieldkitError(_("The session needs a title."))
    if plan.lead_id is not None and plan.lead_id == plan.observer_id:
        raise FieldkitError(_("The lead interviewer and the observer must be two people."))
    with handle.db.transaction() as s:
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
        sid = sess.id
    return sid


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
