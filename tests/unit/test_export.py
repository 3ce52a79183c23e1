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
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.support.builders import (  # noqa: F401 - GUIDE, generate_sessions: for the reader
    GUIDE, REGISTRY_NAMES, Built, add_audio, all_text, build_project, export, generate_sessions,
)
from tests.support.shared_files import EAF_SCHEMA
from tests.support.shared_files import REFI_SCHEMA as SCHEMA
from tests.support.shared_files import missing

# --------------------------------------------------------------------------- the project


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def built(workspace) -> Built:
    handle = workspace.create("Samarbeidsstudien", language="no")
    b = build_project(handle)
    yield b
    handle.close()


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
    # the words around the page numbers are the exporting person's (English here; issue 22),
    # the proofing language the project's
    assert "PAGE" in instr and "NUMPAGES" in instr
    assert "".join(t.text or "" for t in footer.iter(qn("w:t"))) == "Page 1 of 1"
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


def test_docx_language_follows_the_project(workspace, tmp_path: Path) -> None:
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
    assert wb.sheetnames == ["Segments", "Events", "Coverage", "Tags x sessions", "Sessions"]
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


def _segment_text(seg) -> str:
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


@pytest.mark.skipif(not SCHEMA.is_file(), reason=missing(SCHEMA, "the QDA-XML 1.0 schema the .qde is validated against"))
@pytest.mark.parametrize("mode", ["code", "role", "nn", "off"])
def test_qdpx_valid_against_schema(built: Built, tmp_path: Path, mode: str) -> None:
    from lxml import etree

    _res, out = export(built, "qdpx", tmp_path, mode=mode)
    with zipfile.ZipFile(next(out.glob("*.qdpx"))) as z:
        root = etree.fromstring(z.read("project.qde"))
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    assert schema.validate(root), schema.error_log


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
    schema = etree.XMLSchema(etree.parse(str(EAF_SCHEMA)))  # tests/data/schemas/elan
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
    from fieldkit.store.atomic import atomic_write

    def boom(f) -> None:
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


def test_cli_export(built: Built, tmp_path: Path, workspace) -> None:
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


def test_cli_csv_separator_and_audio(built: Built, tmp_path: Path, workspace) -> None:
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


def test_cli_main_refuses_overwrite_with_message(built: Built, tmp_path: Path, workspace, capsys) -> None:
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


def test_an_export_over_several_existing_files_says_so_in_norwegian(built: Built, tmp_path: Path, workspace) -> None:
    """The count of the other files was English glued into the Norwegian sentence
    (" and 3 more")."""
    from tests.support.cli import fk

    out = tmp_path / "m"
    args = ("export", "-p", "Samarbeidsstudien", "--all", "-f", "csv", "--out", str(out))
    fk(workspace.root, *args, lang="nb")
    before = sorted(out.iterdir())
    again = fk(workspace.root, *args, lang="nb", ok=False)
    assert again.returncode != 0 and len(before) > 2
    assert f"og {len(before) - 1} filer til finnes allerede" in again.stderr, again.stderr
    assert " more" not in again.stderr and sorted(out.iterdir()) == before


@pytest.mark.parametrize("mode", ["code", "role", "nn"])
def test_no_registry_name_in_any_format(built: Built, tmp_path: Path, mode: str) -> None:
    from fieldkit.export import FORMATS

    _res, out = export(built, list(FORMATS), tmp_path, mode=mode)
    assert len(list(out.iterdir())) == 3 * 6 + 4 + 1 + 1 + 1   # per-session formats + csv x4, xlsx, json, qdpx
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


def test_sessions_sharing_an_id_start_get_distinct_file_names(workspace, tmp_path: Path) -> None:
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


# --------------------------------------------------------------------------- speaker turns (issue 27)


def _turn_project(workspace):
    """A session whose 9 segments make 4 speaker turns (Whisper cuts sentences across
    segments); a note falls in the middle segment of the second turn."""
    from fieldkit.instruments.events import add_event
    from fieldkit.store.models import Session, TranscriptSegment

    handle = workspace.create("Turns", language="en")
    with handle.db.transaction() as s:
        sess = Session(project_id=handle.project_id, title="Turns")
        s.add(sess)
    plan = [("S1", "How did the meeting"), ("S1", "go last week?"),
            ("S2", "It went well,"), ("S2", "of poisoning the medical man has"), ("S2", "life and"),
            ("S2", "work to do."), ("S1", "Thank you."), ("S2", "You are welcome"), ("S2", "indeed.")]
    with handle.db.transaction() as s:
        for i, (who, text) in enumerate(plan):
            s.add(TranscriptSegment(session_id=sess.id, start_ms=i * 3000, end_ms=i * 3000 + 2500, verbatim=text,
                                    speaker_label=who, edited="Work to do, he said." if i == 5 else None,
                                    words=[{"w": " " + w, "s": i * 3000, "e": i * 3000 + 100, "p": 0.5 + 0.05 * i}
                                           for w in text.split()]))
    add_event(handle.db, sess.id, "note", position_ms=3 * 3000 + 500, text="Pause before answering")
    return handle, plan


