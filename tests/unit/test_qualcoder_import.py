"""The .qdpx as QualCoder reads it: QualCoder's own REFI-QDA importer, run headless.

QualCoder is not on PyPI, so this runs only where FIELDKIT_QUALCODER_SRC points at a
QualCoder checkout (the folder holding ``src/qualcoder/refi.py``) and PyQt6 is
installed; elsewhere it is skipped with the reason. Its importer's dialogs (the file
chooser and the message boxes) are answered by the test; everything it stores goes
into a real QualCoder database made with QualCoder's own CREATE TABLE statements.

The same rules are also checked without QualCoder, on every run, by reading the
project.qde back with lxml (``test_qdpx_follows_qualcoders_rules``).
"""

from __future__ import annotations

import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.support.builders import Built, build_project, export
from tests.support.qualcoder import qualcoder_src, import_with_qualcoder, arrived_counts, NEEDS_QUALCODER

NS = {"q": "urn:QDA-XML:project:1.0"}




def add_debriefs(b: Built) -> None:
    """Debriefs from both researchers, and two by the same one (names must stay unique)."""
    from sqlmodel import select

    from fieldkit.store.models import Event, EventKind, Researcher

    with b.handle.db.transaction() as s:
        res = {r.initials: r.id for r in s.exec(select(Researcher))}
        for k, (who, text) in enumerate([("IS", "Første inntrykk: Kari var åpen om samarbeidet."),
                                         ("TB", "Hun nølte ved spørsmålet om Bjørn."),
                                         ("TB", "Etter transkripsjonen: inntrykket holder ikke helt.")]):
            s.add(Event(session_id=b.sessions[0], kind=EventKind.debrief, position_ms=None, created_by=res[who],
                        code="impressions", text=text,
                        wall_time=datetime(2026, 3, 4, 11, k, tzinfo=timezone.utc)))
        s.add(Event(session_id=b.sessions[1], kind=EventKind.debrief, position_ms=None, created_by=res["TB"],
                    code="impressions", text="Gruppen snakket i munnen på hverandre."))


def sent_counts(qdpx: Path) -> dict[str, int]:
    """What the .qdpx carries, read with lxml: notes on the text, journals, codings, cases."""
    from lxml import etree

    with zipfile.ZipFile(qdpx) as z:
        root = etree.fromstring(z.read("project.qde"))
    case_guids = {c.get("guid") for c in root.iterfind(".//q:Case", NS)}
    sels = list(root.iterfind(".//q:TextSource/q:PlainTextSelection", NS))
    codings = [c for sel in sels for c in sel.iterfind("q:Coding", NS)
               if c.find("q:CodeRef", NS).get("targetGUID") not in case_guids]
    case_codings = [c for sel in sels for c in sel.iterfind("q:Coding", NS)
                    if c.find("q:CodeRef", NS).get("targetGUID") in case_guids]
    return {
        "notes": sum(1 for sel in sels if sel.find("q:Coding", NS) is None),
        "journals": len(root.findall("q:Notes/q:Note[@plainTextPath]", NS)),
        "codings": len(codings),
        "case codings": len(case_codings),
        "cases": len(case_guids),
        "sources": len(root.findall(".//q:TextSource", NS)),
    }


def test_qdpx_follows_qualcoders_rules(workspace, tmp_path: Path) -> None:  # noqa: ANN001
    """QualCoder's rules, checked with lxml: every timed note's text in the Description of
    a selection without coding, every debrief a standalone Note with its text in a file,
    unique note names, a researcher as the first User, cases coded by their own code."""
    from lxml import etree

    handle = workspace.create("Samarbeidsstudien", language="no")
    b = build_project(handle)
    add_debriefs(b)
    _res, out = export(b, "qdpx", tmp_path)
    qdpx = next(out.glob("*.qdpx"))
    with zipfile.ZipFile(qdpx) as z:
        root = etree.fromstring(z.read("project.qde"))
        files = {n: z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("sources/")}
    users = root.findall("q:Users/q:User", NS)
    assert users[0].get("name") in {"IS", "TB"}        # the coder QualCoder will use
    assert "fieldkit" not in [u.get("name") for u in users[:1]]
    notes = root.findall("q:Notes/q:Note", NS)
    names = [n.get("name") for n in notes]
    assert len(names) == len(set(names))
    journals = [n for n in notes if n.get("plainTextPath")]
    texts = [files["sources/" + n.get("plainTextPath").removeprefix("internal://")] for n in journals]
    for t in ("Første inntrykk", "Hun nølte", "inntrykket holder ikke", "snakket i munnen", "Etterpå"):
        assert sum(t in x for x in texts) == 1, t
    annotated = [sel.findtext("q:Description", namespaces=NS)
                 for sel in root.iterfind(".//q:TextSource/q:PlainTextSelection", NS)
                 if sel.find("q:Coding", NS) is None]
    assert any("ser på" in (a or "") for a in annotated) and all(annotated)
    counts = sent_counts(qdpx)
    assert counts["cases"] == 3 and counts["case codings"] >= 3 and counts["journals"] == 6
    # session attributes and sets
    var_list = [v.get("name") for v in root.iterfind("q:Variables/q:Variable", NS)]
    assert len(var_list) == len(set(var_list))                # QualCoder refuses a name twice
    assert {"Date", "Kind", "Lead", "Observer", "Guide version", "Role", "Organisation", "Site"} <= set(var_list)
    sets = {s.get("name") for s in root.iterfind("q:Sets/q:Set", NS)}
    assert {"Kind: individual", "Kind: focus group", "Kind: notes only"} <= sets


