"""Coverage in a project with two guides whose question ids are the same ("q1"): a
session's coverage is reported under its own guide's questions only, in
``fieldkit coverage`` and in the CSV/XLSX coverage sheet, with session titles and dates
as column headings (two sessions called "Observasjon" stay apart)."""

from __future__ import annotations

import csv
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path
from tests.support.cli import fk as run_cli


def outline(title: str, questions: list[str]) -> dict:
    return {"title": title, "language": "no", "informant_types": [], "header": [], "intro": "",
            "themes": [{"id": "t1", "title": f"Tema i {title}", "minutes": 10, "open": False, "instructions": [],
                        "questions": [{"id": f"q{n}", "text": q, "instructions": [], "examples": [],
                                       "only_for": [], "probes": []} for n, q in enumerate(questions, start=1)]}],
            "retired": []}


def two_guides(handle) -> dict[str, uuid.UUID]:  # noqa: ANN001
    from fieldkit.store.models import Event, EventKind, Guide, GuideVersion, Session, SessionKind

    pid = handle.project_id
    ids = {}
    with handle.db.transaction() as s:
        grp = Guide(project_id=pid, slug="gruppe", title="Gruppeintervju")
        obs = Guide(project_id=pid, slug="observasjon", title="Observasjonsskjema")
        s.add_all([grp, obs])
        s.flush()
        gv = GuideVersion(guide_id=grp.id, number=1, content_hash="g" * 64, source_text="-",
                          outline=outline("Gruppeintervju", ["Hvordan startet nettverket?", "Hva har dere fått til?"]))
        ov = GuideVersion(guide_id=obs.id, number=1, content_hash="o" * 64, source_text="-",
                          outline=outline("Observasjonsskjema", ["Hvem tar ordet først?", "Blir det fattet vedtak?"]))
        s.add_all([gv, ov])
        s.flush()
        for key, title, kind, day, ver in [("g", "Gruppeintervju nettverk A", SessionKind.group, 3, gv),
                                           ("o1", "Observasjon", SessionKind.observation, 4, ov),
                                           ("o2", "Observasjon", SessionKind.observation, 11, ov)]:
            x = Session(project_id=pid, title=title, kind=kind, guide_version_id=ver.id,
                        starts_at=datetime(2026, 5, day, 10, tzinfo=timezone.utc))
            s.add(x)
            s.flush()
            ids[key] = x.id
        # the observation guide's q1 is covered in the first observation only
        s.add(Event(session_id=ids["o1"], kind=EventKind.coverage, position_ms=1000, question_id="q1",
                    code="covered"))
        s.add(Event(session_id=ids["g"], kind=EventKind.coverage, position_ms=1000, question_id="q2",
                    code="partly"))
    ids["grp"], ids["obs"] = grp.id, obs.id
    return ids


def test_matrix_rows_are_keyed_by_guide(workspace) -> None:  # noqa: ANN001
    from fieldkit.instruments.guides.coverage import project_matrix

    handle = workspace.create("Nettverksstudien", language="no")
    ids = two_guides(handle)
    m = project_matrix(handle.db, handle.project_id)
    rows = {(r.guide_title, r.question_id): r for r in m.rows}
    assert len(rows) == 4
    start = rows[("Gruppeintervju", "q1")]          # "Hvordan startet nettverket?"
    assert start.cells[ids["g"]].value == "not_yet"
    assert start.cells[ids["o1"]] is None and start.cells[ids["o2"]] is None
    who = rows[("Observasjonsskjema", "q1")]
    assert who.cells[ids["o1"]].value == "covered" and who.cells[ids["o2"]].value == "not_yet"
    assert who.cells[ids["g"]] is None
    heads = m.headings()
    assert heads[ids["o1"]] == "Observasjon (2026-05-04)" and heads[ids["o2"]] == "Observasjon (2026-05-11)"
    only_obs = m.for_guide(ids["obs"])
    assert [sid for sid, _t in only_obs.sessions] == [ids["o1"], ids["o2"]]
    assert dict(only_obs.gaps()) == {"Hvem tar ordet først?": 1, "Blir det fattet vedtak?": 2}


def test_cli_coverage_one_table_per_guide(workspace) -> None:  # noqa: ANN001
    handle = workspace.create("Nettverksstudien", language="no")
    two_guides(handle)
    env = {**os.environ, "FIELDKIT_HOME": str(handle.folder.parent.parent), "COLUMNS": "220"}
    r = run_cli(None, "coverage", "-p", handle.folder.name, ok=False, env=env)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    grp, obs = out.index("Coverage: Gruppeintervju"), out.index("Coverage: Observasjonsskjema")
    group_table = out[grp:obs] if grp < obs else out[grp:]
    obs_table = out[obs:grp] if obs < grp else out[obs:]
    # the group interview's table has no observation columns and no covered question
    assert "Observasjon (" not in group_table and "✔" not in group_table
    assert "Gruppeintervju nettverk A (2026-05-03)" in group_table and "½" in group_table
    start_line = next(ln for ln in group_table.splitlines() if "Hvordan startet nettverket?" in ln)
    assert "✔" not in start_line
    assert "Observasjon (2026-05-04)" in obs_table and "Observasjon (2026-05-11)" in obs_table
    who_line = next(ln for ln in obs_table.splitlines() if "Hvem tar ordet først?" in ln)
    assert "✔" in who_line


def test_coverage_sheet_keyed_by_guide(workspace, tmp_path: Path) -> None:  # noqa: ANN001
    import openpyxl

    from fieldkit.export import run_export
    from fieldkit.export.collect import ExportOptions

    handle = workspace.create("Nettverksstudien", language="no")
    two_guides(handle)
    out = tmp_path / "out"
    run_export(handle, ["csv", "xlsx"], None, ExportOptions(), out)
    with open(next(out.glob("*-coverage.csv")), encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    head = rows[0]
    assert head[4:] == ["Gruppeintervju nettverk A (2026-05-03)", "Observasjon (2026-05-04)",
                        "Observasjon (2026-05-11)"]
    by = {(r[0], r[2]): r[4:] for r in rows[1:]}
    assert by[("Gruppeintervju", "q1")] == ["not yet", "", ""]
    assert by[("Gruppeintervju", "q2")] == ["partly", "", ""]
    assert by[("Observasjonsskjema", "q1")] == ["", "covered", "not yet"]
    wb = openpyxl.load_workbook(next(out.glob("*.xlsx")), read_only=True)
    sheet = [list(r) for r in wb["Coverage"].iter_rows(values_only=True)]
    assert sheet[0] == head and [[c or "" for c in r] for r in sheet[1:]] == rows[1:]
