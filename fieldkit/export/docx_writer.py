"""Word transcripts (python-docx): a title block with the session's metadata (no names),
guide themes as headings where the talk turned to them, ``[hh:mm:ss]`` timestamps and
speaker labels, observer notes, tags and guide marks as Word comments on the segment
they fall in (marked inline where python-docx has no comments), optional line numbers
for line-by-line coding."""

from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import escape

from fieldkit.export.model import Bundle, Session, hms
from fieldkit.export.text import metadata_lines


def _line_numbers(doc) -> None:  # noqa: ANN001
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


def _no_number(paragraph) -> None:  # noqa: ANN001
    from docx.oxml import OxmlElement

    paragraph._p.get_or_add_pPr().append(OxmlElement("w:suppressLineNumbers"))


NSW = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _ILLEGAL.sub("", text)


def _x(text: str) -> str:
    return escape(_clean(text))


def _style_id(doc, name: str) -> str:  # noqa: ANN001
    try:
        return doc.styles[name].style_id
    except KeyError:
        return name.replace(" ", "")


def build(bundle: Bundle, s: Session):  # noqa: ANN201 - docx.Document
    from docx import Document
    from docx.oxml import parse_xml
    from docx.shared import Pt, RGBColor
    from docx.text.paragraph import Paragraph

    doc = Document()
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

    def inline(paragraph_text: str):  # noqa: ANN202
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
    for seg in s.segments:
        for mark in heads.get(seg.index, []):
            title = mark.title + (" (returned)" if mark.returned else "")
            sect.addprevious(parse_xml(
                f'<w:p {NSW}><w:pPr><w:pStyle w:val="{heading2}"/>{nonum}</w:pPr>'
                f'<w:r><w:t xml:space="preserve">{_x(title)}</w:t></w:r></w:p>'))
        # one paragraph per segment, built as XML: python-docx's run API is too slow for
        # a 500-session export (a test reads it back through python-docx)
        speaker = (f'<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">{_x(seg.speaker)}: </w:t></w:r>'
                   if seg.speaker else "")
        p = parse_xml(
            f'<w:p {NSW}><w:r><w:rPr><w:color w:val="595959"/></w:rPr>'
            f'<w:t xml:space="preserve">[{hms(seg.start_ms)}] </w:t></w:r>{speaker}'
            f'<w:r><w:t xml:space="preserve">{_x(" ".join(seg.text(bundle.layer).split()))}</w:t></w:r></w:p>')
        sect.addprevious(p)
        evs = by_seg.get(seg.index, [])
        if not evs:
            continue
        para = Paragraph(p, doc._body)
        runs = para.runs
        for e in evs:
            at = f"[{hms(e.position_ms)}] " if e.position_ms is not None else ""
            if use_comments:
                doc.add_comment(runs, text=_clean(at + e.summary()), author=e.author or "fieldkit",
                                initials=(e.author or "FK")[:9])
            else:
                inline(f"{{{at}{e.summary()}}}")
    if loose:
        h = doc.add_heading("Notes without a time" if s.segments else "Notes", level=2)
        if bundle.line_numbers:
            _no_number(h)
        for e in loose:
            at = f"[{hms(e.position_ms)}] " if e.position_ms is not None else ""
            doc.add_paragraph(at + e.summary())
    core = doc.core_properties
    core.author, core.last_modified_by, core.title = "fieldkit", "fieldkit", s.title or s.label
    core.comments = ""
    return doc


def plan(bundle: Bundle, out_dir: Path) -> list:
    return [(out_dir / f"{s.stem}.docx", (lambda f, s=s: build(bundle, s).save(f)))
            for s in bundle.sessions]
