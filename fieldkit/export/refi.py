"""REFI-QDA project export (.qdpx) for NVivo, ATLAS.ti, MAXQDA and QualCoder.

The .qdpx is a zip with ``project.qde`` (QDA-XML 1.0) and a ``sources/`` folder holding
one UTF-8 plain text file per transcript (``internal://<guid>.txt``). The project has:

* Users: the researchers, by initials or role label (never names);
* CodeBook: one parent code per tag scheme with its tags, and one per guide with its
  questions (so the text can be retrieved by question);
* Variables and Cases: one case per informant code, with role and organisation, linked
  to the sessions they took part in;
* Sources: a TextSource per transcript; each tag is a PlainTextSelection with a Coding
  on the lines it falls in (a state tag: from the line where it started to the line
  where it stopped); guide coverage marks are coded the same way; notes are Notes with
  a NoteRef on the line they were written at. When pseudonymisation is off and the
  session has an imported audio file, an AudioSource with a Transcript and SyncPoints
  at every line's start.

Offsets: ``startPosition``/``endPosition`` are 0-based character (code point) offsets
into the text file, end exclusive, as QualCoder reads them (``text[start:end]``).
GUIDs are derived from fieldkit's ids (uuid5), so exporting again gives the same GUIDs.
"""

from __future__ import annotations

import uuid
import zipfile
from pathlib import Path

from fieldkit import __version__
from fieldkit.export.model import Bundle, Event, Session, hms
from fieldkit.export.text import metadata_lines, transcript_layout

NS = "urn:QDA-XML:project:1.0"
_GUID_NS = uuid.UUID("6f1c2b0e-55a4-4c1e-9a55-2f6d0f1e7a10")
NOTE_KINDS = ("note", "quote", "debrief", "marker")


def guid(*parts: object) -> str:
    return str(uuid.uuid5(_GUID_NS, "/".join(str(p) for p in parts)))


def _colour(c: str) -> str | None:
    import re

    return c if c and re.fullmatch(r"#([0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})", c) else None


