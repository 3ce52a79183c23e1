"""The app in Norwegian (issue 17, "In Norwegian"): every user-facing string of the Textual
app goes through the catalogue, and the app speaks the language chosen.

(a) A check over the source of every file of ``fieldkit/tui`` (one test per file): string
    literals shown to the user (Label, Static, Button, Checkbox, Input placeholders, Select
    options, notify, Binding descriptions, DataTable columns, ``title=``, modal questions)
    must be wrapped in ``_()``/``N_()``/``ngettext()``; and every wrapped string has a
    Norwegian translation in the compiled catalogue.
(b) The real app through Pilot: with ``set_language("nb")`` the footer, the help, the
    command palette and a screen's labels are Norwegian; ``set_language("en")`` gives
    English back.
"""

from __future__ import annotations

import ast
import gettext
import re
from datetime import date
from pathlib import Path

import pytest

from fieldkit import i18n

REPO = Path(__file__).resolve().parents[2]
TUI = REPO / "fieldkit" / "tui"
TUI_FILES = sorted(p.relative_to(TUI).as_posix() for p in TUI.rglob("*.py"))

WRAPPERS = {"_", "N_", "ngettext"}
#: calls whose first positional argument is shown as it is
SHOWN_FIRST_ARG = {"Label", "Static", "Button", "Checkbox", "notify", "add_column", "ConfirmScreen",
                   "update", "Markdown", "Text", "FieldkitError"}
#: calls whose every positional argument is shown
SHOWN_ALL_ARGS = {"add_columns"}
#: keyword arguments shown wherever they appear
SHOWN_KEYWORDS = {"title", "placeholder", "prompt", "label", "description", "tooltip", "yes", "no",
                  "sub_title"}


#: units written the same in both languages
UNITS = {"dB", "min", "ms", "kHz", "Hz"}


def _has_words(text: str) -> bool:
    """Text a user reads: two letters in a row (so "✓", "·", "", " — " and units pass)."""
    return any(word not in UNITS for word in re.findall(r"[^\W\d_]{2,}", text))


def _unwrapped(node: ast.AST) -> list[ast.AST]:
    """The parts of an expression that put untranslated words on the screen."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node] if _has_words(node.value) else []
    if isinstance(node, ast.JoinedStr):
        literal = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        return [node] if _has_words(literal) else []
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id in WRAPPERS:
            return []
        if isinstance(func, ast.Attribute) and func.attr == "format":
            return _unwrapped(func.value)
        if isinstance(func, ast.Attribute) and func.attr == "join":
            return [a for arg in node.args for a in _unwrapped(arg)]
        return []
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _unwrapped(node.left) + _unwrapped(node.right)
    if isinstance(node, ast.IfExp):
        return _unwrapped(node.body) + _unwrapped(node.orelse)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [a for elt in node.elts for a in _unwrapped(elt)]
    return []


def unwrapped_strings(source: str, filename: str = "<tui>") -> list[tuple[int, str]]:
    """(line, text) of every user-facing literal in ``source`` that is not translated."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        shown: list[ast.AST] = []
        if name in SHOWN_FIRST_ARG and node.args:
            shown.append(node.args[0])
        if name in SHOWN_ALL_ARGS:
            shown.extend(node.args)
        if name == "Binding" and len(node.args) >= 3:
            shown.append(node.args[2])            # Binding(key, action, description)
        if name == "Select" and node.args:        # Select([(prompt, value), ...])
            options = node.args[0]
            if isinstance(options, (ast.List, ast.Tuple)):
                shown.extend(o.elts[0] for o in options.elts if isinstance(o, ast.Tuple) and o.elts)
        if name == "append" and isinstance(func, ast.Attribute) and func.value is not None and node.args:
            # Text.append("...") in widgets that draw themselves: the words, not the symbols
            shown.append(node.args[0])
        for kw in node.keywords:
            if kw.arg in SHOWN_KEYWORDS:
                shown.append(kw.value)
        for expr in shown:
            for bad in _unwrapped(expr):
                text = bad.value if isinstance(bad, ast.Constant) else ast.unparse(bad)
                found.append((bad.lineno, text))
    return found


