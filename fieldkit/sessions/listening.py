"""The guide listens: which guide questions and probes the interviewer asked, from the
transcript, in the interviewer's own words.

The method (chosen by measurement, see tests/bench/guide_listens.py and README):

1. Only the lead interviewer's turns count (consecutive segments of the lead's speaker
   label are one turn); an informant who talks about a topic has not been asked about it.
2. A turn must have the shape of a question or request: a question mark, or an
   interrogative / request opening (hva, hvordan, hvorfor, hvem, kan du, fortell ...).
3. Words are reduced to Norwegian stems (the classic Snowball Norwegian algorithm, written
   out below; it serves bokmål and roughly nynorsk) and function words are dropped.
4. A guide item's score for a turn is the weighted share of the item's own content stems
   that the turn contains (exact stem, or a shared start of 5+ letters or a stem inside a
   compound, counted at a discount). A stem's weight is its specificity within this guide:
   1 / the number of guide items that use it, so "samarbeid" (in many items) counts less
   than "koordinator". Probes borrow their question's words at a discount and count only
   close after their question was asked or when they name their topic themselves.
5. The best item of a turn is suggested when its score reaches the threshold; each item is
   suggested once per session (its first good turn).

This is one lexical measure on stems. It computes no tf-idf vectors and no sentence
embeddings, and it aggregates no similarity of one kind with another (the combination
claimed by US patent 12,106,056 is tf-idf AND embedding similarities aggregated).

Pure Python, no database: fieldkit.sessions.suggestions stores what it finds as events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from fieldkit.instruments.guides.model import Guide

# ---------------------------------------------------------------------------- stemming

_VOWELS = set("aeiouyæåø")
_S_ENDING = set("bcdfghjlmnoprtvyz")
_STEP1 = sorted(
    ["a", "e", "ede", "ande", "ende", "ane", "ene", "hetene", "en", "heten", "ar", "er",
     "heter", "as", "es", "edes", "endes", "enes", "hetenes", "ens", "hetens", "ers", "ets",
     "et", "het", "ast"], key=len, reverse=True)
_STEP3 = sorted(["leg", "eleg", "ig", "eig", "lig", "elig", "els", "lov", "elov", "slov",
                 "hetslov"], key=len, reverse=True)


def _r1(word: str) -> int:
    for i in range(1, len(word)):
        if word[i] not in _VOWELS and word[i - 1] in _VOWELS:
            return max(i + 1, 3)
    return len(word)


def stem(word: str) -> str:
    """Norwegian Snowball stem of one lower-case word."""
    if len(word) < 3:
        return word
    p1 = _r1(word)
    # step 1: the longest main suffix in R1
    for suf in ["erte", "ert"] + _STEP1 + ["s"]:
        if word.endswith(suf) and len(word) - len(suf) >= p1:
            if suf in ("erte", "ert"):
                word = word[: -len(suf)] + "er"
            elif suf == "s":
                prev = word[-2:-1]
                if prev in _S_ENDING or (prev == "k" and len(word) > 2 and word[-3] not in _VOWELS):
                    word = word[:-1]
            else:
                word = word[: -len(suf)]
            break
    # step 2: dt / vt in R1 lose the t
    if (word.endswith("dt") or word.endswith("vt")) and len(word) - 2 >= p1:
        word = word[:-1]
    # step 3: other suffixes in R1
    for suf in _STEP3:
        if word.endswith(suf) and len(word) - len(suf) >= p1:
            word = word[: -len(suf)]
            break
    return word


# Function words (bokmål, some nynorsk and English): never content
STOP = set("""
og i på til av for med som er var har hadde det den de dem du deg din ditt dine jeg meg
min mitt mine vi oss vår våre dere deres han hun ham henne hans hennes seg sin sitt sine
en et ei eit ein om at å ikke ikkje nå da så men eller når hvis fra ved etter før under
over mellom mot uten inn ut opp ned her der hva hvordan hvorfor hvem hvilke hvilken hvilket
hvor kva korleis kvifor kven kor kan kunne vil ville skal skulle må måtte bli blir ble blitt
få får fikk være vært gjør gjøre gjorde sa si sier noe noen noko nokon alle alt også bare
berre litt mye mer mest veldig gjerne jo vel nok da ja nei mm mhm ok okei først sånn slik
the a an and or of to in on for with what how why who which when where do does did you your
is are was were can could would tell about there their this that it we us our
fortell fortelle forteller fortalt si beskriv beskrive tenker tenke synes mener
denne dette disse hatt litt egentlig deg seg hos hvis eller nokså ganske
""".split())

# a turn shaped like a question or a request to talk
_CUE_START = re.compile(
    r"^\s*(?:og\s+|men\s+|så\s+|ja,?\s+|ok,?\s+|okei,?\s+)?(?:hva|hvordan|hvorfor|hvem|hvilke|hvilken|hvilket|hvor|"
    r"når|kva|korleis|kvifor|kven|kor|kan\s+du|kunne\s+du|vil\s+du|ville\s+du|har\s+du|har\s+dere|er\s+det|"
    r"er\s+du|er\s+dere|ser\s+du|fortell|beskriv|si\s+litt|what|how|why|who|which|when|where|can\s+you|"
    r"could\s+you|tell\s+me|do\s+you|did\s+you|is\s+there)\b", re.IGNORECASE)
_WORD = re.compile(r"[a-zæøåéèüäö]+", re.IGNORECASE)


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def content_stems(text: str) -> list[str]:
    """The stems of a text's content words, in order, without repeats."""
    out: list[str] = []
    for w in words(text):
        if w in STOP or len(w) < 2:
            continue
        s = stem(w)
        if s not in out:
            out.append(s)
    return out


