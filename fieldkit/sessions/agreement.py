"""Observer agreement: how alike two researchers tagged the same session.

Pilot interviews are where a team learns to tag alike. As BORIS does, the session is cut
into short time slices (2 s by default) and, for each tag code, each researcher either
tagged it in a slice or not:

* a state tag (a digression ...) is present in every slice its stretch overlaps; a
  stretch never closed lasts to the end of the session;
* a point tag (a key quote ...) is a window of one slice's length centred on its moment,
  so two presses half a second apart still meet; it is present in the slices it overlaps.

Per code this gives a 2 x 2 table over the slices (both, only A, only B, neither) and
Cohen's kappa = (po - pe) / (1 - pe), with po the share of slices where they agree and pe
the agreement expected by chance from each one's share of slices tagged. When pe is 1
(neither ever tagged the code, or both tagged it throughout) kappa is undefined (None).
"All codes" pools every code's slices into one table. The moments where they differ
are the runs of slices where one tagged a code and the other did not.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fieldkit.errors import FieldkitError
from fieldkit.i18n import N_, Said, _

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle

DEFAULT_WINDOW_MS = 2000


@dataclass(frozen=True)
class Span:
    """One tag by one researcher: a point (end None, point True) or a stretch."""

    code: str
    start_ms: int
    end_ms: int | None = None   # a state tag's end; None: a point, or a stretch never closed
    point: bool = True


@dataclass
class CodeAgreement:
    code: str
    label: str
    both: int = 0
    only_a: int = 0
    only_b: int = 0
    neither: int = 0

    @property
    def slices(self) -> int:
        return self.both + self.only_a + self.only_b + self.neither

    @property
    def observed(self) -> float:
        """po: the share of slices where the two agree (both tagged, or neither)."""
        return (self.both + self.neither) / self.slices if self.slices else 1.0

    @property
    def expected(self) -> float:
        """pe: the agreement expected by chance from each researcher's share of slices."""
        n = self.slices
        if not n:
            return 1.0
        a_yes, b_yes = self.both + self.only_a, self.both + self.only_b
        return (a_yes * b_yes + (n - a_yes) * (n - b_yes)) / (n * n)

    @property
    def kappa(self) -> float | None:
        pe = self.expected
        if math.isclose(pe, 1.0):
            return None
        return (self.observed - pe) / (1 - pe)


@dataclass(frozen=True)
class Difference:
    """A stretch of slices where only one of the two tagged ``code``."""

    code: str
    label: str
    start_ms: int
    end_ms: int
    tagged_by: str      # the researcher who tagged it (initials)
    not_by: str         # the one who did not


@dataclass
class AgreementReport:
    session_title: str
    rater_a: str
    rater_b: str
    window_ms: int
    length_ms: int
    codes: list[CodeAgreement]
    overall: CodeAgreement
    differences: list[Difference]


