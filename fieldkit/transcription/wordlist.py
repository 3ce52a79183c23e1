"""The project's word list, applied after decoding rather than inside it.

Why not as hotwords: faster-whisper puts ``hotwords`` after ``<|startofprev|>`` on every
30-second window (WhisperModel.get_prompt), which is exactly an initial prompt: the decoder
is conditioned on a fragment of "previous text" made of a few terms ("DPS koordinator
utskrivning IP-plan") that matches no speech. Prompt conditioning is a known cause of
Whisper skipping speech and merging long segments; the issue measured whole questions lost
with the demo list and none without it. So the list never goes to the decoder: a word (or a
run of up to one more or one fewer words) that is a near miss of a listed term, and that the
model was not sure of, is replaced by the term ("Holmbejørdal" -> "Holen Bjørdal", "helse
nord rhf" -> "Helse Nord RHF"). Nothing is lost when the list is wrong: a word the model was
sure of, or one that is not close, is left as it was."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

#: a word the model gave at least this probability is trusted as heard
SURE = 0.9
#: at most this share of the term's letters may differ
MAX_DISTANCE = 0.25

_EDGE = re.compile(r"^(\W*)(.*?)(\W*)$", re.UNICODE | re.DOTALL)


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower()
    return "".join(ch for ch in text if ch.isalnum())


def _distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def correct_words(words: list[dict], terms: Sequence[str]) -> tuple[list[dict], int]:
    """``words`` ([{"w", "s", "e", "p"}]) with near misses of ``terms`` replaced; and how many."""
    terms = [t.strip() for t in terms if t and _norm(t)]
    if not terms or not words:
        return words, 0
    out = list(words)
    fixed = 0
    for term in sorted(terms, key=lambda t: -len(t)):
        target = _norm(term)
        n = len(term.split())
        def candidate(i: int) -> tuple[int, int] | None:
            best = None
            for size in (n, n + 1, n - 1):
                if size < 1 or i + size > len(out):
                    continue
                window = out[i:i + size]
                got = _norm("".join(w["w"] for w in window))
                if not got:
                    continue
                d = _distance(got, target)
                unsure = min(float(w.get("p", 1.0)) for w in window) < SURE
                near = d <= max(1, round(MAX_DISTANCE * len(target))) and len(target) >= 4
                if (d == 0 or (near and unsure)) and (best is None or d < best[0]):
                    best = (d, size)
            return best

        i = 0
        while i < len(out):
            best = candidate(i)
            after = candidate(i + 1) if best else None
            if best is None or (after is not None and after[0] < best[0]):   # the next word fits better
                i += 1
                continue
            d, size = best
            window = out[i:i + size]
            lead = _EDGE.match(window[0]["w"]).group(1)
            trail = _EDGE.match(window[-1]["w"]).group(3)
            space = " " if window[0]["w"].startswith(" ") else ""
            new = {**window[0], "w": space + lead.strip() + term + trail, "e": window[-1]["e"],
                   "p": min(float(w.get("p", 1.0)) for w in window)}
            if "".join(w["w"] for w in window).strip() != new["w"].strip():
                new["was"] = "".join(w["w"] for w in window).strip()
                fixed += 1
            out[i:i + size] = [new]
            i += 1
    return out, fixed


def words_text(words: list[dict]) -> str:
    return "".join(w["w"] for w in words).strip()


#: a stretch this close to a listed term (share of its letters that differ) may be the term
#: misheard: its segment is decoded again with the list as hotwords
MAYBE_DISTANCE = 0.5


def maybe_terms(words: list[dict], terms: Sequence[str]) -> list[str]:
    """The listed terms that a run of ``words`` (as many words as the term, one more or one
    fewer) comes near (at most :data:`MAYBE_DISTANCE` of its letters differ) without being
    it already."""
    out = []
    for term in terms:
        target = _norm(term)
        if len(target) < 3:
            continue
        n = len(term.split())
        hit = False
        for size in {max(1, n - 1), n, n + 1}:
            for i in range(0, max(0, len(words) - size + 1)):
                got = _norm("".join(w["w"] for w in words[i:i + size]))
                if not got or got == target:
                    continue
                if abs(len(got) - len(target)) <= MAYBE_DISTANCE * len(target) \
                        and _distance(got, target) <= MAYBE_DISTANCE * len(target):
                    hit = True
                    break
            if hit:
                break
        if hit and not any(_norm(w["w"]) == target for w in words):
            out.append(term)
    return out


def has_term(words: list[dict], term: str) -> bool:
    target = _norm(term)
    text = _norm("".join(w["w"] for w in words))
    return bool(target) and target in text
