"""Every touch of Textual's private API, in one place.

fieldkit changes a node's bindings at run time (tag keys come from the project's tag scheme;
descriptions and tooltips are translated when a screen is pushed; the observer's q says
"Leave") and reads the app's keymap to show keys as the researcher moved them. Textual has
no public API for these, so they go through the few functions below and nowhere else
(``tests/test_keys_compat.py`` checks each against the installed Textual and fails with a
message naming the touch when an upgrade changed it; pyproject bounds textual to the
major version that test ran on).

Private names used: ``DOMNode._bindings`` (a ``BindingsMap``, its ``key_to_bindings``) and
``App._keymap`` (binding id -> keys, set by the public ``App.set_keymap``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from textual.binding import Binding, BindingsMap


def binding_table(node) -> dict[str, list[Binding]]:  # noqa: ANN001 - a Screen, the App (any DOMNode)
    """``node``'s live key -> bindings table (what a key press looks up)."""
    return node._bindings.key_to_bindings


def has_bindings(node) -> bool:  # noqa: ANN001
    """Whether a node carries a binding table of its own (every DOMNode does in Textual 8)."""
    return hasattr(node, "_bindings")


def node_bindings(node) -> list[Binding]:  # noqa: ANN001
    """Every binding ``node`` has now (class BINDINGS and those added at run time)."""
    return [b for bindings in binding_table(node).values() for b in bindings]


def replace_bindings(node, change: Callable[[Binding], Binding]) -> None:  # noqa: ANN001
    """Replace each of ``node``'s bindings by ``change(binding)`` (Binding is frozen)."""
    table = binding_table(node)
    for key, bindings in list(table.items()):
        table[key] = [change(b) for b in bindings]


def add_bindings(node, bindings: Iterable[Binding]) -> None:  # noqa: ANN001
    """Bind more keys on ``node`` after it was made (a tag scheme's keys)."""
    table = binding_table(node)
    for b in Binding.make_bindings(bindings):   # one per key, as BINDINGS are stored
        table.setdefault(b.key, []).append(b)


def app_keymap(app) -> dict[str, str]:  # noqa: ANN001
    """The keymap given to ``app.set_keymap`` (binding id -> "key" or "key,key")."""
    return dict(getattr(app, "_keymap", None) or {})


def bindings_as_mapped(node) -> list[Binding]:  # noqa: ANN001
    """``node``'s bindings with the keys the user has now: the app's keymap applied, as
    Textual applies it when a key is pressed (on a copy; the node is not changed)."""
    bindings_map: BindingsMap = node._bindings.copy()
    keymap = app_keymap(node.app)
    if keymap:
        bindings_map.apply_keymap(keymap)
    return [b for bindings in bindings_map.key_to_bindings.values() for b in bindings]


def footer_keys(footer) -> list[tuple[object, str, str]]:  # noqa: ANN001 - a textual Footer
    """(region, key shown, description) of each key a Footer draws now (its FooterKey
    children; the class is not exported by textual.widgets)."""
    from textual.widgets._footer import FooterKey

    return [(fk.region, fk.key_display, fk.description) for fk in footer.query(FooterKey)]
