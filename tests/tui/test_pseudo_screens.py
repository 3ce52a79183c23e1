"""Every screen and dialog in the pseudo-locale (issue 22's acceptance): one app run on the
Norwegian demo project with FIELDKIT_LANG=pseudo walks the home screen, every screen of
``tests.support.screens.every_screen``, the tag schemes, the team's conflicts, the unlock
question, and the dialogs opened from them (the informant, researcher and tag forms, the
review's find-and-replace, theme jump, "asked?" suggestions, "who is this voice" and the
coders' agreement), each one's key list (? / F1), the command palette, Textual's keys panel and
the quit hint. Each drawn screen (Textual's own screenshot) must have no word outside the
markers that is not data (a word there reached the user without the catalogue), and, markers
taken away, no word of the interface's English (tests/support/english.py: a translation left
in English, or an English value put into a Norwegian template). This walk replaces the earlier
test_tui_no_english.py, which checked seven of these screens the second way only."""

from __future__ import annotations

import os
import uuid
import re
from pathlib import Path

import pytest

from fieldkit.projects import Workspace
from fieldkit.tui.app import FieldkitApp
from tests.support.cli import fk
from tests.support.english import english_in
from tests.support.pseudo import demo_data, pseudo_language, unmarked
from tests.support.screens import every_screen
from tests.support.wait import settle, until

REPO = Path(__file__).resolve().parents[2]


#: names of programs and file formats (the same in every language), and what the walk types
NAMES = ("ATLAS", "ELAN", "MAXQDA", "Markdown", "NVivo", "QDA", "QualCoder", "REFI", "eaf", "Word", "Excel",
         "CSV", "XLSX", "SRT", "WebVTT", "VTT", "zzqx")


def _drawn(app) -> str:
    """The text on the screen, as the terminal shows it (from Textual's own screenshot)."""
    svg = app.export_screenshot()
    text = "\n".join(re.findall(r">([^<]*)</text>", svg))
    return text.replace("&#160;", " ").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")


