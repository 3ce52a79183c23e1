"""Reading a project's sessions into the export dataclasses, pseudonymised on the way.

Everything a writer may print passes through the :class:`Pseudonymiser` here: the
transcript text (both layers), event texts, session titles, places and header fields,
and the guide's own wording. Speakers and authors are labelled by code, initials or role,
never by name.
"""

from __future__ import annotations

import bisect
import math
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Iterable

from sqlmodel import select

from fieldkit.errors import FieldkitError
from fieldkit.export import model as m
from fieldkit.instruments.guides.model import Guide
from fieldkit.i18n import N_, _
from fieldkit.privacy.pseudonym import (Person, Pseudonymiser, attribution_label, group_warnings, label_warnings,
                                       role_label)
from fieldkit.sessions.plan import session_header
from fieldkit.store.models import (
    Event,
    EventKind,
    GuideVersion,
    Informant,
    Project,
    Recording,
    Researcher,
    Session,
    SessionParticipant,
    TagCode,
    TagScheme,
    TranscriptSegment,
    local_day,
)
from fieldkit.store.models import Guide as GuideRow

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle

LAYERS = ("verbatim", "edited")

#: a researcher's label when names are replaced by roles ("Quote (Interviewer): ...")
FUNCTION_LABELS = {"interviewer": N_("Interviewer"), "observer": N_("Observer"),
                   "researcher": N_("Researcher")}


@dataclass
class ExportOptions:
    mode: str = "code"                 # code | role | nn | organisation | network | off
    layer: str = "edited"              # verbatim | edited
    line_numbers: bool = False
    redact_organisations: bool = False  # informants' organisations and sites are names too
    include_pilot: bool = True
    csv_separator: str | None = None    # None: ";" for Norwegian projects, else ","
    include_audio: bool = True          # with mode "off" only: audio beside the .eaf and in the .qdpx
    turn_times: bool = False            # Word/Markdown/text: [hh:mm:ss] of every segment inside a turn
    include_suggestions: bool = False   # the guide's suggestions (open, confirmed, dismissed); a
    #                                     confirmed one is in any case there as coverage


def _slug(text: str, limit: int = 40) -> str:
    text = text.replace("ø", "o").replace("Ø", "O").replace("æ", "ae").replace("Æ", "AE")
    text = text.replace("å", "a").replace("Å", "A")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return slug[:limit].strip("-")


def _confidence(seg) -> float | None:
    probs = [float(w["p"]) for w in (seg.words or []) if isinstance(w, dict) and w.get("p") is not None]
    if probs:
        return round(sum(probs) / len(probs), 3)
    if seg.avg_logprob is not None:
        return round(math.exp(min(0.0, seg.avg_logprob)), 3)
    return None


def _chunks(items: list, n: int = 400) -> Iterable[list]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


