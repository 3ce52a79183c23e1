"""The team overview: core figures, `fieldkit status`, and the home screen's team panel."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from tests.support.builders import laptop
from tests.support.cli import fk as run_cli


def _team_project(tmp_path: Path):
    """Laptop B with a project merged from laptop A: two researchers, three sites."""
    from fieldkit.instruments.guides.coverage import set_coverage
    from fieldkit.store.models import (
        CoverageStatus, Informant, Researcher, Session, SessionParticipant, SessionStatus,
    )
    from fieldkit.team.ops import merge_pack
    from fieldkit.team.pack import write_pack
    from tests.support.builders import build_project

    a = laptop(tmp_path, "a")
    with a.create("Nettverk") as h:
        built = build_project(h, extra_sessions=0)
        pid = h.project_id
        with h.db.session() as s:
            from sqlmodel import select

            ing = s.exec(select(Researcher).where(Researcher.initials == "IS")).one()
            tor = s.exec(select(Researcher).where(Researcher.initials == "TB")).one()
            gv_id = s.get(Session, built.sessions[0]).guide_version_id
        with h.db.transaction() as s:
            infs = [Informant(project_id=pid, code=f"N{i}", site="Nord", group_label="local") for i in range(3)]
            s.add_all(infs)
            s.flush()
            done = Session(project_id=pid, title="Nord 1", status=SessionStatus.recorded,
                           lead_id=tor.id, observer_id=ing.id, guide_version_id=gv_id,
                           starts_at=datetime(2026, 5, 1, tzinfo=timezone.utc))
            later = Session(project_id=pid, title="Nord 2", status=SessionStatus.planned, lead_id=tor.id)
            pilot = Session(project_id=pid, title="Pilot", status=SessionStatus.recorded, is_pilot=True,
                            lead_id=tor.id)
            s.add_all([done, later, pilot])
            s.flush()
            s.add(SessionParticipant(session_id=done.id, informant_id=infs[0].id))
            s.add(SessionParticipant(session_id=later.id, informant_id=infs[1].id))
            s.add(SessionParticipant(session_id=pilot.id, informant_id=infs[2].id))
            done_id = done.id
        set_coverage(h.db, done_id, "q-rolle", CoverageStatus.covered, position_ms=1000)
        set_coverage(h.db, done_id, "q-moter", CoverageStatus.partly, position_ms=2000)
        write_pack(h, tmp_path / "n.fkpack")
    b = laptop(tmp_path, "b")
    merge_pack(b, tmp_path / "n.fkpack")
    return a, b


def test_overview_counts(tmp_path):
    from fieldkit.team.status import overview, overview_for

    a, b = _team_project(tmp_path)
    with b.open("Nettverk") as h:
        ov = overview(h)
    assert ov.is_team and ov.peers == 1   # merged from A
    by = {r.initials: r for r in ov.researchers}
    # build_project: 3 planned sessions observed by TB, the first led by IS; then one held
    # by TB (observed by IS), one planned by TB and a pilot (left out)
    assert (by["TB"].led, by["TB"].observed, by["TB"].planned) == (1, 0, 4)
    assert (by["IS"].led, by["IS"].observed, by["IS"].planned) == (0, 1, 1)
    nord = next(s for s in ov.sites if s.site == "Nord")
    assert (nord.registered, nord.interviewed, nord.sessions) == (3, 1, 1)   # planned and pilot not counted
    n_questions = nord.asked
    assert n_questions > 2 and nord.covered == 2
    # the home screen's cheap check: a project that was never shared has no team panel
    assert overview_for(a, "nettverk") is not None    # A packed it: shared ("sent")
    with laptop(tmp_path, "c").create("Solo") as h:
        pass
    assert overview_for(laptop(tmp_path, "c"), "solo") is None


def test_status_command(tmp_path):
    a, b = _team_project(tmp_path)
    r = run_cli(None, "status", "-p", "Nettverk", ok=False, env={**os.environ, "FIELDKIT_HOME": str(b.root)})
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("Nettverk: sessions held 1, planned 4")
    nord = next(line for line in lines if line.startswith("Nord"))
    assert nord.split()[1:5] == ["local", "1", "/", "3"]


async def test_home_screen_team_panel(tmp_path):
    from textual.widgets import OptionList

    from fieldkit.tui.app import FieldkitApp
    from fieldkit.tui.widgets.team_overview import TeamOverview

    a, b = _team_project(tmp_path)
    with b.create("Solo study"):
        pass
    app = FieldkitApp(data_dir=b.root)
    async with app.run_test(size=(110, 40)) as pilot:
        async def settle():
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()

        await settle()
        panel = app.screen.query_one(TeamOverview)
        options = app.screen.query_one("#projects", OptionList)
        assert options.get_option_at_index(options.highlighted).id == "nettverk"
        deadline = 100
        while not panel.display and deadline:
            await settle()
            deadline -= 1
        assert panel.display
        text = str(panel.render())
        assert "Nord" in text and "1 / 3" in text and "TB" in text
        await pilot.press("down")
        await settle()
        assert options.get_option_at_index(options.highlighted).id == "solo-study"
        assert not panel.display


async def test_conflicts_screen_lists_and_settles(tmp_path):
    from textual.widgets import DataTable, Static

    from fieldkit.team.ops import list_conflicts, merge_pack
    from fieldkit.team.pack import write_pack
    from fieldkit.tui.app import FieldkitApp
    from fieldkit.tui.screens.conflicts import ConflictsScreen
    from tests.support.builders import build_project
    from tests.support.builders import edit_segment as _edit
    from tests.support.builders import segment as _segment
    from tests.support.builders import segment_ids as _segment_ids

    a = laptop(tmp_path, "a")
    ha = a.create("Felles")
    build_project(ha, extra_sessions=0)
    write_pack(ha, tmp_path / "1.fkpack")
    b = laptop(tmp_path, "b")
    merge_pack(b, tmp_path / "1.fkpack")
    seg = _segment_ids(ha, 1)[0]
    with b.open("Felles") as hb:
        _edit(hb, seg, "B's version")
    _edit(ha, seg, "A's later version")
    write_pack(ha, tmp_path / "2.fkpack")
    ha.close()
    assert merge_pack(b, tmp_path / "2.fkpack").outcome.conflicts == 1
    with b.open("Felles") as hb:      # the winner is chosen without clocks
        kept = _segment(hb, seg).edited
    other = ({"B's version", "A's later version"} - {kept}).pop()

    app = FieldkitApp(data_dir=b.root)
    async with app.run_test(size=(110, 40)) as pilot:
        async def settle():
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()

        await settle()
        await pilot.press("C")
        await settle()
        assert isinstance(app.screen, ConflictsScreen)
        await settle()
        table = app.screen.query_one("#conflict-table", DataTable)
        assert table.row_count == 1
        assert table.get_row_at(0)[:2] == ["Transcript segment", "the same on every copy"]
        detail = str(app.screen.query_one("#conflict-detail", Static).render())
        assert "A's later version" in detail and "B's version" in detail
        await pilot.press("o")
        await settle()
        await settle()
        assert table.row_count == 0
    with b.open("Felles") as hb:
        assert _segment(hb, seg).edited == other
        assert list_conflicts(hb) == []
