"""The interface's English, as a word list: every word of every msgid in the Norwegian
catalogue that appears in none of its translations. A Norwegian text (an export, a
--help) that contains one of them has English from the interface in it: a string that
bypassed the catalogue, or one built in English below the interface. Words of the data
the text was made from (a transcript, a guide, a tag scheme) are left out by the caller."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

import fieldkit

PO_DIR = Path(fieldkit.__file__).parent / "locale" / "nb" / "LC_MESSAGES"
#: a word: three letters or more (placeholders such as {name} are removed first)
WORD = re.compile(r"[^\W\d_]{3,}")


def words(text: str) -> set[str]:
    return {w.casefold() for w in WORD.findall(text)}


@lru_cache(maxsize=1)
def _catalogue_words() -> tuple[frozenset[str], frozenset[str]]:
    english: set[str] = set()
    norwegian: set[str] = set()
    for po in sorted(PO_DIR.glob("*.po")):
        with po.open("rb") as f:
            for m in read_po(f, locale="nb"):
                if not m.id:
                    continue
                for i in (m.id if isinstance(m.id, (tuple, list)) else (m.id,)):
                    english |= words(re.sub(r"\{[^}]*\}", " ", i))
                for s in (m.string if isinstance(m.string, (tuple, list)) else (m.string,)):
                    norwegian |= words(s)
    return frozenset(english), frozenset(norwegian)


def interface_english(data: str = "") -> frozenset[str]:
    """English words of the interface that Norwegian never uses, minus the words of ``data``."""
    english, norwegian = _catalogue_words()
    return frozenset(english - norwegian - words(data))


def _norwegian_words() -> set[str]:
    return set(_catalogue_words()[1])


def english_in(text: str, data: str = "") -> list[str]:
    """The interface's English words found in ``text`` (sorted, as written)."""
    bad = interface_english(data)
    drawn = {w.casefold() for w in WORD.findall(text)} | words(data)
    # a word cut where a dialog covers a table ("Led" of "Ledende") is that word, not English
    return sorted({w for w in WORD.findall(text) if w.casefold() in bad
                   and not any(d != w.casefold() and d.startswith(w.casefold()) for d in drawn | _norwegian_words())})
