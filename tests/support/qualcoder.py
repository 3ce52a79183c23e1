"""Shared test helpers."""

from __future__ import annotations

import ast
import builtins
import importlib
import os
import sqlite3
import sys
import types
from pathlib import Path

import pytest

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
