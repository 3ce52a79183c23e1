"""The one rule for text a person types or pastes, applied wherever text enters the store.

Researchers paste from Word, e-mail, spreadsheets and observation forms. What arrives may
hold Word's manual line break (``\\x0b``), a form feed, a Unicode line separator, a NUL
byte, a lone surrogate or a character in decomposed form. :func:`clean_text` turns all of
that into text every part of fieldkit can carry (SQLite, PostgreSQL, every XML export,
Excel, subtitles):

* every line break is ``\\n``: ``\\r\\n``, ``\\r``, ``\\x0b``, ``\\x0c``, ``\\x85``,
  ``\\u2028`` and ``\\u2029`` become ``\\n`` (nothing that ``str.splitlines`` would split
  at is lost: ``\\x1c``-``\\x1e`` are removed like the other controls);
* the C0 control characters other than tab and newline are removed (NUL included);
* code points XML 1.0 cannot carry are removed: lone surrogates, U+FFFE and U+FFFF;
* the text is put in Unicode normal form C (``e`` + combining acute becomes ``é``), so
  the same word is stored, searched and pseudonymised the same way.

Everything else is kept: right-to-left marks, zero-width joiners (emoji sequences need
them), soft hyphens, emoji, DEL and the C1 controls other than ``\\x85`` (XML 1.0 allows
them). The rule is idempotent: ``clean_text(clean_text(s)) == clean_text(s)``.

This module imports nothing of fieldkit; the store, the exports, the imports and the app
all use it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

#: what becomes a newline (``\r\n`` first, so it makes one newline, not two)
_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
#: what is removed: C0 controls but tab and newline, lone surrogates, U+FFFE, U+FFFF
_DROP = re.compile("[\x00-\x08\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: any character the rule may change (a quick test before the work)
_SUSPECT = re.compile("[\x00-\x08\x0b-\x1f\x85\u2028\u2029\ud800-\udfff\ufffe\uffff]")
_LINE_RUN = re.compile(r"[ \t]*\n[ \t\n]*")


def clean_text(text: str) -> str:
    """``text`` by the rule above (see the module's description)."""
    if not text:
        return text
    if text.isascii():
        if text.isprintable() or _SUSPECT.search(text) is None:
            return text
    elif _SUSPECT.search(text) is None:
        return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)
    cleaned = _DROP.sub("", _BREAKS.sub("\n", text))
    if not cleaned.isascii():
        cleaned = unicodedata.normalize("NFC", cleaned)
    return text if cleaned == text else cleaned


def clean_optional(text: str | None) -> str | None:
    return None if text is None else clean_text(text)


def clean_value(value: Any) -> Any:
    """``value`` with every string in it cleaned: a string, or lists and dicts (JSON
    columns: keys and values) holding strings, at any depth. Other values unchanged; a value
    with nothing to clean comes back as the same object (``is``), so callers can tell."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        out = None
        for n, (k, v) in enumerate(value.items()):
            ck, cv = clean_value(k), clean_value(v)
            if out is None and (ck is not k or cv is not v):
                out = dict(list(value.items())[:n])
            if out is not None:
                out[ck] = cv
        return value if out is None else out
    if isinstance(value, (list, tuple)):
        items = None
        for n, v in enumerate(value):
            cv = clean_value(v)
            if items is None and cv is not v:
                items = list(value[:n])
            if items is not None:
                items.append(cv)
        return value if items is None else type(value)(items)
    return value


#: how json.dumps writes the control characters the rule removes or changes
_JSON_ESCAPES = ("\\u00", "\\r", "\\f", "\\b")


def clean_json(value: Any) -> Any:
    """:func:`clean_value` for a JSON column's value, quicker where there is nothing to
    clean (the usual case: a segment's word list): one look at its JSON text decides."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):      # a text column: no JSON text to make
        return clean_text(value)
    try:
        dumped = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return clean_value(value)
    if (_SUSPECT.search(dumped) is None and not any(e in dumped for e in _JSON_ESCAPES)
            and (dumped.isascii() or unicodedata.is_normalized("NFC", dumped))):
        return value
    return clean_value(value)


def one_line(text: str) -> str:
    """``text`` for a single-line field: cleaned, its lines joined with one space (no
    line is dropped; blank lines and the spaces around each break make one space; a
    break at the very start or end, as a copied line usually ends, is left out)."""
    return _LINE_RUN.sub(" ", clean_text(text).strip("\n"))


__all__ = ["clean_text", "clean_optional", "clean_value", "clean_json", "one_line"]
