"""Word transcripts (python-docx): a title block with the session's metadata (no names),
guide themes as headings where the theme began, one paragraph per speaker turn with its
``[hh:mm:ss]`` timestamp and speaker label (each segment's too with ``turn_times``),
observer notes, tags and guide marks as Word comments on the segment they fall
in, dated when the event was made (marked inline where python-docx has no comments),
optional line numbers for line-by-line coding.

For readers in Norway and elsewhere: A4 paper, the document and proofing language from
the project (nb-NO, nn-NO, en-GB ...: else Word marks every word as misspelt), a header
with the session's reference and a footer with page numbers, and the export's own
creation date (not the template's)."""

from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import escape

from fieldkit.export.model import Bundle, Session, hms
from fieldkit.export.text import metadata_lines
from fieldkit.i18n import _


def _line_numbers(doc) -> None:
    """Word's own line numbering (Layout > Line numbers > Continuous)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for section in doc.sections:
        sect = section._sectPr
        ln = OxmlElement("w:lnNumType")
        ln.set(qn("w:countBy"), "1")
        ln.set(qn("w:restart"), "continuous")
        # schema order: ... pgMar, paperSrc, pgBorders, lnNumType, pgNumType, cols ...
        anchor = next((c for c in sect if c.tag in (qn("w:pgNumType"), qn("w:cols"), qn("w:formProt"),
                                                    qn("w:vAlign"), qn("w:noEndnote"), qn("w:titlePg"),
                                                    qn("w:textDirection"), qn("w:bidi"), qn("w:rtlGutter"),
                                                    qn("w:docGrid"), qn("w:printerSettings"),
                                                    qn("w:sectPrChange"))), None)
        if anchor is not None:
            anchor.addprevious(ln)
        else:
            sect.append(ln)


def _no_number(paragraph) -> None:
    from docx.oxml import OxmlElement

    paragraph._p.get_or_add_pPr().append(OxmlElement("w:suppressLineNumbers"))


NSW = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _ILLEGAL.sub("", text)


def _x(text: str) -> str:
    return escape(_clean(text))


def _style_id(doc, name: str) -> str:
    try:
        return doc.styles[name].style_id
    except KeyError:
        return name.replace(" ", "")


#: project language -> Word language tag
LANGUAGES = {"no": "nb-NO", "nb": "nb-NO", "nob": "nb-NO", "nn": "nn-NO", "nno": "nn-NO", "en": "en-GB",
             "sv": "sv-SE", "da": "da-DK", "de": "de-DE", "fi": "fi-FI", "fr": "fr-FR", "es": "es-ES",
             "se": "se-NO", "nl": "nl-NL", "is": "is-IS"}


def word_language(language: str) -> str:
    """The Word language tag for a project language ("no" -> "nb-NO", "en" -> "en-GB")."""
    lang = (language or "").strip()
    if "-" in lang and len(lang) >= 4:
        a, b = lang.split("-", 1)
        return f"{a.lower()}-{b.upper()}"
    return LANGUAGES.get(lang.lower(), "en-GB")


def _language(doc, tag: str) -> None:
    """Every language setting of the template (styles, theme fonts) to ``tag``."""
    from docx.oxml.ns import qn

    for el in doc.styles.element.iter(qn("w:lang")):
        el.set(qn("w:val"), tag)
        if el.get(qn("w:eastAsia")) is not None:
            el.set(qn("w:eastAsia"), tag)
    settings = doc.settings.element
    for el in settings.iter(qn("w:themeFontLang")):
        el.set(qn("w:val"), tag)
    for el in list(settings.iter(qn("w:proofState"))):   # "already checked": let Word check
        el.getparent().remove(el)
    doc.core_properties.language = tag


def _page_setup(doc, bundle: Bundle, s: Session, tag: str) -> None:
    """A4 with 2.5 cm margins; the session reference in the header, page numbers below."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import parse_xml
    from docx.shared import Mm, Pt

    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(25)
    section.top_margin = section.bottom_margin = Mm(25)
    head = section.header.paragraphs[0]
    run = head.add_run(" · ".join(x for x in (s.label, s.title) if x))
    run.font.size = Pt(9)
    head.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    foot = section.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER

    def field(instr: str) -> str:
        return (f'<w:r {NSW}><w:fldChar w:fldCharType="begin"/></w:r>'
                f'<w:r {NSW}><w:instrText xml:space="preserve"> {instr} </w:instrText></w:r>'
                f'<w:r {NSW}><w:fldChar w:fldCharType="separate"/></w:r>'
                f'<w:r {NSW}><w:t>1</w:t></w:r>'
                f'<w:r {NSW}><w:fldChar w:fldCharType="end"/></w:r>')

    # "Page 3 of 12" in the exporting person's language (the words around Word's fields)
    import re

    parts = []
    for piece in re.split(r"(\{page\}|\{pages\})", _("Page {page} of {pages}")):
        if piece == "{page}":
            parts.append(field("PAGE"))
        elif piece == "{pages}":
            parts.append(field("NUMPAGES"))
        elif piece:
            parts.append(f'<w:r {NSW}><w:t xml:space="preserve">{_x(piece)}</w:t></w:r>')
    for xml in parts:
        for el in parse_xml(f"<w:p {NSW}>{xml}</w:p>"):
            foot._p.append(el)