def question_shaped(text: str) -> bool:
    """A question mark, or a sentence that opens like a question or a request."""
    if "?" in text:
        return True
    return any(_CUE_START.match(s) for s in re.split(r"(?<=[.!:;])\s+", text))


def _stem_match(a: str, b: str, partial: float) -> float:
    """1 for the same stem, PARTIAL for a shared start of 5+ letters or a stem of 5+
    letters inside a compound; else 0."""
    if a == b:
        return 1.0
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) >= 4 and long_.startswith(short):
        return partial      # ansv / ansvar: one step of suffixes apart
    if len(short) >= 5 and short in long_:
        return partial
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return partial if n >= 5 else 0.0


PARTIAL = 0.7          # a stem found inside a compound / sharing a long start
KEYWORD_SHARE = 0.3    # a question's theme title and examples count at this weight
PARENT_SHARE = 0.35    # a probe borrows its question's words at this weight
PROBE_WINDOW_MS = 6 * 60_000   # a probe follows its question within this time ...
PROBE_ALONE = 0.6      # ... or scores this share of its own words at least
THRESHOLD = 0.2        # chosen on the tuning set (tests/bench/guide_listens.py)


# ---------------------------------------------------------------------------- model


@dataclass
class Segment:
    speaker: str
    start_ms: int
    end_ms: int
    text: str


@dataclass
class Turn:
    start_ms: int
    end_ms: int
    text: str


@dataclass
class Suggestion:
    question: str         # guide item id: q4 or p7
    text: str             # the turn that asked it
    at_ms: int            # where in the recording the turn starts
    score: float          # 0..1
    made_at_ms: int | None = None   # recording position when made while recording


@dataclass
class _Item:
    id: str
    kind: str            # question / probe
    parent: str | None
    own: dict[str, float]     # stem -> weight
    borrowed: dict[str, float] = field(default_factory=dict)


def lead_turns(segments: Iterable[Segment], lead: str | set[str]) -> list[Turn]:
    """The lead's turns: consecutive segments of the lead's label(s) joined."""
    leads = {lead} if isinstance(lead, str) else set(lead)
    turns: list[Turn] = []
    last: str | None = None          # the speaker of the previous segment with words
    for seg in sorted(segments, key=lambda s: s.start_ms):
        if not seg.text.strip():
            continue
        if seg.speaker in leads:
            if last == seg.speaker:
                t = turns[-1]
                turns[-1] = Turn(t.start_ms, seg.end_ms, f"{t.text} {seg.text.strip()}")
            else:
                turns.append(Turn(seg.start_ms, seg.end_ms, seg.text.strip()))
        last = seg.speaker
    return turns


