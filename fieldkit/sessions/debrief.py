"""The debrief after an interview, safe for two terminals writing at once.

Each researcher writes first impressions (part ``impressions``, one per researcher) and
the pair writes a joint note (part ``joint``), often from two terminals at the same time.
Saving is never last-writer-wins: a writer says what text it started from (the *base*,
as it loaded or last saved it); when the stored text has changed since, the two changes
are merged line by line (three-way, like version control), and where both changed the
same lines both versions are kept, the other's first. The store is a compare-and-set:
the update only happens if the stored text is still the one the merge was made from,
else it reads again and merges again. Nothing typed in either terminal vanishes.
"""

from __future__ import annotations

import difflib
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fieldkit.errors import FieldkitError
from fieldkit.i18n import _
from fieldkit.sessions.plan import guide_of, session_people

if TYPE_CHECKING:
    from fieldkit.instruments.guides.model import Guide
    from fieldkit.projects import ProjectHandle
    from fieldkit.store.models import Event, Session

#: Round 1 is written right after the interview; round 2 after the transcript is reviewed
#: ("impressions2", "joint2"), beside the first, so first impressions can be compared with it.
PARTS = ("impressions", "joint", "impressions2", "joint2")
DEBRIEF_PARTS = PARTS
ROUNDS = (1, 2)


def part_code(part: str, round: int = 1) -> str:  # noqa: A002
    """The stored code of a debrief part in a round: "impressions" / "impressions2"."""
    base = part.rstrip("2")
    if base not in ("impressions", "joint") or round not in ROUNDS:
        raise FieldkitError(_("Unknown debrief part {part} in round {round}.").format(
            part=repr(part), round=round))
    return base if round == 1 else base + "2"


def part_round(code: str) -> int:
    """Which round a stored debrief code belongs to (1 or 2)."""
    return 2 if code.endswith("2") else 1


def _per_author(part: str) -> bool:
    return part.startswith("impressions")


@dataclass
class Merge:
    text: str
    conflict: bool   # both changed the same lines: both versions were kept


@dataclass
class Saved:
    text: str            # what is stored now (show it in the box)
    merged: bool         # the other terminal had saved a change since `base`: merged in
    conflict: bool       # both changed the same lines: both versions kept


# --------------------------------------------------------------------------- merging

def _lines(text: str) -> list[str]:
    if not text:
        return []
    return [line if line.endswith("\n") else line + "\n" for line in text.splitlines(keepends=True)]


def _hunks(base: list[str], other: list[str]) -> list[tuple[int, int, list[str]]]:
    sm = difflib.SequenceMatcher(None, base, other, autojunk=False)
    return [(i1, i2, other[j1:j2]) for tag, i1, i2, j1, j2 in sm.get_opcodes() if tag != "equal"]


def _apply(base: list[str], lo: int, hi: int, hunks: list[tuple[int, int, list[str]]]) -> list[str]:
    out, at = [], lo
    for i1, i2, new in hunks:
        out.extend(base[at:i1])
        out.extend(new)
        at = i2
    out.extend(base[at:hi])
    return out


def merge3(base: str, ours: str, theirs: str) -> Merge:
    """Merge two edits of ``base``: changes to different lines both apply; where both
    changed the same lines (or inserted at the same place) theirs comes first, then ours."""
    if ours == theirs or theirs == base:
        return Merge(ours, False)
    if ours == base:
        return Merge(theirs, False)
    b = _lines(base)
    tagged = sorted([(i1, i2, new, 0) for i1, i2, new in _hunks(b, _lines(theirs))]
                    + [(i1, i2, new, 1) for i1, i2, new in _hunks(b, _lines(ours))],
                    key=lambda h: (h[0], h[1]))
    out: list[str] = []
    at = 0
    conflict = False
    k = 0
    while k < len(tagged):
        lo, hi = tagged[k][0], tagged[k][1]
        cluster = [tagged[k]]
        k += 1
        # overlapping or touching changes form one region (conservative: never lose text)
        while k < len(tagged) and tagged[k][0] <= hi:
            hi = max(hi, tagged[k][1])
            cluster.append(tagged[k])
            k += 1
        out.extend(b[at:lo])
        sides = {side for *_x, side in cluster}
        if len(sides) == 1:
            out.extend(_apply(b, lo, hi, [(i1, i2, new) for i1, i2, new, _s in cluster]))
        else:
            mine = _apply(b, lo, hi, [(i1, i2, new) for i1, i2, new, s in cluster if s == 1])
            other = _apply(b, lo, hi, [(i1, i2, new) for i1, i2, new, s in cluster if s == 0])
            if mine == other:
                out.extend(mine)
            else:
                conflict = True
                out.extend(other)
                out.extend(line for line in mine if line not in other or not line.strip())
        at = hi
    out.extend(b[at:])
    return Merge("".join(out).rstrip("\n"), conflict)


