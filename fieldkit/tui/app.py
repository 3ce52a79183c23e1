"""The fieldkit Textual app: a shell of screens over the core services.

Screens live in ``fieldkit.tui.screens`` (one module per domain: home, interview,
review ...), the command palette's commands in ``fieldkit.tui.commands``, all styling
in ``fieldkit.tcss``. The database is opened in a worker thread so the first screen
appears before SQLAlchemy has even been imported.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding

from fieldkit.i18n import N_, _
from fieldkit.tui.commands import HELP_TIP, QUIT_TIP, SHELL_KEYS, FieldkitCommands  # noqa: F401 - SHELL_KEYS for screens


#: after SIGHUP or SIGTERM: the event loop must begin making things safe within this many
#: seconds, may take this long at most (an interview's note, the recording finished to FLAC,
#: which takes a while after hours of audio on a slow laptop, and the live transcript's tail:
#: InterviewScreen.hang_up's bounds), and the process must have ended this long after
HANGUP_START_S = 30.0
HANGUP_WORK_S = 600.0
EXIT_GRACE_S = 10.0

#: Textual's own palette commands, in words that do not clash with fieldkit's (a guide's
#: Theme is another thing than the colour theme); their help lines are translated as they are
SYSTEM_TITLES = {"Theme": N_("Colour theme"), "Keys": N_("Keys and widget help"), "Quit": N_("Quit"),
                 "Minimize": N_("Minimize"), "Maximize": N_("Maximize"), "Screenshot": N_("Screenshot")}
_SYSTEM_HELP = [N_("Change the current theme"), N_("Quit the application as soon as possible"),
                N_("Hide the keys and widget help panel"),
                N_("Show help for the focused widget and a summary of available keys"),
                N_("Minimize the widget and restore to normal size"), N_("Maximize the focused widget"),
                N_("Save an SVG 'screenshot' of the current screen"),
                N_("palette"), N_("Open the command palette"),   # the app's own Ctrl+P binding
                # Textual's bindings on every screen and on the app (shown in the keys panel)
                N_("Focus Next"), N_("Focus Previous"), N_("Copy selected text"),
                N_("Quit the app and return to the command prompt.")]


class FieldkitApp(App[None]):
    TITLE = "fieldkit"
    #: the app is the process (run_app): after a signal the process must end (tests run the
    #: app inside their own process, which goes on)
    watch_exit = False
    CSS_PATH = "fieldkit.tcss"
    COMMANDS = App.COMMANDS | {FieldkitCommands}
    BINDINGS = [
        Binding("question_mark", "help", N_("Help"), key_display="?", id="app.help", tooltip=HELP_TIP),
        Binding("f1", "help", N_("Help"), show=False, id="app.help_f1", tooltip=HELP_TIP),
        Binding("ctrl+q", "quit", N_("Quit"), priority=True, id="app.quit", tooltip=QUIT_TIP),
    ]

    def on_descendant_focus(self, event) -> None:
        """A widget that gets focus shows its keys (keys panel, footer) in the user's language:
        Textual's widgets declare them in English (fieldkit.tui.textual_words marks them)."""
        from fieldkit.tui import compat
        from fieldkit.tui.keymap import translate_bindings

        for node in (event.widget, *event.widget.ancestors):
            if "_fieldkit_binding_text" not in node.__dict__ and compat.has_bindings(node):
                translate_bindings(node)

    def __init__(self, data_dir: str | Path | None = None, project: str | None = None,
                 observe: tuple | None = None):
        super().__init__()
        from fieldkit.i18n import language_setting
        from fieldkit.projects import Workspace
        from fieldkit.tui.keymap import translate_bindings

        self.ui_language = language_setting()   # FIELDKIT_LANG or the system locale; _() reads it
        translate_bindings(self)     # the app's own keys (Help, Quit, the palette's key)

        self.workspace = Workspace(data_dir)
        # `fieldkit -p "Studie 001"`: found by its name or folder name; an unknown one is an
        # error naming it (raised before the app starts), never another project
        if project:
            # a first run (`fieldkit -p demo` from the quickstart): the demo project is made
            # now, as the home screen would, so the name can be found (first_run does
            # nothing once any project exists or the demo was made once)
            from fieldkit.tools.startup import first_run

            first_run(self.workspace)
        self.initial_project = self.workspace.find(project).name if project else None
        self.observe = observe  # (session id, author id): open the observer's seat at once
        import threading

        self._signals: dict = {}             # signal -> the handler before the app's
        self._signalled = False
        self._hangup_started = threading.Event()
        self._hangup_lock = threading.Lock()
        self._gave_up = False                 # the watchdog found the event loop stuck
        self._made_safe = threading.Event()

    def on_mount(self) -> None:
        from fieldkit.errors import FieldkitError
        from fieldkit.tui.keymap import load_keymap
        from fieldkit.tui.screens.home import HomeScreen

        try:  # the researcher's own keys (fieldkit.tui.keymap)
            keymap = load_keymap()
        except FieldkitError as exc:
            keymap = {}
            self.notify(exc.message + (f" {exc.hint}" if exc.hint else ""), title=_("Keymap not used"),
                        severity="error", timeout=15)
        if keymap:
            from fieldkit.tui.keymap import resolve_old_ids

            keymap, warnings = resolve_old_ids(keymap)
            for warning in warnings:
                self.notify(warning, title=_("Keymap"), severity="warning", timeout=15)
            self.set_keymap(keymap)

        self._catch_hangup()
        self.push_screen(HomeScreen(initial_project=self.initial_project))
        if self.observe is not None and self.initial_project:
            from fieldkit.tui.screens.interview import InterviewScreen

            session_id, author_id = self.observe
            self.push_screen(InterviewScreen(self.initial_project, session_id, observer=True,
                                             author_id=author_id))

    # ------------------------------------------------------------------ leaving

    def live_interview(self):
        """The interview screen (anywhere in the stack) whose interview is going on, if any."""
        from fieldkit.tui.screens.interview import InterviewScreen

        for screen in reversed(self.screen_stack):
            if isinstance(screen, InterviewScreen) and screen.in_progress():
                return screen
        return None

    async def action_quit(self) -> None:
        """Ctrl+Q, the palette's Quit and every other way out: while an interview is going
        on, the question ``q`` asks comes first (the recording is never cut off by a key)."""
        interview = self.live_interview()
        if interview is not None:
            interview.ask_to_leave()
            return
        unsaved = [s for s in self.screen_stack if getattr(s, "unsaved_work", lambda: False)()]
        if not unsaved:
            self.exit()
            return
        # text typed and not saved (an open transcript edit, a note, the debrief): never
        # thrown away by a key; save and quit, or stay
        from fieldkit.tui.screens.confirm import ConfirmScreen

        def answered(save: bool | None) -> None:
            if not save:
                return
            from fieldkit.errors import FieldkitError

            try:
                for screen in unsaved:
                    screen.save_unsaved_work()
            except FieldkitError as exc:
                self.notify(exc.message, severity="error", timeout=8)
                return
            self.exit()

        self.push_screen(ConfirmScreen(_("Text you typed is not saved yet. Save it and quit?"),
                                       yes=_("Save and quit"), no=_("Stay")), answered)

    def action_help_quit(self) -> None:
        """Ctrl+C (what a worried user presses): during an interview the stop question, as
        Ctrl+Q; otherwise how to quit, in the user's language."""
        interview = self.live_interview()
        if interview is not None:
            interview.ask_to_leave()
            return
        key = next((k for k, b in self.active_bindings.items() if b.binding.action in ("quit", "app.quit")), None)
        self.notify(_("Press {key} to quit fieldkit.").format(key=self.get_key_display(
            self.active_bindings[key].binding) if key else "Ctrl+Q"), title=_("Quit?"), timeout=5)

    def get_driver_class(self):
        """Textual's terminal driver, made safe for a terminal that closes
        (``fieldkit.tui.compat.terminal_driver``); Textual's own where it picks another
        (Windows, ``TEXTUAL_DRIVER``)."""
        import os

        if os.name == "nt" or os.environ.get("TEXTUAL_DRIVER"):
            return super().get_driver_class()
        from fieldkit.tui.compat import terminal_driver

        return terminal_driver()

    def _catch_hangup(self) -> None:
        """Closing the terminal (SIGHUP) or a SIGTERM: the running interview is made safe
        (note kept, recording stopped cleanly, live transcript finished) and typed text is
        stored before the app ends. Without this the process died at once and left the
        recording to recovery.

        The handlers are Python's own (not the event loop's): they run in the main thread at
        once, even when the loop is stuck, and before Textual's SIGCONT handler (the kernel
        sends SIGCONT with every hang-up), so the driver knows first that the terminal is
        gone. A watchdog then ends the process if it does not end by itself
        (:meth:`_watch_the_end`)."""
        import asyncio
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():
            return   # signals reach the main thread only: nothing to catch here
        self._signal_loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            try:
                self._signals[sig] = signal.signal(sig, self._on_signal)
            except (ValueError, OSError):
                pass

    def _on_signal(self, signum: int, _frame) -> None:
        """(the main thread, between two Python instructions) Tell the driver, then have the
        event loop make everything safe (:meth:`hang_up`); a second signal changes nothing."""
        import signal

        from fieldkit.tui.compat import driver_hang_up

        driver_hang_up(self, closed=signum == signal.SIGHUP)
        if self._hangup_started.is_set() or self._signalled:
            return
        self._signalled = True
        if self.watch_exit:
            self._watch_the_end(signum)
        try:
            self._signal_loop.call_soon_threadsafe(self.hang_up)
        except RuntimeError:
            pass   # the loop has ended: the app is on its way out already

    def _watch_the_end(self, signum: int) -> None:
        """A process told to end must end, never hang: if the event loop does not begin the
        hang-up within HANGUP_START_S (it is stuck: it will not begin later either), or the
        process is still there EXIT_GRACE_S after what had to be stored is stored (a thread or
        child that does not end), it ends here. Recordings are safe either way (stopped
        cleanly, or found by recovery)."""
        import os
        import threading
        import time

        def watch() -> None:
            self._hangup_started.wait(HANGUP_START_S)
            with self._hangup_lock:
                stuck = not self._hangup_started.is_set()
                self._gave_up = stuck    # a hang-up that would begin now does not begin
            if not stuck:
                self._made_safe.wait(HANGUP_WORK_S)
                time.sleep(EXIT_GRACE_S)
            os._exit(128 + signum)

        threading.Thread(target=watch, name="fieldkit-hangup-watchdog", daemon=True).start()

    def hang_up(self) -> None:
        """(the event loop) The terminal is gone or the process is told to end: nobody can
        answer a question. Every interview is made safe and text typed in any screen is
        stored, then the app exits."""
        from fieldkit.tui.screens.interview import InterviewScreen

        with self._hangup_lock:
            if self._hangup_started.is_set() or self._gave_up:
                return
            self._hangup_started.set()
        try:
            for screen in reversed(self.screen_stack):
                try:
                    if isinstance(screen, InterviewScreen):
                        screen.hang_up()
                    elif getattr(screen, "unsaved_work", lambda: False)():
                        screen.save_unsaved_work()
                except Exception:  # noqa: BLE001 - the next screen's recording or text must be made safe too
                    pass
        finally:
            self._made_safe.set()
        self.exit()

    def on_unmount(self) -> None:
        import signal

        # every screen has closed (an interview's runtime stopped cleanly): from here a
        # signal ends the process as it would without the app
        for sig, previous in self._signals.items():
            try:
                signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
            except (ValueError, OSError):
                pass
        self._signals = {}

    def push_screen(self, screen, *args, **kwargs):
        self._name_bindings(screen)
        return super().push_screen(screen, *args, **kwargs)

    def switch_screen(self, screen, *args, **kwargs):
        self._name_bindings(screen)
        return super().switch_screen(screen, *args, **kwargs)

    def _name_bindings(self, screen) -> None:
        """Every binding gets an id (``<screen>.<action>``), so the keymap can move it, and
        its description in the user's language."""
        if not isinstance(screen, str):
            from fieldkit.tui.keymap import ensure_binding_ids

            ensure_binding_ids(screen)

    def get_system_commands(self, screen):
        """Textual's own palette commands (Theme, Quit, Keys ...), in the user's language."""
        for cmd in super().get_system_commands(screen):
            title = SYSTEM_TITLES.get(cmd.title, cmd.title)
            yield SystemCommand(_(title), _(cmd.help) if cmd.help else cmd.help, cmd.callback, cmd.discover)

    def action_command_palette(self) -> None:
        """Textual's palette, with its search prompt in the user's language."""
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(id="--command-palette", placeholder=_("Search for commands…")))

    def get_key_display(self, binding) -> str:
        """A key as the footer and the keys panel show it, in the user's language
        ("mellomrom" for space in Norwegian; Textual's public hook for this)."""
        from fieldkit.tui.keymap import key_display

        return key_display(super().get_key_display(binding))

    def action_help(self) -> None:
        from fieldkit.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))


def run_app(data_dir: str | Path | None = None, project: str | None = None,
            observe: tuple | None = None) -> None:
    app = FieldkitApp(data_dir=data_dir, project=project, observe=observe)
    app.watch_exit = True
    app.run()
