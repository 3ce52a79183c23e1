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

import ast
import builtins
import importlib
import os
import sqlite3
import sys
import types
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.support.builders import Built, build_project, export

NS = {"q": "urn:QDA-XML:project:1.0"}
_QT_APP = None


def qualcoder_src() -> Path | None:
    env = os.environ.get("FIELDKIT_QUALCODER_SRC")
    if not env:
        return None
    root = Path(env)
    for cand in (root / "src" / "qualcoder", root / "qualcoder", root):
        if (cand / "refi.py").is_file():
            return cand
    return None


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


def _load_refi(src: Path):  # noqa: ANN202
    """QualCoder's refi module, without its GUI helpers (which need PyMuPDF, Pillow, VLC):
    refi uses only their Message box, answered here."""
    pytest.importorskip("PyQt6.QtWidgets", reason="PyQt6 is not installed (pip install PyQt6)")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if not callable(getattr(builtins, "_", None)):
        builtins._ = lambda s: s   # QualCoder's gettext hook
    for name in [n for n in sys.modules if n == "qualcoder" or n.startswith("qualcoder.")]:
        del sys.modules[name]
    pkg = types.ModuleType("qualcoder")
    pkg.__path__ = [str(src)]
    sys.modules["qualcoder"] = pkg
    helpers = types.ModuleType("qualcoder.helpers")
    shown: list[str] = []

    class Message:  # the message boxes QualCoder shows during an import
        def __init__(self, app, title, text, *a, **k) -> None:  # noqa: ANN001, ANN002, ANN003
            shown.append(f"{title}: {text}")

        def exec(self) -> int:
            return 0

    helpers.Message = Message
    sys.modules["qualcoder.helpers"] = helpers
    refi = importlib.import_module("qualcoder.refi")
    return refi, shown


def _qualcoder_tables(src: Path) -> list[str]:
    """The CREATE TABLE statements of QualCoder's "new project" function, from its source."""
    tree = ast.parse((src / "__main__.py").read_text(encoding="utf-8"))
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef):
            stmts = [n.args[0].value for n in ast.walk(fn)
                     if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "execute" and n.args
                     and isinstance(n.args[0], ast.Constant) and isinstance(n.args[0].value, str)
                     and n.args[0].value.lstrip().upper().startswith("CREATE TABLE")]
            if any(s.split("(")[0].split()[-1] == "project" for s in stmts):
                return stmts
    raise AssertionError(f"no CREATE TABLE project in {src / '__main__.py'}")


def import_with_qualcoder(src: Path, qdpx: Path, tmp_path: Path, monkeypatch):  # noqa: ANN001, ANN201
    """Run QualCoder's RefiImport on ``qdpx`` into a fresh QualCoder project; returns
    (sqlite connection, its app settings, its log lines and message boxes)."""
    refi, shown = _load_refi(src)
    from PyQt6 import QtWidgets

    global _QT_APP
    _QT_APP = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])   # kept alive
    project = tmp_path / f"{qdpx.stem}.qda"
    for sub in ("", "images", "audio", "video", "documents"):
        (project / sub).mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(project / "data.qda")
    for stmt in _qualcoder_tables(src):
        conn.execute(stmt)
    conn.commit()

    class Log:
        def __init__(self) -> None:
            self.lines: list[str] = []

        def append(self, text: str) -> None:
            self.lines.append(str(text))

    settings = {"directory": str(tmp_path), "codername": "default", "ai_enable": "False"}
    app = types.SimpleNamespace(conn=conn, project_path=str(project), ai_models=None, settings=settings,
                                write_config_ini=lambda *a: None)
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(qdpx), "(*.qdpx *.QDPX)")))
    log = Log()
    refi.RefiImport(app, log, "qdpx")
    return conn, settings, log.lines + shown


def arrived_counts(conn: sqlite3.Connection) -> dict[str, int]:
    def one(sql: str) -> int:
        return conn.execute(sql).fetchone()[0]

    return {
        "notes": one("select count(*) from annotation where memo is not null and memo != ''"),
        "journals": one("select count(*) from journal where jentry != ''"),
        "codings": one("select count(*) from code_text"),
        "case codings": one("select count(*) from case_text"),
        "cases": one("select count(*) from cases"),
        "sources": one("select count(*) from source"),
    }


NEEDS_QUALCODER = pytest.mark.skipif(
    qualcoder_src() is None,
    reason="QualCoder is not on PyPI: set FIELDKIT_QUALCODER_SRC to a checkout of "
           "github.com/ccbogel/QualCoder to import the .qdpx with its own importer")


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
