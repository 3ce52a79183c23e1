"""The app shell through Textual's Pilot: home screen, help, command palette."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
import time
from pathlib import Path

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import DataTable, OptionList, Static

from fieldkit.projects import Workspace
from fieldkit.store.models import Session, SessionKind, SessionStatus
from fieldkit.tui.app import FieldkitApp
from tests.support.wait import still
from tests.support.wait import until as _until


def _workspace(root: Path) -> Workspace:
    ws = Workspace(root).ensure()
    with ws.create("Alpha study", sikt_reference="111111",
                   deletion_deadline=date.today() + timedelta(days=12)) as h:
        with h.db.transaction() as s:
            for i, (kind, status) in enumerate([(SessionKind.individual, SessionStatus.transcribed),
                                                (SessionKind.focus_group, SessionStatus.planned)]):
                s.add(Session(project_id=h.project_id, title=f"Alpha {i + 1}", kind=kind,
                              status=status, is_pilot=(i == 0),
                              starts_at=datetime(2026, 3, 1 + i, 9, 30, tzinfo=timezone.utc)))
    with ws.create("Beta study", deletion_deadline=date.today() + timedelta(days=400)) as h:
        with h.db.transaction() as s:
            s.add(Session(project_id=h.project_id, title="Beta meeting",
                          kind=SessionKind.observation,
                          starts_at=datetime(2026, 4, 2, 13, 0, tzinfo=timezone.utc)))
    return ws


async def _loaded(app: FieldkitApp, pilot) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_home_lists_projects_and_sessions(tmp_path: Path):
    _workspace(tmp_path / "data")
    app = FieldkitApp(data_dir=tmp_path / "data")
    async with app.run_test(size=(100, 30)) as pilot:
        await _loaded(app, pilot)
        options = app.screen.query_one("#projects", OptionList)
        assert [options.get_option_at_index(i).id for i in range(options.option_count)] == [
            "alpha-study", "beta-study"]
        table = app.screen.query_one("#sessions", DataTable)
        assert table.row_count == 2
        assert table.get_row_at(0) == ["Alpha 1", "transcribed", "2026-03-01 09:30", "individual · pilot"]
        info = str(app.screen.query_one("#project-info", Static).render())
        assert "Deletion deadline in 12 days" in info and "111111" in info
        await pilot.press("down")
        await _until(pilot, lambda: table.row_count == 1 and table.get_row_at(0)[3] == "observation", "table.row_count == 1 and table.get_row_at(0)[3] == 'obser...")
        assert "Deletion deadline" not in str(app.screen.query_one("#project-info", Static).render())


async def test_help_screen_opens_and_closes(tmp_path: Path):
    _workspace(tmp_path / "data")
    app = FieldkitApp(data_dir=tmp_path / "data")
    async with app.run_test() as pilot:
        await _loaded(app, pilot)
        await pilot.press("question_mark")
        await _until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", "type(app.screen).__name__ == 'HelpScreen'")
        await pilot.press("escape")
        await _until(pilot, lambda: type(app.screen).__name__ == "HomeScreen", "type(app.screen).__name__ == 'HomeScreen'")


async def test_command_palette_opens_project(tmp_path: Path):
    _workspace(tmp_path / "data")
    app = FieldkitApp(data_dir=tmp_path / "data")
    async with app.run_test(size=(100, 30)) as pilot:
        await _loaded(app, pilot)
        await pilot.press("ctrl+p")
        await _until(pilot, lambda: isinstance(app.screen, CommandPalette), "the command palette")
        await pilot.press(*"open project beta")
        results = app.screen.query_one(CommandList)

        def beta_found() -> bool:
            return results.option_count > 0 and results.highlighted is not None and \
                "Open project: Beta study" in str(results.get_option_at_index(results.highlighted).prompt)

        await _until(pilot, beta_found, "the command 'Open project: Beta study' to be found")
        await pilot.press("enter")
        await _until(pilot, lambda: getattr(app.screen, "current", None) == "beta-study"
                     and app.screen.query_one("#sessions", DataTable).row_count == 1,
                     "the Beta study's sessions")


async def test_initial_project_option(tmp_path: Path):
    _workspace(tmp_path / "data")
    app = FieldkitApp(data_dir=tmp_path / "data", project="beta-study")
    async with app.run_test() as pilot:
        await _loaded(app, pilot)
        assert app.screen.current == "beta-study"


async def test_damaged_project_is_reported_and_others_still_shown(tmp_path: Path):
    ws = _workspace(tmp_path / "data")
    (ws.projects_dir / "beta-study" / "project.db").write_bytes(b"broken" * 100)
    app = FieldkitApp(data_dir=tmp_path / "data")
    async with app.run_test() as pilot:
        await _loaded(app, pilot)
        assert app.screen.query_one("#projects", OptionList).option_count == 1
        status = str(app.screen.query_one("#status", Static).render())
        assert "beta-study" in status and "damaged" in status


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_home_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snap_compare, size):
    """Help and Quit in the footer; Session, Status and When visible even at 80x24."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()   # times are shown in local time
    ws = Workspace(tmp_path / "data").ensure()
    with ws.create("Alpha study", sikt_reference="111111", deletion_deadline=date(2099, 1, 1)) as h:
        with h.db.transaction() as s:
            s.add(Session(project_id=h.project_id, title="Leader interview 1",
                          status=SessionStatus.recorded,
                          starts_at=datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)))
            s.add(Session(project_id=h.project_id, title="Group interview with the network leaders, Vestby",
                          kind=SessionKind.focus_group, status=SessionStatus.planned,
                          planned_at=datetime(2026, 3, 9, 10, 0, tzinfo=timezone.utc)))

    async def settle(pilot) -> None:
        await _loaded(pilot.app, pilot)
        await still(pilot)

    assert snap_compare(FieldkitApp(data_dir=tmp_path / "data"), terminal_size=size,
                        run_before=settle)


