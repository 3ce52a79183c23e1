"""Exports: every format read back by an independent parser and checked for content
(segment count, timings to the ms, notes in the right place, codings on the right
characters) and for names: no registry name anywhere in a pseudonymised export."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.conftest import REPO

from tests.shared_files import EAF_SCHEMA  # noqa: E402
from tests.shared_files import REFI_SCHEMA as SCHEMA  # noqa: E402

# --------------------------------------------------------------------------- the project

GUIDE = {
    "title": "Samarbeid i tjenestene", "language": "no", "informant_types": ["leader", "nurse"],
    "header": ["Dato", "Sted"], "intro": "",
    "themes": [
        {"id": "t-bakgrunn", "title": "Bakgrunn og rolle", "minutes": 10, "open": False, "instructions": [],
         "questions": [
             {"id": "q-rolle", "text": "Kan du fortelle om rollen din?", "instructions": [], "examples": [],
              "only_for": [], "probes": [{"id": "p-lenge", "text": "Hvor lenge har du jobbet der?"}]},
             {"id": "q-team", "text": "Hvem jobber du tettest med?", "instructions": [], "examples": [],
              "only_for": [], "probes": []},
         ]},
        {"id": "t-samarbeid", "title": "Samarbeid på tvers", "minutes": 20, "open": False, "instructions": [],
         "questions": [
             {"id": "q-moter", "text": "Hvordan fungerer samarbeidsmøtene?", "instructions": [],
              "examples": [], "only_for": [], "probes": []},
             {"id": "q-hinder", "text": "Hva står i veien for godt samarbeid?", "instructions": [],
              "examples": [], "only_for": [], "probes": []},
         ]},
    ],
    "retired": [],
}

#: every name in the registry; none may appear in a pseudonymised export
REGISTRY_NAMES = ["Kari", "Nordmann", "Bjørn", "Åsheim", "Ståle", "Ødegård", "Ingrid", "Solberg",
                  "Tor", "Bakken", "Vestby", "Tromsø", "Fjellbygda", "Solstrand"]


@dataclass
class Built:
    handle: object
    sessions: list[uuid.UUID] = field(default_factory=list)
    segments: dict[uuid.UUID, list[tuple[int, int, str]]] = field(default_factory=dict)
    note_id: uuid.UUID | None = None
    point_tag: uuid.UUID | None = None
    state_tag: uuid.UUID | None = None


def build_project(handle, *, extra_sessions: int = 0, segs: int = 150, events: int = 40) -> Built:  # noqa: ANN001
    """A project with three hand-made sessions (and ``extra_sessions`` generated ones)."""
    from fieldkit.store.models import (
        Event, EventKind, Guide, GuideVersion, Informant, Project, Researcher, Session, SessionKind,
        SessionParticipant, TagCode, TagMode, TagScheme, TranscriptSegment,
    )

    pid = handle.project_id
    b = Built(handle)
    with handle.db.transaction() as s:
        project = s.get(Project, pid)
        project.redaction_terms = ["Fjellbygda", "Solstrand sykehjem"]
        s.add(project)
        ing = Researcher(project_id=pid, name="Ingrid Solberg", initials="IS")
        tor = Researcher(project_id=pid, name="Tor Bakken", initials="TB")
        kari = Informant(project_id=pid, code="L01", name="Kari Nordmann", role="leader",
                         organisation="NAV office", site="Vestby")
        bjorn = Informant(project_id=pid, code="L02", name="Bjørn Åsheim", role="nurse", organisation="DPS")
        stale = Informant(project_id=pid, code="L03", name="Ståle Ødegård", role="nurse", organisation="DPS")
        guide = Guide(project_id=pid, slug="samarbeid", title="Samarbeid i tjenestene")
        s.add_all([ing, tor, kari, bjorn, stale, guide])
        s.flush()
        gv = GuideVersion(guide_id=guide.id, number=1, content_hash="x" * 64, source_text="...", outline=GUIDE)
        scheme = TagScheme(project_id=pid, name="Interview")
        s.add_all([gv, scheme])
        s.flush()
        quote = TagCode(scheme_id=scheme.id, code="key_quote", label="Key quote", key="k", colour="#e0a800")
        digr = TagCode(scheme_id=scheme.id, code="digression", label="Digression", key="d",
                       mode=TagMode.state, sort=1)
        s.add_all([quote, digr])
        s.flush()

        # session 1: Kari, individual, segments linked to informant/researcher ids
        s1 = Session(project_id=pid, title="Intervju med Kari Nordmann", kind=SessionKind.individual,
                     place="Vestby rådhus", starts_at=datetime(2026, 3, 4, 9, 0, tzinfo=timezone.utc),
                     guide_version_id=gv.id, tag_scheme_id=scheme.id, lead_id=ing.id, observer_id=tor.id,
                     header={"Sted": "Vestby"})
        s.add(s1)
        s.flush()
        s.add(SessionParticipant(session_id=s1.id, informant_id=kari.id, speaker_label="I1"))
        lines = [
            (1234, 5678, ing, "Velkommen, Kari. Kan du fortelle om rollen din?"),
            (5678, 15001, kari, "Ja, jeg er leder her. Karis kontor ligger i Vestby, ved siden av Bjørn."),
            (15001, 20999, ing, "Hvem jobber du tettest med?"),
            (21000, 33333, kari, "Mest med Bjørn Åsheim og Ståle på DPS i Tromsø. Ingrid vet det."),
            (33333, 40007, ing, "Og hvordan fungerer møtene?"),
            (40007, 55555, kari, "Møtene i Fjellbygda er gode, men Solstrand sykehjem kommer sjelden. Nordmann-saken, husker du."),
            (55555, 61000, ing, "Hva står i veien?"),
            (61000, 70123, kari, "Tid. Og KARI'S kalender er full. Det sa Tor også."),
        ]
        segs1 = []
        for a, e, who, text in lines:
            seg = TranscriptSegment(session_id=s1.id, start_ms=a, end_ms=e, verbatim=text,
                                    edited=text.replace("Ja, ", "") if who is kari else None,
                                    speaker_informant_id=kari.id if who is kari else None,
                                    speaker_researcher_id=ing.id if who is ing else None,
                                    speaker_label="I1" if who is kari else "IS")
            s.add(seg)
            segs1.append((a, e, text))
        b.segments[s1.id] = segs1
        note = Event(session_id=s1.id, kind=EventKind.note, position_ms=25000, created_by=tor.id,
                     text="Kari ser på Ingrid før hun svarer om Ståle")
        tag = Event(session_id=s1.id, kind=EventKind.tag, position_ms=6000, created_by=tor.id,
                    tag_code_id=quote.id, code="key_quote")
        state = Event(session_id=s1.id, kind=EventKind.tag, position_ms=42000, end_ms=62000,
                      created_by=tor.id, tag_code_id=digr.id, code="digression", text="om Fjellbygda")
        s.add_all([note, tag, state])
        for pos, kind, qid, code in [(3000, "coverage", "q-rolle", "covered"),
                                     (4000, "probe", "p-lenge", ""),
                                     (18000, "coverage", "q-team", "covered"),
                                     (36000, "coverage", "q-moter", "partly"),
                                     (58000, "returned", "t-bakgrunn", ""),
                                     (60000, "coverage", "q-hinder", "skipped")]:
            s.add(Event(session_id=s1.id, kind=EventKind(kind), position_ms=pos, question_id=qid,
                        code=code, created_by=ing.id))
        s.add(Event(session_id=s1.id, kind=EventKind.note, position_ms=None, created_by=ing.id,
                    text="Etterpå: Kari ringte fra Solstrand sykehjem"))
        s.add(Event(session_id=s1.id, kind=EventKind.consent, position_ms=0, code="given",
                    informant_id=kari.id, created_by=ing.id))
        b.note_id, b.point_tag, b.state_tag = note.id, tag.id, state.id

        # session 2: focus group; speakers only by speaker_label
        s2 = Session(project_id=pid, title="Fokusgruppe DPS", kind=SessionKind.focus_group, place="Tromsø",
                     starts_at=datetime(2026, 3, 11, 12, 0, tzinfo=timezone.utc), guide_version_id=gv.id,
                     lead_id=tor.id)
        s.add(s2)
        s.flush()
        s.add(SessionParticipant(session_id=s2.id, informant_id=bjorn.id, speaker_label="I1"))
        s.add(SessionParticipant(session_id=s2.id, informant_id=stale.id, speaker_label="I2"))
        segs2 = []
        for n in range(12):
            a, e = 1000 + n * 4321, 1000 + n * 4321 + 4000 + n
            who = ("TB", "I1", "I2")[n % 3]
            text = f"Replikk {n}: Bjørns poeng om Åsheims vakter i Tromsø." if who == "I2" else f"Replikk {n} & <svar>"
            s.add(TranscriptSegment(session_id=s2.id, start_ms=a, end_ms=e, verbatim=text, speaker_label=who))
            segs2.append((a, e, text))
        b.segments[s2.id] = segs2
        s.add(Event(session_id=s2.id, kind=EventKind.coverage, position_ms=2000, question_id="q-moter",
                    code="covered", created_by=tor.id))

        # session 3: notes only, no transcript
        s3 = Session(project_id=pid, title="Observasjon Solstrand sykehjem", kind=SessionKind.notes_only,
                     starts_at=datetime(2026, 3, 12, 8, 0, tzinfo=timezone.utc), observer_id=tor.id)
        s.add(s3)
        s.flush()
        s.add(Event(session_id=s3.id, kind=EventKind.note, position_ms=None, created_by=tor.id,
                    text="Ståle Ødegård leder møtet; Bjørn kommer sent."))
        b.sessions = [s1.id, s2.id, s3.id]
    if extra_sessions:
        b.sessions += generate_sessions(handle, extra_sessions, segs=segs, events=events,
                                        guide_version_id=gv.id, codes=[quote.id, digr.id],
                                        informants=[kari.id, bjorn.id, stale.id], researchers=[ing.id, tor.id])
    return b


WORDS = ("samarbeid møte tid pasient vakt leder kontor uke avtale kommune tjeneste oppfølging "
         "behov plan ansvar melding telefon rutine").split()


def generate_sessions(handle, n: int, *, segs: int, events: int, guide_version_id, codes, informants,  # noqa: ANN001
                      researchers) -> list[uuid.UUID]:
    """``n`` sessions of realistic size, inserted in bulk (for the benchmark)."""
    import random

    from sqlalchemy import insert

    from fieldkit.store.models import Event, Session, SessionParticipant, TranscriptSegment

    rnd = random.Random(7)
    qids = [q["id"] for t in GUIDE["themes"] for q in t["questions"]]
    ids = []
    for chunk in range(0, n, 50):
        sess_rows, part_rows, seg_rows, ev_rows = [], [], [], []
        for k in range(chunk, min(n, chunk + 50)):
            sid = uuid.uuid4()
            ids.append(sid)
            inf = informants[k % len(informants)]
            sess_rows.append(dict(id=sid, project_id=handle.project_id, title=f"Intervju {k}",
                                  kind="individual", status="transcribed", place="Vestby",
                                  starts_at=datetime(2026, 4, 1, tzinfo=timezone.utc),
                                  guide_version_id=guide_version_id, lead_id=researchers[0],
                                  observer_id=researchers[1], header={}, transcription={}))
            part_rows.append(dict(id=uuid.uuid4(), session_id=sid, informant_id=inf, speaker_label="I1"))
            t = 0
            for j in range(segs):
                dur = rnd.randint(2000, 15000)
                text = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(8, 40)))
                if j % 10 == 3:
                    text += " sa Kari Nordmann om Bjørn i Tromsø."
                seg_rows.append(dict(id=uuid.uuid4(), session_id=sid, start_ms=t, end_ms=t + dur,
                                     speaker_label="I1" if j % 2 else "IS",
                                     speaker_informant_id=inf if j % 2 else None,
                                     speaker_researcher_id=None if j % 2 else researchers[0],
                                     verbatim=text, edited=None, words=[]))
                t += dur + rnd.randint(0, 800)
            for j in range(events):
                pos = rnd.randint(0, t)
                kind = ("note", "tag", "tag", "coverage")[j % 4]
                row = dict(id=uuid.uuid4(), session_id=sid, kind=kind, position_ms=pos, end_ms=None,
                           created_by=researchers[1], code="", question_id="", text="",
                           wall_time=datetime(2026, 4, 1, tzinfo=timezone.utc))
                if kind == "note":
                    row["text"] = "Kari ser bort; " + " ".join(rnd.choice(WORDS) for _ in range(10))
                elif kind == "tag":
                    row["tag_code_id"] = codes[j % 2]
                    row["code"] = ("key_quote", "digression")[j % 2]
                    if j % 2:
                        row["end_ms"] = pos + 30000
                else:
                    row["question_id"] = qids[j % len(qids)]
                    row["code"] = "covered"
                ev_rows.append(row)
        with handle.db.transaction() as s:
            now = datetime.now(timezone.utc)
            for table, rows in ((Session, sess_rows), (SessionParticipant, part_rows),
                                (TranscriptSegment, seg_rows), (Event, ev_rows)):
                for r in rows:
                    r.setdefault("created_at", now)
                    r.setdefault("updated_at", now)
                s.execute(insert(table), rows)
    return ids


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def built(workspace) -> Built:  # noqa: ANN001
    handle = workspace.create("Samarbeidsstudien", language="no")
    b = build_project(handle)
    yield b
    handle.close()


def export(b: Built, fmt, tmp_path: Path, **opts):  # noqa: ANN001, ANN201
    from fieldkit.export import run_export
    from fieldkit.export.collect import ExportOptions

    out = tmp_path / f"out-{'-'.join([fmt] if isinstance(fmt, str) else fmt)}-{opts.get('mode', 'code')}"
    return run_export(b.handle, fmt, None, ExportOptions(**opts), out), out


def all_text(out: Path) -> str:
    """Every byte of every file in the export, unzipped (docx, xlsx, qdpx) and decoded."""
    chunks = []
    for p in sorted(out.rglob("*")):
        if not p.is_file():
            continue
        data = p.read_bytes()
        if zipfile.is_zipfile(p):
            with zipfile.ZipFile(p) as z:
                for name in z.namelist():
                    chunks.append(name)
                    chunks.append(z.read(name).decode("utf-8", "replace"))
        else:
            chunks.append(data.decode("utf-8-sig", "replace"))
        chunks.append(p.name)
    return "\n".join(chunks)


def assert_no_names(out: Path) -> None:
    text = all_text(out)
    found = [n for n in REGISTRY_NAMES if re.search(rf"(?<!\w){re.escape(n)}", text, re.IGNORECASE)]
    assert not found, f"registry names in the export: {found}"


def ms(h: int, m: int, s: int, milli: int) -> int:
    return ((h * 60 + m) * 60 + s) * 1000 + milli


# --------------------------------------------------------------------------- formats


def test_docx_title_themes_comments_and_no_names(built: Built, tmp_path: Path) -> None:
    import docx

    res, out = export(built, "docx", tmp_path, line_numbers=True)
    files = sorted(out.glob("*.docx"))
    assert len(files) == 3
    first = next(f for f in files if f.name.startswith("2026-03-04"))
    doc = docx.Document(str(first))
    paras = [p.text for p in doc.paragraphs]
    seg_paras = [t for t in paras if re.match(r"^\[\d\d:\d\d:\d\d\] ", t)]
    assert len(seg_paras) == 8
    assert seg_paras[0].startswith("[00:00:01] IS: Velkommen, L01.")
    assert seg_paras[1].startswith("[00:00:05] L01: ")   # edited layer: "Ja, " removed
    assert "Ja, jeg" not in seg_paras[1] and "L01s kontor ligger i P" in seg_paras[1]
    # theme headings where the talk turned to them, the return marked
    heads = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading 2")]
    assert heads[:3] == ["Bakgrunn og rolle", "Samarbeid på tvers", "Bakgrunn og rolle (back)"]
    # the metadata table: kind, date, participants by code and role, no names
    cells = [c.text for row in doc.tables[0].rows for c in row.cells]
    assert "individual" in cells and "2026-03-04" in cells
    assert any("L01 (leader, NAV office)" in c for c in cells)
    # notes and tags are comments anchored on the segment they fall in
    body = doc.element.body
    comments = {c.comment_id: c.text for c in doc.comments}
    note_id = next(i for i, t in comments.items() if "ser på" in t)
    assert comments[note_id].startswith("[00:00:25] Note (TB): L01 ser på IS før hun svarer om L03")
    anchored = [p for p in body.iter("{*}p") if any(
        el.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}id") == str(note_id)
        for el in p.iter("{*}commentRangeStart"))]
    assert len(anchored) == 1
    assert "".join(t.text or "" for t in anchored[0].iter("{*}t")).startswith("[00:00:21] L01: Mest med L02")
    assert any(t.startswith("[00:00:06] Tag (TB): Key quote") for t in comments.values())
    # line numbering is on; the unpositioned note is listed at the end
    assert body.find(".//{*}lnNumType") is not None
    assert "Notes without a time" in paras
    assert_no_names(out)


def test_docx_a4_language_pages_dates_and_theme_where_it_began(built: Built, tmp_path: Path) -> None:
    """A4, nb-NO proofing for a Norwegian project, page numbers and the session reference,
    the export's own creation date, comments dated when the event was made, and a theme
    heading before the question that opened it even when its key was pressed later."""
    import docx
    from docx.oxml.ns import qn
    from sqlmodel import select

    from fieldkit.store.models import Event

    made = datetime(2026, 3, 4, 9, 0, 25, tzinfo=timezone.utc)
    with built.handle.db.transaction() as s:
        note = s.get(Event, built.note_id)
        note.wall_time = made
        s.add(note)
        # "samarbeidsmøtene" marked covered only while the informant answered (45 s)
        cov = s.exec(select(Event).where(Event.question_id == "q-moter", Event.session_id == built.sessions[0])).one()
        cov.position_ms = 45000
        s.add(cov)
    before = datetime.now(timezone.utc).replace(microsecond=0)
    _res, out = export(built, "docx", tmp_path)
    doc = docx.Document(str(next(out.glob("2026-03-04*.docx"))))
    sec = doc.sections[0]
    assert (round(sec.page_width.mm), round(sec.page_height.mm)) == (210, 297)
    langs = {el.get(qn("w:val")) for el in doc.styles.element.iter(qn("w:lang"))}
    assert langs == {"nb-NO"} and doc.core_properties.language == "nb-NO"
    assert doc.settings.element.find(qn("w:themeFontLang")).get(qn("w:val")) == "nb-NO"
    footer = sec.footer._element
    instr = " ".join(t.text for t in footer.iter(qn("w:instrText")))
    assert "PAGE" in instr and "NUMPAGES" in instr and "Side" in "".join(t.text or "" for t in footer.iter(qn("w:t")))
    header_text = "".join(p.text for p in sec.header.paragraphs)
    assert header_text.startswith("2026-03-04 · ") and "L01" in header_text
    created = doc.core_properties.created.replace(tzinfo=timezone.utc)
    assert created.year == datetime.now(timezone.utc).year and created >= before.replace(second=0)
    note_comment = next(c for c in doc.comments if "ser på" in c.text)
    assert note_comment._comment_elm.get(qn("w:date")).startswith("2026-03-04T09:00:25")
    paras = [(p.style.name, p.text) for p in doc.paragraphs]
    i = paras.index(("Heading 2", "Samarbeid på tvers"))
    assert paras[i + 1][1].startswith("[00:00:33] IS: Og hvordan fungerer møtene?")
    # the same place in the Markdown and the REFI source text
    _res, out_md = export(built, ["md", "qdpx"], tmp_path / "md")
    md = next(out_md.glob("2026-03-04*.md")).read_text(encoding="utf-8")
    assert md.index("## Samarbeid på tvers") < md.index("[00:00:33]") < md.index("[00:00:40]")
    with zipfile.ZipFile(next(out_md.glob("*.qdpx"))) as z:
        src = next(z.read(n).decode() for n in z.namelist() if n.startswith("sources/")
                   and "Og hvordan fungerer" in z.read(n).decode())
    assert src.index("== Samarbeid på tvers ==") < src.index("[00:00:33]")


def test_docx_language_follows_the_project(workspace, tmp_path: Path) -> None:  # noqa: ANN001
    import docx
    from docx.oxml.ns import qn

    from fieldkit.export.docx_writer import word_language

    assert [word_language(x) for x in ("no", "nb", "nn", "en", "en-us", "sv")] == \
        ["nb-NO", "nb-NO", "nn-NO", "en-GB", "en-US", "sv-SE"]
    handle = workspace.create("Nynorskstudien", language="nn")
    b = build_project(handle)
    _res, out = export(b, "docx", tmp_path)
    doc = docx.Document(str(next(out.glob("2026-03-04*.docx"))))
    assert {el.get(qn("w:val")) for el in doc.styles.element.iter(qn("w:lang"))} == {"nn-NO"}


def test_docx_verbatim_layer_and_notes_only_session(built: Built, tmp_path: Path) -> None:
    import docx

    _res, out = export(built, "docx", tmp_path, layer="verbatim")
    first = next(f for f in out.glob("2026-03-04*.docx"))
    texts = [p.text for p in docx.Document(str(first)).paragraphs]
    assert any(t.startswith("[00:00:05] L01: Ja, jeg er leder") for t in texts)
    notes_only = next(f for f in out.glob("2026-03-12*.docx"))
    texts = [p.text for p in docx.Document(str(notes_only)).paragraphs]
    assert "Notes" in texts and any("L03 leder møtet; L02 kommer sent." in t for t in texts)


def test_srt_and_vtt_timings_exact_and_voices(built: Built, tmp_path: Path) -> None:
    import srt
    import webvtt

    _res, out = export(built, ["srt", "vtt"], tmp_path)
    s1 = built.sessions[0].hex[:6]
    subs = list(srt.parse(next(out.glob(f"*{s1}*.srt")).read_text(encoding="utf-8")))
    assert len(subs) == 8
    for sub, (a, e, _t) in zip(subs, built.segments[built.sessions[0]]):
        assert int(sub.start.total_seconds() * 1000 + 0.5) == a
        assert int(sub.end.total_seconds() * 1000 + 0.5) == e
    assert subs[1].content.startswith("L01: Karis" .replace("Karis", "jeg") ) or subs[1].content.startswith("L01: ")
    s2 = built.sessions[1].hex[:6]
    vtt = webvtt.read(str(next(out.glob(f"*{s2}*.vtt"))))
    assert len(vtt.captions) == 12
    for cap, (a, e, _t) in zip(vtt.captions, built.segments[built.sessions[1]]):
        assert cap.start_in_seconds * 1000 == pytest.approx(a, abs=0.5) or _ms(cap.start) == a
        assert _ms(cap.start) == a and _ms(cap.end) == e
    raw = next(out.glob(f"*{s2}*.vtt")).read_text(encoding="utf-8")
    assert "<v TB>Replikk 0 &amp; &lt;svar&gt;" in raw
    assert "<v L03>Replikk 2: L02s poeng om L02s vakter i P" in raw
    assert vtt.captions[0].voice == "TB"
    assert_no_names(out)


def _ms(ts: str) -> int:
    h, m, rest = ts.split(":")
    s, milli = rest.split(".")
    return ms(int(h), int(m), int(s), int(milli))


def test_txt_and_md_have_qualcoder_timestamps(built: Built, tmp_path: Path) -> None:
    _res, out = export(built, ["txt", "md"], tmp_path, mode="role")
    s1 = built.sessions[0].hex[:6]
    txt = next(out.glob(f"*{s1}*.txt")).read_text(encoding="utf-8")
    stamped = re.findall(r"^\[(\d\d):(\d\d):(\d\d)\] ", txt, re.M)
    assert len(stamped) == 8
    assert "[00:00:21] leader, NAV office: Mest med [nurse, DPS] og [nurse, DPS] på DPS i [place]" in txt
    assert "    [00:00:25] {Note (Observer): [leader, NAV office] ser på [researcher]" in txt
    md = next(out.glob(f"*{s1}*.md")).read_text(encoding="utf-8")
    assert "## Bakgrunn og rolle" in md and "[00:00:21] **leader, NAV office:** Mest med" in md
    assert_no_names(out)


def test_csv_and_xlsx_events_and_coverage(built: Built, tmp_path: Path) -> None:
    import datetime as dt

    import openpyxl

    _res, out = export(built, ["csv", "xlsx"], tmp_path)
    # a Norwegian project: ";" (Norwegian Excel's list separator), read back with it
    raw = next(out.glob("*-events.csv")).read_text(encoding="utf-8-sig")
    assert raw.splitlines()[0].startswith("session;session_title;")
    with open(next(out.glob("*-events.csv")), encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    assert len(rows) == 11 + 1 + 1   # session 1 (incl. consent and an untimed note), 2, 3
    note = next(r for r in rows if r["kind"] == "note" and r["time"] == "00:00:25")
    assert note["author"] == "TB" and note["text"].startswith("L01 ser på IS")
    state = next(r for r in rows if r["tag"] == "Interview/digression")
    assert (state["position_ms"], state["end_ms"]) == ("42000", "62000")
    cov = next(r for r in rows if r["kind"] == "coverage" and r["question_id"] == "q-moter"
               and r["session"].startswith("2026-03-04"))
    assert cov["guide_question"] == "Hvordan fungerer samarbeidsmøtene?" and cov["coverage_status"] == "partly"
    assert {r["coverage_status"] for r in rows if r["kind"] == "coverage"} == {"covered", "partly", "skipped"}
    assert cov["guide"] == "Samarbeid i tjenestene"
    with open(next(out.glob("*-coverage.csv")), encoding="utf-8-sig", newline="") as f:
        matrix = list(csv.reader(f, delimiter=";"))
    assert matrix[0][:4] == ["guide", "theme", "question_id", "question"] and len(matrix[0]) == 6
    # column headings: session titles and dates (2 sessions with a guide)
    assert matrix[0][4:] == ["Intervju med L01 (2026-03-04)", "Fokusgruppe DPS (2026-03-11)"]
    by_q = {r[2]: r[4:] for r in matrix[1:]}
    assert by_q["q-rolle"] == ["covered", "not yet"]
    assert by_q["q-moter"] == ["partly", "covered"]
    assert by_q["q-hinder"] == ["skipped", "not yet"]
    with open(next(out.glob("*-tags.csv")), encoding="utf-8-sig", newline="") as f:
        tags = list(csv.reader(f, delimiter=";"))
    assert tags[0][:3] == ["scheme", "tag", "label"] and tags[0][-1] == "total" and len(tags[0]) == 3 + 3 + 1
    by_tag = {r[1]: r[3:] for r in tags[1:]}
    assert by_tag["key_quote"] == ["1", "0", "0", "1"] and by_tag["digression"] == ["1", "0", "0", "1"]

    wb = openpyxl.load_workbook(next(out.glob("*.xlsx")))
    assert wb.sheetnames == ["Events", "Coverage", "Tags x sessions", "Sessions"]
    ev_ws = wb["Events"]
    ev = list(ev_ws.iter_rows(values_only=True))
    assert len(ev) == len(rows) + 1
    assert ev_ws.freeze_panes == "A2" and ev_ws.auto_filter.ref == f"A1:Q{len(ev)}"
    assert ev_ws.column_dimensions["M"].width == 60            # the text column is wide
    head = list(ev[0])
    note_row = next(r for r in ev[1:] if r[head.index("kind")] == "note" and r[head.index("position_ms")] == 25000)
    assert isinstance(note_row[head.index("session_date")], dt.datetime)          # a real date
    assert note_row[head.index("session_date")].date() == dt.date(2026, 3, 4)
    t = note_row[head.index("time")]
    assert isinstance(t, (dt.time, dt.timedelta)) and (t.second if isinstance(t, dt.time) else t.seconds) == 25
    assert isinstance(note_row[head.index("made_at")], dt.datetime)
    assert ev_ws.cell(row=2, column=head.index("session_date") + 1).number_format == "yyyy-mm-dd"
    cov_ws = wb["Coverage"]
    assert cov_ws.freeze_panes == "A2" and cov_ws.auto_filter.ref
    assert [list(r) for r in cov_ws.iter_rows(values_only=True)][1:] == \
        [[c or None for c in r] for r in matrix[1:]]
    assert [list(r) for r in wb["Tags x sessions"].iter_rows(values_only=True)][1:] == \
        [[int(c) if c.isdigit() else c for c in r] for r in tags[1:]]
    assert_no_names(out)


def test_csv_separator_option(built: Built, tmp_path: Path) -> None:
    _res, out = export(built, "csv", tmp_path, csv_separator=",")
    with open(next(out.glob("*-coverage.csv")), encoding="utf-8-sig", newline="") as f:
        assert next(csv.reader(f))[:2] == ["guide", "theme"]


def test_json_has_everything(built: Built, tmp_path: Path) -> None:
    _res, out = export(built, "json", tmp_path, mode="nn")
    data = json.loads(next(out.glob("*.json")).read_text(encoding="utf-8"))
    assert data["schema"] == "fieldkit-export/1" and data["mode"] == "nn"
    s1 = next(s for s in data["sessions"] if s["date"] == "2026-03-04")
    assert len(s1["segments"]) == 8 and s1["segments"][3]["start_ms"] == 21000
    assert s1["segments"][3]["verbatim"].startswith("Mest med NN og NN på DPS i NN")
    assert s1["participants"][0]["speaker"] == "Informant 1"
    assert s1["coverage"]["q-moter"] == "partly"
    assert data["report"]["informant"] > 0 and data["report"]["place"] > 0
    assert_no_names(out)


def _segment_text(seg) -> str:  # noqa: ANN001
    return seg[2]


def test_qdpx_validates_and_codings_hit_the_right_characters(built: Built, tmp_path: Path) -> None:
    from lxml import etree

    res, out = export(built, "qdpx", tmp_path)
    qdpx = next(out.glob("*.qdpx"))
    with zipfile.ZipFile(qdpx) as z:
        names = z.namelist()
        qde = z.read("project.qde")
        texts = {n: z.read(n).decode("utf-8") for n in names if n.startswith("sources/")}
    root = etree.fromstring(qde)
    ns = {"q": "urn:QDA-XML:project:1.0"}
    source_files = {"sources/" + t.get("plainTextPath").removeprefix("internal://")
                    for t in root.iterfind(".//q:TextSource", ns)}
    journal_files = {"sources/" + t.get("plainTextPath").removeprefix("internal://")
                     for t in root.iterfind("q:Notes/q:Note[@plainTextPath]", ns)}
    assert "project.qde" in names and len(source_files) == 3 and all(n.endswith(".txt") for n in texts)
    assert source_files | journal_files == set(texts) and len(journal_files) == 2
    if SCHEMA.is_file():   # test_qdpx_valid_against_schema says so when it is missing
        schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
        assert schema.validate(root), schema.error_log
    codes = {c.get("guid"): c.get("name") for c in root.iterfind(".//q:Code", ns)}
    assert {"Key quote", "Digression", "Tags: Interview", "Guide questions"} <= set(codes.values())
    users = {u.get("name") for u in root.iterfind(".//q:User", ns)}
    assert {"IS", "TB"} <= users
    src = next(t for t in root.iterfind(".//q:TextSource", ns) if t.get("name").startswith("2026-03-04"))
    text = texts["sources/" + src.get("plainTextPath").removeprefix("internal://")]
    lines = [ln for ln in text.splitlines() if ln.startswith("[")]
    assert len(lines) == 8

    def coded(code_name: str) -> list[str]:
        out_ = []
        for sel in src.iterfind("q:PlainTextSelection", ns):
            for ref in sel.iterfind("q:Coding/q:CodeRef", ns):
                if codes[ref.get("targetGUID")] == code_name:
                    out_.append(text[int(sel.get("startPosition")):int(sel.get("endPosition"))])
        return out_

    # point tag at 6.000 s falls in segment 2 (5.678-15.001)
    assert coded("Key quote") == [lines[1]]
    # state tag 42.000-62.000: from segment 6 (40.007) through segment 8 (61.000)
    digression = coded("Digression")
    assert len(digression) == 1 and digression[0].startswith(lines[5]) and digression[0].endswith(lines[7])
    # the note: a selection on segment 4 (21.000-33.333, note at 25.000) without a
    # coding, its text in the Description (QualCoder, MAXQDA) and a NoteRef to a Note
    # with the same text (NVivo, ATLAS.ti)
    notes = {n.get("guid"): n.findtext("q:PlainTextContent", namespaces=ns)
             for n in root.iterfind("q:Notes/q:Note", ns)}
    note_guid = next(g for g, t in notes.items() if t and "ser på" in t)
    sel = next(s for s in src.iterfind("q:PlainTextSelection", ns)
               if s.find("q:NoteRef", ns) is not None and s.find("q:NoteRef", ns).get("targetGUID") == note_guid)
    assert text[int(sel.get("startPosition")):int(sel.get("endPosition"))] == lines[3]
    assert sel.find("q:Coding", ns) is None and sel.findtext("q:Description", namespaces=ns) == notes[note_guid]
    assert "L01 ser på IS før hun svarer om L03" in notes[note_guid]
    # the unpositioned note is a journal: a standalone Note with its text in a file
    journal = next(n for n in root.iterfind("q:Notes/q:Note[@plainTextPath]", ns)
                   if "Etterpå" in texts["sources/" + n.get("plainTextPath").removeprefix("internal://")])
    assert src.find("q:NoteRef", ns) is None and journal.find("q:PlainTextContent", ns) is None
    # cases by informant code with role and organisation
    cases = {c.get("name") for c in root.iterfind(".//q:Case", ns)}
    assert cases == {"L01", "L02", "L03"}
    assert_no_names(out)


@pytest.mark.skipif(not SCHEMA.is_file(), reason=f"QDA-XML 1.0 schema not found at {SCHEMA} "
                    "(shared/refi beside the repo): only the schema validation is skipped")
@pytest.mark.parametrize("mode", ["code", "role", "nn", "off"])
def test_qdpx_valid_against_schema(built: Built, tmp_path: Path, mode: str) -> None:
    from lxml import etree

    _res, out = export(built, "qdpx", tmp_path, mode=mode)
    with zipfile.ZipFile(next(out.glob("*.qdpx"))) as z:
        root = etree.fromstring(z.read("project.qde"))
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    assert schema.validate(root), schema.error_log


def add_audio(built: Built, tmp_path: Path, seconds: float = 71.0) -> Path:
    """A real FLAC recording of session 1 (a tone), stored the way the importer does."""
    import numpy as np
    import soundfile as sf

    from fieldkit.store.models import Recording, RecordingFile

    rel = Path("audio") / built.sessions[0].hex / "rec"
    folder = built.handle.folder / rel
    folder.mkdir(parents=True)
    t = np.arange(int(seconds * 44100)) / 44100
    sf.write(str(folder / "0.flac"), (0.2 * np.sin(2 * np.pi * 440 * t)).astype("float32"), 44100)
    with built.handle.db.transaction() as s:
        rec = Recording(session_id=built.sessions[0], folder=str(rel), sample_rate=44100, state="imported",
                        duration_ms=int(seconds * 1000), original_path=str(rel / "0.flac"))
        s.add(rec)
        s.flush()
        s.add(RecordingFile(recording_id=rec.id, seq=0, path=str(rel / "0.flac"), offset_ms=500,
                            duration_ms=int(seconds * 1000), complete=True))
    return folder / "0.flac"


def test_qdpx_audio_source_with_sync_points(built: Built, tmp_path: Path) -> None:
    """Pseudonymisation off and a recording: the audio inside the .qdpx as a WAV, an
    AudioSource with a Transcript and SyncPoints."""
    import soundfile as sf
    from lxml import etree

    add_audio(built, tmp_path)
    _res, out = export(built, "qdpx", tmp_path, mode="off")
    with zipfile.ZipFile(next(out.glob("*.qdpx"))) as z:
        root = etree.fromstring(z.read("project.qde"))
        ns = {"q": "urn:QDA-XML:project:1.0"}
        audio = root.find(".//q:AudioSource", ns)
        assert audio is not None and audio.get("path").startswith("internal://")
        assert audio.get("name").endswith(".wav")
        info = sf.info(io.BytesIO(z.read("sources/" + audio.get("path").removeprefix("internal://"))))
        tr = audio.find("q:Transcript", ns)
        text = z.read("sources/" + tr.get("plainTextPath").removeprefix("internal://")).decode()
        points = [(int(p.get("timeStamp")), int(p.get("position"))) for p in tr.iterfind("q:SyncPoint", ns)]
    assert info.samplerate == 16000 and abs(info.duration - 71.5) < 0.05   # 0.5 s offset on the clock
    assert len(points) == 16 and points[6] == (21000, text.index("[00:00:21]"))
    if SCHEMA.is_file():
        assert etree.XMLSchema(etree.parse(str(SCHEMA))).validate(root)
    assert "Velkommen, Kari." in text   # off means off
    # pseudonymised: no audio (voices identify)
    _res, out = export(built, "qdpx", tmp_path / "code")
    with zipfile.ZipFile(next(out.glob("*.qdpx"))) as z:
        assert not any(n.endswith(".wav") for n in z.namelist())


def test_eaf_tiers_read_back_with_pympi(built: Built, tmp_path: Path) -> None:
    import pympi

    _res, out = export(built, "eaf", tmp_path)
    s1 = built.sessions[0].hex[:6]
    eaf = pympi.Elan.Eaf(str(next(out.glob(f"*{s1}*.eaf"))))
    tiers = set(eaf.get_tier_names())
    assert tiers == {"IS", "L01", "Tag: Key quote", "Tag: Digression", "Notes: TB", "Guide",
                     "Debrief and notes: IS"}
    spoken = sorted(eaf.get_annotation_data_for_tier("IS") + eaf.get_annotation_data_for_tier("L01"))
    assert [(a, b) for a, b, *_ in spoken] == [(a, e) for a, e, _t in built.segments[built.sessions[0]]]
    note = next(x for x in eaf.get_annotation_data_for_tier("Notes: TB") if "ser på" in x[2])
    assert note[0] == 25000 and 0 < note[1] - note[0] <= 1000            # a point: short, not zero
    quote = eaf.get_annotation_data_for_tier("Tag: Key quote")
    assert [(a, b - a > 0) for a, b, *_ in quote] == [(6000, True)]
    assert [(a, b) for a, b, *_ in eaf.get_annotation_data_for_tier("Tag: Digression")] == [(42000, 62000)]
    guide = eaf.get_annotation_data_for_tier("Guide")
    assert len(guide) == 6 and all(b > a for a, b, *_ in guide)
    untimed = eaf.get_annotation_data_for_tier("Debrief and notes: IS")
    assert len(untimed) == 1 and "Etterpå" in untimed[0][2]
    assert_no_names(out)


def test_eaf_valid_with_audio_beside_it_and_debriefs(built: Built, tmp_path: Path) -> None:
    """EAF 3.0 schema valid; the audio a WAV beside the .eaf, found from the .eaf's own
    folder (relative URL) and by its absolute URL; debriefs in the file."""
    from urllib.parse import unquote, urlparse

    import soundfile as sf
    from lxml import etree

    from fieldkit.store.models import Event, EventKind

    with built.handle.db.transaction() as s:
        s.add(Event(session_id=built.sessions[0], kind=EventKind.debrief, code="impressions",
                    text="Første inntrykk: åpen og trygg.", created_by=None))
    add_audio(built, tmp_path)
    _res, out = export(built, "eaf", tmp_path, mode="off")
    eaf_path = next(out.glob(f"*{built.sessions[0].hex[:6]}*.eaf"))
    root = etree.parse(str(eaf_path))
    if EAF_SCHEMA.is_file():
        schema = etree.XMLSchema(etree.parse(str(EAF_SCHEMA)))
        assert schema.validate(root), schema.error_log
    media = root.find("HEADER/MEDIA_DESCRIPTOR")
    assert media.get("MIME_TYPE") == "audio/x-wav"
    rel = eaf_path.parent / media.get("RELATIVE_MEDIA_URL")
    absolute = Path(unquote(urlparse(media.get("MEDIA_URL")).path))
    assert rel.resolve() == absolute and absolute.is_file() and absolute.parent == eaf_path.parent
    assert sf.info(str(absolute)).samplerate == 16000
    texts = [a.findtext("ANNOTATION_VALUE") for a in root.iter("ALIGNABLE_ANNOTATION")]
    assert any("Første inntrykk" in (t or "") for t in texts)
    slots = {t.get("TIME_SLOT_ID"): int(t.get("TIME_VALUE")) for t in root.iter("TIME_SLOT")}
    for a in root.iter("ALIGNABLE_ANNOTATION"):
        assert slots[a.get("TIME_SLOT_REF2")] > slots[a.get("TIME_SLOT_REF1")]
    # every other session's .eaf is valid too (no audio, no transcript)
    if EAF_SCHEMA.is_file():
        for p in out.glob("*.eaf"):
            assert schema.validate(etree.parse(str(p))), (p.name, schema.error_log)


# --------------------------------------------------------------------------- behaviour


def test_never_overwrites_without_force(built: Built, tmp_path: Path) -> None:
    from fieldkit.export import ExportExists, run_export
    from fieldkit.export.collect import ExportOptions

    out = tmp_path / "o"
    run_export(built.handle, "json", None, ExportOptions(), out)
    target = next(out.glob("*.json"))
    target.write_text("mine")
    with pytest.raises(ExportExists, match="already exists"):
        run_export(built.handle, ["srt", "json"], None, ExportOptions(), out)
    assert target.read_text() == "mine" and not list(out.glob("*.srt"))  # nothing written
    run_export(built.handle, "json", None, ExportOptions(), out, force=True)
    assert target.read_text() != "mine"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]   # no temp files left


def test_atomic_write_leaves_nothing_on_failure(tmp_path: Path) -> None:
    from fieldkit.export.atomic import atomic_write

    def boom(f) -> None:  # noqa: ANN001
        f.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(tmp_path / "x.docx", boom)
    assert list(tmp_path.iterdir()) == []


def test_group_warning_and_report(built: Built, tmp_path: Path) -> None:
    res, _out = export(built, "json", tmp_path)
    b = res.bundle
    assert any("L01" in w and "leader, NAV office" in w for w in b.warnings)
    assert not any("nurse, DPS" in w for w in b.warnings)
    assert b.report["informant"] >= 10 and b.report["researcher"] >= 3 and b.report["redaction"] >= 3
    assert b.report_lines[0].startswith("Pseudonymisation (code): ")


def test_redact_organisations(built: Built, tmp_path: Path) -> None:
    _res, out = export(built, ["txt"], tmp_path, mode="role", redact_organisations=True)
    text = all_text(out)
    assert "NAV office" not in text and "DPS" not in text and "[nurse]" in text


def test_cli_export(built: Built, tmp_path: Path, workspace) -> None:  # noqa: ANN001
    from click.testing import CliRunner

    from fieldkit.cli import cli

    runner = CliRunner()
    out = tmp_path / "cli"
    args = ["--data-dir", str(workspace.root), "export", "-p", "Samarbeidsstudien", "--all",
            "-f", "docx", "-f", "qdpx", "--out", str(out)]
    r = runner.invoke(cli, args)
    assert r.exit_code == 0, r.output
    assert "Pseudonymisation (code):" in r.output and "Exported 3 sessions to 4 files" in r.output
    assert "Warning: Only one informant (L01)" in r.output
    r = runner.invoke(cli, args)
    assert r.exit_code != 0 and "already exist" in str(r.exception or r.output)
    r = runner.invoke(cli, args + ["--force"])
    assert r.exit_code == 0, r.output
    one = runner.invoke(cli, ["--data-dir", str(workspace.root), "export", "-p", "Samarbeidsstudien",
                              "--session", built.sessions[1].hex[:8], "-f", "srt", "--out", str(out)])
    assert one.exit_code == 0 and "Exported 1 session to 1 file" in one.output
    assert_no_names(out)
    neither = runner.invoke(cli, ["--data-dir", str(workspace.root), "export", "-p", "Samarbeidsstudien",
                                  "-f", "srt"])
    assert neither.exit_code != 0


def test_cli_csv_separator_and_audio(built: Built, tmp_path: Path, workspace) -> None:  # noqa: ANN001
    from click.testing import CliRunner

    from fieldkit.cli import cli

    add_audio(built, tmp_path)
    runner = CliRunner()
    base = ["--data-dir", str(workspace.root), "export", "-p", "Samarbeidsstudien", "--all"]
    r = runner.invoke(cli, base + ["-f", "csv", "--csv-separator", "tab", "--out", str(tmp_path / "tab")])
    assert r.exit_code == 0, r.output
    head = next((tmp_path / "tab").glob("*-events.csv")).read_text(encoding="utf-8-sig").splitlines()[0]
    assert head.startswith("session\tsession_title\t")
    r = runner.invoke(cli, base + ["-f", "eaf", "--pseudonymise", "off", "--out", str(tmp_path / "eaf")])
    assert r.exit_code == 0, r.output
    assert len(list((tmp_path / "eaf").glob("*.wav"))) == 1
    r = runner.invoke(cli, base + ["-f", "eaf", "--pseudonymise", "off", "--no-audio", "--out", str(tmp_path / "na")])
    assert r.exit_code == 0 and not list((tmp_path / "na").glob("*.wav"))


def test_cli_main_refuses_overwrite_with_message(built: Built, tmp_path: Path, workspace, capsys) -> None:  # noqa: ANN001
    from fieldkit.cli import main

    out = tmp_path / "m"
    argv = ["--data-dir", str(workspace.root), "export", "-p", "Samarbeidsstudien", "--all", "-f", "json",
            "--out", str(out)]
    main(argv)
    with pytest.raises(SystemExit) as exc:
        main(argv)
    from fieldkit.errors import ExitCode

    assert exc.value.code == ExitCode.EXISTS  # not 5, which means a locked project
    err = capsys.readouterr().err
    assert "already exists; nothing was written" in err and "--force" in err


@pytest.mark.parametrize("mode", ["code", "role", "nn"])
def test_no_registry_name_in_any_format(built: Built, tmp_path: Path, mode: str) -> None:
    from fieldkit.export import FORMATS

    _res, out = export(built, list(FORMATS), tmp_path, mode=mode)
    assert len(list(out.iterdir())) == 3 * 6 + 3 + 1 + 1 + 1   # per-session formats + csv x3, xlsx, json, qdpx
    assert_no_names(out)


def test_off_keeps_names(built: Built, tmp_path: Path) -> None:
    _res, out = export(built, "txt", tmp_path, mode="off")
    assert "Kari Nordmann" in all_text(out)


def test_vtt_voice_with_spaces_in_role_mode(built: Built, tmp_path: Path) -> None:
    import webvtt

    _res, out = export(built, "vtt", tmp_path, mode="role")
    vtt = webvtt.read(str(next(out.glob(f"*{built.sessions[0].hex[:6]}*.vtt"))))
    assert [c.voice for c in vtt.captions[:2]] == ["Interviewer", "leader, NAV office"]


def test_docx_marks_events_inline_without_comment_support(built: Built, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import docx
    import docx.document

    monkeypatch.delattr(docx.document.Document, "add_comment")
    _res, out = export(built, "docx", tmp_path)
    doc = docx.Document(str(next(out.glob(f"*{built.sessions[0].hex[:6]}*.docx"))))
    texts = [p.text for p in doc.paragraphs]
    i = next(n for n, t in enumerate(texts) if t.startswith("[00:00:21] L01: Mest med"))
    assert texts[i + 1].startswith("{[00:00:25] Note (TB): L01 ser på IS")
    assert not list(doc.comments)


def test_sessions_sharing_an_id_start_get_distinct_file_names(workspace, tmp_path: Path) -> None:  # noqa: ANN001
    """A reference is the id's first 6 characters; two sessions sharing them (1 in 130 for
    500 sessions) get longer ones instead of refusing to export."""
    from fieldkit.export import run_export
    from fieldkit.export.collect import ExportOptions
    from fieldkit.store.models import Session

    handle = workspace.create("Prefiks", language="en")
    with handle.db.transaction() as s:
        for tail in ("1" * 26, "2" * 26):
            s.add(Session(id=uuid.UUID("abcdef" + tail), project_id=handle.project_id, title="Same day",
                          starts_at=datetime(2026, 4, 1, tzinfo=timezone.utc)))
    res = run_export(handle, ["txt", "eaf"], None, ExportOptions(), tmp_path / "out")
    names = sorted(p.name for p in res.files)
    assert names == ["2026-04-01_abcdef1.eaf", "2026-04-01_abcdef1.txt", "2026-04-01_abcdef2.eaf",
                     "2026-04-01_abcdef2.txt"]
    assert sorted(x.label for x in res.bundle.sessions) == ["2026-04-01 · abcdef1", "2026-04-01 · abcdef2"]
    handle.close()
