"""Reading a guide written in plain text (Markdown with a small front-matter block).

The format is documented with a complete example in guides/README.md. In short::

    ---
    title: Lederintervju om samhandling
    language: no
    informant types: leder, fagperson
    header: Intervjuer; Sted og dato; Informant; Rolle
    ---
    ## Theme title (10 min)
    > an instruction for the interviewer
    - A main question? [only: leder]
      - a follow-up probe
      > an instruction about this question
      + an example to mention only if needed
    ## An open theme [open]
    - The one open question

Every problem is reported as a GuideError naming the file, the line and what to change,
and nothing is returned unless the whole guide is valid.
"""

from __future__ import annotations

import hashlib
import re

from fieldkit.errors import ExitCode, FieldkitError
from fieldkit.instruments.guides.model import Guide, Probe, Question, Theme
from fieldkit.i18n import _

MAX_BYTES = 512 * 1024  # a long guide is ~20 kB; anything this big is not a guide
FRONT_KEYS = {
    "title": "title",
    "tittel": "title",
    "language": "language",
    "språk": "language",
    "informant types": "informant_types",
    "informanttyper": "informant_types",
    "header": "header",
    "header fields": "header",
    "topptekst": "header",
    "felt": "header",
}
ONLY_WORDS = ("only", "kun", "berre", "bare")
ID_RE = re.compile(r"\{#([A-Za-z][\w.-]{0,39})\}\s*$")
MIN_RE = re.compile(r"\((\d+)\s*(?:min|minutes|minutter|minutt)\)\s*$", re.IGNORECASE)
MIN_ANY_RE = re.compile(r"\(([^()]*?)\s*(?:min|minutes|minutter|minutt)\.?\)\s*$", re.IGNORECASE)
OPEN_RE = re.compile(r"\[(?:open|åpen|open theme|åpent tema|ope)\]\s*$", re.IGNORECASE)
ONLY_RE = re.compile(r"\[(" + "|".join(ONLY_WORDS) + r")\s*:\s*([^\]]*)\]\s*$", re.IGNORECASE)
LANG_RE = re.compile(r"^[a-z]{2,3}$")


class GuideError(FieldkitError):
    exit_code = ExitCode.USAGE

    def __init__(self, source: str, line: int | None, message: str, hint: str | None = None):
        where = _("{source}, line {line}").format(source=source, line=line) if line else source
        super().__init__(f"{where}: {message}", hint=hint)
        self.source = source
        self.line = line


