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
from pathlib import Path

from fieldkit.errors import FieldkitError
from fieldkit.i18n import _

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


def ensure_binding_ids(node) -> None:  # noqa: ANN001 - a Screen, the App (or any DOMNode)
    """Give every binding of ``node`` that has none the id ``<screen>.<action>``, so the
    keymap can move it (bindings declared with an id keep theirs), and show its description
    and tooltip in the user's language (``BINDINGS`` hold them as ``N_("...")``)."""
    from dataclasses import replace

    prefix = screen_name(node)
    table = node._bindings.key_to_bindings
    for key, bindings in table.items():
        table[key] = [b if b.id else replace(b, id=binding_id(prefix, b.action)) for b in bindings]
    translate_bindings(node)


def translate_bindings(node) -> None:  # noqa: ANN001
    """Rebuild ``node``'s binding map with every description and tooltip in the language in
    use (Binding is frozen: each is replaced). The English text is remembered on the node,
    so translating again after ``set_language`` starts from it, never from a translation."""
    from dataclasses import replace

    originals: dict = node.__dict__.setdefault("_fieldkit_binding_text", {})

    def tr(text: str) -> str:
        return _(text) if text else text

    table = node._bindings.key_to_bindings
    for key, bindings in table.items():
        out = []
        for b in bindings:
            ident = (b.id, b.action)
            description, tooltip = originals.setdefault(ident, (b.description, b.tooltip))
            out.append(replace(b, description=tr(description), tooltip=tr(tooltip)))
        table[key] = out
