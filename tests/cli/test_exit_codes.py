"""Exit codes: one place (fieldkit.errors.ExitCode), one meaning per number, documented."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from fieldkit.errors import ExitCode

ROOT = Path(__file__).resolve().parents[2]


def test_every_number_means_one_thing():
    values = [int(c) for c in ExitCode]
    # an IntEnum with two names for one value makes the second an alias, not a member
    assert len(ExitCode.__members__) == len(values) == len(set(values))


def test_readme_lists_every_exit_code():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| (\d+) \| (.+?) \|$", section, flags=re.M))
    assert {int(k) for k in rows} == {int(c) for c in ExitCode}
    assert len(set(rows.values())) == len(rows)  # no two codes explained alike


def _literal_exits(tree: ast.AST) -> list[tuple[int, str]]:
    """``exit_code = 5``, ``sys.exit(3)``, ``ctx.exit(130)``: numbers outside ExitCode."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "exit_code" for t in node.targets):
            if isinstance(node.value, ast.Constant):
                found.append((node.lineno, f"exit_code = {node.value.value!r}"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "exit" and node.args \
                and isinstance(node.args[0], ast.Constant) and node.args[0].value not in (None,):
            found.append((node.lineno, f"{ast.unparse(node)}"))
    return found


def test_no_exit_number_outside_the_one_place():
    offenders = []
    for path in sorted((ROOT / "fieldkit").rglob("*.py")):
        if path.name == "errors.py" and path.parent.name == "fieldkit":
            continue
        for line, what in _literal_exits(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert not offenders, "use fieldkit.errors.ExitCode:\n" + "\n".join(offenders)


def test_the_check_finds_a_literal_exit():
    tree = ast.parse("class E(Exception):\n    exit_code = 5\n\nimport sys\nsys.exit(3)\nctx.exit(ExitCode.OK)\n")
    assert [line for line, _ in _literal_exits(tree)] == [2, 5]


def test_error_classes_use_distinct_codes_for_distinct_failures():
    from fieldkit.export import ExportExists
    from fieldkit.privacy.crypto import ProjectLocked, WrongPassphrase
    from fieldkit.recording.importer import RecordingImportError
    from fieldkit.recording.recorder import RecorderError

    assert ExportExists.exit_code == ExitCode.EXISTS
    assert ProjectLocked.exit_code == WrongPassphrase.exit_code == ExitCode.LOCKED
    assert len({ExportExists.exit_code, ProjectLocked.exit_code, RecordingImportError.exit_code,
                RecorderError.exit_code}) == 4