async def test_locked_project_shows_nothing_until_unlocked(tmp_path: Path):
    ws = _workspace(tmp_path / "data")
    with ws.create("Gamma secret", passphrase="rett passfrase") as h:
        with h.db.transaction() as s:
            s.add(Session(project_id=h.project_id, title="Hidden session title"))
    app = FieldkitApp(data_dir=tmp_path / "data")
    async with app.run_test(size=(100, 30)) as pilot:
        await _loaded(app, pilot)
        home = app.screen
        home.select_project("gamma-secret")
        await pilot.pause()
        table = home.query_one("#sessions", DataTable)
        assert table.row_count == 0
        assert "locked" in str(home.query_one("#project-info", Static).render())
        await pilot.press("u")
        await _until(pilot, lambda: type(app.screen).__name__ == "UnlockScreen", "type(app.screen).__name__ == 'UnlockScreen'")
        await pilot.press(*"feil", "enter")
        await _until(pilot, lambda: "Wrong passphrase" in str(app.screen.query_one("#unlock-error").render()), "'Wrong passphrase' in str(app.screen.query_one('#unlock-e...")
        await pilot.press(*"rett passfrase", "enter")
        # not app.workers.wait_for_complete(): the unlock worker ends cancelled when its screen
        # closes on success, which that wait reports as a failure
        await _until(pilot, lambda: app.screen is home, "app.screen is home")
        home.select_project("gamma-secret")
        await _until(pilot, lambda: table.row_count == 1 and table.get_row_at(0)[0] == "Hidden session title", "table.row_count == 1 and table.get_row_at(0)[0] == 'Hidde...")


def test_quick_overview_reads_what_the_full_path_reads(tmp_path: Path):
    """The first screen reads with sqlite3 alone; it must show exactly what the SQLModel
    path shows, and step aside whenever that path has work to do."""
    import sqlite3

    from sqlmodel import select

    from fieldkit.store.models import Recording, RecordingState
    from fieldkit.sessions.overview import load_overview, quick_overview

    ws = _workspace(tmp_path / "data")
    full = load_overview(ws)
    quick = quick_overview(ws)
    assert quick == full and len(full[0]) == 2 and full[0][0].sessions[0].when == "2026-03-01 09:30"

    assert quick_overview(Workspace(tmp_path / "empty").ensure()) is None   # first run: the demo
    db = tmp_path / "data" / "projects" / "beta-study" / "project.db"
    with ws.open("beta-study") as h, h.db.transaction() as s:   # a recording left by a crash
        sess = s.exec(select(Session)).first()
        s.add(Recording(session_id=sess.id, state=RecordingState.recording, folder="audio/x"))
    assert quick_overview(ws) is None
    with ws.open("beta-study") as h, h.db.transaction() as s:
        for rec in s.exec(select(Recording)):
            rec.state = RecordingState.complete
            s.add(rec)
    assert quick_overview(ws) == load_overview(ws)
    con = sqlite3.connect(db)                                      # an older schema: to migrate
    con.execute("UPDATE alembic_version SET version_num = '0001'")
    con.commit()
    con.close()
    assert quick_overview(ws) is None


