"""The pseudo-locale (``FIELDKIT_LANG=pseudo``, fieldkit.i18n): bokmål with every string that
came through the catalogue between ``⟦`` and ``⟧``. :func:`unmarked` finds the words of a text
(a screen, a --help, an export) that stand outside the markers and are not data: text that
reached the user without going through the catalogue (a literal without ``_()``, a sentence
built in English below the interface, Textual's or click's own words).

Data is allowed outside the markers: names, codes, numbers, times and dates (Babel writes the
Norwegian month and day names), paths, and the words of the data the text was made from
(the caller passes them: a guide, a transcript, a tag scheme, the people)."""

from __future__ import annotations

import re
from contextlib import contextmanager

from fieldkit import i18n

OPEN, CLOSE = i18n.PSEUDO_OPEN, i18n.PSEUDO_CLOSE
#: a word: two letters or more
WORD = re.compile(r"[^\W\d_]{2,}")


@contextmanager
def pseudo_language(monkeypatch=None):
    """The pseudo-locale for this process (and FIELDKIT_LANG for what it starts)."""
    before = i18n.language_setting()
    if monkeypatch is not None:
        monkeypatch.setenv("FIELDKIT_LANG", "pseudo")
    i18n.set_language("pseudo")
    try:
        yield
    finally:
        i18n.set_language(before)


def outside(text: str) -> str:
    """``text`` without what stands between the markers (nested markers too: a message whose
    value is a message). A marker cut off where the screen clips a text (``⟦Ledende spø…``)
    ends at the ellipsis; a closing marker whose opening was clipped away takes the text
    before it on its line."""
    out: list[str] = []
    depth = 0
    for line in text.split("\n"):
        kept: list[str] = []
        for ch in line:
            if ch == OPEN:
                depth += 1
            elif ch == CLOSE:
                if depth == 0:
                    kept.clear()        # its opening was clipped away on this line
                else:
                    depth -= 1
            elif ch == "…" and depth:
                depth = 0
            elif depth == 0:
                kept.append(ch)
        out.append("".join(kept))
    return "\n".join(out)


def _data_words(data: str) -> set[str]:
    return {w.casefold() for w in WORD.findall(data)}


def _dates_words() -> set[str]:
    """The month and day names Babel writes in bokmål (data: dates, not interface words)."""
    from babel.dates import get_day_names, get_month_names

    words: set[str] = set()
    for width in ("wide", "abbreviated"):
        for ctx in ("format", "stand-alone"):
            words |= {w.casefold().rstrip(".") for w in get_month_names(width, ctx, "nb_NO").values()}
            words |= {w.casefold().rstrip(".") for w in get_day_names(width, ctx, "nb_NO").values()}
    return words


def unmarked(text: str, data: str = "", allowed: tuple[str, ...] = ()) -> list[str]:
    """The words of ``text`` outside the markers that are not data (sorted, as written)."""
    rest = outside(text)
    rest = re.sub(r"\S*[/\\]\S*", " ", rest)          # paths, model repositories
    rest = re.sub(r"\b\S+@\S+\b", " ", rest)           # e-mail addresses
    rest = re.sub(r"\b\w*\d\w*\b", " ", rest)            # codes with digits: L01, S2, bca391, int8
    data_words = _data_words(data)
    ok = data_words | _dates_words() | {a.casefold() for a in allowed} | {"fieldkit"}
    # a word of the data cut where a column or a panel ends ("rol…" of "rollen") is data
    return sorted({w for w in WORD.findall(rest) if w.casefold() not in ok
                   and not any(w.casefold() in d for d in data_words)})


def _strings(value, keys_of: tuple[str, ...] = ("header",), parent: str = "") -> list[str]:
    """The string values of a JSON/TOML document (its keys are the program's, not data),
    and the keys of the mappings named in ``keys_of`` (a guide's header fields)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        out = list(value) if parent in keys_of else []
        for k, v in value.items():
            out += _strings(v, keys_of, k)
        return out
    if isinstance(value, list):
        return [s for v in value for s in _strings(v, keys_of, parent)]
    return []


def demo_data() -> str:
    """The words the Norwegian demo project is made of (its transcript, guide, tag schemes,
    people and places): the team's words, not the interface's. Only values: the keys of its
    JSON and TOML files ("place", "label" ...) are the program's English."""
    import json
    import tomllib
    from pathlib import Path

    repo = Path(i18n.__file__).resolve().parents[1]
    parts: list[str] = []
    for name in ("demo.json", "transcript.json"):
        parts += _strings(json.loads((repo / "data" / "demo" / name).read_text(encoding="utf-8")))
    for name in ("interview.nb.toml", "observation.nb.toml"):
        parts += _strings(tomllib.loads((repo / "data" / "tagschemes" / name).read_text(encoding="utf-8")))
    guide = (repo / "guides" / "no-leder-samhandling.md").read_text(encoding="utf-8")
    parts.append(re.sub(r"(?m)^[\w ]+:", " ", guide))     # the front matter's keys
    return "\n".join(parts)


def drawn(app) -> str:
    """The text of an app's screen as the terminal shows it (from Textual's own screenshot),
    and the notifications shown on it."""
    import html

    svg = app.export_screenshot()
    text = html.unescape("\n".join(re.findall(r">([^<]*)</text>", svg))).replace("\xa0", " ")
    # the toasts, whole (a screenshot may clip them or be taken before they are drawn)
    toasts = [f"{n.title or ''}\n{n.message}" for n in app._notifications]
    return "\n".join([text, *toasts])


def screen_findings(text: str, data: str = "", allowed: tuple[str, ...] = ()) -> list[str]:
    """What is wrong with a drawn screen in the pseudo-locale: words outside the markers
    that are not data, and, markers taken away, words of the interface's English (a
    translation left in English, an English value put into a Norwegian template)."""
    from tests.support.english import english_in

    found = unmarked(text, data, allowed=allowed)
    plain = re.sub(r"\S*/\S*|\w+…", " ", text.replace(OPEN, " ").replace(CLOSE, " "))
    return found + [f"English: {w}" for w in english_in(plain, data)]


def metavars_outside_the_catalogue() -> dict[str, str]:
    """Each command's placeholders (``INITIALER``, ``TT:MM:SS``) in the pseudo-locale that did
    not come through the catalogue: ``{"command param": shown}``. Choices and date and colour
    formats are what the user types, so they are left out. Loads every command."""
    import click

    from fieldkit.cli import cli, localise

    def walk(path, cmd):
        yield path, cmd
        if isinstance(cmd, click.Group):
            ctx = click.Context(cmd)
            for name in cmd.list_commands(ctx):
                yield from walk([*path, name], cmd.get_command(ctx, name))

    found = {}
    with pseudo_language():
        localise(cli)
        for path, cmd in walk([], cli):
            localise(cmd)
            ctx = click.Context(cmd, info_name=" ".join(path) or "fieldkit")
            for p in cmd.params:
                if isinstance(p, click.Option) and (p.is_flag or p.count) \
                        or isinstance(p.type, (click.Choice, click.DateTime)) or p.metavar == "#RRGGBB":
                    continue
                shown = p.make_metavar(ctx)
                if shown and not shown.strip("[]. ").startswith(OPEN):
                    found[f"{' '.join(path)} {p.name}"] = shown
    return found
