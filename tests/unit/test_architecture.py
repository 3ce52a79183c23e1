"""The layering of fieldkit, checked with import-linter (contracts in pyproject.toml).

* layers: cli > tui > tools > reports (export, team) > sessions > capture (transcription,
  speakers, recording) > people > instruments > projects > privacy > store > the shared
  root (paths, errors, i18n, text: the rule for user text), every top-level module placed; the root holds no other module;
* acyclic: no import cycles between fieldkit's packages and modules, at any depth;
* core-no-textual: only fieldkit.tui imports Textual;
* screens-no-sql: screens and widgets never import sqlmodel, sqlalchemy, sqlite3 or
  fieldkit.store.db (they call core functions).

Each contract is checked on the real package, and once on a copy with a planted
violation of each kind, so a contract that could not fail would be noticed.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
CONTRACTS = [c["id"] for c in tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]]

LINT = ("import sys; from importlinter.cli import lint_imports_command; "
        "sys.argv = ['lint-imports', *sys.argv[1:]]; lint_imports_command()")


def lint(root: Path, *contracts: str) -> subprocess.CompletedProcess:
    args = ["--no-cache", "--no-logo", "--config", str(PYPROJECT)]
    for c in contracts:
        args += ["--contract", c]
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([sys.executable, "-c", LINT, *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def test_contracts_are_the_four_we_mean():
    assert set(CONTRACTS) == {"layers", "acyclic", "core-no-textual", "screens-no-sql"}


@pytest.mark.parametrize("contract", CONTRACTS)
def test_contract_is_kept(contract: str):
    r = lint(ROOT, contract)
    assert r.returncode == 0 and "KEPT" in r.stdout, r.stdout + r.stderr


def test_every_package_is_seen():
    """A folder of modules without __init__.py is invisible to import-linter (and so to
    every contract); only Alembic's migration scripts may be such a folder."""
    missing = [
        str(d.relative_to(ROOT)) for d in sorted((ROOT / "fieldkit").rglob("*"))
        if d.is_dir() and any(d.glob("*.py")) and not (d / "__init__.py").exists()
        and "migrations" not in d.relative_to(ROOT).parts
    ]
    assert not missing, f"add an __init__.py to: {missing}"


PROBES = {
    # a core module importing Textual
    "fieldkit/instruments/guides/probe_textual.py": "import textual\n",
    # a screen running SQL itself
    "fieldkit/tui/screens/probe_sql.py": "def rows(db):\n    from sqlmodel import select\n    return select\n",
    # the store importing a higher layer, even for type checking only
    "fieldkit/store/probe_up.py": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                   "    from fieldkit.privacy.crypto import ProjectKey\n"),
    # a new top-level module placed in no layer
    "fieldkit/probe_unplaced.py": "X = 1\n",
    # a cycle between two modules of one package
    "fieldkit/recording/probe_a.py": "from fieldkit.recording import probe_b\n",
    "fieldkit/recording/probe_b.py": "def f():\n    from fieldkit.recording import probe_a\n",
}


def test_each_contract_catches_a_planted_violation(tmp_path: Path):
    def only_sources(folder: str, names: list[str]) -> list[str]:   # no models, data, caches
        return [n for n in names if n == "__pycache__" or
                (not n.endswith(".py") and not Path(folder, n).is_dir())]

    shutil.copytree(ROOT / "fieldkit", tmp_path / "fieldkit", ignore=only_sources)
    for rel, text in PROBES.items():
        (tmp_path / rel).write_text(text)
    out = {}
    for contract in CONTRACTS:
        r = lint(tmp_path, contract)
        out[contract] = r.stdout + r.stderr
        assert r.returncode != 0 and "BROKEN" in r.stdout, (contract, out[contract])
    assert "fieldkit.instruments.guides.probe_textual -> textual" in out["core-no-textual"]
    assert "fieldkit.tui.screens.probe_sql -> sqlmodel" in out["screens-no-sql"]
    assert "fieldkit.store.probe_up -> fieldkit.privacy.crypto" in out["layers"]
    assert "fieldkit.probe_unplaced" in out["layers"]
    assert ".probe_a" in out["acyclic"] or ".probe_b" in out["acyclic"]


# ------------------------------------------------------------------ no SQL without imports

DB_METHODS = {"session", "transaction", "engine", "exec", "execute"}


def _database_calls(tree: ast.AST) -> list[int]:
    """Lines where a screen reaches into a database: ``x.db.session()``, ``db.transaction()``,
    ``....engine`` or ``s.exec(...)``/``s.execute(...)``. No import is needed for these,
    so import-linter cannot see them."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in DB_METHODS:
            base = node.value
            base_name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
            if base_name == "db" or node.attr in {"exec", "execute"} and base_name in {"s", "session", "conn"}:
                lines.append(node.lineno)
    return lines


def test_screens_open_no_database_session():
    offenders = []
    for path in sorted((ROOT / "fieldkit" / "tui").rglob("*.py")):
        if "screens" not in path.parts and "widgets" not in path.parts:
            continue
        for line in _database_calls(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert not offenders, "screens call core functions instead:\n" + "\n".join(offenders)


def test_the_session_check_finds_one():
    tree = ast.parse("with self.handle.db.session() as s:\n    s.exec(q)\nself.handle.project_id\n")
    assert _database_calls(tree) == [1, 2]


def test_the_root_holds_only_what_every_layer_may_name():
    """Every other module lives in the folder of its layer or domain."""
    root = sorted(p.name for p in (ROOT / "fieldkit").glob("*.py"))
    assert root == ["__init__.py", "__main__.py", "errors.py", "i18n.py", "paths.py", "text.py"]