def collect(handle: "ProjectHandle", session_ids: list[uuid.UUID] | None = None,
            options: ExportOptions | None = None) -> m.Bundle:
    """The export bundle for ``session_ids`` (None: every session of the project)."""
    opt = options or ExportOptions()
    if opt.layer not in LAYERS:
        raise FieldkitError(_("Unknown layer {layer!r}.").format(layer=opt.layer), hint=_("Use verbatim or "
                                                                      "edited."))
    db = handle.db
    with db.session() as s:
        project = s.get(Project, handle.project_id)
        researchers = s.exec(select(Researcher).where(Researcher.project_id == project.id)).all()
        informants = s.exec(select(Informant).where(Informant.project_id == project.id)).all()
        all_sessions = s.exec(select(Session).where(Session.project_id == project.id)
                              .order_by(Session.starts_at, Session.created_at)).all()
        if session_ids is None:
            sessions = [x for x in all_sessions if opt.include_pilot or not x.is_pilot]
        else:
            by_id = {x.id: x for x in all_sessions}
            missing = [str(i) for i in session_ids if i not in by_id]
            if missing:
                raise FieldkitError(_("No session {value} in this project.").format(value=missing[0]))
            sessions = [by_id[i] for i in session_ids]
        from fieldkit.sessions.linked import follow_order   # linked sessions stay together

        in_order = {x.id: x for x in sessions}
        sessions = [in_order[i] for i in follow_order([(x.id, x.related_session_id) for x in sessions])]
        sids = [x.id for x in sessions]
        participants: list[SessionParticipant] = []
        segments: list[TranscriptSegment] = []
        events: list[Event] = []
        recordings: list[Recording] = []
        for chunk in _chunks(sids):
            participants += s.exec(select(SessionParticipant)
                                   .where(SessionParticipant.session_id.in_(chunk))).all()
            segments += s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id.in_(chunk))
                               .order_by(TranscriptSegment.start_ms)).all()
            events += [e for e in s.exec(select(Event).where(Event.session_id.in_(chunk))
                                         .order_by(Event.position_ms, Event.wall_time, Event.created_at)).all()
                       if opt.include_suggestions or e.kind != EventKind.suggest]
            recordings += s.exec(select(Recording).where(Recording.session_id.in_(chunk))).all()
        gv_ids = {x.guide_version_id for x in sessions if x.guide_version_id}
        versions = {v.id: v for v in s.exec(select(GuideVersion).where(GuideVersion.id.in_(gv_ids))).all()} if gv_ids else {}
        guide_rows = {g.id: g for g in s.exec(select(GuideRow).where(GuideRow.project_id == project.id)).all()}
        schemes = s.exec(select(TagScheme).where(TagScheme.project_id == project.id)
                         .order_by(TagScheme.name)).all()
        tag_codes = s.exec(select(TagCode).where(TagCode.scheme_id.in_([x.id for x in schemes]))
                           .order_by(TagCode.sort)).all() if schemes else []
        # only the schemes the exported sessions use (set up with, or tagged from): an
        # interview-only project lists no meeting-observation tags with count 0
        used_codes = {e.tag_code_id for e in events if e.tag_code_id}
        used = {x.tag_scheme_id for x in sessions if x.tag_scheme_id}
        used |= {c.scheme_id for c in tag_codes if c.id in used_codes}
        schemes = [x for x in schemes if x.id in used]
        tag_codes = [c for c in tag_codes if c.scheme_id in used]
        project_name, redaction_terms = project.name, list(project.redaction_terms or [])
        project_language, vocabulary = project.language or "no", project.vocabulary or ""

    inf_by_id = {i.id: i for i in informants}
    res_by_id = {r.id: r for r in researchers}
    lead_fn = {}
    for x in sessions:
        if x.lead_id:
            lead_fn[(x.id, x.lead_id)] = "interviewer"
        if x.observer_id:
            lead_fn[(x.id, x.observer_id)] = "observer"

    # ---------------------------------------------------------------- pseudonymiser
    redact_orgs = opt.redact_organisations and opt.mode != "off"

    places = [x.place for x in all_sessions if x.place]
    if redact_orgs:
        places += [v for i in informants for v in (i.site, i.organisation) if v]
    # one policy for a name everywhere: a role label ("ansatt, Vestby kommune") is
    # pseudonymised like the text beside it ("[place] kommune")
    places_only = Pseudonymiser.build(opt.mode, [], places, redaction_terms)
    role_labels = {i.id: role_label(places_only(i.role), "" if redact_orgs else places_only(i.organisation))
                   for i in informants}

    if opt.mode in ("organisation", "network"):
        # attribution the way the studies reported: "NN, kommune A" / "NN, nettverk 3"
        role_labels = {i.id: attribution_label(opt.mode, organisation=places_only(i.organisation),
                                               site=places_only(i.site), group=places_only(i.group_label))
                       for i in informants}

    def inf_label(i: Informant) -> str:
        return role_labels[i.id]

    protected = [w for w in re.split(r"[\s,;]+", f"{project_name}\n{vocabulary}") if w]
    common = {w for v in versions.values() for w in _lower_words(v.outline)}
    common |= {w for g in guide_rows.values() for w in _lower_words(g.title)}
    people = [Person(i.name, "informant", i.code, inf_label(i)) for i in informants]
    people += [Person(r.name, "researcher", r.initials, _("researcher")) for r in researchers]
    pseudo = Pseudonymiser.build(opt.mode, people, places, redaction_terms,
                                 protected_words=protected, common_words=common)
    P = pseudo.apply

    # ---------------------------------------------------------------- shared lookups
    scheme_name = {x.id: x.name for x in schemes}
    codes_by_id = {c.id: c for c in tag_codes}
    bundle_codes: dict[str, m.Code] = {}
    for c in tag_codes:
        key = f"{scheme_name[c.scheme_id]}/{c.code}"
        bundle_codes[key] = m.Code(key, c.code, c.label, scheme_name[c.scheme_id], c.colour,
                                   c.mode.value, c.description)
    code_key_by_id = {c.id: f"{scheme_name[c.scheme_id]}/{c.code}" for c in tag_codes}
    guides: dict[uuid.UUID, Guide] = {vid: Guide.from_outline(v.outline) for vid, v in versions.items()}

    by_session: dict[uuid.UUID, dict[str, list]] = {sid: {"p": [], "s": [], "e": [], "r": []} for sid in sids}
    for p in participants:
        by_session[p.session_id]["p"].append(p)
    for seg in segments:
        by_session[seg.session_id]["s"].append(seg)
    for ev in events:
        by_session[ev.session_id]["e"].append(ev)
    for rec in recordings:
        by_session[rec.session_id]["r"].append(rec)

    # a reference is the id's first 6 characters, more where two sessions share them
    short_len: dict[uuid.UUID, int] = {}
    for n in range(6, 33):
        prefixes: dict[str, list[uuid.UUID]] = {}
        for x in sessions:
            if short_len.get(x.id, 6) <= n:
                prefixes.setdefault(x.id.hex[:n], []).append(x.id)
        clash = [i for ids in prefixes.values() if len(ids) > 1 for i in ids]
        if not clash:
            break
        for i in clash:
            short_len[i] = n + 1
    questions: dict[str, m.Question] = {}
    guide_texts: dict[tuple, str] = {}
    out_sessions: list[m.Session] = []
    exported_informants: dict[uuid.UUID, Informant] = {}

    for sess in sessions:
        parts = sorted(by_session[sess.id]["p"], key=lambda p: (p.speaker_label or "~", p.created_at))
        guide = guides.get(sess.guide_version_id) if sess.guide_version_id else None

        # speakers -------------------------------------------------------
        inf_speaker: dict[uuid.UUID, str] = {}
        plist: list[m.Participant] = []
        for n, p in enumerate(parts, start=1):
            inf = inf_by_id.get(p.informant_id)
            if inf is None:
                continue
            exported_informants[inf.id] = inf
            if opt.mode in ("code", "off"):
                label = inf.code
            elif opt.mode in ("role", "organisation", "network"):
                label = inf_label(inf)
            else:
                label = f"Informant {n}"
            inf_speaker[inf.id] = label
            # codes link a person across exports: only code and off modes show them
            plist.append(m.Participant(code=inf.code if opt.mode in ("code", "off") else label, role=P(inf.role),
                                       organisation="" if redact_orgs else P(inf.organisation),
                                       speaker=label, site="" if redact_orgs else P(inf.site),
                                       group=P(inf.group_label)))
        by_speaker_label = {p.speaker_label.casefold(): inf_speaker.get(p.informant_id, "")
                            for p in parts if p.speaker_label}

        def researcher_label(rid: uuid.UUID | None, sid=sess.id) -> str:
            r = res_by_id.get(rid) if rid else None
            if r is None:
                return ""
            if opt.mode in ("code", "off"):
                return r.initials
            return _(FUNCTION_LABELS[lead_fn.get((sid, rid), "researcher")])

        res_by_initials = {r.initials.casefold(): r.id for r in researchers}

        def speaker_of(seg: TranscriptSegment) -> str:
            if seg.speaker_informant_id and seg.speaker_informant_id in inf_speaker:
                return inf_speaker[seg.speaker_informant_id]
            if seg.speaker_informant_id and seg.speaker_informant_id in inf_by_id:
                inf = inf_by_id[seg.speaker_informant_id]
                return inf.code if opt.mode in ("code", "off") else inf_label(inf)
            if seg.speaker_researcher_id:
                return researcher_label(seg.speaker_researcher_id)
            key = (seg.speaker_label or "").casefold()
            if key in by_speaker_label and by_speaker_label[key]:
                return by_speaker_label[key]
            if key in res_by_initials:
                return researcher_label(res_by_initials[key])
            return P(seg.speaker_label or "")

        inf_labels_here = {p.speaker_label.casefold() for p in parts if p.speaker_label}
        segs = [
            m.Segment(index=n, start_ms=seg.start_ms, end_ms=seg.end_ms, speaker=speaker_of(seg),
                      verbatim=P(seg.verbatim),
                      edited=P(seg.edited) if seg.edited is not None else None,
                      by_researcher=bool(seg.speaker_researcher_id) or (
                          not seg.speaker_informant_id
                          and (seg.speaker_label or "").casefold() in res_by_initials
                          and (seg.speaker_label or "").casefold() not in inf_labels_here),
                      confidence=_confidence(seg))
            for n, seg in enumerate(by_session[sess.id]["s"])
        ]
        starts = [x.start_ms for x in segs]

        def seg_at(pos: int | None) -> int | None:
            if pos is None or not segs:
                return None
            # the segment it falls in; before the first one: the first one
            return max(bisect.bisect_right(starts, pos) - 1, 0)

        # events ---------------------------------------------------------
        evs: list[m.Event] = []
        latest_cov: dict[str, tuple] = {}
        for ev in by_session[sess.id]["e"]:
            kind = ev.kind.value
            tag_label, code = "", ev.code
            if kind == "tag":
                tc = codes_by_id.get(ev.tag_code_id) if ev.tag_code_id else None
                if tc is not None:
                    tag_label, code = tc.label, tc.code
                    code = code_key_by_id[tc.id]
                else:
                    key = f"Other tags/{ev.code}"
                    bundle_codes.setdefault(key, m.Code(key, ev.code, ev.code, _("Other tags")))
                    code, tag_label = key, ev.code
            qtext = ""
            if ev.question_id and guide is not None:
                qtext = guide_texts.setdefault((sess.guide_version_id, ev.question_id),
                                               P(guide.label(ev.question_id)))
            author = researcher_label(ev.created_by)
            about = ""
            if ev.informant_id and ev.informant_id in inf_by_id:
                inf = inf_by_id[ev.informant_id]
                about = inf_speaker.get(inf.id) or (inf.code if opt.mode in ("code", "off") else inf_label(inf))
            out = m.Event(
                id=str(ev.id), kind=kind, position_ms=ev.position_ms, end_ms=ev.end_ms,
                author=author, code=code, tag_label=tag_label, text=P(ev.text),
                question_id=ev.question_id, question_text=qtext, informant=about,
                segment_index=seg_at(ev.position_ms),
                end_segment_index=seg_at(ev.end_ms) if ev.end_ms is not None else None,
                wall_time=_iso(ev.wall_time),
            )
            evs.append(out)
            if kind == "coverage" and ev.question_id:
                order = (ev.wall_time or datetime.min.replace(tzinfo=timezone.utc), ev.created_at)
                if ev.question_id not in latest_cov or order >= latest_cov[ev.question_id][0]:
                    latest_cov[ev.question_id] = (order, ev.code)

        # guide: coverage and theme headings ----------------------------
        coverage: dict[str, str] = {}
        marks: list[m.ThemeMark] = []
        gv = versions.get(sess.guide_version_id) if sess.guide_version_id else None
        gkey = str(gv.guide_id) if gv else ""
        gtitle = P(guide_rows[gv.guide_id].title) if gv and gv.guide_id in guide_rows else ""
        if guide is not None:
            for theme, q in guide.iter_questions():
                questions.setdefault(f"{gkey}/{q.id}", m.Question(
                    q.id, theme.id, P(theme.title), P(q.text), guide_key=gkey, guide_title=gtitle))
                coverage[q.id] = latest_cov.get(q.id, (None, "not_yet"))[1]
            for qid, (_o, status) in latest_cov.items():   # questions of earlier versions
                coverage.setdefault(qid, status)
            marks = theme_marks(guide, evs, segs, P)

        date = local_day(sess.starts_at)
        duration = max([x.end_ms for x in segs] + [r.duration_ms for r in by_session[sess.id]["r"]] + [0])
        researchers_here = [(researcher_label(rid), fn) for rid, fn in
                            ((sess.lead_id, "interviewer"), (sess.observer_id, "observer")) if rid]
        codes_here = "-".join(p.code for p in plist) if opt.mode in ("code", "off") else ""
        short = sess.id.hex[:short_len.get(sess.id, 6)]
        label = " · ".join(x for x in (date, short, codes_here) if x)
        stem = "_".join(x for x in (date, short, _slug(codes_here) if codes_here else "") if x)
        audio = ""
        if opt.mode == "off" and opt.include_audio and by_session[sess.id]["r"]:
            from fieldkit.export.audio import has_audio

            if has_audio(handle, sess.id):   # voices identify: only without pseudonymisation
                audio = f"{sess.id}.wav"
        out_sessions.append(m.Session(
            id=str(sess.id), label=label, title=P(sess.title), kind=sess.kind.value,
            status=sess.status.value, date=date, place=P(sess.place), is_pilot=sess.is_pilot,
            participants=plist, researchers=researchers_here,
            guide_title=gtitle, guide_version=gv.number if gv else None, guide_key=gkey,
            header={P(str(k)): P(str(v)) for k, v in session_header(handle, sess.id).items()},
            duration_ms=duration, segments=segs, events=evs, coverage=coverage, themes=marks,
            audio_path=audio, stem=stem,
        ))

    out_by_id = {x.id: x for x in out_sessions}
    for sess in sessions:
        out, prev = out_by_id.get(str(sess.id)), out_by_id.get(str(sess.related_session_id))
        if out is not None and prev is not None and prev is not out:
            out.follows = prev.label
            prev.followed_by.append(out.label)
    warnings = []
    if opt.mode in ("organisation", "network"):
        warnings = label_warnings((i.code, inf_label(i)) for i in exported_informants.values())
    elif opt.mode != "off":
        warnings = group_warnings((i.code, i.role, "" if redact_orgs else i.organisation)
                                  for i in exported_informants.values())
    # researchers: who led most sessions first (REFI tools take the first user as the coder)
    led = {r.id: 0 for r in researchers}
    for x in sessions:
        for rid, w in ((x.lead_id, 2), (x.observer_id, 1)):
            if rid in led:
                led[rid] += w
    ordered = sorted(researchers, key=lambda r: (-led[r.id], r.initials))
    labels = list(dict.fromkeys(researcher_label(r.id, None) or r.initials for r in ordered))
    if opt.mode not in ("code", "off"):
        labels = list(dict.fromkeys(f for sess in out_sessions for _l, f in sess.researchers)) or labels
        labels = [x.capitalize() for x in labels]
    separator = opt.csv_separator or (";" if _is_norwegian(project_language) else ",")
    bundle = m.Bundle(
        project=P(project_name), layer=opt.layer, mode=opt.mode, created=_iso(datetime.now(timezone.utc)),
        sessions=out_sessions, codes=list(bundle_codes.values()), questions=list(questions.values()),
        researchers=labels, line_numbers=opt.line_numbers, turn_times=opt.turn_times, language=project_language,
        csv_separator=separator,
    )
    bundle.report = dict(pseudo.report)
    bundle.report_lines = pseudo.report_lines()
    bundle.warnings = warnings
    bundle._pseudonymiser = pseudo  # type: ignore[attr-defined]  # for later text (file names)
    bundle._handle = handle  # type: ignore[attr-defined]  # for the audio (fieldkit.export.audio)
    return bundle