# --------------------------------------------------------------------------- QualCoder itself












@pytest.mark.slow
@NEEDS_QUALCODER
def test_qualcoder_imports_everything(workspace, tmp_path: Path, monkeypatch, capsys) -> None:  # noqa: ANN001
    src = qualcoder_src()
    handle = workspace.create("Samarbeidsstudien", language="no")
    b = build_project(handle)
    add_debriefs(b)
    _res, out = export(b, "qdpx", tmp_path)
    qdpx = next(out.glob("*.qdpx"))
    sent = sent_counts(qdpx)
    conn, settings, log = import_with_qualcoder(src, qdpx, tmp_path, monkeypatch)
    arrived = arrived_counts(conn)
    with capsys.disabled():
        print(f"\nQualCoder ({src}), test project: sent {sent}\n{' ' * 35}arrived {arrived}")
    assert arrived == sent, "\n".join(log)
    assert not [m for m in log if "error" in m.lower()], log
    memos = [r[0] for r in conn.execute("select memo from annotation")]
    assert any("ser på" in m for m in memos)
    journals = [r[0] for r in conn.execute("select jentry from journal")]
    assert any("Første inntrykk" in j for j in journals) and any("snakket i munnen" in j for j in journals)
    assert settings["codername"] in {"IS", "TB"}         # a researcher, not "fieldkit"
    cases = {r[0] for r in conn.execute("select name from cases")}
    assert cases == {"L01", "L02", "L03"}
    linked = {r[0] for r in conn.execute("select cases.name from case_text join cases using (caseid)")}
    assert linked == cases                                 # every case has its sources
    attrs = {r[0] for r in conn.execute("select name from attribute where attr_type = 'file'")}
    assert {"Date", "Kind", "Lead", "Guide version"} <= attrs


@pytest.mark.slow
@NEEDS_QUALCODER
def test_qualcoder_imports_the_demo(tmp_path: Path, monkeypatch, capsys) -> None:  # noqa: ANN001
    """The demo project (two researchers, debriefs, notes, tags, a focus group) whole."""
    from fieldkit.tools.demo import create_demo
    from fieldkit.export import run_export
    from fieldkit.export.collect import ExportOptions
    from fieldkit.projects import Workspace

    src = qualcoder_src()
    ws = Workspace(tmp_path / "data").ensure()
    folder = create_demo(ws)
    handle = ws.open(folder)
    try:
        res = run_export(handle, "qdpx", None, ExportOptions(), tmp_path / "demo-out")
    finally:
        handle.close()
    qdpx = next(p for p in res.files if p.suffix == ".qdpx")
    sent = sent_counts(qdpx)
    conn, settings, log = import_with_qualcoder(src, qdpx, tmp_path, monkeypatch)
    arrived = arrived_counts(conn)
    with capsys.disabled():
        print(f"\nQualCoder ({src}), demo project: sent {sent}\n{' ' * 35}arrived {arrived}")
    assert sent["journals"] > 0 and sent["notes"] > 0 and sent["codings"] > 0 and sent["cases"] > 0
    assert arrived == sent, "\n".join(log)
    assert not [m for m in log if "error" in m.lower()], log
    assert settings["codername"] != "fieldkit"


@pytest.mark.slow
@NEEDS_QUALCODER
def test_qualcoder_imports_the_audio_with_its_transcript(workspace, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """Pseudonymisation off: the WAV inside the .qdpx arrives as QualCoder's audio file,
    with the transcript as its text."""
    from tests.support.builders import add_audio

    handle = workspace.create("Samarbeidsstudien", language="no")
    b = build_project(handle)
    add_audio(b, tmp_path)
    _res, out = export(b, "qdpx", tmp_path, mode="off")
    qdpx = next(out.glob("*.qdpx"))
    conn, _settings, log = import_with_qualcoder(qualcoder_src(), qdpx, tmp_path, monkeypatch)
    assert not [m for m in log if "error" in m.lower()], log
    rows = conn.execute("select name, mediapath, fulltext from source").fetchall()
    audio = [r for r in rows if (r[1] or "").startswith("/audio/")]
    assert len(audio) == 1 and (tmp_path / f"{qdpx.stem}.qda" / "audio" / audio[0][0]).stat().st_size > 1_000_000
    transcript = next(r for r in rows if r[0] == audio[0][0] + ".txt")
    assert "[00:00:21]" in transcript[2] and "Velkommen, Kari." in transcript[2]
