"""Every Binding fieldkit declares has an explicit id ("<screen>.<what>", tags
"tag.<code>") and a tooltip, so a user's keymap.toml survives a renamed action and the
help and palette can explain each key. Walks every class in fieldkit.tui (screens,
widgets, the app) and the interview screen's tag keys made at run time."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

from textual.binding import Binding
from textual.dom import DOMNode

import fieldkit.tui
from fieldkit.i18n import N_  # noqa: F401 - the tooltips are marked for translation

ID = re.compile(r"^[a-z_]+\.[a-z0-9_]+$")


def _declared() -> list[tuple[str, Binding]]:
    out = []
    for info in pkgutil.walk_packages(fieldkit.tui.__path__, "fieldkit.tui."):
        module = importlib.import_module(info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, DOMNode) or cls.__module__ != module.__name__:
                continue
            for b in Binding.make_bindings(cls.__dict__.get("BINDINGS", [])):
                out.append((f"{cls.__module__}.{name}", b))
    return out


def test_every_declared_binding_has_an_id_and_a_tooltip():
    declared = _declared()
    assert len(declared) > 80, len(declared)   # the walk found the screens
    problems = [f"{where}: {b.key} -> {b.action} (id={b.id!r}, tooltip={b.tooltip!r})"
                for where, b in declared if not (b.id and ID.match(b.id) and b.tooltip)]
    assert not problems, "Bindings without an explicit id or tooltip:\n" + "\n".join(problems)


def test_one_id_means_one_command():
    """Two bindings share an id only when they are one command (the same action, e.g.
    Help on a screen and on the app): a keymap entry must never move two different things."""
    actions: dict[str, set[str]] = {}
    for _where, b in _declared():
        actions.setdefault(b.id, set()).add(b.action.removeprefix("app."))
    assert not {i: a for i, a in actions.items() if len(a) > 1}


def test_old_generated_ids_point_at_declared_ids():
    from fieldkit.tui.keymap import OLD_IDS, new_ids

    ids = {b.id for _w, b in _declared()}
    for old, new in OLD_IDS.items():
        assert set(new) <= ids, (old, new)
    assert new_ids("review.app.help") == ("app.help", "app.help_f1")
    assert new_ids("home.app.quit") == ("app.quit",)
    assert new_ids("review.edit") is None and new_ids("app.help") is None


def test_every_binding_names_an_action_that_exists():
    """A binding whose action its class (or the app, for ``app.``) does not have does
    nothing when pressed, silently: the home screen's Tab once named ``focus_next``, which
    only the app has, and Tab never left the project list."""
    from fieldkit.tui.app import FieldkitApp

    missing = []
    for where, b in _declared():
        module, _sep, name = where.rpartition(".")
        owner = getattr(importlib.import_module(module), name)
        action = b.action.split("(", 1)[0]
        namespace, _dot, bare = action.rpartition(".")
        if namespace not in ("", "app"):
            continue   # another widget's actions (screen., focused.) are checked where they live
        target = FieldkitApp if namespace == "app" else owner
        if not hasattr(target, f"action_{bare}"):
            missing.append(f"{where}: {b.key} -> {b.action}")
    assert not missing, "Bindings whose action does not exist:\n" + "\n".join(missing)