# --------------------------------------------------------------------------- storing

def _query(s, session_id: uuid.UUID, part: str, author_id: uuid.UUID | None):  # noqa: ANN001, ANN202
    from sqlmodel import select

    from fieldkit.store.models import Event, EventKind

    q = select(Event).where(Event.session_id == session_id, Event.kind == EventKind.debrief, Event.code == part)
    if _per_author(part):
        q = q.where(Event.created_by == author_id)
    return s.exec(q.order_by(Event.created_at, Event.id)).all()


def _current(handle: "ProjectHandle", session_id: uuid.UUID, part: str,
             author_id: uuid.UUID | None) -> tuple[uuid.UUID | None, str, uuid.UUID | None]:
    """(event id, stored text, who last saved it). Two first saves made at the same moment
    can leave two events: they are joined into the oldest (both texts kept)."""
    from sqlalchemy import delete, update

    from fieldkit.store.models import Event, utcnow

    with handle.db.transaction() as s:
        rows = _query(s, session_id, part, author_id)
        if not rows:
            return None, "", None
        first = rows[0]
        if len(rows) > 1:
            texts = [first.text] + [r.text for r in rows[1:] if r.text.strip() and r.text not in first.text]
            joined = "\n\n".join(t for t in texts if t.strip())
            s.connection().execute(update(Event).where(Event.id == first.id, Event.text == first.text)
                   .values(text=joined, updated_at=utcnow()))
            s.connection().execute(delete(Event).where(Event.id.in_([r.id for r in rows[1:]])))
            return first.id, joined, first.created_by
        return first.id, first.text, first.created_by


def load_debrief(handle: "ProjectHandle", session_id: uuid.UUID) -> dict[tuple[str, uuid.UUID | None], str]:
    """Stored texts by (part, author): impressions per researcher, the joint note under None.
    Round 2 parts are under their own codes ("impressions2", "joint2")."""
    from sqlmodel import select

    from fieldkit.store.models import Event, EventKind

    out: dict[tuple[str, uuid.UUID | None], str] = {}
    with handle.db.session() as s:
        for e in s.exec(select(Event).where(Event.session_id == session_id, Event.kind == EventKind.debrief)
                        .order_by(Event.created_at, Event.id)):
            key = (e.code, e.created_by if _per_author(e.code) else None)
            out[key] = out[key] + "\n\n" + e.text if key in out and e.text not in out[key] else e.text
    return out


def impressions_saved_by_all(texts: dict[tuple[str, uuid.UUID | None], str], researchers,  # noqa: ANN001
                              round: int = 1) -> bool:  # noqa: A002
    """Whether every researcher of the session has saved first impressions of ``round``
    (``texts`` as :func:`load_debrief` returns them): until then each terminal keeps the
    other's impressions hidden, so both are written independently and compared after."""
    code = part_code("impressions", round)
    return all(texts.get((code, rid), "").strip() for rid in researchers)


def stored_text(handle: "ProjectHandle", session_id: uuid.UUID, part: str,
                author_id: uuid.UUID | None = None) -> str:
    return load_debrief(handle, session_id).get((part, author_id if _per_author(part) else None), "")