def test_the_check_finds_unwrapped_strings_and_passes_wrapped_ones():
    bad = '''
Label("Informants")
self.notify(f"Exported {n} files.")
Binding("a", "add", "Add informant")
Input(placeholder="optional")
table.add_columns("Code", _("Name"))
Static("Names: " + name)
t.append(" ● REC ", style="bold")
Select([("Edited (readable)", "edited")])
ConfirmScreen(text, yes="Real names")
'''
    good = '''
Label(_("Informants"))
self.notify(_("Exported {n} files.").format(n=n))
Binding("a", "add", N_("Add informant"))
Input(placeholder=_("optional"))
table.add_columns(_("Code"), _("Name"))
Static(_("Names:") + " " + name)
Static("")
t.append(" ● " + _("REC") + " ", style="bold")
t.append(SYMBOL[m], style="green")
Label(f"{n} · {m}")
Select([(_("Edited (readable)"), "edited")])
ConfirmScreen(text, yes=_("Real names"))
'''
    assert [t for _l, t in unwrapped_strings(bad)] == [
        "Informants", "f'Exported {n} files.'", "Add informant", "optional", "Code", "Names: ", " ● REC ",
        "Edited (readable)", "Real names"]
    assert unwrapped_strings(good) == []


@pytest.mark.parametrize("name", TUI_FILES)
def test_user_facing_strings_are_translated(name: str):
    """Every file of the app: no untranslated user-facing literal."""
    path = TUI / name
    found = unwrapped_strings(path.read_text(encoding="utf-8"), str(path))
    assert not found, f"fieldkit/tui/{name}: strings not wrapped in _()/N_():\n" + "\n".join(
        f"  line {line}: {text!r}" for line, text in found)


@pytest.mark.parametrize("name", TUI_FILES)
def test_translation_functions_are_imported_where_called(name: str):
    """``_()`` called in a module is fieldkit.i18n's, imported at the top of the module (a
    local ``_`` from tuple unpacking, or none at all, fails only when the line runs)."""
    tree = ast.parse((TUI / name).read_text(encoding="utf-8"))
    called = {n.func.id for n in ast.walk(tree)
              if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in WRAPPERS}
    imported = {a.asname or a.name for n in tree.body if isinstance(n, ast.ImportFrom)
                and n.module == "fieldkit.i18n" for a in n.names}
    assert called <= imported, f"fieldkit/tui/{name} calls {sorted(called - imported)} without importing them"
    shadowed = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in called
                and isinstance(n.ctx, ast.Store)]
    assert not shadowed, f"fieldkit/tui/{name}: {sorted(called)} assigned on lines {shadowed}"


def _catalogue() -> gettext.GNUTranslations:
    mo = i18n.compile_catalogue("nb")
    assert mo is not None and mo.is_file()
    with mo.open("rb") as f:
        return gettext.GNUTranslations(f)


