"""Stable identity of themes, questions and probes across versions of a guide.

An item keeps its id when the researcher fixes a typo, rewords it a little, reorders it
or moves it to another theme: an explicit ``{#id}`` always wins; otherwise each new item
is matched to an item of the previous version of the same kind, exact text first, then
the most similar text (difflib ratio >= 0.6), each old id used at most once. Items of the
previous version that found no match are *retired*: kept in the outline's ``retired``
list (with their text) so sessions and coverage summaries that used them still resolve.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from fieldkit.instruments.guides.model import Guide, Retired
from fieldkit.instruments.guides.parser import assign_ids

SIMILAR = 0.6


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", "", text.lower())).strip()


def carry_over(prev: Guide | None, new: Guide) -> None:
    """Give ``new`` (parsed with assign=False) the ids of ``prev`` where items match."""
    if prev is None:
        assign_ids(new)
        return
    old = [(i, k, t) for i, k, t, _p in prev.iter_items()] + [(r.id, r.kind, r.text) for r in prev.retired]
    explicit = {i for i, *_ in new.iter_items() if i}
    free = {i: (k, _norm(t)) for i, k, t in old if i not in explicit}
    targets = []  # (object to receive an id, kind, normalised text)
    for theme in new.themes:
        if not theme.id:
            targets.append((theme, "theme", _norm(theme.title)))
        for q in theme.questions:
            if not q.id:
                targets.append((q, "question", _norm(q.text)))
            for p in q.probes:
                if not p.id:
                    targets.append((p, "probe", _norm(p.text)))
    pairs = []
    for n, (obj, kind, text) in enumerate(targets):
        for old_id, (okind, otext) in free.items():
            if okind != kind:
                continue
            score = 2.0 if text == otext else SequenceMatcher(None, text, otext).ratio()
            if score >= SIMILAR:
                pairs.append((score, -n, old_id, n))
    pairs.sort(reverse=True)
    done_new: set[int] = set()
    used_old: set[str] = set()
    for _score, _neg, old_id, n in pairs:
        if n in done_new or old_id in used_old:
            continue
        targets[n][0].id = old_id
        done_new.add(n)
        used_old.add(old_id)
    assign_ids(new, taken={i for i, _k, _t in old})
    present = {i for i, *_ in new.iter_items()}
    parent_theme = {i: (p if k == "question" else None) for i, k, _t, p in prev.iter_items()}
    retired = {r.id: r for r in prev.retired if r.id not in present}
    for i, k, t, _p in prev.iter_items():
        if i not in present:
            retired[i] = Retired(id=i, kind=k, text=t, theme_id=parent_theme.get(i))
    new.retired = list(retired.values())