@pytest.mark.slow
async def test_every_screen_and_dialog_comes_from_the_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from fieldkit.tui.screens.agreement import AgreementScreen
    from fieldkit.i18n import _
    from fieldkit.tui.screens.confirm import ConfirmScreen
    from fieldkit.tui.screens.conflicts import ConflictsScreen
    from fieldkit.tui.screens.help import HelpScreen
    from fieldkit.tui.screens.tags import TagsScreen
    from fieldkit.tui.screens.unlock import UnlockScreen

    root = tmp_path / "data"
    from fieldkit.transcription.hub import CATALOGUE

    # and the names of the models (data: review names the model of a transcript, and a
    # Norwegian project's review offers "nb-whisper-small" for download)
    data = demo_data() + "\n" + " ".join(CATALOGUE)
    found: dict[str, list[str]] = {}
    dump = os.environ.get("FIELDKIT_PSEUDO_DUMP")   # a file to write every drawn screen to

    with pseudo_language(monkeypatch):
        fk(root, "project", "demo", lang="pseudo")
        # the deletion deadline is near: the home screen warns
        from datetime import date, timedelta

        fk(root, "project", "deadline", "demo", (date.today() + timedelta(days=12)).isoformat(), lang="pseudo")
        with Workspace(root).open("demo") as h:
            from fieldkit.export import session_choices
            from fieldkit.people.researchers import list_researchers

            from fieldkit.instruments.events import add_event
            from fieldkit.sessions.live import tag_keys

            sid = uuid.UUID(str(session_choices(h)[0].id))
            lead = list_researchers(h)[0].id
            quote = next(t for t in tag_keys(h, sid) if t.code == "key_quote")
            # the lead tags too, so the two coders' agreement can be shown
            add_event(h.db, sid, "tag", position_ms=7000, author_id=lead, code="key_quote", tag_code_id=quote.id)
            # the demo's raw transcript is too garbled for the guide to recognise a question
            # ("bistrikt tsuk i atrystcenten"): corrected, as a researcher would before asking
            from fieldkit.sessions.review import edit_segment, load_review

            garbled = next(s for s in load_review(h, sid).segments if "bistrikt" in s.text)
            edit_segment(h, garbled.id, "Hvilke rammer gjør samarbeidet lettere eller vanskeligere?")
        app = FieldkitApp(data_dir=root, project="demo")
        async with app.run_test(size=(140, 45)) as pilot:

            async def look(name: str) -> None:
                await settle(app, pilot)
                text = _drawn(app)
                if dump:
                    with open(dump, "a", encoding="utf-8") as f:
                        f.write(f"\n===== {name}\n{text}\n")
                found[name] = unmarked(text, data, allowed=NAMES)
                # and what is inside them is Norwegian: no word of the interface's English
                # (a translation left in English, an English word in a template)
                words = english_in(re.sub(r"\S*/\S*|\w+…", " ", text.replace("⟦", " ").replace("⟧", " ")), data)
                found[name] += [f"English: {w}" for w in words]

            async def keys_of(name: str) -> None:
                screen = app.screen
                app.push_screen(HelpScreen(screen))
                await until(pilot, lambda: isinstance(app.screen, HelpScreen), f"the key list of {name}")
                await look(f"{name}: keys")
                app.pop_screen()
                await until(pilot, lambda: app.screen is screen, f"back on {name}")

            async def dialog(name: str, open_it, kind) -> None:
                below = app.screen
                app.clear_notifications()
                await open_it()
                await until(pilot, lambda: isinstance(app.screen, kind) or bool(app._notifications), name)
                await look(name)
                if not isinstance(app.screen, kind):
                    raise AssertionError(f"{name} did not open: {[n.message for n in app._notifications]}")
                await keys_of(name)
                app.screen.dismiss(None)
                await until(pilot, lambda: app.screen is below, f"back from {name}")

            await until(pilot, lambda: type(app.screen).__name__ == "HomeScreen", "the home screen")
            await look("home")
            await keys_of("home")
            await pilot.press("d")                              # the day view
            await look("home, days")
            await pilot.press("d")
            await pilot.press("ctrl+c")                        # the quit hint
            await until(pilot, lambda: bool(app._notifications), "the quit hint")
            await look("quit hint")
            app.clear_notifications()
            app.action_command_palette()                        # Textual's command palette
            await until(pilot, lambda: type(app.screen).__name__ == "CommandPalette", "the palette")
            await look("command palette")
            await pilot.press("z", "z", "q", "x")
            await look("command palette, no match")
            await pilot.press("escape")
            await until(pilot, lambda: type(app.screen).__name__ == "HomeScreen", "home again")
            app.action_show_help_panel()                       # Textual's keys panel
            await look("keys panel")
            app.action_hide_help_panel()

            # the confirm dialog with a question of the interface (every_screen's is a test's literal)
            screens = [*[(n, m) for n, m in every_screen(sid, lead, "demo") if n != "confirm"],
                       ("confirm", lambda: ConfirmScreen(_("Stop the recording and end the interview?"))),
                       ("tags", lambda: TagsScreen("demo")),
                       ("conflicts", lambda: ConflictsScreen("demo")),
                       ("unlock", lambda: UnlockScreen(root / "demo"))]
            for name, make in screens:
                screen = make()
                app.push_screen(screen)
                await until(pilot, lambda: app.screen is screen, f"the {name} screen")
                await look(name)
                await keys_of(name)
                if name == "informants":
                    await dialog("informant form", lambda: screen.run_action("add"), _modal("InformantForm"))
                elif name == "team":
                    await dialog("researcher form", lambda: screen.run_action("add"), _modal("ResearcherForm"))
                elif name == "tags":
                    await dialog("tag form", lambda: screen.run_action("add"), _modal("TagForm"))
                elif name == "review":
                    await dialog("replace", lambda: screen.run_action("replace"), _modal("ReplaceScreen"))
                    await dialog("theme jump", lambda: screen.run_action("theme"), _modal("ThemeJumpScreen"))
                    await dialog("asked?", lambda: screen.run_action("suggestions"), _modal("SuggestionsScreen"))
                    voice = _modal("VoiceScreen")
                    await dialog("who is this voice", lambda: _push(app, voice("A", screen.data.speakers)), voice)
                    await dialog("agreement", lambda: screen.run_action("agreement"), AgreementScreen)
                if name in ("confirm", "unlock"):
                    screen.dismiss(False)
                else:
                    app.pop_screen()
                await until(pilot, lambda: type(app.screen).__name__ == "HomeScreen", f"home after {name}")
    assert {k: v for k, v in found.items() if v} == {}
    assert len(found) > 40, sorted(found)   # every stop was drawn and checked


async def _push(app, screen) -> None:
    app.push_screen(screen)


def _modal(name: str):
    """The class of a dialog by name (its module imports it lazily)."""
    from fieldkit.tui.screens import review, tags, team
    from fieldkit.tui.screens.informant_form import InformantForm

    return {"InformantForm": InformantForm, "ResearcherForm": team.ResearcherForm, "TagForm": tags.TagForm,
            "ReplaceScreen": review.ReplaceScreen, "ThemeJumpScreen": review.ThemeJumpScreen,
            "SuggestionsScreen": review.SuggestionsScreen, "VoiceScreen": review.VoiceScreen}[name]
