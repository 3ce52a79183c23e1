"""Where the reference files the tests read are: first the copies in tests/data (speech
clips under tests/data/speech, the QDA-XML and EAF schemas under tests/data/schemas, each
with the README that says where it comes from and under which licence), else the team's
../shared folder beside the repository (a worktree sits one folder deeper, so the parent's
parent is looked at too). FIELDKIT_SHARED overrides ../shared, FIELDKIT_SPEECH_DIR the
speech folder. :func:`missing` words the skip when a file is nowhere."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"


def shared_dir() -> Path:
    env = os.environ.get("FIELDKIT_SHARED")
    candidates = [Path(env)] if env else []
    candidates += [REPO.parent / "shared", REPO.parent.parent / "shared"]
    for c in candidates:
        if c.is_dir():
            return c
    return candidates[0]


SHARED = shared_dir()


def find(relative: str) -> Path:
    """tests/data/<relative> when the repository has it, else ../shared/<relative> (which may
    not exist: check, or skip with :func:`missing`)."""
    for base in (DATA, DATA / "schemas"):
        if (base / relative).exists():
            return base / relative
    return SHARED / relative


def missing(path: Path, why: str) -> str:
    """A skip reason that names the file and what it is needed for."""
    return (f"{path} is missing ({why}); it is kept in tests/data and in the team's ../shared "
            f"folder beside the repository (FIELDKIT_SHARED names another)")


def speech_dir() -> Path:
    env = os.environ.get("FIELDKIT_SPEECH_DIR")
    return Path(env) if env else find("speech")


REFI_SCHEMA = find("refi/Project-mrt2019.xsd")
EAF_SCHEMA = find("elan/EAFv3.0.xsd")