def build_project(bundle: Bundle) -> tuple[bytes, dict[str, str]]:
    """(project.qde bytes, {path in zip: text}) for the bundle."""
    from lxml import etree

    E = lambda tag, parent=None, **attrs: (  # noqa: E731
        etree.SubElement(parent, f"{{{NS}}}{tag}", {k: str(v) for k, v in attrs.items() if v is not None})
        if parent is not None else etree.Element(f"{{{NS}}}{tag}", {k: str(v) for k, v in attrs.items() if v is not None},
                                                 nsmap={None: NS}))
    created = bundle.created
    users: dict[str, str] = {}

    def user(label: str) -> str:
        label = label or "fieldkit"
        if label not in users:
            users[label] = guid("user", label)
        return users[label]

    default_user = user("fieldkit")
    root = E("Project", name=bundle.project or "fieldkit export", origin=f"fieldkit {__version__}",
             creatingUserGUID=default_user, creationDateTime=created)
    users_el = E("Users", root)
    codebook = E("CodeBook", root)
    codes_el = E("Codes", codebook)

    # codebook: tag schemes, then guides' questions
    code_guid: dict[str, str] = {}
    parents: dict[str, object] = {}
    for c in bundle.codes:
        parent = parents.get(c.scheme)
        if parent is None:
            parent = E("Code", codes_el, guid=guid("scheme", c.scheme), name=f"Tags: {c.scheme}",
                       isCodable="false")
            parents[c.scheme] = parent
        g = guid("code", c.id)
        el = E("Code", parent, guid=g, name=c.label or c.code, isCodable="true", color=_colour(c.colour))
        desc = " ".join(x for x in (c.description, f"[{c.code}]", "(a stretch)" if c.mode == "state" else "") if x)
        E("Description", el).text = desc
        code_guid[c.id] = g
    q_guid: dict[str, str] = {}
    if bundle.questions:
        gparent = E("Code", codes_el, guid=guid("guide-questions"), name="Guide questions", isCodable="false")
        themes: dict[str, object] = {}
        for q in bundle.questions:
            t = themes.get(q.theme_id)
            if t is None:
                t = E("Code", gparent, guid=guid("theme", q.theme_id), name=q.theme or q.theme_id,
                      isCodable="true")
                themes[q.theme_id] = t
            g = guid("question", q.id)
            el = E("Code", t, guid=g, name=_short(q.text) or q.id, isCodable="true")
            E("Description", el).text = f"{q.text} [{q.id}]"
            q_guid[q.id] = g
    if not len(codes_el):   # CodeBook needs at least one Code
        E("Code", codes_el, guid=guid("no-codes"), name="fieldkit", isCodable="false")

    # variables and cases: informants by code
    var_role, var_org = guid("var", "role"), guid("var", "organisation")
    cases: dict[str, dict] = {}
    for s in bundle.sessions:
        for p in s.participants:
            c = cases.setdefault(p.speaker, {"role": p.role, "org": p.organisation, "sources": []})
            c["sources"].append(guid("source", s.id))

    sources = E("Sources", root)
    files: dict[str, str] = {}
    notes: list[tuple[str, Event, Session]] = []
    for s in bundle.sessions:
        layout = transcript_layout(s, bundle.layer)
        sg = guid("source", s.id)
        fname = f"{sg}.txt"
        files[f"sources/{fname}"] = layout.text
        src = E("TextSource", sources, guid=sg, name=f"{s.label} {s.title}".strip(),
                plainTextPath=f"internal://{fname}", creatingUser=default_user, creationDateTime=created)
        E("Description", src).text = "\n".join(f"{k}: {v}" for k, v in metadata_lines(bundle, s))
        loose_notes: list[str] = []
        for e in s.events:
            span = _span(e, layout.spans)
            author = user(e.author)
            if e.kind == "tag" and span and e.code in code_guid:
                sel = E("PlainTextSelection", src, guid=guid("sel", e.id), name=f"{e.tag_label or e.code} {hms(e.position_ms)}",
                        startPosition=span[0], endPosition=span[1], creatingUser=author,
                        creationDateTime=e.wall_time or created)
                if e.text:
                    E("Description", sel).text = e.text
                cod = E("Coding", sel, guid=guid("coding", e.id), creatingUser=author,
                        creationDateTime=e.wall_time or created)
                E("CodeRef", cod, targetGUID=code_guid[e.code])
            elif e.kind in ("coverage", "probe", "returned") and span and e.question_id:
                target = q_guid.get(e.question_id)
                if target is None or (e.kind == "coverage" and e.code in ("not_yet", "skipped")):
                    continue
                sel = E("PlainTextSelection", src, guid=guid("sel", e.id), name=f"{e.kind} {hms(e.position_ms)}",
                        startPosition=span[0], endPosition=span[1], creatingUser=author,
                        creationDateTime=e.wall_time or created)
                E("Description", sel).text = e.summary()
                cod = E("Coding", sel, guid=guid("coding", e.id), creatingUser=author,
                        creationDateTime=e.wall_time or created)
                E("CodeRef", cod, targetGUID=target)
            elif e.kind in NOTE_KINDS and (e.text or e.kind == "marker"):
                ng = guid("note", e.id)
                notes.append((ng, e, s))
                if span:
                    sel = E("PlainTextSelection", src, guid=guid("sel", e.id), name=f"{e.kind} {hms(e.position_ms)}",
                            startPosition=span[0], endPosition=span[1], creatingUser=author,
                            creationDateTime=e.wall_time or created)
                    E("NoteRef", sel, targetGUID=ng)
                else:
                    loose_notes.append(ng)
        for ng in loose_notes:
            E("NoteRef", src, targetGUID=ng)
        if s.audio_path:
            _audio(E, sources, s, layout, default_user, created, files)

    if notes:
        notes_el = E("Notes", root)
        for ng, e, s in notes:
            n = E("Note", notes_el, guid=ng, name=f"{e.kind.capitalize()} {hms(e.position_ms)} · {s.label}",
                  creatingUser=user(e.author), creationDateTime=e.wall_time or created)
            E("PlainTextContent", n).text = e.summary()

    # users go first in the document but are known only now
    for label, g in users.items():
        E("User", users_el, guid=g, name=label, id=label)
    if cases:
        variables = etree.Element(f"{{{NS}}}Variables")
        for vg, name in ((var_role, "Role"), (var_org, "Organisation")):
            E("Variable", variables, guid=vg, name=name, typeOfVariable="Text")
        cases_el = etree.Element(f"{{{NS}}}Cases")
        for label, c in sorted(cases.items()):
            case = E("Case", cases_el, guid=guid("case", label), name=label)
            for vg, val in ((var_role, c["role"]), (var_org, c["org"])):
                vv = E("VariableValue", case)
                E("VariableRef", vv, targetGUID=vg)
                E("TextValue", vv).text = val
            for sg in dict.fromkeys(c["sources"]):
                E("SourceRef", case, targetGUID=sg)
        codebook.addnext(variables)
        variables.addnext(cases_el)
    xml = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    return xml, files


def _audio(E, sources, s: Session, layout, user_guid: str, created: str, files: dict) -> None:  # noqa: ANN001
    """An AudioSource pointing at the session's audio file, with the transcript and a
    SyncPoint at every line's start and end (time in ms, position in characters)."""
    ag = guid("audio", s.id)
    path = Path(s.audio_path).resolve().as_uri()
    src = E("AudioSource", sources, guid=ag, name=f"{s.label} audio", path=path,
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
            z.writestr(name, text.encode("utf-8"))


def plan(bundle: Bundle, out_dir: Path) -> list:
    from fieldkit.export.tables import _slug

    return [(out_dir / f"{_slug(bundle)}.qdpx", lambda f: write_qdpx(bundle, f))]