def _when(iso: str):
    from datetime import datetime, timezone

    try:
        dt = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def build(bundle: Bundle, s: Session):
    from docx import Document
    from docx.oxml import parse_xml
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor
    from docx.text.paragraph import Paragraph

    doc = Document()
    tag = word_language(bundle.language)
    _language(doc, tag)
    _page_setup(doc, bundle, s, tag)
    use_comments = hasattr(doc, "add_comment")
    head = doc.add_heading(s.title or s.label, level=1)
    meta = [head]
    table = doc.add_table(rows=0, cols=2)
    table.style = "Light List Accent 1" if "Light List Accent 1" in [st.name for st in doc.styles] else None
    for k, v in metadata_lines(bundle, s):
        row = table.add_row().cells
        row[0].text, row[1].text = k, v
        meta += [row[0].paragraphs[0], row[1].paragraphs[0]]
    if bundle.line_numbers:
        _line_numbers(doc)
        for p in meta:
            _no_number(p)

    heads: dict[int, list] = {}
    for mark in s.themes:
        at = mark.segment_index if mark.segment_index is not None else 0
        heads.setdefault(at, []).append(mark)
    by_seg: dict[int, list] = {}
    loose = []
    for e in s.reading_events():
        (by_seg.setdefault(e.segment_index, []) if e.segment_index is not None else loose).append(e)

    grey = RGBColor(0x59, 0x59, 0x59)

    def inline(paragraph_text: str):
        p = doc.add_paragraph()
        r = p.add_run(paragraph_text)
        r.italic = True
        r.font.color.rgb = grey
        r.font.size = Pt(9)
        if bundle.line_numbers:
            _no_number(p)
        return p

    body = doc.element.body
    sect = body.sectPr
    heading2 = _style_id(doc, "Heading 2")
    nonum = "<w:suppressLineNumbers/>" if bundle.line_numbers else ""
    for turn in s.turns():
        for mark in heads.get(turn[0].index, []):
            title = mark.title + (_(" (back)") if mark.returned else "")
            sect.addprevious(parse_xml(
                f'<w:p {NSW}><w:pPr><w:pStyle w:val="{heading2}"/>{nonum}</w:pPr>'
                f'<w:r><w:t xml:space="preserve">{_x(title)}</w:t></w:r></w:p>'))
        # one paragraph per speaker turn, built as XML: python-docx's run API is too slow
        # for a 500-session export (a test reads it back through python-docx). Each
        # segment is a run of its own, so a comment marks the words it belongs to.
        first = turn[0]
        speaker = (f'<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">{_x(first.speaker)}: </w:t></w:r>'
                   if first.speaker else "")
        runs_xml, owner = [], []           # owner[i]: the segment index of text run i
        for k, seg in enumerate(turn):
            text = " ".join(seg.text(bundle.layer).split())
            if k and bundle.turn_times:
                runs_xml.append(f'<w:r><w:rPr><w:color w:val="595959"/></w:rPr>'
                                f'<w:t xml:space="preserve">[{hms(seg.start_ms)}] </w:t></w:r>')
                owner.append(None)
            sep = " " if k < len(turn) - 1 else ""
            runs_xml.append(f'<w:r><w:t xml:space="preserve">{_x(text + sep)}</w:t></w:r>')
            owner.append(seg.index)
        p = parse_xml(
            f'<w:p {NSW}><w:r><w:rPr><w:color w:val="595959"/></w:rPr>'
            f'<w:t xml:space="preserve">[{hms(first.start_ms)}] </w:t></w:r>{speaker}'
            + "".join(runs_xml) + '</w:p>')
        sect.addprevious(p)
        if not any(by_seg.get(seg.index) for seg in turn):
            continue
        para = Paragraph(p, doc._body)
        runs = para.runs
        lead = len(runs) - len(owner)      # the time and speaker runs before the text
        for seg in turn:
            mine = [runs[lead + i] for i, o in enumerate(owner) if o == seg.index]
            for e in by_seg.get(seg.index, []):
                at = f"[{hms(e.position_ms)}] " if e.position_ms is not None else ""
                if use_comments:
                    c = doc.add_comment(mine, text=_clean(at + e.summary()), author=e.author or "fieldkit",
                                        initials=(e.author or "FK")[:9])
                    made = e.wall_time or bundle.created
                    if made:   # when the event was made, not when the file was exported
                        c._comment_elm.set(qn("w:date"), made.replace("+00:00", "Z"))
                else:
                    inline(f"{{{at}{e.summary()}}}")
    if loose:
        h = doc.add_heading(_("Notes without a time") if s.segments else _("Notes"), level=2)
        if bundle.line_numbers:
            _no_number(h)
        for e in loose:
            at = f"[{hms(e.position_ms)}] " if e.position_ms is not None else ""
            doc.add_paragraph(at + e.summary())
    core = doc.core_properties
    # Word's document properties hold at most 255 characters (python-docx refuses more): a
    # title pasted whole goes in shortened, on one line; the heading keeps all of it
    core.author, core.last_modified_by, core.title = "fieldkit", "fieldkit", _property(s.title or s.label)
    core.comments = ""
    core.subject = _property(s.label)
    made = _when(bundle.created)
    if made is not None:
        core.created = core.modified = made.replace(tzinfo=None)
    core.revision = 1
    return doc


def plan(bundle: Bundle, out_dir: Path) -> list:
    return [(out_dir / f"{s.stem}.docx", (lambda f, s=s: build(bundle, s).save(f)))
            for s in bundle.sessions]


def _property(text: str, limit: int = 255) -> str:
    """``text`` as a document property: one line, at most ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
