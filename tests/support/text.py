"""Shared test helpers."""

from __future__ import annotations

from hypothesis import strategies as st

#: what researchers paste that is not ordinary text
SPECIAL = [
    "\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\r", "\r\n", "\n\r", "\x1c", "\x1d", "\x1e",
    "\x1f", "\x7f", "\x85", "\x9f", "\u2028", "\u2029", "\t", "\n",
    "\ud800", "\udfff", "\udbff\udfff", "\ufffe", "\uffff", "\U0001fffe", "\U0010fffd",
    "\u200e", "\u200f", "\u202a", "\u202b", "\u202e", "\u202c", "\u2066", "\u2067", "\u2069",
    "e\u0301", "\u0301", "\u0308", "\u20dd", "\u0489", "a\u0328\u0301",
    "\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff",
    "\U0001f469\u200d\U0001f469\u200d\U0001f467", "\U0001f1f3\U0001f1f4", "\U0001f44d\U0001f3fd",
    "\u05e9\u05dc\u05d5\u05dd", "\u0645\u0631\u062d\u0628\u0627", "Bjørn Åse", "Ææ Øø Åå",
]


scalars = st.characters(codec="utf-8")   # every Unicode scalar value (no surrogates)


chunks = st.one_of(st.text(scalars, max_size=12), st.sampled_from(SPECIAL))


user_text = st.lists(chunks, min_size=1, max_size=24).map("".join)


def big_text() -> str:
    """100,000 characters of everything above, with words between."""
    unit = "".join(f"ord{k} {s} " for k, s in enumerate(SPECIAL))
    return (unit * (100_000 // len(unit) + 1))[:100_000]