def test_reading_exports_have_one_paragraph_per_speaker_turn(workspace, tmp_path: Path) -> None:
    import docx

    from tests.support.cli import fk

    handle, plan = _turn_project(workspace)
    root, slug = handle.folder.parent.parent, handle.folder.name
    handle.close()
    fk(root, "export", "-p", slug, "--all", "-f", "docx", "-f", "md", "-f", "txt", "--out", str(tmp_path / "a"))
    doc = docx.Document(str(next((tmp_path / "a").glob("*.docx"))))
    turns = [p.text for p in doc.paragraphs if re.match(r"^\[\d\d:\d\d:\d\d\] ", p.text)]
    assert turns == ["[00:00:00] S1: How did the meeting go last week?",
                     "[00:00:06] S2: It went well, of poisoning the medical man has life and Work to do, he said.",
                     "[00:00:18] S1: Thank you.",
                     "[00:00:21] S2: You are welcome indeed."]
    # the note is a comment on the words of the segment it falls in, not on the whole turn
    body = doc.element.body.xml
    start = body.index("commentRangeStart")
    end = body.index("commentRangeEnd")
    assert "of poisoning the medical man has" in body[start:end] and "It went well" not in body[start:end]
    txt = next((tmp_path / "a").glob("*.txt")).read_text(encoding="utf-8")
    assert len(re.findall(r"^\[\d\d:\d\d:\d\d\] ", txt, re.M)) == 4
    assert "[00:00:06] S2: It went well, of poisoning the medical man has life and Work to do, he said.\n" \
           "    [00:00:09] {Note: Pause before answering}" in txt
    md = next((tmp_path / "a").glob("*.md")).read_text(encoding="utf-8")
    assert "[00:00:00] **S1:** How did the meeting go last week?\n" in md
    assert len(re.findall(r"^\[\d\d:\d\d:\d\d\] \*\*S\d:\*\*", md, re.M)) == 4
    # asked for: the time of every segment inside the turn
    fk(root, "export", "-p", slug, "--all", "-f", "docx", "-f", "txt", "--turn-times", "--out", str(tmp_path / "b"))
    doc = docx.Document(str(next((tmp_path / "b").glob("*.docx"))))
    turns = [p.text for p in doc.paragraphs if re.match(r"^\[\d\d:\d\d:\d\d\] ", p.text)]
    assert len(turns) == 4
    assert turns[1] == ("[00:00:06] S2: It went well, [00:00:09] of poisoning the medical man has "
                        "[00:00:12] life and [00:00:15] Work to do, he said.")
    txt = next((tmp_path / "b").glob("*.txt")).read_text(encoding="utf-8")
    assert "[00:00:03] go last week?" in txt and len(re.findall(r"^\[", txt, re.M)) == 4


def test_csv_and_xlsx_hold_the_segments(workspace, tmp_path: Path) -> None:
    import datetime as dt

    import openpyxl

    from tests.support.cli import fk

    handle, plan = _turn_project(workspace)
    root, slug = handle.folder.parent.parent, handle.folder.name
    handle.close()
    fk(root, "export", "-p", slug, "--all", "-f", "csv", "-f", "xlsx", "--out", str(tmp_path / "t"))
    with open(next((tmp_path / "t").glob("*-segments.csv")), encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))      # an English project: comma separated
    assert [r["speaker"] for r in rows] == [who for who, _t in plan]
    assert [r["verbatim"] for r in rows] == [t for _w, t in plan]
    assert rows[5]["edited"] == "Work to do, he said." and rows[4]["edited"] == ""
    assert rows[3]["time"] == "00:00:09" and rows[3]["start_ms"] == "9000" and rows[3]["end_ms"] == "11500"
    assert [float(r["confidence"]) for r in rows] == pytest.approx([0.5 + 0.05 * i for i in range(9)])
    wb = openpyxl.load_workbook(next((tmp_path / "t").glob("*.xlsx")))
    ws = wb["Segments"]
    values = list(ws.iter_rows(values_only=True))
    assert list(values[0]) == ["session", "session_title", "time", "start_ms", "end_ms", "speaker", "verbatim",
                               "edited", "confidence"]
    assert len(values) == 1 + len(plan)
    assert values[4][2] == dt.timedelta(seconds=9) and values[4][5] == "S2"
    assert values[6][7] == "Work to do, he said." and values[6][8] == pytest.approx(0.75)
    # in Norwegian, the segments table is Norwegian like the other tables (issue 22's rule):
    # column names and sheet name; the values are the speakers' labels and the words as said
    fk(root, "export", "-p", slug, "--all", "-f", "csv", "-f", "xlsx", "--out", str(tmp_path / "nb"), lang="nb")
    with open(next((tmp_path / "nb").glob("*-segments.csv")), encoding="utf-8-sig", newline="") as f:
        text = f.read()
    sep = ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
    nb_rows = list(csv.DictReader(io.StringIO(text), delimiter=sep))
    assert list(nb_rows[0]) == ["økt", "økt_tittel", "tid", "start_ms", "slutt_ms", "taler", "ordrett",
                                "redigert", "sikkerhet"]
    assert [r["taler"] for r in nb_rows] == [who for who, _t in plan]
    assert nb_rows[5]["redigert"] == "Work to do, he said."
    nb_wb = openpyxl.load_workbook(next((tmp_path / "nb").glob("*.xlsx")))
    assert nb_wb.sheetnames[0] == "Segmenter"
    assert list(next(nb_wb["Segmenter"].iter_rows(values_only=True)))[5:] == ["taler", "ordrett", "redigert",
                                                                              "sikkerhet"]
