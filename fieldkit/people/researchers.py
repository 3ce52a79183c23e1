"""The project's researchers: who leads and who observes, whose note is whose.

A researcher has a name, initials (unique in the project: they label speakers and
authors, "IB") and an institution (teams from two institutions merge their material
afterwards). Added and edited from the CLI (``fieldkit researcher``) and the app (the
project's team screen, and on the spot in session setup).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fieldkit.errors import FieldkitError
from fieldkit.i18n import _

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle


@dataclass
class ResearcherInfo:
    id: uuid.UUID
    name: str
    initials: str
    institution: str
    sessions: int = 0   # sessions they lead or observe

    @property
    def label(self) -> str:
        return f"{self.initials} ({self.name}{', ' + self.institution if self.institution else ''})"


def _clean_initials(initials: str) -> str:
    out = "".join(initials.split()).upper()
    if not out:
        raise FieldkitError(_("A researcher needs initials (for example IB)."))
    if len(out) > 6:
        raise FieldkitError(_("Initials {out!r} are too long: at most 6 letters.").format(out=out),
                            hint=_("They label the researcher's notes and speech, so "
                                     "keep them short."))
    return out


def list_researchers(handle: "ProjectHandle") -> list[ResearcherInfo]:
    from sqlmodel import or_, select

    from fieldkit.store.models import Researcher, Session

    with handle.db.session() as s:
        out = []
        for r in s.exec(select(Researcher).where(Researcher.project_id == handle.project_id)
                        .order_by(Researcher.initials)):
            n = len(s.exec(select(Session.id).where(Session.project_id == handle.project_id,
                                                    or_(Session.lead_id == r.id, Session.observer_id == r.id))).all())
            out.append(ResearcherInfo(r.id, r.name, r.initials, r.institution, n))
    return out


def add_researcher(handle: "ProjectHandle", name: str, initials: str, institution: str = "") -> ResearcherInfo:
    """A new researcher; initials are unique in the project (case does not matter)."""
    from sqlmodel import select

    from fieldkit.store.models import Researcher

    name = " ".join(name.split())
    if not name:
        raise FieldkitError(_("A researcher needs a name."))
    initials = _clean_initials(initials)
    with handle.db.transaction() as s:
        taken = s.exec(select(Researcher).where(Researcher.project_id == handle.project_id,
                                                Researcher.initials == initials)).first()
        if taken is not None:
            raise FieldkitError(_("The initials {initials!r} are already used by "
                                    "{name} in this project.").format(initials=initials, name=taken.name),
                                hint=_("Choose other initials, for example with a "
                                         "second letter of the surname."))
        r = Researcher(project_id=handle.project_id, name=name, initials=initials,
                       institution=" ".join(institution.split()))
        s.add(r)
        s.flush()
        info = ResearcherInfo(r.id, r.name, r.initials, r.institution)
    return info


def find_researcher(handle: "ProjectHandle", ref: str) -> ResearcherInfo:
    """By initials (any case) or exact name."""
    ref = ref.strip()
    found = [r for r in list_researchers(handle) if r.initials == ref.upper() or r.name.lower() == ref.lower()]
    if len(found) != 1:
        known = ", ".join(r.initials for r in list_researchers(handle)) or _("none yet")
        raise FieldkitError(_("No researcher {ref!r} in this project.").format(ref=ref) if not found
                            else _("{ref!r} names {n} researchers: use the initials.").format(
                                ref=ref, n=len(found)),
                            hint=_("Researchers here: {known}. Add one with "
                                     "`fieldkit researcher add`.").format(known=known))
    return found[0]


def edit_researcher(handle: "ProjectHandle", researcher_id: uuid.UUID, *, name: str | None = None,
                    initials: str | None = None, institution: str | None = None) -> ResearcherInfo:
    """Change a researcher's name, initials or institution (None keeps a field)."""
    from sqlmodel import select

    from fieldkit.store.models import Researcher

    with handle.db.transaction() as s:
        r = s.get(Researcher, researcher_id)
        if r is None or r.project_id != handle.project_id:
            raise FieldkitError(_("No researcher {researcher_id} in this project.").format(researcher_id=researcher_id))
        if name is not None:
            name = " ".join(name.split())
            if not name:
                raise FieldkitError(_("A researcher needs a name."))
            r.name = name
        if initials is not None:
            initials = _clean_initials(initials)
            other = s.exec(select(Researcher).where(Researcher.project_id == handle.project_id,
                                                    Researcher.initials == initials,
                                                    Researcher.id != researcher_id)).first()
            if other is not None:
                raise FieldkitError(_("The initials {initials!r} are already used by "
                                        "{name} in this project.").format(initials=initials, name=other.name))
            r.initials = initials
        if institution is not None:
            r.institution = " ".join(institution.split())
        s.add(r)
        s.flush()
        info = ResearcherInfo(r.id, r.name, r.initials, r.institution)
    return info
