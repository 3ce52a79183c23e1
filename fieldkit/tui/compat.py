"""Every touch of Textual's private API, in one place.

fieldkit changes a node's bindings at run time (tag keys come from the project's tag scheme;
descriptions and tooltips are translated when a screen is pushed; the observer's q says
"Leave") and reads the app's keymap to show keys as the researcher moved them. Textual has
no public API for these, so they go through the few functions below and nowhere else
(``tests/test_keys_compat.py`` checks each against the installed Textual and fails with a
message naming the touch when an upgrade changed it; pyproject bounds textual to the
major version that test ran on).

Private names used: ``DOMNode._bindings`` (a ``BindingsMap``, its ``key_to_bindings``),
``App._keymap`` (binding id -> keys, set by the public ``App.set_keymap``) and
``App._driver`` (the app's driver), ``LinuxDriver._file`` (the terminal its writer thread
writes to; see :func:`terminal_driver`) and ``LinuxDriver._writer_thread``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from textual.binding import Binding, BindingsMap


def binding_table(node) -> dict[str, list[Binding]]:
    """``node``'s live key -> bindings table (what a key press looks up)."""
    return node._bindings.key_to_bindings


def has_bindings(node) -> bool:
    """Whether a node carries a binding table of its own (every DOMNode does in Textual 8)."""
    return hasattr(node, "_bindings")


def node_bindings(node) -> list[Binding]:
    """Every binding ``node`` has now (class BINDINGS and those added at run time)."""
    return [b for bindings in binding_table(node).values() for b in bindings]


def replace_bindings(node, change: Callable[[Binding], Binding]) -> None:
    """Replace each of ``node``'s bindings by ``change(binding)`` (Binding is frozen)."""
    table = binding_table(node)
    for key, bindings in list(table.items()):
        table[key] = [change(b) for b in bindings]


def add_bindings(node, bindings: Iterable[Binding]) -> None:
    """Bind more keys on ``node`` after it was made (a tag scheme's keys)."""
    table = binding_table(node)
    for b in Binding.make_bindings(bindings):   # one per key, as BINDINGS are stored
        table.setdefault(b.key, []).append(b)


def app_keymap(app) -> dict[str, str]:
    """The keymap given to ``app.set_keymap`` (binding id -> "key" or "key,key")."""
    return dict(getattr(app, "_keymap", None) or {})


def bindings_as_mapped(node) -> list[Binding]:
    """``node``'s bindings with the keys the user has now: the app's keymap applied, as
    Textual applies it when a key is pressed (on a copy; the node is not changed)."""
    bindings_map: BindingsMap = node._bindings.copy()
    keymap = app_keymap(node.app)
    if keymap:
        bindings_map.apply_keymap(keymap)
    return [b for bindings in bindings_map.key_to_bindings.values() for b in bindings]


def footer_keys(footer) -> list[tuple[object, str, str]]:
    """(region, key shown, description) of each key a Footer draws now (its FooterKey
    children; the class is not exported by textual.widgets)."""
    from textual.widgets._footer import FooterKey

    return [(fk.region, fk.key_display, fk.description) for fk in footer.query(FooterKey)]


# ---------------------------------------------------------------------- a closed terminal


class _Terminal:
    """The terminal as Textual's writer thread writes to it. A closed terminal (a hang-up:
    every write fails with EIO) made Textual's writer thread die on its first write; the
    next 30 writes filled its queue and the 31st blocked the app's event loop for ever (a
    process that ignored SIGTERM). Here a failed write marks the terminal gone and every
    later write is dropped: the writer never dies, nothing waits on it."""

    def __init__(self, file, on_gone: Callable[[], None]) -> None:
        self._file, self._on_gone, self.gone = file, on_gone, False

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                self._file.write(text)
            except (OSError, ValueError):
                self._lost()
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self._file.flush()
            except (OSError, ValueError):
                self._lost()

    def _lost(self) -> None:
        self.gone = True
        self._on_gone()

    def fileno(self) -> int:
        return self._file.fileno()

    def isatty(self) -> bool:
        return not self.gone and self._file.isatty()


@functools.cache
def terminal_driver():
    """Textual's Linux driver, made safe for a terminal that goes away (the app's
    ``get_driver_class``): output to a closed terminal is dropped (:class:`_Terminal`),
    and after :meth:`hang_up` the SIGCONT the kernel sends with a hang-up no longer
    restarts application mode on the dead terminal (Textual's resume started a second
    writer and input thread there, which is what filled the writer's queue)."""
    from textual.drivers.linux_driver import LinuxDriver

    class TerminalDriver(LinuxDriver):
        hung_up = False

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            # the input thread spins on a closed terminal's end of file: it stops as well
            self._file = _Terminal(self._file, self.exit_event.set)

        def hang_up(self, terminal_closed: bool) -> None:
            """The app is ending on a signal (SIGHUP, SIGTERM): no restart on SIGCONT;
            with ``terminal_closed`` (nothing to draw on any more) output is dropped and
            the input thread, which spins on the closed terminal's end of file, stops."""
            self.hung_up = True
            if terminal_closed:
                self._file._lost()

        def resume_application_mode(self) -> None:
            if not self.hung_up:
                super().resume_application_mode()

    return TerminalDriver


def writer_of(driver):
    """The driver's writer thread (None before application mode started)."""
    return getattr(driver, "_writer_thread", None)


def driver_hang_up(app, closed: bool) -> None:
    """Tell ``app``'s driver (a :func:`terminal_driver`) that the app ends on a signal;
    ``closed``: a SIGHUP, and the terminal no longer answers (a hang-up, not a ``kill -HUP``
    with the terminal still open, which is restored as at every exit)."""
    import os

    driver = getattr(app, "_driver", None)
    if driver is None or not hasattr(driver, "hang_up"):
        return   # Textual's own driver (headless in tests, Windows)
    try:
        gone = closed and not os.isatty(driver.fileno)
    except OSError:
        gone = closed
    driver.hang_up(terminal_closed=gone)
