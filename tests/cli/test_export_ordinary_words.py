"""Pseudonymisation on the real export path (issue: "I lead the team" became "I AL the team"
for a researcher named Ann Lead): names are matched as names, ordinary words stay. The
project is made with the CLI, the transcript and notes are stored as the review and the
interview store them, `fieldkit export` writes Word, text and REFI-QDA, and each file is
read back with its own parser (python-docx, plain UTF-8, zipfile + lxml)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from tests.support.cli import fk

PROJECT = "Navnestudien"

#: (what was said or written, what the export must say)
LINES = [
    ("I lead the team and Ann Lead leads the unit.", "I lead the team and AL leads the unit."),
    ("Lead's report and Leads rapport came late.", "AL's report and ALs rapport came late."),
    ("Øyvind sa at øyvind ringte til Hansens kontor.", "I01 sa at I01 ringte til I01s kontor."),
    ("Bjørg Nordmann-Berg og Nordmann-Bergs bror gikk i berg og dal.",
     "I02 og I02s bror gikk i berg og dal."),
    ("Det sa Berg selv, og Bjørgs mor var med.", "Det sa I02 selv, og I02s mor var med."),
    ("Kari Lund Strand kom; Lund Strand gikk langs en strand i en lund.",
     "I03 kom; I03 gikk langs en strand i en lund."),
    ("Vi bruker tolk. Bruker du tolk?", "Vi bruker tolk. Bruker du tolk?"),
]
#: what must not be anywhere in an export (the real names, in any form)
NAMES = re.compile(r"Ann Lead|\bLead\b|Lead's|\bLeads\b|Øyvind|øyvind|Hansen|Bjørg|Nordmann|\bBerg\b|"
                   r"\bKari\b|Lund Strand|\bStrand\b|\bLund\b")


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    from fieldkit.projects import Workspace
    from fieldkit.sessions.notes import add_note
    from fieldkit.store.models import Informant, Session, SessionParticipant, TranscriptSegment

    root = tmp_path_factory.mktemp("data")
    fk(root, "project", "new", PROJECT, "--language", "no")
    fk(root, "researcher", "add", "Ann Lead", "--initials", "AL", "-p", PROJECT)
    fk(root, "informant", "add", "I01", "--name", "Øyvind Hansen", "-p", PROJECT)
    fk(root, "informant", "add", "I02", "--name", "Bjørg Nordmann-Berg", "-p", PROJECT)
    fk(root, "informant", "add", "I03", "--name", "Kari Lund Strand", "-p", PROJECT)
    with Workspace(root).open(PROJECT) as h:
        from sqlmodel import select

        with h.db.transaction() as s:
            sess = Session(project_id=h.project_id, title="Intervju 1")
            s.add(sess)
            for inf in s.exec(select(Informant)):
                s.add(SessionParticipant(session_id=sess.id, informant_id=inf.id, speaker_label=inf.code))
            for n, (said, _want) in enumerate(LINES):
                s.add(TranscriptSegment(session_id=sess.id, start_ms=n * 5000, end_ms=n * 5000 + 4000,
                                        speaker_label="I01", verbatim=said))
        add_note(h, sess.id, 2500, "Notat: Ann Lead og Øyvind Hansen; I lead the team.")
    out = tmp_path_factory.mktemp("export")
    r = fk(root, "export", "-p", PROJECT, "--all", "-f", "docx", "-f", "txt", "-f", "qdpx", "--out", str(out))
    assert "Pseudonymisation (code)" in r.stdout, r.stdout
    return out


def _check(text: str, where: str, note: bool = True) -> None:
    flat = " ".join(text.split())
    for _said, want in LINES:
        assert want in flat, f"{where}: {want!r} not in {flat!r}"
    if note:
        assert "AL og I01; I lead the team." in flat, f"{where}: the note"
    left = NAMES.findall(text)
    assert not left, f"{where}: names left: {left}"


def _xml_text(data: bytes, skip_attr=lambda el, name: False) -> str:
    """Every text and attribute value of an XML document (lxml)."""
    from lxml import etree

    root = etree.fromstring(data)
    out = [el.text or "" for el in root.iter() if isinstance(el.tag, str)]
    out += [v for el in root.iter() if isinstance(el.tag, str)
            for k, v in el.attrib.items() if not skip_attr(el, k)]
    return "\n".join(out)


def test_word_export_keeps_words_and_replaces_names(exported: Path):
    import docx

    [path] = exported.glob("*.docx")
    document = docx.Document(str(path))
    body = "\n".join(p.text for p in document.paragraphs)
    body += "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    with zipfile.ZipFile(path) as z:   # the notes are Word comments; and every other part
        notes = _xml_text(z.read("word/comments.xml"))
        parts = "\n".join(_xml_text(z.read(n)) for n in z.namelist() if n.endswith(".xml"))
    _check(body + "\n" + notes, "Word")
    assert not NAMES.findall(parts), NAMES.findall(parts)


def test_text_export_keeps_words_and_replaces_names(exported: Path):
    [path] = exported.glob("*.txt")
    _check(path.read_bytes().decode("utf-8"), "text")


def test_refi_qda_export_keeps_words_and_replaces_names(exported: Path):
    [path] = exported.glob("*.qdpx")
    with zipfile.ZipFile(path) as z:
        sources = [z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("sources/") and n.endswith(".txt")]
        # a variable's name ("Lead": who led the session) is the schema's, not a person
        project = _xml_text(z.read("project.qde"),
                            lambda el, k: k == "name" and el.tag.endswith("}Variable"))
    transcript = next(t for t in sources if "I lead the team" in t)
    _check(transcript, "REFI-QDA source", note=False)
    assert "AL og I01; I lead the team." in " ".join(project.split())   # the note, in the project
    left = NAMES.findall("\n".join(sources) + "\n" + project)
    assert not left, left
