"""Keys a researcher can change: every binding of the app has an id (``interview.stop``,
``tag.key_quote`` ...), and a TOML keymap maps ids to keys.

The keymap is ``keymap.toml`` in fieldkit's configuration folder (platformdirs'
user config dir, for example ``~/.config/fieldkit/keymap.toml`` on Linux), or the file
named by ``$FIELDKIT_KEYMAP``. Either form works::

    # keymap.toml
    "interview.stop" = "ctrl+e"
    [tag]
    key_quote = "K"           # the tag with code key_quote on K
    follow_up = "F,ctrl+f"    # two keys

Tag ids are ``tag.<code>`` with the code from the project's tag scheme, so one keymap
serves every project that uses the scheme.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from fieldkit.errors import FieldkitError
from fieldkit.i18n import N_, _

ENV_KEYMAP = "FIELDKIT_KEYMAP"


def keymap_path() -> Path:
    env = os.environ.get(ENV_KEYMAP)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_path

    return user_config_path("fieldkit", appauthor=False) / "keymap.toml"


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        elif isinstance(value, str) and value.strip():
            out[name] = ",".join(k.strip() for k in value.split(",") if k.strip())
        elif isinstance(value, list) and all(isinstance(v, str) for v in value) and value:
            out[name] = ",".join(v.strip() for v in value)
        else:
            raise FieldkitError(_("In the keymap, {name!r} must be a key such as \"ctrl+e\" (or a list of "
                                  "keys).").format(name=name))
    return out


def load_keymap(path: Path | None = None) -> dict[str, str]:
    """Binding id -> keys ("k" or "k,ctrl+k"); {} without a keymap file."""
    import tomllib

    path = path or keymap_path()
    if not path.is_file():
        return {}
    try:
        with open(path, "rb") as fh:
            table = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise FieldkitError(_("The keymap {path} cannot be read: {reason}.").format(path=path, reason=exc),
                            hint=_("Write it as lines like  \"interview.stop\" = \"ctrl+e\"")) from None
    except OSError as exc:
        raise FieldkitError(_("The keymap {path} cannot be read: {reason}.").format(path=path,
                                                                                  reason=exc.strerror)) from None
    try:
        return _flatten(table)
    except FieldkitError as exc:
        raise FieldkitError(f"{path}: {exc.message}") from None


def binding_id(screen_name: str, action: str) -> str:
    """``<screen>.<action>``: "home.new", "review.quote", "interview.cover_covered"."""
    import re

    name, _sep, args = action.partition("(")
    args = re.sub(r"[^A-Za-z0-9]+", "_", args).strip("_")
    return f"{screen_name}.{name}" + (f"_{args}" if args else "")


def screen_name(node: object) -> str:
    """"HomeScreen" -> "home", "InformantFormScreen" -> "informant_form"."""
    import re

    name = type(node).__name__.removesuffix("Screen") or type(node).__name__
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


#: ids that fieldkit generated before every binding declared its own (``<screen>.<action>``),
#: where the declared id differs: an old keymap.toml that names them keeps working (with a
#: warning saying the new name). Screens' Help and Quit keys were ``<screen>.app.help`` and
#: ``<screen>.app.quit`` (see ``_OLD_SHELL``).
OLD_IDS: dict[str, tuple[str, ...]] = {
    "review.jump_note_1": ("review.next_note", "review.prev_note"),
    "review.jump_tag_1": ("review.next_tag", "review.prev_tag"),
    "review.uncertain_1": ("review.next_unsure", "review.prev_unsure"),
    "confirm.answer_True": ("confirm.yes",),
    "confirm.answer_False": ("confirm.no",),
    "agreement.dismiss_None": ("agreement.close",),
    "replace.dismiss_None": ("replace.cancel",),
    "theme_jump.dismiss_None": ("theme_jump.cancel",),
    "voice.dismiss_None": ("voice.cancel",),
}
_OLD_SHELL = {"app.help": ("app.help", "app.help_f1"), "app.quit": ("app.quit",)}


def new_ids(old: str) -> tuple[str, ...] | None:
    """The declared ids an old generated id stands for; None when ``old`` is not an old id."""
    if old in OLD_IDS:
        return OLD_IDS[old]
    screen, sep, rest = old.partition(".")
    if sep and screen != "app" and rest in _OLD_SHELL:
        return _OLD_SHELL[rest]
    return None


def resolve_old_ids(keymap: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """``keymap`` with old generated ids replaced by the declared ones (an entry under the
    new id wins), and a warning for each old id met."""
    out: dict[str, str] = {}
    warnings: list[str] = []
    for name, keys in keymap.items():
        ids = new_ids(name)
        if ids is None:
            out[name] = keys
            continue
        warnings.append(_("In the keymap, {old!r} is an old name: write {new} instead.").format(
            old=name, new=" / ".join(repr(i) for i in ids)))
        for new in ids:
            out.setdefault(new, keys)
    return out, warnings


def ensure_binding_ids(node) -> None:
    """Show ``node``'s binding descriptions and tooltips in the user's language
    (``BINDINGS`` hold them as ``N_("...")``). Every binding declares its id
    (tests/test_keys_ids.py); one without gets ``<screen>.<action>`` so the keymap can
    still move it."""
    from dataclasses import replace

    from fieldkit.tui import compat

    prefix = screen_name(node)
    compat.replace_bindings(node, lambda b: b if b.id else replace(b, id=binding_id(prefix, b.action)))
    translate_bindings(node)


def translate_bindings(node) -> None:
    """Rebuild ``node``'s binding map with every description and tooltip in the language in
    use (Binding is frozen: each is replaced). The English text is remembered on the node,
    so translating again after ``set_language`` starts from it, never from a translation."""
    from dataclasses import replace

    from fieldkit.tui import compat

    originals: dict = node.__dict__.setdefault("_fieldkit_binding_text", {})

    def tr(text: str) -> str:
        return _(text) if text else text

    def translated(b):
        description, tooltip = originals.setdefault((b.id, b.action), (b.description, b.tooltip))
        return replace(b, description=tr(description), tooltip=tr(tooltip))

    compat.replace_bindings(node, translated)


_RANGE = re.compile(r"^(\w+)\((\d)\)$")


@dataclass
class KeyRow:
    """One command of a screen: its keys as the user has them now (after the keymap), its
    footer word, its longer explanation (the binding's tooltip) and its id."""
    keys: list[str]
    description: str
    tooltip: str
    id: str | None
    action: str

    @property
    def key_text(self) -> str:
        return ", ".join(self.keys)


def key_rows(*nodes) -> list[KeyRow]:
    """The commands of ``nodes``' bindings, in the order they were declared, one row per
    command (a command on two keys is one row), with the keys after the keymap; a run
    of digit keys for one action (probes 1-9, speakers 1-9) is one row. Textual's own
    bindings that explain nothing (no tooltip, system ones) are left out, and so are the
    focus keys (Tab) of every screen."""
    from fieldkit.tui import compat

    rows: dict[object, KeyRow] = {}
    for node in nodes:
        declared = [b.id or b.action for b in compat.node_bindings(node)]
        mapped = compat.bindings_as_mapped(node)
        mapped.sort(key=lambda b: declared.index(b.id or b.action) if (b.id or b.action) in declared else len(declared))
        for b in mapped:
            if b.system or not b.tooltip or b.key in ("tab", "shift+tab"):
                continue
            m = _RANGE.match(b.action)
            # one row per command: Help on ? and on F1 (two ids, one action) is one row
            ident = ("range", m.group(1)) if m and b.key.isdigit() else b.action.removeprefix("app.")
            # a key the keymap moved has no key_display; a digit run's "1-9" is rebuilt below
            key = _key(b.key) if m and b.key.isdigit() else (b.key_display or _key(b.key))
            row = rows.get(ident)
            if row is None:
                description = re.sub(r"\s*\d+$", "", b.description) if m and b.key.isdigit() else b.description
                rows[ident] = KeyRow([key], description, b.tooltip, b.id, b.action)
            elif key not in row.keys:
                row.keys.append(key)
    out = list(rows.values())
    for row in out:
        digits = [k for k in row.keys if k.isdigit()]
        if len(digits) > 1 and len(digits) == len(row.keys):
            row.keys = [f"{digits[0]}-{digits[-1]}"]
    return out


#: the key names Textual's footer and keys panel show (``App.get_key_display``), as the
#: keycaps of the user's keyboard say them (a Norwegian keyboard: "mellomrom", "skift")
KEY_WORDS = {"space": N_("space"), "esc": N_("esc"), "tab": N_("tab"), "del": N_("del"),
             "pgup": N_("pgup"), "pgdn": N_("pgdn"), "home": N_("home"), "end": N_("end"),
             "shift": N_("shift"), "insert": N_("insert"), "backspace": N_("backspace"), "super": N_("super"),
             "alt": N_("alt"), "meta": N_("meta")}


def key_display(shown: str) -> str:
    """Textual's display of a key ("shift+tab", "space", "^pgup") in the user's language."""
    def word(token: str) -> str:
        caret = "^" if token.startswith("^") and len(token) > 1 else ""
        token = token[len(caret):]
        return caret + (_(KEY_WORDS[token]) if token in KEY_WORDS else token)

    if "+" in shown[:-1]:
        return "+".join(word(t) for t in shown.split("+"))
    return word(shown)


def _key(key: str) -> str:
    names = {"question_mark": "?", "slash": "/", "space": _("Space"), "escape": _("Esc"), "enter": _("Enter"),
             "f1": "F1", "up": "↑", "down": "↓", "left": "←", "right": "→",
             "left_square_bracket": "[", "right_square_bracket": "]", "delete": _("Del"), "tab": _("Tab"),
             "backspace": _("Backspace")}
    if key in names:
        return names[key]
    if key.startswith("ctrl+"):
        return _("Ctrl") + "+" + key[5:].upper()
    return key
