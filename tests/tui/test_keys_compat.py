"""fieldkit/tui/compat.py is the one place that touches Textual's private API. Each touch is
exercised here against the installed Textual, through real key presses where it matters;
a failure names the touch, so a Textual upgrade that changed it is found here, not by a
researcher whose tag keys stopped working."""

from __future__ import annotations

from pathlib import Path

import pytest
import textual
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer

from fieldkit.tui import compat


def _changed(what: str) -> str:
    return (f"Textual {textual.__version__} changed {what}: fieldkit/tui/compat.py must be adapted "
            f"(and pyproject's textual bound moved only after that)")


class _Screen(Screen):
    BINDINGS = [Binding("x", "press('x')", "X", id="probe.x", tooltip="x")]

    def __init__(self) -> None:
        super().__init__()
        self.pressed: list[str] = []

    def compose(self) -> ComposeResult:
        yield Footer()

    def action_press(self, what: str) -> None:
        self.pressed.append(what)


class _App(App):
    def on_mount(self) -> None:
        self.push_screen(_Screen())


async def test_binding_table_reads_and_changes_a_nodes_bindings():
    app = _App()
    async with app.run_test() as pilot:
        await pilot.pause()
        screen = app.screen
        try:
            table = compat.binding_table(screen)
        except AttributeError as exc:
            pytest.fail(_changed(f"DOMNode._bindings ({exc})"))
        assert isinstance(table, dict) and "x" in table, _changed("BindingsMap.key_to_bindings")
        assert [b.id for b in compat.node_bindings(screen) if b.id] == ["probe.x"], _changed("key_to_bindings")

        # a binding added at run time (as the tag keys are) fires on a real key press
        compat.add_bindings(screen, [Binding("t,T", "press('tag')", "Tag", id="tag.probe", tooltip="t")])
        screen.refresh_bindings()
        await pilot.press("t", "T")
        await pilot.pause()
        assert screen.pressed == ["tag", "tag"], _changed("bindings added to DOMNode._bindings at run time")

        # a replaced binding (translated text) is the one Textual uses
        from dataclasses import replace

        compat.replace_bindings(screen, lambda b: replace(b, description="Changed") if b.id == "probe.x" else b)
        assert [b.description for b in compat.node_bindings(screen) if b.id == "probe.x"] == ["Changed"]
        assert any(ab.binding.description == "Changed" for ab in screen.active_bindings.values()), \
            _changed("replacing bindings in DOMNode._bindings")
        await pilot.press("x")
        await pilot.pause()
        assert screen.pressed[-1] == "x"


async def test_app_keymap_and_bindings_as_mapped_follow_set_keymap():
    app = _App()
    async with app.run_test() as pilot:
        await pilot.pause()
        screen = app.screen
        compat.add_bindings(screen, [Binding("t", "press('tag')", "Tag", id="tag.probe", tooltip="t")])
        app.set_keymap({"probe.x": "y", "tag.probe": "ctrl+t"})
        assert compat.app_keymap(app) == {"probe.x": "y", "tag.probe": "ctrl+t"}, _changed("App._keymap")
        mapped = {b.id: b.key for b in compat.bindings_as_mapped(screen) if b.id}
        assert mapped == {"probe.x": "y", "tag.probe": "ctrl+t"}, _changed("BindingsMap.copy/apply_keymap")
        # and Textual itself uses the same keys: the moved keys work, the old ones do nothing
        await pilot.press("x", "t")
        await pilot.pause()
        assert screen.pressed == []
        await pilot.press("y", "ctrl+t")
        await pilot.pause()
        assert screen.pressed == ["x", "tag"], _changed("how the keymap is applied to bindings")
        # the node itself is not changed by bindings_as_mapped
        assert {b.id: b.key for b in compat.node_bindings(screen) if b.id} == {"probe.x": "x", "tag.probe": "t"}


def test_textual_is_the_major_version_pyproject_allows():
    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    spec = next(d for d in pyproject["project"]["dependencies"] if d.startswith("textual"))
    major = int(textual.__version__.split(".")[0])
    assert f"<{major + 1}" in spec and f">={major}." in spec, (spec, textual.__version__)


def test_a_closed_terminal_never_blocks_the_writer():
    """compat.terminal_driver on a real closed terminal (a pty whose other end is gone: every
    write fails with EIO). Textual's own writer thread died on the first failed write and the
    31st write then waited for ever (the app hung when its terminal closed); through compat's
    terminal it goes on dropping output, and stop() returns."""
    import os
    import pty
    import threading

    from textual.drivers._writer_thread import WriterThread

    master, slave = pty.openpty()
    os.close(master)   # the terminal is closed
    out = os.fdopen(slave, "w")
    gone = threading.Event()
    writer = WriterThread(compat._Terminal(out, gone.set))
    writer.start()

    def write_a_screenful_and_stop() -> None:
        for _ in range(100):
            writer.write("\x1b[?1049h frame")
        writer.stop()

    t = threading.Thread(target=write_a_screenful_and_stop, daemon=True)
    t.start()
    t.join(30)
    try:
        out.close()
    except OSError:
        pass   # what was buffered cannot reach a closed terminal
    assert not t.is_alive(), _changed("WriterThread (writes to a closed terminal block)")
    assert gone.is_set() and not writer.is_alive()


async def test_after_a_hang_up_the_kernels_sigcont_starts_nothing_on_the_dead_terminal():
    """A hang-up comes with SIGCONT; Textual's driver resumes application mode on it (a
    second writer and input thread on the dead terminal). compat's driver, told of the
    hang-up first (the app's SIGHUP handler runs before Textual's SIGCONT one), does not."""
    import signal

    saved = {s: signal.getsignal(s) for s in (signal.SIGTSTP, signal.SIGCONT)}
    try:
        driver = compat.terminal_driver()(_App(), debug=False, mouse=False, size=None)
        driver.hang_up(terminal_closed=True)
        driver.resume_application_mode()
        assert compat.writer_of(driver) is None, _changed("LinuxDriver.resume_application_mode")
        assert driver.exit_event.is_set()   # the input thread would stop
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
