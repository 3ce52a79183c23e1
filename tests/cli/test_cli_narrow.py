"""Issue 21: at 80 columns the command line's tables wrap between words, never inside
one (`coverage` questions, `plan --day`, `agreement` labels)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from fieldkit.sessions.plan import guide_of, set_planned_at
from tests.support.cli import fk
from tests.support.screens import SLUG, interview_project, recorded_session, planned_session


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[A-Za-zÆØÅæøå]{4,}", text)}


def _missing(expected: set[str], out: str) -> set[str]:
    """Words of ``expected`` that do not appear whole in ``out`` (split across lines)."""
    return {w for w in expected if not re.search(rf"(?<![A-Za-z]){w}(?![A-Za-z])", out)}


def test_coverage_and_agreement_keep_words_whole_at_80_columns(tmp_path: Path):
    from fieldkit.instruments.guides.coverage import set_coverage

    ws = interview_project(tmp_path / "data")
    sid = recorded_session(ws)
    with ws.open(SLUG) as h:
        guide = guide_of(h, sid)
        questions = [q.text for _t, q in guide.iter_questions()][:2]
    for _n in range(7):   # many sessions: many columns squeeze the question column
        other, _lead, _obs = planned_session(ws)
        with ws.open(SLUG) as h:
            q = [q for _t, q in guide_of(h, other).iter_questions()]
            set_coverage(h.db, other, q[0].id, "covered", position_ms=1000)
    out = fk(tmp_path / "data", "coverage", "-p", SLUG, env={"COLUMNS": "80"}).stdout
    shown = " ".join(q if len(q) <= 50 else q[:40].rsplit(" ", 1)[0] for q in questions)
    assert not _missing(_words(shown), out), out
    assert all(len(line) <= 80 for line in out.splitlines())
    out = fk(tmp_path / "data", "agreement", "-p", SLUG, str(sid), env={"COLUMNS": "80"}).stdout
    assert not _missing({"Digression", "Follow"}, out), out


def test_day_plan_keeps_words_whole_at_80_columns(tmp_path: Path):
    ws = interview_project(tmp_path / "data")
    sid, _lead, _obs = planned_session(ws, informants=("I01", "I02"))
    with ws.open(SLUG) as h:
        set_planned_at(h, sid, datetime(2026, 5, 4, 9, 0, tzinfo=timezone.utc))
    out = fk(tmp_path / "data", "plan", "-p", SLUG, "--day", "2026-05-04", env={"COLUMNS": "80"}).stdout
    assert "Interview A" in out, out
    plan_words = {"individual", "Interview"}
    assert not _missing(plan_words, out), out
    assert all(len(line) <= 80 for line in out.splitlines())


def test_purge_question_takes_j_for_yes_in_norwegian(tmp_path: Path):
    """A confirmation answers j (ja) in Norwegian; n or Enter keeps everything."""
    from fieldkit.people.informants import informant_rows

    ws = interview_project(tmp_path / "data")
    r = fk(tmp_path / "data", "purge", "-p", SLUG, "--informant", "I02", lang="nb", input="n\n", ok=False)
    assert "[j/N]" in r.stdout and r.returncode != 0
    with ws.open(SLUG) as h:
        assert "I02" in [i.code for i in informant_rows(h)]
    fk(tmp_path / "data", "purge", "-p", SLUG, "--informant", "I02", lang="nb", input="j\n")
    with ws.open(SLUG) as h:
        assert "I02" not in [i.code for i in informant_rows(h)]
