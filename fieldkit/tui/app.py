"""The fieldkit Textual app: a shell of screens over the core services.

Screens live in ``fieldkit.tui.screens`` (one module per domain: home, interview,
review ...), the command palette's commands in ``fieldkit.tui.commands``, all styling
in ``fieldkit.tcss``. The database is opened in a worker thread so the first screen
appears before SQLAlchemy has even been imported.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.binding import Binding

from fieldkit.tui.commands import SHELL_KEYS, FieldkitCommands  # noqa: F401 - SHELL_KEYS for screens


class FieldkitApp(App[None]):
    TITLE = "fieldkit"
    CSS_PATH = "fieldkit.tcss"
    COMMANDS = App.COMMANDS | {FieldkitCommands}
    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("f1", "help", "Help", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(self, data_dir: str | Path | None = None, project: str | None = None,
                 observe: tuple | None = None):
        super().__init__()
        from fieldkit.projects import Workspace

        self.workspace = Workspace(data_dir)
        # `fieldkit -p "Studie 001"`: found by its name or folder name; an unknown one is an
        # error naming it (raised before the app starts), never another project
        self.initial_project = self.workspace.find(project).name if project else None
        self.observe = observe  # (session id, author id): open the observer's seat at once

    def on_mount(self) -> None:
        from fieldkit.tui.screens.home import HomeScreen

        self.push_screen(HomeScreen(initial_project=self.initial_project))
        if self.observe is not None and self.initial_project:
            from fieldkit.tui.screens.interview import InterviewScreen

            session_id, author_id = self.observe
            self.push_screen(InterviewScreen(self.initial_project, session_id, observer=True,
                                             author_id=author_id))

    def action_help(self) -> None:
        from fieldkit.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))


def run_app(data_dir: str | Path | None = None, project: str | None = None,
            observe: tuple | None = None) -> None:
    FieldkitApp(data_dir=data_dir, project=project, observe=observe).run()
