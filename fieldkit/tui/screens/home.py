"""Home: projects on the left, the chosen project's sessions on the right."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, OptionList, Static
from textual.widgets.option_list import Option

from fieldkit.sessions.dayplan import day_words, site_words
from fieldkit.i18n import N_, _, ngettext
from fieldkit.tui.widgets.team_overview import TeamOverview
from fieldkit.tui.widgets.final_pass import FinalPassStatus
from fieldkit.sessions.overview import ProjectSummary, SessionRow, home_list, load_overview, quick_overview
from fieldkit.tui.commands import SHELL_KEYS

#: how often the home screen looks for changes made by other processes (seconds)
WATCH_S = 1.5
FULL_WATCH_S = 10.0


def watch_signature(workspace) -> tuple:
    """The project folders with their database files' sizes and times: any write by any
    process (SQLite in WAL mode writes the -wal file) changes it."""
    import os

    out = []
    for folder in sorted(workspace.project_folders()):
        for name in ("project.db", "project.db-wal"):
            try:
                st = os.stat(folder / name)
            except OSError:
                continue
            out.append((folder.name, name, st.st_size, st.st_mtime_ns))
    return tuple(out)



__all__ = ["HomeScreen", "ProjectSummary", "SessionRow"]


def _tilde(path) -> str:
    from pathlib import Path

    try:
        return "~/" + str(Path(path).relative_to(Path.home()))
    except ValueError:
        return str(path)



#: a session's status and kind as stored, and the words shown for them
STATUS_WORDS = {"planned": N_("planned"), "recording": N_("recording"), "recorded": N_("recorded"),
                "transcribed": N_("transcribed"), "reviewed": N_("reviewed")}
KIND_WORDS = {"individual": N_("individual"), "pair": N_("pair interview"), "group": N_("group"), "focus group": N_("focus group"),
              "observation": N_("observation"), "telephone": N_("telephone"), "notes only": N_("notes only")}


def _status_word(status: str) -> str:
    return _(STATUS_WORDS[status]) if status in STATUS_WORDS else status


def _kind_word(kind: str) -> str:
    return _(KIND_WORDS[kind]) if kind in KIND_WORDS else kind

#: the narrowest a session title's column gets before the Kind column gives it room
TITLE_MIN = 22


class HomeScreen(Screen[None]):
    BINDINGS = [
        *SHELL_KEYS,
        Binding("enter", "open_session", N_("Open session"), show=False, id="home.open_session", tooltip=N_("open the session: a planned one in setup, a running one as the observer, a finished one in review")),
        Binding("n", "new_session", N_("New"), id="home.new_session", tooltip=N_("plan a new session")),
        Binding("v", "review", N_("Review"), show=False, id="home.review", tooltip=N_("review the chosen session")),   # Enter opens a finished session in review
        Binding("d", "day_view", N_("Days"), id="home.day_view", tooltip=N_("sessions per date and site, and what is still to plan")),     # sessions per date and site, and what is still to plan
        Binding("i", "informants", N_("Informants"), id="home.informants", tooltip=N_("the project's informants and their consent")),
        Binding("t", "team", N_("Team"), id="home.team", tooltip=N_("the project's team (researchers), deletion deadline and Sikt reference")),
        Binding("m", "matrix", N_("Coverage"), id="home.matrix", tooltip=N_("which guide questions each session covered")),
        Binding("e", "export", N_("Export"), id="home.export", tooltip=N_("export sessions (Word, REFI-QDA, ELAN, subtitles, CSV, XLSX)")),
        Binding("r", "refresh", N_("Refresh"), show=False, id="home.refresh", tooltip=N_("Read the data folder again")),
        Binding("T", "transcribe", N_("Transcribe"), show=False, id="home.transcribe",
                tooltip=N_("Transcribe the chosen session in the background with the project's final model")),
        Binding("u", "unlock", N_("Unlock project"), show=False, id="home.unlock", tooltip=N_("unlock a locked project")),   # the locked project says so
        Binding("C", "conflicts", N_("Team conflicts"), show=False, id="home.conflicts", tooltip=N_("edits from the team that clash, to settle")),
        Binding("tab", "app.focus_next", N_("Next pane"), show=False, id="home.focus_next", tooltip=N_("the next pane")),
    ]

    class Loaded(Message):
        def __init__(self, projects: list[ProjectSummary], problems: list[str], quiet: bool = False) -> None:
            super().__init__()
            self.projects = projects
            self.problems = problems
            self.quiet = quiet     # a change seen by the watch: the focus stays where it is

    class DaysLoaded(Message):
        def __init__(self, slug: str, days: list, error: str | None = None) -> None:
            super().__init__()
            self.slug = slug
            self.days = days
            self.error = error

    def __init__(self, initial_project: str | None = None) -> None:
        super().__init__()
        self.initial_project = initial_project
        self.summaries: dict[str, ProjectSummary] = {}
        self.current: str | None = None
        self.day_view = False                   # d: sessions per date and site instead of the list
        self.days: dict[str, list] = {}         # slug -> [dayplan.DayPlan] (loaded in a worker)
        self.day_rows: dict[str, object] = {}   # row key -> dayplan.PlannedSession in the day view

    @property
    def projects(self) -> list[tuple[str, str]]:
        return [(slug, s.name) for slug, s in self.summaries.items()]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="home"):
            with Vertical(id="projects-pane"):
                yield Label(_("Projects"), classes="pane-title")
                yield OptionList(id="projects")
            with Vertical(id="sessions-pane"):
                yield Label(_("Sessions"), classes="pane-title", id="sessions-title")
                yield Static("", id="project-info")
                yield DataTable(id="sessions", cursor_type="row", zebra_stripes=True)
                yield Static("", id="day-detail", classes="hidden")
                yield TeamOverview(id="team-overview")
        yield FinalPassStatus(id="final-pass")
        yield Static(_("Loading projects…"), id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.action_refresh()
        self._seen = watch_signature(self.app.workspace)
        self._full_at = 0.0
        self.set_interval(WATCH_S, self._watch)

    def _watch(self) -> None:
        """Changes made by other processes (an import or a session made on the command
        line, the other terminal's interview, the final pass) show without a restart: the
        project files' sizes and times are compared (no database is opened), and only a
        change reads the projects again."""
        if self.is_current and self.summaries:
            self.watch()

    @work(thread=True, exclusive=True, group="home-watch", exit_on_error=False)
    def watch(self) -> None:
        seen = watch_signature(self.app.workspace)
        if seen == self._seen:
            return
        self._seen = seen
        quick = quick_overview(self.app.workspace)
        if quick is None:
            import time

            from fieldkit.errors import FieldkitError

            # the full path (a recording or live transcription elsewhere, a recovery) at
            # most every FULL_WATCH_S: it loads the storage layer and opens every project
            if time.monotonic() - self._full_at < FULL_WATCH_S:
                self._seen = ()   # look again next time
                return
            self._full_at = time.monotonic()
            try:
                quick = load_overview(self.app.workspace)
            except FieldkitError:
                return
        projects, problems = quick
        if projects != list(self.summaries.values()) or problems:
            self.post_message(self.Loaded(projects, problems, quiet=True))

    def on_resize(self) -> None:
        # a narrow terminal (80x24) gives the sessions the room: Status and When stay visible
        self.query_one("#projects-pane").styles.width = 32 if self.size.width >= 110 else 22
        if self.current in self.summaries:
            self.show_project(self.current)

    def action_refresh(self) -> None:
        self.days.clear()
        self.load()

    @work(thread=True, exclusive=True, group="home-load")
    def load(self) -> None:
        from fieldkit.errors import FieldkitError
        from fieldkit.tools.startup import prepare

        try:
            problems = prepare(self.app.workspace)   # demo, migrations, crash repair
            projects, more = home_list(self.app.workspace)
        except FieldkitError as exc:
            projects, problems, more = [], [exc.message], []
        self.post_message(self.Loaded(projects, list(dict.fromkeys(problems + more))))
        # the full storage layer (SQLAlchemy/SQLModel) loads now, after the first screen
        import fieldkit.store.models  # noqa: F401

    def on_home_screen_loaded(self, message: Loaded) -> None:
        self.summaries = {p.slug: p for p in message.projects}
        # a session imported or recovered may wait for its final transcription: start it now
        self.query_one(FinalPassStatus).poll(kick=True)
        options = self.query_one("#projects", OptionList)
        options.clear_options()
        for p in message.projects:
            label = (_("🔒 {name} (locked)").format(name=p.name) if p.locked
                     else f"{p.name}  [{len(p.sessions)}]")
            options.add_option(Option(label, id=p.slug))
        status = self.query_one("#status", Static)
        if message.problems:
            status.update("\n".join(message.problems))
            status.add_class("problem")
        else:
            status.update(ngettext("{n} project · data folder {folder}", "{n} projects · data folder {folder}",
                                   len(message.projects)).format(n=len(message.projects),
                                                                 folder=_tilde(self.app.workspace.root)))
            status.remove_class("problem")
        if not message.projects:
            return
        self.initial_project = self.initial_project and next(
            (p.slug for p in message.projects if p.slug == self.initial_project or p.name == self.initial_project),
            self.initial_project)
        wanted = self.initial_project or self.current
        slugs = list(self.summaries)
        if message.quiet and wanted not in slugs:
            options.highlighted = None   # a change seen by the watch chooses no project by itself
            return
        if self.initial_project and self.initial_project not in slugs:
            # never show another project as if it were the one asked for: none is chosen
            status.update("\n".join(message.problems + [
                _("Project {name!r} could not be opened; choose one on the left.").format(
                    name=self.initial_project)]))
            status.add_class("problem")
            self.initial_project = None
            options.highlighted = None
            options.focus()
            return
        index = slugs.index(wanted) if wanted in slugs else 0
        options.highlighted = index
        self.show_project(slugs[index])
        if not message.quiet:
            options.focus()

    @on(OptionList.OptionHighlighted, "#projects")
    def _project_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id:
            self.show_project(event.option.id)

    @on(OptionList.OptionSelected, "#projects")
    def _project_chosen(self, event: OptionList.OptionSelected) -> None:
        """Enter on a project: on to its sessions (Enter again opens one)."""
        self.query_one("#sessions", DataTable).focus()

    def select_project(self, slug: str) -> None:
        options = self.query_one("#projects", OptionList)
        options.highlighted = list(self.summaries).index(slug)
        self.show_project(slug)

    def show_project(self, slug: str) -> None:
        summary = self.summaries[slug]
        self.current = slug
        self.query_one("#day-detail", Static).set_class(not self.day_view or summary.locked, "hidden")
        self.query_one(TeamOverview).show(self.app.workspace, slug, locked=summary.locked)
        title = _("Days in the field — {name}") if self.day_view else _("Sessions — {name}")
        self.query_one("#sessions-title", Label).update(title.format(name=summary.name))
        if summary.locked:
            # a locked project shows nothing but that it is locked
            info_widget = self.query_one("#project-info", Static)
            info_widget.update(_("🔒 Encrypted and locked. Press u to unlock with the passphrase."))
            info_widget.set_class(True, "warning")
            self.query_one("#sessions", DataTable).clear()
            return
        info = [_("Language: {language}").format(language=summary.language)]
        if summary.sikt_reference:
            info.append(_("Sikt ref. {ref}").format(ref=summary.sikt_reference))
        if summary.deletion_deadline:
            info.append(_("Delete by {date}").format(date=summary.deletion_deadline))
        warning = summary.deadline_warning()
        block = "  ·  ".join(info) + (f"\n⚠ {warning}" if warning else "")
        info_widget = self.query_one("#project-info", Static)
        info_widget.update(block)
        info_widget.set_class(bool(warning), "warning")
        if self.day_view:
            self.show_days(slug)
            return
        table = self.query_one("#sessions", DataTable)
        keep = self._current_session() if table.row_count else None
        table.clear(columns=True)
        # Session, Status and When always fit. Titles are never cut: a long one wraps onto
        # more lines (sessions must stay distinguishable at 80x24); where the Kind column
        # would leave a title less than TITLE_MIN columns, the kind goes under the title
        pane = 32 if self.size.width >= 110 else 22
        room = max(self.size.width - pane - 1, 40)
        kinds = [_kind_word(r.kind) + (" · " + _("pilot") if r.pilot else "") for r in summary.sessions]
        fixed = (2 * 3 + 2 + max([len(_status_word(r.status)) for r in summary.sessions] + [6])
                 + max([len(r.when) for r in summary.sessions] + [4]))   # padding, scrollbar, Status, When
        kind_width = 2 + max([len(k) for k in kinds] + [4])
        longest = max([len(r.title) + 2 for r in summary.sessions] + [7])
        kind_column = room - fixed - kind_width >= min(longest, TITLE_MIN)
        title_width = max(12, min(longest, room - fixed - (kind_width if kind_column else 0)))
        # every width and height is given here, none left for the table to measure: Textual's
        # DataTable measures only when its queue is idle, and on a loaded laptop the home
        # screen stayed drawn as measured before the rows came (a header, no sessions)
        statuses = [_status_word(r.status) for r in summary.sessions]
        table.add_column(_("Session"), width=title_width)
        table.add_column(_("Status"), width=max(len(w) for w in [*statuses, _("Status")]))
        table.add_column(_("When"), width=max(len(w) for w in [*(r.when for r in summary.sessions), _("When")]))
        if kind_column:
            table.add_column(_("Kind"), width=max(len(w) for w in [*kinds, _("Kind")]))
        console = self.app.console
        for row, kind, status in zip(summary.sessions, kinds, statuses):
            title = ("↳ " if row.follows else "") + row.title   # follows the row above (linked pair)
            if not kind_column:
                title += "\n" + kind
            cells = [title, status, row.when, *([kind] if kind_column else [])]
            lines = len(Text(title).wrap(console, title_width))   # a long title wraps
            table.add_row(*cells, key=row.id, height=max(1, lines))
        if keep is not None and any(r.id == keep.id for r in summary.sessions):
            table.move_cursor(row=table.get_row_index(keep.id))   # a reload keeps the chosen session

    # ------------------------------------------------------------------ day view

    def action_day_view(self) -> None:
        """d: the sessions per date and site (kind, informants, who leads and who
        observes, what is still to plan), or back to the list."""
        self.day_view = not self.day_view
        if self.current in self.summaries:
            self.show_project(self.current)

    @work(thread=True, exclusive=True, group="home-days", exit_on_error=False)
    def load_days(self, slug: str) -> None:
        from fieldkit.sessions.dayplan import field_days_for
        from fieldkit.errors import FieldkitError

        try:
            self.post_message(self.DaysLoaded(slug, field_days_for(self.app.workspace, slug)))
        except FieldkitError as exc:
            self.post_message(self.DaysLoaded(slug, [], exc.message))

    def on_home_screen_days_loaded(self, message: DaysLoaded) -> None:
        if message.error:
            self.notify(message.error, severity="error", timeout=6)
            return
        self.days[message.slug] = message.days
        if self.day_view and self.current == message.slug:
            self.show_days(message.slug)

    def show_days(self, slug: str) -> None:
        from rich.text import Text

        table = self.query_one("#sessions", DataTable)
        table.clear(columns=True)
        self.day_rows = {}
        self.query_one("#day-detail", Static).update("")
        days = self.days.get(slug)
        if days is None:
            self.load_days(slug)
            table.add_column(_("Session"))
            table.add_row(Text(_("Loading the days…"), style="dim"), key="day-loading")
            return
        # the narrow terminal keeps time, session, kind, informants and who in view; what is
        # still to plan is counted there and spelt out in the line under the table
        from fieldkit.i18n import language

        pane = 32 if self.size.width >= 110 else 22
        room = max(self.size.width - pane - 1, 40)
        wide = room >= 80
        columns = [(_("Time"), 5), (_("Session"), 20 if wide else 13), (_("Kind"), 11 if wide else 9),
                   (_("Informants"), 12 if wide else 7), (_("Lead/obs."), 9 if wide else 5), (_("To plan"), None)]
        used = sum(w for _n, w in columns if w) + 2 * len(columns) + 3
        for name, width in columns:
            table.add_column(name, width=width if width else max(10 if wide else 4, room - used))
        if not days:
            table.add_row("", Text(_("No sessions yet: press n for a new one."), style="dim"), "", "", "", "",
                          key="day-empty")
        for plan in days:
            short = "" if plan.day is None else (
                f"{plan.day:%d.%m}" if language() == "nb" else f"{plan.day:%m-%d}")
            weekday = day_words(plan.day).split(" ")[0] if plan.day else _("No date yet")
            for site in plan.sites:
                # a date and site line spread over the columns (a cell cannot span them)
                table.add_row(Text(short, style="bold"), Text(site_words(site.site), style="bold"),
                              Text(weekday, style="bold"), "", "", "", key=f"day-{plan.day}-{site.site}")
                for p in site.sessions:
                    who = f"{p.lead_initials or '–'}/{p.observer_initials or '–'}"
                    codes = ", ".join(i.split(" ")[0] for i in p.informants) or "–"
                    todo = f"⚠ {len(p.to_plan)}" + (" " + "; ".join(p.to_plan) if wide else "")
                    kind = p.kind_short + (" · " + _("pilot") if p.is_pilot else "")
                    table.add_row(p.when, p.title, kind, codes, who,
                                  Text(todo, style="yellow") if p.to_plan else Text("✓", style="green"),
                                  key=str(p.id))
                    self.day_rows[str(p.id)] = p
        self._show_day_detail()

    @on(DataTable.RowHighlighted, "#sessions")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.day_view:
            self._show_day_detail()

    def _show_day_detail(self) -> None:
        """Under the day view, the whole of the highlighted session: the narrow terminal
        cuts the columns short, this line does not."""
        table = self.query_one("#sessions", DataTable)
        detail = self.query_one("#day-detail", Static)
        if not table.row_count:
            detail.update("")
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        p = self.day_rows.get(key)
        if p is None:
            detail.update("")
            return
        day = day_words(p.time.date()) if p.time else _("No date yet")
        lines = [f"{day} {p.when} · {p.title} · {p.kind_words}" + (f" · {p.guide}" if p.guide else ""),
                 _("Informants: {list}").format(list=", ".join(p.informants) or _("none yet")),
                 _("Lead: {lead} · Observer: {observer}").format(lead=p.lead or _("not chosen"),
                                                                  observer=p.observer or _("not chosen")),
                 _("To plan: {items}").format(items="; ".join(p.to_plan)) if p.to_plan
                 else _("Nothing left to plan.")]
        detail.update("\n".join(lines))

    def action_unlock(self) -> None:
        from fieldkit.tui.screens.unlock import UnlockScreen

        summary = self.summaries.get(self.current or "")
        if summary is None or not summary.locked:
            self.notify(_("This project is not locked."))
            return
        folder = self.app.workspace.projects_dir / summary.slug

        # once unlocked, the list is read again by on_screen_resume (one load, not two
        # racing each other in the exclusive worker group)
        self.app.push_screen(UnlockScreen(folder))

    # ------------------------------------------------------------------ other screens
    def _current_session(self) -> SessionRow | None:
        summary = self.summaries.get(self.current or "")
        if summary is None or summary.locked or not summary.sessions:
            return None
        table = self.query_one("#sessions", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((r for r in summary.sessions if str(r.id) == key), None)

    def _project_ready(self) -> bool:
        summary = self.summaries.get(self.current or "")
        if summary is None:
            self.notify(_("No project chosen."), severity="warning")
            return False
        if summary.locked:
            self.notify(_("This project is locked: press u to unlock it first."), severity="warning")
            return False
        return True

    def _push(self, screen) -> None:
        self.app.push_screen(screen)

    def on_screen_resume(self) -> None:
        # back from another screen (it may have added or changed sessions)
        if self.summaries:
            self.action_refresh()

    @on(DataTable.RowSelected, "#sessions")
    def _session_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_session()

    def action_open_session(self) -> None:
        """Planned sessions open in setup, running ones in the interview screen (as the
        second seat if another terminal records), finished ones in review."""
        if not self._project_ready():
            return
        row = self._current_session()
        if row is None and self.day_view:
            return          # a date and site line: nothing to open
        if row is None:
            self.action_new_session()
        elif row.status == "planned":
            from fieldkit.tui.screens.setup import SetupScreen

            self._push(SetupScreen(self.current, session_id=row.id))
        elif row.status == "recording":
            from fieldkit.tui.screens.interview import InterviewScreen

            self._push(InterviewScreen(self.current, session_id=row.id, observer=True))
        else:
            self.action_review()

    def action_new_session(self) -> None:
        if self._project_ready():
            from fieldkit.tui.screens.setup import SetupScreen

            self._push(SetupScreen(self.current))

    def action_review(self) -> None:
        if not self._project_ready():
            return
        row = self._current_session()
        if row is None:
            self.notify(_("Choose a session to review."), severity="warning")
            return
        from fieldkit.tui.screens.review import ReviewScreen

        self._push(ReviewScreen(self.current, session_id=row.id))

    def action_transcribe(self) -> None:
        """T: transcribe the chosen session (an import, a transcript cut off) in the
        background with the project's final model."""
        if not self._project_ready():
            return
        row = self._current_session()
        if row is None:
            self.notify(_("Choose a session to transcribe."), severity="warning")
            return
        self.queue_transcription(self.current, row.id)

    @work(thread=True, group="home-transcribe", exit_on_error=False)
    def queue_transcription(self, slug: str, session_id: str) -> None:
        import uuid

        from fieldkit.tui.screens.transcribe import queue_and_start

        with self.app.workspace.open(slug) as handle:
            text, severity = queue_and_start(self.app, handle, slug, uuid.UUID(session_id))
        self.app.call_from_thread(self.notify, text, severity=severity, timeout=8)
        self.app.call_from_thread(self.query_one(FinalPassStatus).poll)

    def action_informants(self) -> None:
        if self._project_ready():
            from fieldkit.tui.screens.informants import InformantsScreen

            self._push(InformantsScreen(self.current))

    def action_tag_schemes(self) -> None:
        """From the command palette: the project's tag schemes, to rename, add or remove tags."""
        if self._project_ready():
            from fieldkit.tui.screens.tags import TagsScreen

            self._push(TagsScreen(self.current))

    def action_word_list(self) -> None:
        """From the command palette: the project's word list (names, places, terms)."""
        if self._project_ready():
            from fieldkit.tui.screens.words import WordListScreen

            self._push(WordListScreen(self.current))

    def action_team(self) -> None:
        if self._project_ready():
            from fieldkit.tui.screens.team import TeamScreen

            self._push(TeamScreen(self.current))

    def action_matrix(self) -> None:
        if self._project_ready():
            from fieldkit.tui.screens.coverage import CoverageScreen

            self._push(CoverageScreen(self.current))

    def action_export(self) -> None:
        if self._project_ready():
            from fieldkit.tui.screens.export import ExportScreen

            row = self._current_session()
            self._push(ExportScreen(self.current, session_id=row.id if row else None))

    def action_conflicts(self) -> None:
        if self._project_ready():
            from fieldkit.tui.screens.conflicts import ConflictsScreen

            self._push(ConflictsScreen(self.current))