def save_part(handle: "ProjectHandle", session_id: uuid.UUID, part: str, text: str, base: str,
              author_id: uuid.UUID | None) -> Saved:
    """Save ``text`` for one debrief part, written starting from ``base``.

    ``author_id`` is whose impressions they are (part "impressions") or who writes the
    joint note. Returns the stored text, which includes any change the other terminal
    saved since ``base``."""
    from sqlalchemy import update

    from fieldkit.instruments.events import add_event
    from fieldkit.store.models import Event, EventKind, utcnow

    if part not in PARTS:
        raise FieldkitError(_("Unknown debrief part {part}.").format(part=repr(part)))
    text, base = text.strip(), base.strip()
    for _attempt in range(20):
        event_id, raw, _editor = _current(handle, session_id, part, author_id)
        stored = raw.strip()
        m = merge3(base, text, stored)
        if event_id is None:
            if not m.text:
                return Saved("", False, False)
            add_event(handle.db, session_id, EventKind.debrief, position_ms=None, author_id=author_id,
                      code=part, text=m.text)
            # a first save made at the same moment in the other terminal is joined, not lost
            _eid, now, _e = _current(handle, session_id, part, author_id)
            return Saved(now.strip(), now.strip() != text, m.conflict)
        if m.text == raw:
            return Saved(stored, stored != text, m.conflict)
        with handle.db.transaction() as s:
            done = s.connection().execute(update(Event).where(Event.id == event_id, Event.text == raw)
                                          .values(text=m.text, updated_at=utcnow())).rowcount
        if done:
            return Saved(m.text, m.text != text, m.conflict)
        # the other terminal saved between our read and our write: read and merge again
    raise FieldkitError(_("The debrief could not be saved: the other terminal keeps changing it."),
                        hint=_("Nothing is lost: your text is still in the box. Press Ctrl+S again."))


def debrief_people(handle: "ProjectHandle", session_id: uuid.UUID) -> tuple[str, dict[uuid.UUID, str]]:
    """The session's title and its researchers {id: "AL (Ada Lead)"}, lead first."""
    sess, people = session_people(handle, session_id)
    return sess.title, people


def save_debrief(handle: "ProjectHandle", session_id: uuid.UUID, part: str, text: str,
                 author_id: uuid.UUID | None) -> Saved | None:
    """Keep one researcher's impressions or the joint note as written in one place (a
    script, a test): the text replaces what is stored, through the same compare-and-set as
    :func:`save_part`. An empty text removes nothing (nothing written is ever lost): it
    returns what is stored, or None when nothing is."""
    if part not in PARTS:
        raise FieldkitError(_("Unknown debrief part {part}.").format(part=repr(part)))
    base = stored_text(handle, session_id, part, author_id)
    if not text.strip():
        return Saved(base.strip(), False, False) if base.strip() else None
    return save_part(handle, session_id, part, text, base, author_id)


def untouched_themes(handle: "ProjectHandle", session_id: uuid.UUID) -> list[str]:
    from fieldkit.instruments.guides.coverage import session_coverage
    from fieldkit.store.models import Session

    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None or sess.guide_version_id is None:
            return []
    return session_coverage(handle.db, session_id).untouched_themes()


def header_form(handle: "ProjectHandle", session_id: uuid.UUID) -> tuple[list[str], dict[str, str]]:
    """The header fields of the session's guide (an observation form's "participants
    present", "duration" ...) and what is filled in so far, to complete after the meeting."""
    from fieldkit.store.models import Session

    guide = guide_of(handle, session_id)
    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        stored = {str(k): str(v) for k, v in ((sess.header or {}) if sess else {}).items()}
    fields = list(guide.header) if guide is not None else []
    fields += [k for k in stored if k not in fields]
    # what the session knows (names, place and date, informants) fills what is still empty
    from fieldkit.sessions.plan import session_header

    return fields, session_header(handle, session_id, fields)


def save_header(handle: "ProjectHandle", session_id: uuid.UUID, values: dict[str, str]) -> dict[str, str]:
    """Fill in header fields after the meeting: non-empty values are stored, fields left
    empty keep what was stored (nothing written is lost). Returns what is stored now."""
    from fieldkit.store.models import Session, utcnow

    with handle.db.transaction() as s:
        sess = s.get(Session, session_id)
        if sess is None:
            raise FieldkitError(_("No session {id} in this project.").format(id=session_id))
        header = {str(k): str(v) for k, v in (sess.header or {}).items()}
        header.update({k: v.strip() for k, v in values.items() if v.strip()})
        sess.header = header
        sess.updated_at = utcnow()
        s.add(sess)
        return dict(header)
