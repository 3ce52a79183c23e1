"""The test suite's shape: every test module sits in the folder of its kind, no test module
imports another (shared helpers live in tests/support, fixtures in conftest), and every
snapshot folder sits beside the test module it belongs to."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
KINDS = {"unit", "cli", "tui", "audio", "team", "journeys"}


def imported_test_modules(source: str) -> list[str]:
    """The modules of the test suite that ``source`` imports, other than tests.support.* and
    conftest (dotted names; a relative import with its dots)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                found.append("." * node.level + (node.module or ""))
                continue
            modules = [f"tests.{a.name}" for a in node.names] if node.module == "tests" else [node.module or ""]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            if parts[0] == "tests" and len(parts) > 1 and parts[1] not in ("support", "conftest"):
                found.append(module)
    return found


def test_the_rule_catches_an_import_of_another_test_module():
    assert imported_test_modules("from tests.tui.test_tui_home import SLUG") == ["tests.tui.test_tui_home"]
    assert imported_test_modules("import tests.unit.test_export") == ["tests.unit.test_export"]
    assert imported_test_modules("from tests import test_export") == ["tests.test_export"]
    assert imported_test_modules("from .test_export import build_project") == [".test_export"]
    assert imported_test_modules("def f():\n    from tests.unit.test_pack import laptop\n") == ["tests.unit.test_pack"]
    assert imported_test_modules("from tests.support.cli import fk\nfrom tests.conftest import REPO\n"
                                 "from tests.support import audio_env\nimport tests.support.wait") == []


def test_no_test_module_imports_another():
    offenders = {}
    for path in sorted(TESTS.rglob("*.py")):
        if "bench" in path.relative_to(TESTS).parts[:1]:
            continue   # benchmark scripts may reuse the builders (they import tests.support too)
        bad = imported_test_modules(path.read_text(encoding="utf-8"))
        if bad:
            offenders[str(path.relative_to(TESTS))] = bad
    assert not offenders, f"move what they share to tests/support: {offenders}"


def test_every_test_module_sits_in_the_folder_of_its_kind():
    loose = [p.name for p in TESTS.glob("test_*.py")]
    assert not loose, f"test modules directly under tests/ (put them in one of {sorted(KINDS)}): {loose}"
    folders = {p.parent.relative_to(TESTS).parts[0] for p in TESTS.rglob("test_*.py")}
    assert folders <= KINDS | {"bench"}, folders - KINDS


def test_snapshots_sit_beside_their_test_module():
    """pytest-textual-snapshot (syrupy) keys a snapshot by the test module's folder and name:
    a snapshot folder without its module beside it is never read again."""
    orphans = [str(d.relative_to(TESTS)) for snaps in TESTS.rglob("__snapshots__") for d in snaps.iterdir()
               if d.is_dir() and not (snaps.parent / f"{d.name}.py").is_file()]
    assert not orphans, orphans