async def test_project_named_on_the_command_line_is_opened_or_refused(tmp_path: Path):
    """`fieldkit -p "Beta study"` opens that project by its name or folder name; an
    unknown name is an error naming it, and an unreadable one is never swapped for
    another project."""
    from fieldkit.errors import FieldkitError

    ws = _workspace(tmp_path / "data")
    for name in ("Beta study", "beta-study", "BETA STUDY"):
        app = FieldkitApp(data_dir=tmp_path / "data", project=name)
        async with app.run_test() as pilot:
            await _loaded(app, pilot)
            assert app.screen.current == "beta-study", name
    with pytest.raises(FieldkitError) as err:
        FieldkitApp(data_dir=tmp_path / "data", project="Studie 001")
    assert "Studie 001" in err.value.message and "Alpha study" in err.value.hint
    (ws.projects_dir / "beta-study" / "project.db").write_bytes(b"broken" * 100)
    app = FieldkitApp(data_dir=tmp_path / "data", project="beta-study")
    async with app.run_test(size=(100, 30)) as pilot:
        await _loaded(app, pilot)
        assert app.screen.current is None        # not Alpha study in its place
        assert "beta-study" in str(app.screen.query_one("#status", Static).render())
        await pilot.press("n")
        await _until(pilot, lambda: type(app.screen).__name__ == "HomeScreen", "type(app.screen).__name__ == 'HomeScreen'")


async def test_tab_goes_from_the_projects_to_the_sessions_and_enter_opens_one(tmp_path: Path):
    """A keyboard user's way in: Tab from the project list to its sessions, Enter on one.
    Tab once did nothing on the home screen (its binding named an action the screen lacks)."""
    _workspace(tmp_path / "data")
    app = FieldkitApp(data_dir=tmp_path / "data", project="alpha-study")
    async with app.run_test(size=(100, 30)) as pilot:
        await _loaded(app, pilot)
        table = app.screen.query_one("#sessions", DataTable)
        assert isinstance(app.focused, OptionList)
        await pilot.press("tab")
        await _until(pilot, lambda: app.focused is table, "app.focused is table")
        await pilot.press("down", "enter")             # Alpha 2, the planned focus group
        await _until(pilot, lambda: type(app.screen).__name__ == "SetupScreen", "the setup opened")
        assert str(app.screen.session_id) == str(table.coordinate_to_cell_key((1, 0)).row_key.value)


async def test_the_sessions_show_without_waiting_for_the_table_to_measure(tmp_path: Path):
    """A loaded laptop (CI): the home screen showed its header and no sessions for 30 s.
    Textual's DataTable measures auto widths and auto heights only when its queue is idle,
    and the screen stayed drawn as before. Right after the list is filled, before the table
    could measure anything, every row has its height and every column its width (a long
    title wraps onto more lines at 80 columns)."""
    ws = _workspace(tmp_path / "data")
    with ws.open("alpha-study") as h:
        with h.db.transaction() as s:
            s.add(Session(project_id=h.project_id, title="A very long title for an interview " * 3,
                          kind=SessionKind.individual, starts_at=datetime(2026, 3, 5, 9, 0, tzinfo=timezone.utc)))
    app = FieldkitApp(data_dir=tmp_path / "data", project="alpha-study")
    async with app.run_test(size=(80, 24)) as pilot:
        await _loaded(app, pilot)
        home = app.screen
        table = home.query_one("#sessions", DataTable)
        home.show_project("alpha-study")           # no await: the table has had no idle moment
        heights = [row.height for row in table.rows.values()]
        assert len(heights) == 3 and all(h >= 1 for h in heights) and max(heights) >= 2, heights
        assert all(column.width >= len(str(column.label)) for column in table.columns.values())
        assert table.virtual_size.height >= sum(heights) + 1, table.virtual_size
