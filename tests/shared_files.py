"""Where the team's shared reference files are (../shared beside the repository: the
QDA-XML schema, ELAN's EAF schema). A worktree sits one folder deeper, so the parent's
parent is looked at too; FIELDKIT_SHARED overrides."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    env = os.environ.get("FIELDKIT_SHARED")
    candidates = [Path(env)] if env else []
    candidates += [REPO.parent / "shared", REPO.parent.parent / "shared"]
    for c in candidates:
        if c.is_dir():
            return c
    return candidates[0]


SHARED = shared_dir()
#: copies of the two schemas kept with the tests (tests/data/schemas/README.md)
SCHEMAS = REPO / "tests" / "data" / "schemas"
REFI_SCHEMA = SHARED / "refi" / "Project-mrt2019.xsd"
EAF_SCHEMA = SHARED / "elan" / "EAFv3.0.xsd"
if not REFI_SCHEMA.is_file():
    REFI_SCHEMA = SCHEMAS / "Project-mrt2019.xsd"
if not EAF_SCHEMA.is_file():
    EAF_SCHEMA = SCHEMAS / "EAFv3.0.xsd"