def _slices_present(span: Span, window_ms: int, length_ms: int) -> range:
    """The slice numbers ``span`` is present in (see the module's text)."""
    if span.point:
        start, end = span.start_ms - window_ms / 2, span.start_ms + window_ms / 2
    else:
        start = span.start_ms
        end = span.end_ms if span.end_ms is not None else length_ms
        if end <= start:   # a stretch closed at the moment it opened: one instant
            end = start + 1
    start, end = max(start, 0), min(end, length_ms)
    if end <= start:
        return range(0)
    return range(int(start // window_ms), int(math.ceil(end / window_ms)))


def n_slices(length_ms: int, window_ms: int) -> int:
    return max(1, math.ceil(length_ms / window_ms))


def compare(tags_a: list[Span], tags_b: list[Span], *, length_ms: int,
            window_ms: int = DEFAULT_WINDOW_MS, labels: dict[str, str] | None = None,
            names: tuple[str, str] = ("A", "B")) -> tuple[list[CodeAgreement], CodeAgreement, list[Difference]]:
    """Kappa per code over time slices, pooled kappa, and the moments they differ."""
    if window_ms <= 0:
        raise FieldkitError(_("The window must be longer than 0 seconds."))
    labels = labels or {}
    n = n_slices(length_ms, window_ms)
    codes = sorted({t.code for t in tags_a} | {t.code for t in tags_b})
    per_code: list[CodeAgreement] = []
    overall = CodeAgreement("", Said("all_codes", N_("All codes")))
    differences: list[Difference] = []
    for code in codes:
        marks = []
        for tags in (tags_a, tags_b):
            present = [False] * n
            for t in tags:
                if t.code == code:
                    for k in _slices_present(t, window_ms, n * window_ms):
                        present[k] = True
            marks.append(present)
        a, b = marks
        row = CodeAgreement(code, labels.get(code, code))
        for k in range(n):
            if a[k] and b[k]:
                row.both += 1
            elif a[k]:
                row.only_a += 1
            elif b[k]:
                row.only_b += 1
            else:
                row.neither += 1
        per_code.append(row)
        overall.both += row.both
        overall.only_a += row.only_a
        overall.only_b += row.only_b
        overall.neither += row.neither
        k = 0
        while k < n:
            if a[k] == b[k]:
                k += 1
                continue
            who = a[k]
            start = k
            while k < n and a[k] != b[k] and a[k] == who:
                k += 1
            by, not_by = names if who else names[::-1]
            end = k * window_ms if length_ms <= start * window_ms else min(k * window_ms, length_ms)
            differences.append(Difference(code, row.label, start * window_ms, end, by, not_by))
    differences.sort(key=lambda d: (d.start_ms, d.code))
    return per_code, overall, differences


# --------------------------------------------------------------------------- from a session


def session_agreement(handle: "ProjectHandle", session_id: uuid.UUID, *,
                      raters: tuple[str, str] | None = None,
                      window_ms: int = DEFAULT_WINDOW_MS) -> AgreementReport:
    """Agreement between two researchers' tags in one session. ``raters`` are initials;
    by default the two researchers who tagged the session (the lead first)."""
    from sqlmodel import select

    from fieldkit.store.models import (Event, EventKind, Recording, RecordingFile, Researcher, Session,
                                       TagCode, TagMode)

    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None:
            raise FieldkitError(_("No session {session_id} in this project.").format(session_id=session_id))
        people = {r.id: r.initials for r in s.exec(
            select(Researcher).where(Researcher.project_id == handle.project_id))}
        events = list(s.exec(select(Event).where(Event.session_id == session_id,
                                                 Event.kind == EventKind.tag)))
        codes: dict[uuid.UUID, TagCode] = {}
        ids = {e.tag_code_id for e in events if e.tag_code_id}
        if ids:
            codes = {c.id: c for c in s.exec(select(TagCode).where(TagCode.id.in_(ids)))}
        length = 0
        for rec in s.exec(select(Recording).where(Recording.session_id == session_id)):
            length = max(length, rec.duration_ms)
            for f in s.exec(select(RecordingFile).where(RecordingFile.recording_id == rec.id)):
                length = max(length, f.offset_ms + f.duration_ms)
        lead, observer = sess.lead_id, sess.observer_id
        title = sess.title

    timed = [e for e in events if e.position_ms is not None and e.created_by in people]
    by_rater: dict[str, list[Span]] = {}
    labels: dict[str, str] = {}
    for e in timed:
        code_row = codes.get(e.tag_code_id) if e.tag_code_id else None
        state = code_row is not None and code_row.mode == TagMode.state
        labels[e.code] = code_row.label if code_row is not None else e.code
        by_rater.setdefault(people[e.created_by], []).append(
            Span(e.code, e.position_ms, e.end_ms if state else None, point=not state))
        length = max(length, (e.end_ms or 0) if state else 0, e.position_ms + window_ms // 2)

    if raters is None:
        order = [people[x] for x in (lead, observer) if x in people]
        who = sorted(by_rater, key=lambda i: (order.index(i) if i in order else len(order), i))
        if len(who) != 2:
            if len(who) < 2:
                found = (Said("only_one", N_("only {who}"), who=who[0]) if who
                         else Said("nobody", N_("nobody")))
                raise FieldkitError(
                    _("Agreement needs two researchers' tags; in {title!r} {found} "
                        "tagged with a time.").format(title=title, found=found),
                    hint=_("Both researchers tag the session (each in their own "
                             "terminal, `fieldkit observe --as INITIALS` for the "
                             "second)."))
            raise FieldkitError(_("{n} researchers tagged {title!r}: {who}.").format(n=len(who), title=title, who=', '.join(who)),
                                hint=_("Choose two with --raters, e.g. --raters {pair}.").format(pair=",".join(who[:2])))
        raters = (who[0], who[1])
    raters = (raters[0].strip().upper(), raters[1].strip().upper())
    for r in raters:
        if r not in people.values():
            raise FieldkitError(_("No researcher with the initials {r!r} in this "
                                    "project.").format(r=r),
                                hint=_("Researchers here: {known}").format(
                                    known=", ".join(sorted(people.values())) or _("none")))
    if raters[0] == raters[1]:
        raise FieldkitError(_("Agreement is between two different researchers."))
    per_code, overall, diffs = compare(by_rater.get(raters[0], []), by_rater.get(raters[1], []),
                                       length_ms=length, window_ms=window_ms, labels=labels,
                                       names=raters)
    return AgreementReport(title, raters[0], raters[1], window_ms, length, per_code, overall, diffs)
