"""Command palette commands (Ctrl+P): help, open a project, and every key binding of the
screen the palette was opened from (so each command can be found by name as well as
by key)."""

from __future__ import annotations

from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from fieldkit.i18n import N_, _


#: Help and Quit, first in every screen's BINDINGS: the footer shows keys in that order, so
#: a narrow terminal (80x24) cuts off a screen's less used keys, never these two
#: (the same ids as the app's own Help and Quit: a keymap entry moves both)
HELP_TIP = N_("list every key of this screen, with what it does")
QUIT_TIP = N_("quit fieldkit")
SHELL_KEYS = [
    Binding("question_mark", "app.help", N_("Help"), key_display="?", id="app.help", tooltip=HELP_TIP),
    # where a text box takes "?" as a character
    Binding("f1", "app.help", N_("Help"), id="app.help_f1", tooltip=HELP_TIP),
    Binding("ctrl+q", "app.quit", N_("Quit"), id="app.quit", tooltip=QUIT_TIP),
]
#: ? and F1 in a dialog (a modal screen stops the app's own keys; Ctrl+Q has priority)
HELP_KEYS = SHELL_KEYS[:2]


class FieldkitCommands(Provider):
    def _commands(self) -> list[tuple[str, object, str]]:
        app = self.app
        screen = self.screen  # the screen the palette was opened from
        cmds: list[tuple[str, object, str]] = [
            (_("Help: keys and screens"), app.action_help, _("Show every key binding")),
        ]
        from fieldkit.tui.keymap import key_rows

        # the screen's bindings (its tags included), with the keys as the keymap left them
        for row in key_rows(screen):
            if row.action.startswith(("app.", "probe(", "digit(", "question(", "theme(", "speaker(")):
                continue
            help_text = _("key: {key}").format(key=row.key_text)
            cmds.append((row.description or row.action, partial(screen.run_action, row.action),
                         f"{row.tooltip} ({help_text})" if row.tooltip else help_text))
        if hasattr(screen, "action_tag_schemes"):
            cmds.append((_("Tag schemes"), screen.action_tag_schemes,
                         _("Rename, add or remove the project's tags, or change their keys")))
        if hasattr(screen, "action_word_list"):
            cmds.append((_("Word list"), screen.action_word_list,
                         _("Names, places and terms the transcript should spell right")))
        projects = getattr(screen, "projects", None)
        if projects:
            for slug, name in projects:
                cmds.append(
                    (_("Open project: {name}").format(name=name), partial(screen.select_project, slug), slug)
                )
            cmds.append((_("Refresh projects"), screen.action_refresh, _("Read the data folder again")))
        return cmds

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
