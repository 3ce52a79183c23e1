"""REFI-QDA project export (.qdpx) for NVivo, ATLAS.ti, MAXQDA and QualCoder.

The .qdpx is a zip with ``project.qde`` (QDA-XML 1.0) and a ``sources/`` folder holding
one UTF-8 plain text file per transcript (``internal://<guid>.txt``) and one per journal
note. The project has:

* Users: the researchers, by initials or role label (never names); the one who led
  most sessions first (QualCoder makes the first user its coder). A "fieldkit" user
  only when something has no author, and then last;
* CodeBook: one parent code per tag scheme with its tags, one per guide with its
  themes and questions (so the text can be retrieved by question), and one code per
  informant ("Informant: L01") coding their turns, which the Case refers to;
* Variables (unique names): the informant's role, organisation, site and group (case
  variables) and the session's date, kind, lead, observer, informants' sites, guide and
  guide version (source variables, as VariableValues of each TextSource);
* Cases: one per informant (pseudonym code or role label) with its variables, its
  code and a SourceRef to every session it took part in;
* Sources: a TextSource per transcript. Each tag is a PlainTextSelection with a Coding
  on the lines it falls in (a state tag: from the line where it started to the line
  where it stopped); guide coverage marks are coded the same way on the guide's
  question. A timed note is a PlainTextSelection *without* Coding whose Description
  is the note's text (QualCoder and MAXQDA read it as an annotation) and a NoteRef
  to the Note with the same text (NVivo, ATLAS.ti). Debriefs and notes without a
  time are standalone Notes with their text in a file (plainTextPath): journals.
  Every Note name is unique. When pseudonymisation is off and the session has an
  imported audio file, an AudioSource with a Transcript and SyncPoints at every line;
* Sets: sessions by kind, and by the site (case network) of their informants.

Offsets: ``startPosition``/``endPosition`` are 0-based character (code point) offsets
into the text file, end exclusive, as QualCoder reads them (``text[start:end]``).
GUIDs are derived from fieldkit's ids (uuid5), so exporting again gives the same GUIDs.
"""

from __future__ import annotations

import uuid
import zipfile
from pathlib import Path

from fieldkit import __version__
from fieldkit.export.model import Bundle, Event, Session, hms, kind_label
from fieldkit.i18n import N_, _
from fieldkit.export.text import kind_words, metadata_lines, transcript_layout

NS = "urn:QDA-XML:project:1.0"
_GUID_NS = uuid.UUID("6f1c2b0e-55a4-4c1e-9a55-2f6d0f1e7a10")
NOTE_KINDS = ("note", "quote", "debrief", "marker")
#: kinds that never have a place in the text: always journals
JOURNAL_KINDS = ("debrief",)


def guid(*parts: object) -> str:
    return str(uuid.uuid5(_GUID_NS, "/".join(str(p) for p in parts)))


def _colour(c: str) -> str | None:
    import re

    return c if c and re.fullmatch(r"#([0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})", c) else None