def _translated_ids() -> set[str]:
    """Every msgid the Norwegian .po files translate (a non-empty msgstr), words that are
    the same in both languages included: being in the catalogue is what says a person
    looked at the string."""
    from babel.messages.pofile import read_po

    ids: set[str] = set()
    for po in sorted((i18n.LOCALE_DIR / "nb" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as f:
            for m in read_po(f, locale="nb"):
                if m.id and (m.string if isinstance(m.string, str) else all(m.string)):
                    ids.add(m.id[0] if isinstance(m.id, tuple) else m.id)
    return ids


@pytest.mark.parametrize("name", TUI_FILES)
def test_every_app_string_has_a_norwegian_translation(name: str):
    """What ``_()``, ``N_()`` and ``ngettext()`` mark in the file (found by Babel's own
    extractor) is in the Norwegian catalogue, with the same {fields}."""
    from babel.messages.extract import extract_from_file

    nb, known = _catalogue(), _translated_ids()
    missing, fields = [], []
    for _line, msg, _c, _ctx in extract_from_file("python", str(TUI / name),
                                                  keywords={"_": None, "N_": None, "ngettext": (1, 2)}):
        singular = msg[0] if isinstance(msg, tuple) else msg
        translated = nb.ngettext(msg[0], msg[1], 2) if isinstance(msg, tuple) else nb.gettext(msg)
        if singular not in known and _has_words(singular):
            missing.append(singular)
        elif set(re.findall(r"\{(\w+)", translated)) != set(re.findall(r"\{(\w+)", singular)):
            fields.append((singular, translated))
    assert not missing, f"fieldkit/tui/{name}: no Norwegian for {missing}"
    assert not fields, f"fieldkit/tui/{name}: the translation names other {{fields}}: {fields}"


def test_dates_and_numbers_in_the_language():
    from datetime import datetime, timezone

    try:
        i18n.set_language("nb")
        assert i18n.format_date(date(2026, 3, 9)) == "9. mars 2026"
        assert i18n.format_date(date(2026, 3, 9), "long") == "9. mars 2026"
        assert i18n.format_number(1234.5) == "1\xa0234,5"
        assert i18n.format_number(2, decimals=1) == "2,0"
        assert i18n.format_percent(0.42) == "42\xa0%"
        dt = datetime(2026, 3, 9, 10, 5, tzinfo=timezone.utc)
        assert i18n.format_datetime(dt).startswith("9. mars 2026 ")
        assert i18n.format_datetime(dt).endswith(dt.astimezone().strftime("%H:%M"))
        i18n.set_language("en")
        assert i18n.format_date(date(2026, 3, 9)) == "2026-03-09"
        assert i18n.format_date(date(2026, 3, 9), "long") == "9 March 2026"
        assert i18n.format_number(1234.5) == "1,234.5"
        assert i18n.format_datetime(dt) == dt.astimezone().strftime("%Y-%m-%d %H:%M")
        assert i18n.format_date(None) == i18n.format_datetime(None) == ""
    finally:
        i18n.set_language("en")


# ---------------------------------------------------------------------------- the app, in Norwegian

@pytest.fixture
def norwegian():
    i18n.set_language("nb")
    yield
    i18n.set_language("en")


def _footer(app) -> list[str]:  # noqa: ANN001
    from textual.widgets._footer import FooterKey

    return [k.description for k in app.screen.query(FooterKey)]


def _palette(app) -> list[str]:  # noqa: ANN001
    """The command palette's entries as text (title and help line)."""
    from textual.command import CommandList

    found = app.screen.query(CommandList)
    if not found:
        return []
    commands = found.first()
    return [str(commands.get_option_at_index(i).prompt) for i in range(commands.option_count)]


async def _informants_app(tmp_path: Path):  # noqa: ANN202
    from tests.support.screens import REGISTRY_SLUG as SLUG
    from tests.support.screens import registry_project as _ws

    from fieldkit.tui.app import FieldkitApp

    _ws(tmp_path / "data")
    return FieldkitApp(data_dir=tmp_path / "data", project=SLUG)


async def test_footer_help_palette_and_a_screen_in_norwegian_then_english(tmp_path: Path, norwegian):
    from textual.command import CommandPalette
    from textual.widgets import DataTable, Label, Static

    from tests.support.wait import settle as _settle
    from tests.support.wait import until as _until

    app = await _informants_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        footer = _footer(app)
        assert "Hjelp" in footer and "Avslutt" in footer, footer
        assert "Help" not in footer and "Quit" not in footer

        await pilot.press("i")                      # the informants screen (this branch's)
        await _until(pilot, lambda: type(app.screen).__name__ == "InformantsScreen"
                     and app.screen.query_one("#informant-table", DataTable).row_count == 2)
        screen = app.screen
        assert str(screen.query_one("#informants-title", Label).render()) == "Informanter — 2"
        columns = [str(c.label) for c in screen.query_one("#informant-table", DataTable).columns.values()]
        assert columns[:3] == ["Kode", "Rolle", "Organisasjon"] and "Samtykke" in columns
        assert "Navnene er skjult" in str(screen.query_one("#informants-status", Static).render())
        footer = _footer(app)
        assert {"Legg til informant", "Trekker seg", "Vis/skjul navn", "Tilbake", "Hjelp"} <= set(footer), footer

        await pilot.press("question_mark")          # help: the keys of the informants screen
        await _until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        await _settle(app, pilot)
        from textual.widgets import Markdown

        text = app.screen.query_one(Markdown).source
        assert "## Taster på dette skjermbildet (Informanter)" in text
        assert "Legg til informant" in text and "# Hjelp til fieldkit" in text
        assert "**Intervju**" in text and "Keys on this screen" not in text
        assert [b.description for b in app.screen._bindings.get_bindings_for_key("escape")] == ["Lukk"]
        await pilot.press("escape")
        await _until(pilot, lambda: type(app.screen).__name__ == "InformantsScreen")

        await pilot.press("ctrl+p")                 # the palette: this screen's keys by name
        await _until(pilot, lambda: isinstance(app.screen, CommandPalette))
        assert app.screen.query_one("CommandInput").placeholder == "Søk etter kommandoer…"
        await pilot.press(*"legg til")
        await _until(pilot, lambda: any("Legg til informant" in p for p in _palette(app)))
        assert any("tast: a" in p for p in _palette(app)), _palette(app)
        await pilot.press("escape")

    i18n.set_language("en")                         # English again: a new app speaks English
    app = await _informants_app(tmp_path / "en")
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        footer = _footer(app)
        assert "Help" in footer and "Quit" in footer and "Hjelp" not in footer
        await pilot.press("i")
        await _until(pilot, lambda: type(app.screen).__name__ == "InformantsScreen"
                     and app.screen.query_one("#informant-table", DataTable).row_count == 2)
        assert str(app.screen.query_one("#informants-title", Label).render()) == "Informants — 2"
        assert "Add informant" in _footer(app)


async def test_a_screen_pushed_again_after_the_language_changed_is_translated_afresh(tmp_path: Path, norwegian):
    """The binding map keeps the English text: translating it again never starts from a
    translation (set_language between two pushes of the same screen)."""
    from fieldkit.tui.keymap import ensure_binding_ids
    from fieldkit.tui.screens.confirm import ConfirmScreen

    screen = ConfirmScreen("?")
    ensure_binding_ids(screen)
    described = {b.action: b.description for bs in screen._bindings.key_to_bindings.values() for b in bs}
    assert described["answer(True)"] == "Ja" and described["answer(False)"] == "Nei"
    assert described["app.focus_next"] == "Neste felt"          # Textual's own, on every screen
    i18n.set_language("en")
    ensure_binding_ids(screen)
    described = {b.action: b.description for bs in screen._bindings.key_to_bindings.values() for b in bs}
    assert described["answer(True)"] == "Yes" and described["answer(False)"] == "No"
    assert described["app.focus_next"] == "Focus Next"
    ids = {b.action: b.id for bs in screen._bindings.key_to_bindings.values() for b in bs}
    assert ids["answer(True)"] == "confirm.yes" and ids["answer(False)"] == "confirm.no"  # declared ids (issue 25)


def test_one_translation_per_string_across_the_catalogue_files():
    """The .po files are compiled together: a msgid translated differently in two files
    would depend on their order, so each string has one translation."""
    from babel.messages.pofile import read_po

    seen: dict[str, tuple[str, object]] = {}
    clashes = []
    for po in sorted((i18n.LOCALE_DIR / "nb" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as f:
            for m in read_po(f, locale="nb"):
                if not m.id:
                    continue
                key = m.id if isinstance(m.id, str) else m.id[0]
                if key in seen and seen[key][1] != m.string:
                    clashes.append((key, seen[key], (po.name, m.string)))
                seen.setdefault(key, (po.name, m.string))
    assert not clashes, clashes