def decode_guide_bytes(data: bytes, source: str) -> str:
    """Strict UTF-8 (a BOM is fine); clear errors for binary, huge and other encodings."""
    if len(data) > MAX_BYTES:
        raise GuideError(source, None, _("the file is {value} kB; a guide is at most "
                                           "{value2} kB.").format(value=len(data) // 1024, value2=MAX_BYTES // 1024), hint=_("Is this the right file?"))
    if b"\x00" in data[:8192]:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise GuideError(source, None, _("the file is UTF-16, not UTF-8."),
                             hint=_("Save it again as UTF-8 (plain text)."))
        raise GuideError(source, None, _("this looks like a binary file, not a text "
                                           "guide."),
                         hint=_("Write the guide as plain text (.md), or import a "
                                  "Word file (.docx)."))
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise GuideError(source, line, _("byte 0x{value:02x} is not UTF-8 (the file "
                                           "is probably Latin-1 or Windows-1252).").format(value=data[exc.start]),
                         hint=_("Save the file again with the encoding UTF-8.")) from None


def content_hash(text: str) -> str:
    norm = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip()
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def _split_list(value: str) -> list[str]:
    sep = ";" if ";" in value else ","
    return [v.strip() for v in value.split(sep) if v.strip()]


def _take(pattern: re.Pattern[str], text: str) -> tuple[re.Match[str] | None, str]:
    m = pattern.search(text)
    return (m, text[: m.start()].rstrip()) if m else (None, text)


def parse_guide(text: str, source: str = "<guide>", *, assign: bool = True) -> Guide:
    """Parse guide text; raise GuideError for the first problem found.

    With ``assign`` (the default) items without an explicit ``{#id}`` get short ids;
    importing a new version passes False and carries ids over from the last version.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines):
        raise GuideError(source, None, _("the guide is empty."),
                         hint=_("Start with a front-matter block: ---, title: ..., "
                                  "---"))
    if lines[i].strip() != "---":
        raise GuideError(source, i + 1, _("a guide starts with a front-matter block "
                                            "(a line ---)."),
                         hint=_("Add ---, then 'title: Your guide', then --- at the "
                                  "top."))
    front: dict[str, object] = {}
    front_start = i + 1
    i += 1
    last_key: str | None = None
    key_lines: dict[str, int] = {}
    while True:
        if i >= len(lines):
            raise GuideError(source, front_start, _("the front-matter block is not "
                                                      "closed."),
                             hint=_("End it with a line holding only ---."))
        raw = lines[i]
        stripped = raw.strip()
        i += 1
        if stripped == "---":
            break
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("- ") and last_key in ("header", "informant_types"):
            cast = front.setdefault(last_key, [])
            assert isinstance(cast, list)
            cast.append(stripped[2:].strip())
            continue
        if ":" not in stripped:
            raise GuideError(source, i, _("expected 'key: value' in the front "
                                            "matter, got {stripped!r}.").format(stripped=stripped))
        key, _sep, value = stripped.partition(":")
        norm = FRONT_KEYS.get(key.strip().lower())
        if norm is None:
            allowed = ", ".join(sorted({"title", "language", "informant types", "header"}))
            raise GuideError(source, i, _("unknown key {strip!r}.").format(strip=key.strip()), hint=_("Use "
                                                                                  "one "
                                                                                  "of: "
                                                                                  "{allowed}.").format(allowed=allowed))
        if norm in front:
            raise GuideError(source, i, _("the key {strip!r} is given twice.").format(strip=key.strip()))
        value = value.strip()
        front[norm] = _split_list(value) if norm in ("header", "informant_types") else value
        key_lines[norm] = i
        last_key = norm
    title = str(front.get("title") or "").strip()
    if not title:
        raise GuideError(source, front_start, _("the front matter has no title."),
                         hint=_("Add a line 'title: ...' between the --- lines."))
    language = str(front.get("language") or "no").strip().lower()
    if not LANG_RE.match(language):
        raise GuideError(source, key_lines.get("language"), _("language {language!r} "
                                                                "is not a language "
                                                                "code.").format(language=language),
                         hint=_("Use a code such as no, nb, nn or en."))
    guide = Guide(title=title, language=language,
                  informant_types=list(front.get("informant_types", [])),  # type: ignore[arg-type]
                  header=list(front.get("header", [])))  # type: ignore[arg-type]

    intro: list[str] = []
    theme: Theme | None = None
    question: Question | None = None
    seen_ids: dict[str, int] = {}

    def claim_id(text: str, lineno: int) -> tuple[str | None, str]:
        m, rest = _take(ID_RE, text)
        if m is None:
            return None, rest
        ident = m.group(1)
        if ident in seen_ids:
            raise GuideError(source, lineno, _("the id {{#{ident}}} is already used "
                                                 "on line {value}.").format(ident=ident, value=seen_ids[ident]), hint=_("Every id must be unique "
                                                             "in a guide."))
        seen_ids[ident] = lineno
        return ident, rest

    def close_theme() -> None:
        if theme is None:
            return
        if not theme.questions:
            raise GuideError(source, theme.line, _("the theme {title!r} has no "
                                                     "questions.").format(title=theme.title),
                             hint=_("Add at least one question ('- ...') or remove "
                                      "the theme."))
        if theme.open and (len(theme.questions) > 1 or theme.questions[0].probes):
            raise GuideError(source, theme.line, _("the open theme {title!r} has "
                                                     "more than one question or has "
                                                     "probes.").format(title=theme.title),
                             hint=_("An [open] theme is one question; remove [open] "
                                      "for more."))

    for lineno in range(i + 1, len(lines) + 1):
        raw = lines[lineno - 1].expandtabs(4)
        stripped = raw.strip()
        indent = len(raw) - len(raw.lstrip(" "))
        if not stripped or stripped.startswith("<!--"):
            continue
        if stripped.startswith("## ") or stripped == "##":
            close_theme()
            head = stripped[3:].strip()
            ident, head = claim_id(head, lineno)
            m_open, head = _take(OPEN_RE, head)
            m_min, head = _take(MIN_RE, head)
            if m_open is None:  # either order: (10 min) [open] or [open] (10 min)
                m_open, head = _take(OPEN_RE, head)
            bad = MIN_ANY_RE.search(head) if m_min is None else None
            if bad is not None or (m_min is not None and int(m_min.group(1)) == 0):
                value = bad.group(1).strip() if bad is not None else m_min.group(1)
                raise GuideError(source, lineno, _("the planned time {value!r} is not a whole number "
                                                   "of minutes above 0.").format(value=value),
                                 hint=_("Write the theme's planned minutes like this: ## Theme (10 min)"))
            if not head:
                raise GuideError(source, lineno, _("a theme heading without a title."))
            theme = Theme(id=ident or "", title=head, minutes=int(m_min.group(1)) if m_min else None,
                          open=m_open is not None, line=lineno)
            guide.themes.append(theme)
            question = None
            continue
        if stripped.startswith("#"):
            level = len(stripped) - len(stripped.lstrip("#"))
            raise GuideError(source, lineno, _("a level-{level} heading; themes are "
                                                 "level-2 headings (## ...).").format(level=level),
                             hint=_("Put the guide's title in the front matter and "
                                      "start each theme with '## '."))
        marker, body = stripped[:1], stripped[1:].strip()
        if marker in "-*" and stripped[1:2] == " ":
            if theme is None:
                raise GuideError(source, lineno, _("a question before the first "
                                                     "theme."),
                                 hint=_("Add a theme heading ('## ...') above it."))
            if indent == 0:
                ident, body = claim_id(body, lineno)
                m_only, body = _take(ONLY_RE, body)
                only_for = _split_list(m_only.group(2)) if m_only else []
                if m_only and not only_for:
                    raise GuideError(source, lineno, _("[only: ...] names no "
                                                         "informant type."))
                unknown = [t for t in only_for if guide.informant_types and t not in guide.informant_types]
                if unknown:
                    raise GuideError(source, lineno, _("informant type {value!r} is "
                                                         "not declared.").format(value=unknown[0]),
                                     hint=_("Declared: {types} (front matter 'informant types').").format(
                                         types=", ".join(guide.informant_types)))
                if not body:
                    raise GuideError(source, lineno, _("an empty question."))
                question = Question(id=ident or "", text=body, only_for=only_for, line=lineno)
                theme.questions.append(question)
            else:
                if question is None:
                    raise GuideError(source, lineno, _("a probe before any question "
                                                         "in this theme."),
                                     hint=_("Indented '- ' lines are probes under "
                                              "the question above; write the main "
                                              "question first (unindented '- ')."))
                ident, body = claim_id(body, lineno)
                if not body:
                    raise GuideError(source, lineno, _("an empty probe."))
                question.probes.append(Probe(id=ident or "", text=body, line=lineno))
            continue
        if marker == "+" and stripped[1:2] == " ":
            if question is None:
                raise GuideError(source, lineno, _("an example ('+ ...') before any "
                                                     "question."),
                                 hint=_("Examples to mention if needed belong under "
                                          "a question."))
            question.examples.append(body)
            continue
        if marker == ">":
            if not body:
                continue
            if theme is None:
                intro.append(body)
            elif question is not None and indent > 0:
                question.instructions.append(body)
            else:
                theme.instructions.append(body)
            continue
        if re.match(r"^\d+[.)]\s", stripped):
            raise GuideError(source, lineno, _("numbered lists are not used for "
                                                 "questions."),
                             hint=_("Write questions as '- ...' (fieldkit numbers "
                                      "them itself)."))
        # plain text
        if theme is None:
            intro.append(stripped)
        elif question is not None and indent > 0:
            last = question.probes[-1] if question.probes and indent >= 4 else question
            ident, rest = claim_id(stripped, lineno)
            if ident and last.id:
                raise GuideError(source, lineno, _("a second {#id} for the same item."))
            last.id = ident or last.id
            last.text = f"{last.text} {rest}".strip()
        elif not theme.questions:
            theme.instructions.append(stripped)
        else:
            raise GuideError(source, lineno, _("plain text after the questions: "
                                                 "{value!r}.").format(value=stripped[:40]),
                             hint=_("Indent it to continue the question above, or "
                                      "start it with '> ' for an instruction."))
    close_theme()
    if not guide.themes:
        raise GuideError(source, None, _("the guide has no themes."),
                         hint=_("Start each theme with a level-2 heading: '## Theme "
                                  "title'."))
    guide.intro = "\n".join(intro)
    if assign:
        assign_ids(guide)
    return guide


def assign_ids(guide: Guide, taken: set[str] | None = None) -> None:
    """Give every item without an id the next free short id (t1, q1, p1 ...)."""
    used = {i for i, *_ in guide.iter_items() if i} | set(taken or ()) | {r.id for r in guide.retired}
    counters = {"t": 0, "q": 0, "p": 0}

    def fresh(prefix: str) -> str:
        while True:
            counters[prefix] += 1
            cand = f"{prefix}{counters[prefix]}"
            if cand not in used:
                used.add(cand)
                return cand

    for theme in guide.themes:
        theme.id = theme.id or fresh("t")
        for q in theme.questions:
            q.id = q.id or fresh("q")
            for p in q.probes:
                p.id = p.id or fresh("p")