class _Names:
    """Unique names (QualCoder refuses two journals or notes with one name)."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def __call__(self, name: str) -> str:
        out, n = name, 1
        while out.casefold() in self.used:
            n += 1
            out = f"{name} ({n})"
        self.used.add(out.casefold())
        return out


def note_text(e: Event) -> str:
    """What a note says, with who wrote it and when (an annotation's or journal's text)."""
    at = f"[{hms(e.position_ms)}] " if e.position_ms is not None else ""
    return at + e.summary()


def build_project(bundle: Bundle) -> tuple[bytes, dict[str, str]]:
    """(project.qde bytes, {path in zip: text}) for the bundle."""
    from lxml import etree

    def E(tag, parent=None, **attrs):  # noqa: ANN001, ANN202, N802
        a = {k: str(v) for k, v in attrs.items() if v is not None}
        if parent is None:
            return etree.Element(f"{{{NS}}}{tag}", a, nsmap={None: NS})
        return etree.SubElement(parent, f"{{{NS}}}{tag}", a)

    created = bundle.created
    users: dict[str, str] = {}
    for label in bundle.researchers:           # researchers first, in the bundle's order
        if label:
            users.setdefault(label, guid("user", label))

    def user(label: str) -> str:
        label = label or "fieldkit"
        if label not in users:
            users[label] = guid("user", label)
        return users[label]

    first_user = next(iter(users.values()), None) or user("fieldkit")
    root = E("Project", name=bundle.project or "fieldkit export", origin=f"fieldkit {__version__}",
             creatingUserGUID=first_user, creationDateTime=created)
    users_el = E("Users", root)
    codebook = E("CodeBook", root)
    codes_el = E("Codes", codebook)

    # codebook: tag schemes, then guides' questions, then informants
    code_guid: dict[str, str] = {}
    parents: dict[str, object] = {}
    for c in bundle.codes:
        parent = parents.get(c.scheme)
        if parent is None:
            parent = E("Code", codes_el, guid=guid("scheme", c.scheme), name=_("Tags: {scheme}").format(scheme=c.scheme),
                       isCodable="false")
            parents[c.scheme] = parent
        g = guid("code", c.id)
        el = E("Code", parent, guid=g, name=c.label or c.code, isCodable="true", color=_colour(c.colour))
        desc = " ".join(x for x in (c.description, f"[{c.code}]", _("(a stretch)") if c.mode == "state" else "") if x)
        E("Description", el).text = desc
        code_guid[c.id] = g
    q_guid: dict[str, str] = {}
    if bundle.questions:
        guides: dict[str, object] = {}
        themes: dict[tuple, object] = {}
        several = len({q.guide_key for q in bundle.questions}) > 1
        top = E("Code", codes_el, guid=guid("guide-questions"), name=_("Guide questions"), isCodable="false")
        for q in bundle.questions:
            gparent = top
            if several:
                gparent = guides.get(q.guide_key)
                if gparent is None:
                    gparent = E("Code", top, guid=guid("guide", q.guide_key),
                                name=q.guide_title or "Guide", isCodable="false")
                    guides[q.guide_key] = gparent
            t = themes.get((q.guide_key, q.theme_id))
            if t is None:
                t = E("Code", gparent, guid=guid("theme", q.guide_key, q.theme_id) if q.guide_key
                      else guid("theme", q.theme_id), name=q.theme or q.theme_id, isCodable="true")
                themes[(q.guide_key, q.theme_id)] = t
            g = guid("question", q.guide_key, q.id) if q.guide_key else guid("question", q.id)
            el = E("Code", t, guid=g, name=_short(q.text) or q.id, isCodable="true")
            E("Description", el).text = f"{q.text} [{q.id}]"
            q_guid[q.key] = g

    # informants: one case each; its code (same GUID as the case) codes their turns
    cases: dict[str, dict] = {}
    for s in bundle.sessions:
        for p in s.participants:
            c = cases.setdefault(p.speaker, {"role": p.role, "org": p.organisation, "site": p.site,
                                             "group": p.group, "sources": []})
            c["sources"].append(guid("source", s.id))
    case_guid = {label: guid("case", label) for label in cases}
    if cases:
        cparent = E("Code", codes_el, guid=guid("informants"), name=_("Informants"), isCodable="false")
        for label in sorted(cases):
            el = E("Code", cparent, guid=case_guid[label], name=_("Informant: {label}").format(label=label), isCodable="true")
            E("Description", el).text = _("What {label} said (the case {label}).").format(label=label)
    if not len(codes_el):   # CodeBook needs at least one Code
        E("Code", codes_el, guid=guid("no-codes"), name="fieldkit", isCodable="false")

    case_vars = [("role", N_("Role")), ("org", N_("Organisation")), ("site", N_("Site")), ("group", N_("Group"))]
    case_vars = [(k, n) for k, n in case_vars if any(c[k] for c in cases.values())]
    # variable names are unique across cases and sources (QualCoder refuses a second "Site")
    source_vars = [N_("Session"), N_("Date"), N_("Kind"), N_("Lead"), N_("Observer"), N_("Informant sites"),
                   N_("Guide"), N_("Guide version"), N_("Pilot")]
    var_guid = {n: guid("var", n.lower()) for _k, n in case_vars}
    var_guid.update({n: guid("source-var", n.lower()) for n in source_vars})

    sources = E("Sources", root)
    files: dict[str, str] = {}
    names = _Names()
    notes: list[tuple[str, str, Event, Session, bool]] = []   # guid, name, event, session, journal
    sets: dict[str, list[str]] = {}
    for s in bundle.sessions:
        layout = transcript_layout(s, bundle.layer)
        sg = guid("source", s.id)
        fname = f"{sg}.txt"
        files[f"sources/{fname}"] = layout.text
        lead = next((lab for lab, fn in s.researchers if fn == "interviewer"), "")
        observer = next((lab for lab, fn in s.researchers if fn == "observer"), "")
        src = E("TextSource", sources, guid=sg, name=f"{s.label} {s.title}".strip(),
                plainTextPath=f"internal://{fname}", creatingUser=user(lead) if lead else first_user,
                creationDateTime=_when(s, created))
        E("Description", src).text = "\n".join(f"{k}: {v}" for k, v in metadata_lines(bundle, s))
        sites = "; ".join(dict.fromkeys(p.site for p in s.participants if p.site))
        for e in s.events:
            span = _span(e, layout.spans)
            author = user(e.author)
            when = e.wall_time or created
            if e.kind == "tag" and span and e.code in code_guid:
                sel = E("PlainTextSelection", src, guid=guid("sel", e.id),
                        name=f"{e.tag_label or e.code} {hms(e.position_ms)}",
                        startPosition=span[0], endPosition=span[1], creatingUser=author, creationDateTime=when)
                if e.text:
                    E("Description", sel).text = e.text
                cod = E("Coding", sel, guid=guid("coding", e.id), creatingUser=author, creationDateTime=when)
                E("CodeRef", cod, targetGUID=code_guid[e.code])
            elif e.kind in ("coverage", "probe", "returned") and span and e.question_id:
                target = q_guid.get(f"{s.guide_key}/{e.question_id}")
                if target is None or (e.kind == "coverage" and e.code in ("not_yet", "skipped")):
                    continue
                sel = E("PlainTextSelection", src, guid=guid("sel", e.id), name=f"{kind_label(e.kind)} {hms(e.position_ms)}",
                        startPosition=span[0], endPosition=span[1], creatingUser=author, creationDateTime=when)
                E("Description", sel).text = e.summary()
                cod = E("Coding", sel, guid=guid("coding", e.id), creatingUser=author, creationDateTime=when)
                E("CodeRef", cod, targetGUID=target)
            elif e.kind in NOTE_KINDS and (e.text or e.kind == "marker"):
                ng = guid("note", e.id)
                journal = e.kind in JOURNAL_KINDS or not span
                label = kind_label(e.kind)
                stamp = hms(e.position_ms) if e.position_ms is not None else _("no time")
                name = names(f"{label} · {s.label} · {stamp}" + (f" · {e.author}" if e.author else ""))
                notes.append((ng, name, e, s, journal))
                if not journal:
                    sel = E("PlainTextSelection", src, guid=guid("sel", e.id), name=name,
                            startPosition=span[0], endPosition=span[1], creatingUser=author,
                            creationDateTime=when)
                    E("Description", sel).text = note_text(e)
                    E("NoteRef", sel, targetGUID=ng)
        # each informant's turns, coded with their case's code
        for p in s.participants:
            cg = case_guid.get(p.speaker)
            if cg is None:
                continue
            spans = [sp for seg, sp in zip(s.segments, layout.spans) if seg.speaker == p.speaker]
            if not spans and layout.spans:   # turns not attributed: the whole session
                spans = [(layout.spans[0][0], layout.spans[-1][1])]
            for k, (a, b) in enumerate(_merge(spans)):
                sel = E("PlainTextSelection", src, guid=guid("case-sel", s.id, p.speaker, k),
                        name=f"{p.speaker} {k + 1}", startPosition=a, endPosition=b,
                        creatingUser=first_user, creationDateTime=created)
                cod = E("Coding", sel, guid=guid("case-coding", s.id, p.speaker, k),
                        creatingUser=first_user, creationDateTime=created)
                E("CodeRef", cod, targetGUID=cg)
        values = {"Session": s.label, "Date": s.date, "Kind": _(kind_words(s.kind)), "Lead": lead,
                  "Observer": observer, "Informant sites": sites, "Guide": s.guide_title,
                  "Guide version": str(s.guide_version) if s.guide_version is not None else "",
                  "Pilot": _("yes") if s.is_pilot else _("no")}
        for n in source_vars:
            if values[n]:
                vv = E("VariableValue", src)
                E("VariableRef", vv, targetGUID=var_guid[n])
                E("DateValue" if n == "Date" else "TextValue", vv).text = values[n]
        sets.setdefault(_("Kind: {kind}").format(kind=_(kind_words(s.kind))), []).append(sg)
        if s.follows or s.followed_by:   # a linked pair (observation and its group interview)
            sets.setdefault(_("Linked: {session}").format(session=s.follows or s.label), []).append(sg)
        for site in dict.fromkeys(p.site for p in s.participants if p.site):
            sets.setdefault(_("Site: {site}").format(site=site), []).append(sg)
        if s.audio_path and getattr(bundle, "_handle", None) is not None:
            _audio(E, sources, s, layout, first_user, created, files)

    if notes:
        notes_el = E("Notes", root)
        for ng, name, e, s, journal in notes:
            text = note_text(e)
            attrs = dict(guid=ng, name=name, creatingUser=user(e.author), creationDateTime=e.wall_time or created)
            if journal:
                files[f"sources/{ng}.txt"] = f"{s.label} {s.title}\n\n{text}\n"
                n = E("Note", notes_el, plainTextPath=f"internal://{ng}.txt", **attrs)
                E("Description", n).text = _("{kind} of the session {session}").format(kind=kind_label(e.kind), session=s.label)
            else:
                n = E("Note", notes_el, **attrs)
                E("PlainTextContent", n).text = text
    if sets:
        sets_el = E("Sets", root)
        for name, members in sets.items():
            st = E("Set", sets_el, guid=guid("set", name), name=name)
            for sg in dict.fromkeys(members):
                E("MemberSource", st, targetGUID=sg)

    for label, g in users.items():
        E("User", users_el, guid=g, name=label, id=label)
    variables = etree.Element(f"{{{NS}}}Variables")
    for _k, name in case_vars:
        E("Variable", variables, guid=var_guid[name], name=_(name), typeOfVariable="Text")
    for name in source_vars:
        E("Variable", variables, guid=var_guid[name], name=_(name),
          typeOfVariable="Date" if name == "Date" else "Text")
    codebook.addnext(variables)
    if cases:
        cases_el = etree.Element(f"{{{NS}}}Cases")
        for label, c in sorted(cases.items()):
            case = E("Case", cases_el, guid=case_guid[label], name=label)
            E("CodeRef", case, targetGUID=case_guid[label])
            for key, name in case_vars:
                vv = E("VariableValue", case)
                E("VariableRef", vv, targetGUID=var_guid[name])
                E("TextValue", vv).text = c[key]
            for sg in dict.fromkeys(c["sources"]):
                E("SourceRef", case, targetGUID=sg)
        variables.addnext(cases_el)
    xml = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    return xml, files


def _when(s: Session, default: str) -> str:
    """The session's date as a dateTime (the source was made then), else the export time."""
    return f"{s.date}T00:00:00Z" if s.date else default


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Neighbouring lines of one speaker as one selection."""
    out: list[list[int]] = []
    for a, b in spans:
        if out and a <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


class AudioFile(str):
    """A place holder in the files of the zip: the session's audio, written as WAV."""


