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
SHELL_KEYS = [
    Binding("question_mark", "app.help", N_("Help"), key_display="?"),
    Binding("f1", "app.help", N_("Help")),   # where a text box takes "?" as a character
    Binding("ctrl+q", "app.quit", N_("Quit")),
]


class FieldkitCommands(Provider):
    def _commands(self) -> list[tuple[str, object, str]]:
        app = self.app
        screen = self.screen  # the screen the palette was opened from
        cmds: list[tuple[str, object, str]] = [
            (_("Help: keys and screens"), app.action_help, _("Show every key binding")),
        ]
        seen = set()
        for binding in getattr(screen, "BINDINGS", []):
            if (not isinstance(binding, Binding) or binding.action in seen or binding.key in ("tab",)
                    or binding.action.startswith("app.")):
                continue
            if binding.action.startswith(("probe(", "question(", "theme(")):
                continue
            seen.add(binding.action)
            key = binding.key_display or binding.key
            # BINDINGS hold the English text (N_): shown in the user's language
            cmds.append((_(binding.description) if binding.description else binding.action,
                         partial(screen.run_action, binding.action), _("key: {key}").format(key=key)))
        if hasattr(screen, "action_tag_schemes"):
            cmds.append((_("Tag schemes"), screen.action_tag_schemes,
                         _("Rename, add or remove the project's tags, or change their keys")))
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