def _is_norwegian(language: str) -> bool:
    return (language or "").split("-")[0].lower() in ("no", "nb", "nn", "nob", "nno")


def _lower_words(outline: object) -> set[str]:
    """Lower-case words of a guide (its outline or title): ordinary words, not names."""
    out: set[str] = set()

    def walk(x: object) -> None:
        if isinstance(x, str):
            out.update(w.casefold() for w in re.findall(r"\w+", x) if w.islower())
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)

    walk(outline)
    return out


def theme_marks(guide: Guide, evs: list[m.Event], segs: list[m.Segment], P) -> list[m.ThemeMark]:
    """Theme headings along the time line of where the lead actually was.

    The theme of the question or probe of each covered / partly covered, probe or "went
    back" mark is the theme current from that mark on (a question marked skipped was not
    asked there); each change of theme gives a heading, and a theme
    visited before comes again as a return ("Theme 1 (back)"). So segments, covered marks
    and notes sit under the theme that was current at their time, and a theme visited out
    of the guide's order is shown where it was visited.

    The coverage key is pressed after a question was asked (often after it was answered),
    so a heading goes before the first researcher turn after the last mark of the theme
    before (a turn with a question mark preferred): where the lead moved to it and asked.
    Notes and tags between the two go with the turn they fall in. Without researcher
    turns the heading stays at the segment of its first mark."""
    marks: list[m.ThemeMark] = []
    seen: set[str] = set()
    current: str | None = None
    prev_seg = -1              # the last segment holding a guide mark of the current theme
    for e in sorted((e for e in evs if e.kind in ("coverage", "probe", "returned")
                     and e.question_id and e.position_ms is not None), key=lambda e: e.position_ms):
        if e.kind == "coverage" and e.code in ("skipped", "not_yet"):
            continue              # a question skipped or reset was not asked: the lead did not go there
        theme = guide.theme_of(e.question_id)
        if theme is None or theme.id == current:
            if theme is not None and e.segment_index is not None:
                prev_seg = max(prev_seg, e.segment_index)
            continue
        at, pos = e.segment_index, e.position_ms
        if at is not None and segs:
            lo = min(prev_seg + 1, at)
            turns = [k for k in range(lo, at + 1) if segs[k].by_researcher]
            asked = [k for k in turns if "?" in segs[k].verbatim]
            pick = (asked or turns or [at])[0]
            at, pos = pick, min(pos, segs[pick].start_ms)
        if marks and at is not None and marks[-1].segment_index == at and marks[-1].segment_index is not None:
            marks.pop()           # nothing was said under the theme before: its heading goes
        marks.append(m.ThemeMark(theme.id, P(theme.title), pos, at, returned=theme.id in seen))
        seen.add(theme.id)
        current = theme.id
        if e.segment_index is not None:
            prev_seg = max(prev_seg, e.segment_index)
    return marks


def _iso(dt: datetime | None) -> str:
    if dt is None:
        return ""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds")