def _audio(E, sources, s: Session, layout, user_guid: str, created: str, files: dict) -> None:  # noqa: ANN001
    """An AudioSource with the session's audio inside the .qdpx (a WAV, internal://),
    the transcript, and a SyncPoint at every line's start and end (time in ms,
    position in characters)."""
    ag = guid("audio", s.id)
    files[f"sources/{ag}.wav"] = AudioFile(s.id)
    src = E("AudioSource", sources, guid=ag, name=f"{s.stem or s.label}.wav", path=f"internal://{ag}.wav",
            creatingUser=user_guid, creationDateTime=created)
    tg = guid("transcript", s.id)
    tname = f"{tg}.txt"
    files[f"sources/{tname}"] = layout.text
    tr = E("Transcript", src, guid=tg, name=f"{s.label} transcript", plainTextPath=f"internal://{tname}",
           creatingUser=user_guid, creationDateTime=created)
    for seg, (a, b) in zip(s.segments, layout.spans):
        E("SyncPoint", tr, guid=guid("sync", s.id, seg.index, "start"), timeStamp=seg.start_ms, position=a)
        E("SyncPoint", tr, guid=guid("sync", s.id, seg.index, "end"), timeStamp=seg.end_ms, position=b)


def _span(e: Event, spans: list[tuple[int, int]]) -> tuple[int, int] | None:
    if e.segment_index is None or not spans:
        return None
    first = e.segment_index
    last = e.end_segment_index if e.end_segment_index is not None else first
    last = max(first, min(last, len(spans) - 1))
    return spans[first][0], spans[last][1]


def _short(text: str, n: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def write_qdpx(bundle: Bundle, f) -> None:  # noqa: ANN001
    xml, files = build_project(bundle)
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("project.qde", xml)
        for name, text in files.items():
            if isinstance(text, AudioFile):
                _write_audio(bundle, str(text), z, name)
            else:
                z.writestr(name, text.encode("utf-8"))


def _write_audio(bundle: Bundle, session_id: str, z: zipfile.ZipFile, name: str) -> None:
    """The WAV needs a seekable file (its header is written last): a temporary one
    beside nothing, deleted at once."""
    import tempfile

    from fieldkit.export.audio import write_wav

    with tempfile.TemporaryFile() as tmp:
        write_wav(bundle._handle, uuid.UUID(session_id), tmp)   # type: ignore[attr-defined]
        tmp.seek(0)
        with z.open(name, "w", force_zip64=True) as dst:
            while chunk := tmp.read(1 << 20):
                dst.write(chunk)


def plan(bundle: Bundle, out_dir: Path) -> list:
    from fieldkit.export.tables import _slug

    return [(out_dir / f"{_slug(bundle)}.qdpx", lambda f: write_qdpx(bundle, f))]
