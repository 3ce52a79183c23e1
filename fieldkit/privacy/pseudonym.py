"""Pseudonymisation on export: names from the project registry leave the laptop as codes.

A :class:`Pseudonymiser` holds the terms to replace (informants' names and the parts of
them, researchers' names, places and the project's redaction list) and what each
becomes, in one of three modes:

``code``
    informants become their pseudonym code (``L03``), researchers their initials,
    places ``P1``, ``P2`` ..., other redaction terms ``X1`` ...
``role``
    informants become their attribution label in brackets (``[leader, DPS]``),
    researchers ``[researcher]``, places ``[place]``, other terms ``[redacted]``
``nn``
    everything becomes ``NN``
``organisation``
    quotes are attributed by organisation only, as one study reported ("NN, kommune A"):
    speakers and participants get the label ``NN, <organisation>``; names in the text
    become ``NN`` as in ``nn`` mode
``network``
    quotes are attributed by case network (the informant's site, else group), as a
    study comparing networks reported ("NN, nettverk 3"); names in the text as in ``nn``

Matching is whole-word and case-insensitive (Unicode: æ, ø, å are letters, so "Bjørn"
is not found inside "Bjørnar"), multi-word names match across any whitespace, longer
terms win over their parts ("Kari Nordmann" before "Kari"), and possessives keep their
ending: "Kari's" -> "L03's", "Karis" -> "L03s", "Hans'" -> "L03'". A first name shared
by two people of the registry cannot be told apart: it becomes ``NN`` in every mode.

Names are matched as names. A name that is not an ordinary word is replaced in any case
and with its possessive ("Øyvind", "øyvind", "Bjørgs", "Hansens", "Berg-Hansen's"). Names
that are also ordinary words ("Per Bruker", "Jon Leder", "Ann Lead", "Liv Berg") need
evidence before a part alone is replaced: a part is *common* when it is in
:data:`COMMON_WORDS`, in the project's vocabulary or name, or written in lower case in the
guide. A common part in lower case is the word ("en bruker", "I lead the team"), unless
the registry writes that name in lower case ("bell hooks"); capitalised inside a sentence
it is the name ("Det sa Bruker selv", "Lead's report", "Leads rapport"). At the start of
a sentence (the hard case: capitals say nothing there) it is the name, unless a personal
pronoun follows at once, which makes it a verb asking or telling ("Bruker du tolk?",
"Will you come?" stay; "Per sa ja", "Hagen var fin" are replaced: when in doubt the person
is protected, as a wrongly replaced first word shows in the export and a name left does
not); a surname the project's guide uses as a word in lower case is the word there too
("Leder: ja" when the guide asks about "vår leder"). A full name, or a run of its words ("Nordmann Berg" for a double surname), is
replaced in any case unless every word of it is common and it is in lower case
("kostnad per bruker"). Parts of names that are words of the project's own name or
vocabulary ("Demo" for Kari Demo in the project "Demo") are never replaced alone, unless
they are in the redaction list.

In ``role`` and ``nn`` mode informants' codes written in notes and header fields
("A01 ser bort") are replaced too (exact case), and in ``nn`` mode neighbouring
replacements merge ("NN NN" becomes "NN").

:attr:`Pseudonymiser.report` counts replacements per category; :func:`group_warnings`
warns when an attribution group (role + organisation) has a single member, since
attributing a quote to that group names the person; :func:`attribution_label` and
:func:`label_warnings` do the same for the label of any mode.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from fieldkit.i18n import N_, _, ngettext

MODES = ("code", "role", "nn", "organisation", "network", "off")
#: modes whose text replacements are those of ``nn`` (only the attribution label differs)
NN_TEXT_MODES = ("nn", "organisation", "network")

#: report categories, in the order they are printed
CATEGORIES = ("informant", "researcher", "place", "redaction")
#: what a name becomes in ``role`` mode when nothing better is known: ``[researcher]``, ``[place]``
ROLE_WORDS = {"informant": N_("informant"), "researcher": N_("researcher"), "place": N_("place"),
              "redaction": N_("redacted")}
CATEGORY_LABELS = {
    "informant": N_("informant names"),
    "researcher": N_("researcher names"),
    "place": N_("places"),
    "redaction": N_("terms from the redaction list"),
}

#: name particles that are not names on their own (and are common words: "av", "de")
PARTICLES = {"van", "von", "de", "der", "den", "la", "le", "af", "av", "da", "di", "du", "del", "ten", "ter"}

_APOS = "'\u2019"

#: ordinary Norwegian and English words that are also first names or surnames: written in
#: lower case they are the word ("vi bruker tolk", "I lead the team"), never the person,
#: unless the registry itself writes that name in lower case. A name not listed here is
#: replaced in any case ("kari" is Kari); the project adds its own words (the guide's
#: lower-case words, its vocabulary).
COMMON_WORDS = frozenset("""
bruker leder lege prest fisker smed møller berg dal strand bakken bakke haug lie moen vik holm li
per liv bo dag sol vår mai eng lund ask lind rask bonde sand stein fjeld fjell hage haugen
skog skogen nes eik mo foss elv elven sjø myr rud vang fagerli øye frost kalt aas
will mark bill rose hope grace may june april faith joy guy rob sue pat dean young king
hans jo are tom tore even odd else finn kai bror gard lyder endre mette tone siv stig gro storm
hagen lien engen brekke berge vold borg hammer brun kvist lange lang lyng helle rød hvit svart
fjær strøm gran furu sund vinter sommer høst jeger baker skipper dale
lead leads reed read wood woods hill hills field fields stone stones moss rice hunt fox bird swan
lamb bell page cross long short little gold silver snow rain day knight bishop church marsh bank
banks green brown white black gray grey cook mason turner walker hall porter miller cooper potter
fisher fowler farmer butler shepherd barber weaver archer ward price cash best good noble bright
sharp strong wise free sweet love hart heart lane street way bridge ford pool well wells spring
lake sea shore bay north south east west winter summer autumn march august bolt nail case bush
thorn root branch birch ash oak pine rush flower bloom berry olive pepper salt sugar honey bean
corn fish bass pike crane crow hawk drake finch jay robin sparrow wren hare buck bull stag wolf
bear lion mole cannon power major judge pope prince duke earl baron lord master child friend
merry golden burns waters meadow meadows castle tower temple chapel hay bacon ham kid head foot
low high middle grant cole coal hood cape coat lock key keys post till rich frank drew chase art
sandy penny ruby amber holly ivy iris daisy lily dawn eve hazel heather sky river brook brooks
cliff glen ray jack nick don gene lance wade chuck rod carol live hooks bob bud sunny rocky
""".split())

#: after a capitalised word at the start of a sentence, these say it is a verb asking or
#: telling ("Bruker du tolk?", "Leder vi møtet?", "Will you come?"), not a name
_PRONOUNS = frozenset("""
jeg du han hun hen vi dere de den det man meg deg seg oss dem ham
i you he she it we they me us them
""".split())

_SENTENCE_END = ".!?:;\n\u00bb\u201d\"("

#: invisible characters that may sit inside a word without ending it: soft hyphen,
#: zero-width space, non-joiner and joiner, word joiner, zero-width no-break space. A name
#: pasted from Word or a web page may hold one ("Kar\u00adi"): it is still the name.
INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_DROP_INVISIBLE = str.maketrans("", "", INVISIBLE)
_INV = "[\u00ad\u200b\u200c\u200d\u2060\ufeff]*"


def _norm(text: str) -> str:
    """The key a matched term is looked up by: without invisible characters, NFC,
    case-folded, single spaces."""
    return " ".join(unicodedata.normalize("NFC", text.translate(_DROP_INVISIBLE)).casefold().split())


#: combining marks (a mark typed or pasted after a name attaches to its last letter)
_MARKS = "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]*"
_ACCENTED: dict[str, str] = {}


def _with_marks(ch: str) -> str:
    """A pattern for ``ch`` as the last letter of a name: itself or any precomposed form of
    it with marks ("i", "í", "ï" ...), then any combining marks. NFC makes "Kari" followed
    by a combining acute into "Karí": the name with a mark after it, still the name."""
    forms = _ACCENTED.get(ch)
    if forms is None:
        if not _ACCENTED:
            for cp in range(0xC0, 0x2000):
                c = chr(cp)
                d = unicodedata.normalize("NFD", c)
                if len(d) > 1 and d[0].isalpha():
                    _ACCENTED[d[0]] = _ACCENTED.get(d[0], "") + c
        forms = _ACCENTED.get(ch, "")
    return (f"[{re.escape(ch)}{forms}]" if forms else re.escape(ch)) + _MARKS


def _word_pattern(word: str) -> str:
    """``word`` as a pattern that also matches it with invisible characters between its
    letters and combining marks after it."""
    if not word[-1:].isalpha():
        return _INV.join(re.escape(ch) for ch in word)
    return _INV.join([re.escape(ch) for ch in word[:-1]] + [_with_marks(word[-1])])


def name_parts(name: str) -> list[str]:
    """A full name and the parts a transcript may use alone: "Kari Anne Nordmann-Berg"
    gives the whole, "Kari", "Anne", "Nordmann-Berg", "Nordmann" and "Berg", then the
    runs of two or more of its words ("Kari Anne", "Anne Nordmann-Berg": a double
    surname said without the first name is one person, not two). Initials and particles
    ("van", "av") are left out."""
    name = " ".join(unicodedata.normalize("NFC", name).split())
    if not name:
        return []
    parts = [name]
    words = []
    for word in name.split(" "):
        word = word.strip(".,;:()\"" + _APOS)
        pieces = [word] + (word.split("-") if "-" in word else [])
        for p in pieces:
            if len(p.rstrip(".")) > 1 and p.lower() not in PARTICLES:
                parts.append(p)
        if len(word.rstrip(".")) > 1 and word.lower() not in PARTICLES:
            words.append(word)
        else:
            words.append("")      # an initial or a particle ends a run
    for size in range(len(words) - 1, 1, -1):
        for i in range(len(words) - size + 1):
            run = words[i:i + size]
            if all(run):
                parts.append(" ".join(run))
    seen: dict[str, str] = {}
    for p in parts:
        seen.setdefault(_norm(p), p)
    return list(seen.values())


def proper_parts(term: str) -> list[str]:
    """A place or redaction term and its capitalised words: "Vestby rådhus" gives
    "Vestby rådhus" and "Vestby" ("rådhus" is a common word, "Vestby" names the place)."""
    term = " ".join(unicodedata.normalize("NFC", term).split())
    if not term:
        return []
    parts = [term]
    words = term.split(" ")
    if len(words) > 1:
        for w in words:
            w = w.strip(".,;:()\"" + _APOS)
            if len(w) > 2 and w[0].isupper() and w.lower() not in PARTICLES:
                parts.append(w)
    return parts


@dataclass
class Term:
    text: str
    category: str
    replacement: str
    person_part: bool = False   # one word of a person's name, matched alone
    common: bool = False        # also an ordinary word: needs evidence (see the module doc)
    protected: bool = False     # a word of the project's name or vocabulary: never alone
    exact_case: bool = False    # informant codes: only as written ("A01", not "a01")
    given_name: bool = False    # a first name (kept for callers; see _at_sentence_start)
    lower: bool = False         # the registry writes it in lower case ("bell hooks")
    project_word: bool = False  # the project's own texts use it as a word (the guide, lower case)


@dataclass
class Person:
    """Someone in the registry, as the pseudonymiser needs them."""

    name: str
    category: str          # informant / researcher
    code: str = ""         # informant code or researcher initials
    role_label: str = ""   # "leader, DPS" or "researcher"


def role_label(role: str, organisation: str = "") -> str:
    return ", ".join(x for x in (role.strip(), organisation.strip()) if x) or "informant"


@dataclass
class Pseudonymiser:
    mode: str = "code"
    terms: list[Term] = field(default_factory=list)
    report: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown pseudonymisation mode {self.mode!r}")
        self._compile()

    # ------------------------------------------------------------------ building

    @classmethod
    def build(cls, mode: str, people: Iterable[Person], places: Iterable[str] = (),
              redaction_terms: Iterable[str] = (), *, protected_words: Iterable[str] = (),
              common_words: Iterable[str] = ()) -> "Pseudonymiser":
        """Terms from the registry. Whole names are unambiguous; a part (first name,
        surname) shared by people with different replacements becomes NN.
        ``protected_words``: the project's name and vocabulary (never replaced as a
        lone part of a name unless in ``redaction_terms``); ``common_words``: more
        ordinary words (the guide's lower-case words) besides :data:`COMMON_WORDS`."""
        if mode == "off":
            return cls(mode="off")
        if mode not in MODES:
            raise ValueError(f"unknown pseudonymisation mode {mode!r}")
        text_mode = "nn" if mode in NN_TEXT_MODES else mode
        redaction_terms = list(redaction_terms)
        redacted = {_norm(w) for t in redaction_terms for w in [t] + t.split()}
        protected = {_norm(w) for w in protected_words if w and w.strip()} - redacted
        project_words = {_norm(w) for w in common_words if w and w.strip()}
        common = set(COMMON_WORDS) | project_words
        by_key: dict[str, Term] = {}
        ambiguous: set[str] = set()
        full_names: set[str] = set()
        people = list(people)

        def person_repl(p: Person) -> str:
            if text_mode == "nn":
                return "NN"
            if text_mode == "code":
                return p.code or "NN"
            return f"[{p.role_label or _(ROLE_WORDS.get(p.category, p.category))}]"

        # whole names first (they win over parts), then parts
        for p in people:
            parts = name_parts(p.name)
            if not parts:
                continue
            key = _norm(parts[0])
            full_names.add(key)
            t = by_key.get(key)
            repl = person_repl(p)
            if t is not None and t.replacement != repl:
                ambiguous.add(key)
            by_key.setdefault(key, Term(parts[0], p.category, repl, lower=_is_lower(parts[0])))
        for p in people:
            repl = person_repl(p)
            first = _norm(p.name.split()[0]) if p.name.split() else ""
            for part in name_parts(p.name)[1:]:
                key = _norm(part)
                if key == first and key in by_key:
                    by_key[key].given_name = True
                if key in full_names and key in by_key and by_key[key].replacement == repl:
                    continue
                t = by_key.get(key)
                if t is None:
                    by_key[key] = Term(part, p.category, repl, person_part=" " not in part,
                                       common=key in common or key in protected or (
                                           " " in part and all(_norm(w) in common for w in part.split())),
                                       protected=key in protected, given_name=key == first,
                                       lower=_is_lower(part), project_word=key in project_words)
                elif t.replacement != repl:
                    ambiguous.add(key)
        # the words in brackets are the exporting person's language ("[sted]", "[sladdet]")
        for category, items, prefix, label in (("place", places, "P", f"[{_(ROLE_WORDS['place'])}]"),
                                               ("redaction", redaction_terms, "X",
                                                f"[{_(ROLE_WORDS['redaction'])}]")):
            for n, item in enumerate(_unique(items), start=1):
                repl = {"code": f"{prefix}{n}", "role": label, "nn": "NN"}[text_mode]
                for part in proper_parts(item):
                    by_key.setdefault(_norm(part), Term(part, category, repl))
        for key in ambiguous:
            by_key[key].replacement = "NN"
        if text_mode in ("role", "nn"):
            # codes typed in notes and header fields are pseudonyms that link the
            # person across exports: one policy for a person everywhere
            for p in people:
                if p.category == "informant" and p.code and _norm(p.code) not in by_key:
                    by_key[_norm(p.code)] = Term(p.code, p.category, person_repl(p), exact_case=True)
        return cls(mode=mode, terms=list(by_key.values()))

    def _compile(self) -> None:
        self._lookup = {_norm(t.text): t for t in self.terms}
        self._common = {k for k, t in self._lookup.items() if t.common} | set(COMMON_WORDS)
        self._name_words = {_norm(w) for t in self.terms if t.category in ("informant", "researcher")
                            and not t.exact_case for w in t.text.split()}
        if not self.terms:
            self._re = None
            return
        alts = []
        for t in sorted(self.terms, key=lambda t: len(t.text), reverse=True):
            words = unicodedata.normalize("NFC", t.text.translate(_DROP_INVISIBLE)).split()
            alts.append((_INV + r"\s+" + _INV).join(_word_pattern(w) for w in words))
        self._re = re.compile(
            rf"(?<!\w)(?P<term>{'|'.join(alts)})(?P<suffix>[{_APOS}]s?|s)?(?!\w)",
            re.IGNORECASE,
        )

    # ------------------------------------------------------------------ applying

    @property
    def active(self) -> bool:
        return self.mode != "off"

    def __call__(self, text: str | None) -> str:
        return self.apply(text)

    def apply(self, text: str | None) -> str:
        """``text`` with every registry term replaced (counted in :attr:`report`)."""
        if not text:
            return text or ""
        if self._re is None:
            return text
        text = unicodedata.normalize("NFC", text)
        out = self._re.sub(self._replace, text)
        if self.mode in NN_TEXT_MODES and "NN" in out:
            out = _NN_RUN.sub("NN", out)
        return out

    def _wanted(self, m: re.Match[str], term: Term) -> bool:
        """Whether this occurrence of ``term`` is the name (see the module doc)."""
        found = m.group("term")
        if term.exact_case:
            return found.translate(_DROP_INVISIBLE) == term.text
        if term.person_part and term.protected:
            return False
        words = found.split()
        capital = any(w[:1].isupper() for w in words)
        if not capital and term.lower:
            return True          # the registry writes this name in lower case
        if not term.person_part:
            if len(words) > 1 and not capital and all(_norm(w) in self._common for w in words):
                return False     # "kostnad per bruker" is not Per Bruker
            return True
        if not term.common:
            return True          # not an ordinary word: the name, in any case ("kari")
        if not capital:
            return False         # "en bruker", "vår leder", "I lead the team"
        text, start = m.string, m.start("term")
        before = text[:start].rstrip(" \t")
        if before and before[-1] not in _SENTENCE_END:
            return True          # capitalised inside a sentence: a name
        return self._at_sentence_start(text, m, term)

    def _at_sentence_start(self, text: str, m: re.Match[str], term: Term) -> bool:
        """A capitalised name that is also an ordinary word, at the start of a sentence (the
        known hard case). A neighbouring part of a name ("Bruker Per?") makes it the name.
        A word this project's guide uses in lower case is the word there too ("Leder: ja"
        in a project whose guide asks about "vår leder"), unless it is a first name ("Per
        sa ja"). Any other is the name, unless a personal pronoun follows at once, which
        makes it a verb asking or telling ("Bruker du tolk?", "Will you come?"): when in
        doubt the person is protected (a wrongly replaced first word shows in the export,
        a name left does not)."""
        if self._next_to_name(text, m):
            return True
        if term.project_word:
            return term.given_name
        after = _WORD_AFTER.match(text, m.end())
        return not (after and after.group(1).casefold() in _PRONOUNS)

    def _next_to_name(self, text: str, m: re.Match[str]) -> bool:
        after = _WORD_AFTER.match(text, m.end())
        before = _WORD_BEFORE.search(text, 0, m.start())
        for w in ((after.group(1) if after else ""), (before.group(1) if before else "")):
            if w and w[:1].isupper() and _norm(w) in self._name_words:
                return True
        return False

    def _term_for(self, found: str) -> "Term | None":
        """The term a match is: by its key, else with the marks after its words' last
        letters left out (the pattern lets those through: "Karí" is Kari with a mark)."""
        term = self._lookup.get(_norm(found))
        if term is not None:
            return term
        words = [unicodedata.normalize("NFD", w) for w in found.translate(_DROP_INVISIBLE).split()]
        for n in range(1, 4):
            cut = []
            for w in words:
                k = 0
                while k < n and w and unicodedata.category(w[-1]).startswith("M"):
                    w, k = w[:-1], k + 1
                cut.append(w)
            term = self._lookup.get(_norm(" ".join(cut)))
            if term is not None:
                return term
        return None

    def _replace(self, m: re.Match[str]) -> str:
        term = self._term_for(m.group("term"))
        if term is None:  # cannot happen: every alternative is a term
            return m.group(0)
        if not self._wanted(m, term):
            return m.group(0)
        self.report[term.category] += 1
        return term.replacement + (m.group("suffix") or "")

    def leaks(self, text: str) -> list[str]:
        """Registry terms still found in ``text`` as names (for checks and tests)."""
        if self._re is None or not text:
            return []
        out = []
        for m in self._re.finditer(unicodedata.normalize("NFC", text)):
            term = self._term_for(m.group("term"))
            if term is not None and self._wanted(m, term):
                out.append(m.group("term"))
        return out

    def report_lines(self) -> list[str]:
        if not self.active:
            return [_("Pseudonymisation is OFF: names from the registry are in the export.")]
        total = sum(self.report.values())
        lines = [ngettext("Pseudonymisation ({mode}): {n} replacement.",
                          "Pseudonymisation ({mode}): {n} replacements.", total).format(
                              mode=_(self.mode), n=total)]
        for cat in CATEGORIES:
            lines.append(f"  {_(CATEGORY_LABELS[cat])}: {self.report.get(cat, 0)}")
        return lines


_NN_RUN = re.compile(r"(?<!\w)NN(?:\s+NN)+(?!\w)")
_WORD_AFTER = re.compile(r"[ \t]+(\w[\w-]*)")
_WORD_BEFORE = re.compile(r"(\w[\w-]*)[ \t]+$")


def _is_lower(text: str) -> bool:
    """Written in lower case (and has letters)."""
    return text == text.lower() and text != text.upper()


def _unique(items: Iterable[str]) -> list[str]:
    out, seen = [], set()
    for it in items:
        it = " ".join(unicodedata.normalize("NFC", it or "").split())
        if it and _norm(it) not in seen:
            seen.add(_norm(it))
            out.append(it)
    return out


def attribution_label(mode: str, role: str = "", organisation: str = "", site: str = "",
                      group: str = "") -> str:
    """What a quote is attributed to in ``mode`` (for ``role``, ``organisation`` and
    ``network``): "leader, DPS", "NN, kommune A", "NN, nettverk 3"."""
    if mode == "organisation":
        return f"NN, {organisation.strip()}" if organisation.strip() else "NN"
    if mode == "network":
        where = site.strip() or group.strip()
        return f"NN, {where}" if where else "NN"
    return role_label(role, organisation)


def label_warnings(members: Iterable[tuple[str, str]]) -> list[str]:
    """Warnings for attribution labels that only one informant carries. ``members``
    are (code, label) of the informants in the export: a quote attributed to such a
    label (n=1) points at one person."""
    groups: dict[str, list[str]] = {}
    for code, label in members:
        groups.setdefault(label, []).append(code)
    from fieldkit.i18n import _

    return [
        _("Only one informant ({code}) is in the group '{label}': a quote attributed "
          "to '{label}' points at one person.").format(code=codes[0], label=label)
        for label, codes in sorted(groups.items()) if len(codes) == 1
    ]


def group_warnings(members: Iterable[tuple[str, str, str]]) -> list[str]:
    """Warnings for attribution groups with one member. ``members`` are
    (code, role, organisation) of the informants in the export."""
    groups: dict[str, list[str]] = {}
    for code, role, org in members:
        groups.setdefault(role_label(role, org), []).append(code)
    return [
        _("Only one informant ({code}) is in the group '{label}': a quote attributed "
          "to '{label}' points at one person.").format(code=codes[0], label=label)
        for label, codes in sorted(groups.items()) if len(codes) == 1
    ]
