"""Text snippets: the team's abbreviations, expanded while a transcript is edited and while
a note is written (the interview's note line in both seats, a note in review, the debrief),
as in f4transkript and InqScribe. A project keeps them (``project.snippets``: abbreviation ->
text), so the whole team types the same ``,,i`` and gets the same thing. Every place
expands with :meth:`Expansion.expand` (the screens through ``fieldkit.tui.widgets.snippets``).

The text may name the session's people in braces: ``{informant}`` (the first informant's
code as the transcript shows it), ``{informants}`` (all of them, comma-separated),
``{lead}`` and ``{observer}`` (the researchers' initials). An abbreviation is expanded
when it is followed by a space or a punctuation mark, or ends the text when it is saved,
and only where it starts a word: ``,,i`` in ``abc,,i`` stays."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fieldkit.errors import FieldkitError
from fieldkit.i18n import _

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle

#: the names a snippet's text may use, in braces
FIELDS = ("informant", "informants", "lead", "observer")
_FIELD = re.compile(r"\{(\w+)\}")


def snippets(handle: "ProjectHandle") -> dict[str, str]:
    """The project's snippets, abbreviation -> text, in the order they were added."""
    from fieldkit.store.models import Project

    with handle.db.session() as s:
        return {str(k): str(v) for k, v in (s.get(Project, handle.project_id).snippets or {}).items()}


def check_abbreviation(abbr: str) -> str:
    abbr = abbr.strip()
    if not abbr or any(ch.isspace() for ch in abbr):
        raise FieldkitError(_("An abbreviation is one word without spaces: {abbr!r}.").format(abbr=abbr),
                            hint=_("For example ,,i for the informant's code."))
    return abbr


def check_text(text: str) -> str:
    if not text.strip():
        raise FieldkitError(_("A snippet needs a text to expand to."))
    unknown = [f for f in _FIELD.findall(text) if f not in FIELDS]
    if unknown:
        raise FieldkitError(_("Unknown name {{{name}}} in the snippet.").format(name=unknown[0]),
                            hint=_("A snippet can use {names}.").format(
                                names=", ".join("{" + f + "}" for f in FIELDS)))
    return text


def set_snippet(handle: "ProjectHandle", abbr: str, text: str) -> bool:
    """Add a snippet or change its text; True when it is new."""
    from fieldkit.store.models import Project

    abbr, text = check_abbreviation(abbr), check_text(text)
    with handle.db.transaction() as s:
        project = s.get(Project, handle.project_id)
        table = dict(project.snippets or {})
        new = abbr not in table
        table[abbr] = text
        project.snippets = table
        s.add(project)
    return new


def remove_snippet(handle: "ProjectHandle", abbr: str) -> None:
    from fieldkit.store.models import Project

    with handle.db.transaction() as s:
        project = s.get(Project, handle.project_id)
        table = dict(project.snippets or {})
        if abbr.strip() not in table:
            raise FieldkitError(_("No snippet {abbr!r} in this project.").format(abbr=abbr.strip()),
                                hint=_("`fieldkit snippets list -p PROJECT` shows them."))
        del table[abbr.strip()]
        project.snippets = table
        s.add(project)


@dataclass
class Expansion:
    """What the snippets of a session expand to: abbreviation -> text with the session's
    names filled in (a name the session does not have stays as written, in braces)."""
    table: dict[str, str]

    def expand(self, text: str, cursor: int, *, at_end: bool = False) -> tuple[str, int]:
        """``text`` with the abbreviation just typed before ``cursor`` expanded (it is
        followed by a space or punctuation at the cursor; ``at_end``: the text is being
        saved, so one that ends it counts too); the new text and cursor."""
        if not self.table:
            return text, cursor
        if at_end:
            end = cursor
        else:
            if cursor < 1 or not (text[cursor - 1].isspace() or _is_punct(text[cursor - 1])):
                return text, cursor
            end = cursor - 1
        for abbr in sorted(self.table, key=len, reverse=True):
            start = end - len(abbr)
            if start < 0 or text[start:end] != abbr or (start > 0 and not text[start - 1].isspace()):
                continue
            if not at_end and _is_punct(text[cursor - 1]) and text[cursor - 1] == abbr[-1]:
                continue    # still typing it (",," of ",,i")
            full = self.table[abbr]
            return text[:start] + full + text[end:], cursor + len(full) - len(abbr)
        return text, cursor

    def finish(self, text: str) -> str:
        """``text`` being saved: an abbreviation that ends it expands too."""
        return self.expand(text, len(text), at_end=True)[0] if self.table else text


def _is_punct(ch: str) -> bool:
    return ch in ".,;:!?)»”\"'"


def session_expansion(handle: "ProjectHandle", session_id: uuid.UUID | None) -> Expansion:
    """The project's snippets with the names of a session filled in."""
    from sqlmodel import select

    from fieldkit.store.models import Informant, Researcher, Session, SessionParticipant

    table = snippets(handle)
    if not table:
        return Expansion({})
    names = {}
    if session_id is not None:
        with handle.db.session() as s:
            sess = s.get(Session, session_id)
            codes = [part.speaker_label or inf.code for part, inf in s.exec(
                select(SessionParticipant, Informant).join(Informant)
                .where(SessionParticipant.session_id == session_id).order_by(Informant.code))]
            if codes:
                names["informant"], names["informants"] = codes[0], ", ".join(codes)
            for key, rid in (("lead", sess.lead_id if sess else None), ("observer", sess.observer_id if sess else None)):
                r = s.get(Researcher, rid) if rid else None
                if r is not None:
                    names[key] = r.initials
    return Expansion({abbr: _FIELD.sub(lambda m: names.get(m.group(1), m.group(0)), text)
                      for abbr, text in table.items()})