class Listener:
    """Matches interviewer turns to one guide's questions and probes. Keeps which items
    it has suggested, so it can be fed turn by turn while recording."""

    def __init__(self, guide: Guide, *, threshold: float = THRESHOLD,
                 informant_type: str | None = None, require_question: bool = True,
                 partial: float | None = None) -> None:
        self.guide = guide
        self.threshold = threshold
        self.require_question = require_question   # off only to measure what the cue is worth
        self.partial = PARTIAL if partial is None else partial
        self.items: list[_Item] = []
        raw: list[tuple[str, str, str | None, list[str]]] = []
        extra: dict[str, list[str]] = {}
        for theme, q in guide.iter_questions():
            if not q.applies_to(informant_type):
                continue
            raw.append((q.id, "question", None, content_stems(q.text)))
            extra[q.id] = content_stems(" ".join([theme.title, *q.examples]))
            for p in q.probes:
                raw.append((p.id, "probe", q.id, content_stems(p.text)))
        df: dict[str, int] = {}
        for *_x, stems in raw:
            for s in stems:
                df[s] = df.get(s, 0) + 1
        own = {i: {s: 1.0 / df[s] for s in stems} for i, _k, _p, stems in raw}
        for i, kind, parent, _stems in raw:
            item = _Item(i, kind, parent, own[i])
            if i in extra:
                item.borrowed = {s: KEYWORD_SHARE / df.get(s, 1) for s in extra[i] if s not in own[i]}
            if parent is not None:
                item.borrowed = {s: w * PARENT_SHARE for s, w in own[parent].items() if s not in own[i]}
            self.items.append(item)
        self.done: dict[str, int] = {}      # item id -> at_ms of its suggestion

    def _share(self, weights: dict[str, float], stems: Sequence[str]) -> float:
        total = sum(weights.values())
        if not total:
            return 0.0
        got = sum(w * max((_stem_match(s, t, self.partial) for t in stems), default=0.0)
                  for s, w in weights.items())
        return got / total

    def score(self, item: _Item, stems: Sequence[str], at_ms: int) -> float:
        own = self._share(item.own, stems)
        if item.kind == "question":
            # the theme's title and the examples help a question; they never lower it
            return max(own, self._with_keywords(item, stems)) if item.borrowed else own
        both = {**item.own, **item.borrowed}
        score = self._share(both, stems)
        parent_at = self.done.get(item.parent or "")
        near = parent_at is not None and 0 <= at_ms - parent_at <= PROBE_WINDOW_MS
        if not near and own < PROBE_ALONE:
            return 0.0
        return max(score, own) if near else own

    def _with_keywords(self, item: _Item, stems: Sequence[str]) -> float:
        total = sum(item.own.values())
        if not total:
            return 0.0
        hits = sum(w * max((_stem_match(s, t, self.partial) for t in stems), default=0.0)
                   for s, w in item.borrowed.items())
        return min(1.0, self._share(item.own, stems) + hits / total)

    def feed(self, turn: Turn, *, made_at_ms: int | None = None) -> list[Suggestion]:
        """Suggestions for one interviewer turn (at most one item; none already made)."""
        if self.require_question and not question_shaped(turn.text):
            return []
        stems = content_stems(turn.text)
        if not stems:
            return []
        best: tuple[float, _Item] | None = None
        for item in self.items:
            sc = self.score(item, stems, turn.start_ms)
            if best is None or sc > best[0]:
                best = (sc, item)
        # a turn about an item already suggested (asked again) suggests nothing else
        if best is None or best[0] < self.threshold or best[1].id in self.done:
            return []
        sc, item = best
        self.done[item.id] = turn.start_ms
        return [Suggestion(item.id, turn.text, turn.start_ms, round(min(sc, 1.0), 3), made_at_ms)]


def suggest(guide: Guide, segments: Iterable[Segment], lead: str | set[str], *,
            threshold: float = THRESHOLD, informant_type: str | None = None,
            already: dict[str, int] | None = None, **options: object) -> list[Suggestion]:
    """Suggestions for a whole transcript (after the fact)."""
    listener = Listener(guide, threshold=threshold, informant_type=informant_type, **options)  # type: ignore[arg-type]
    if already:
        listener.done.update(already)
    out: list[Suggestion] = []
    for turn in lead_turns(segments, lead):
        out += listener.feed(turn)
    return out
