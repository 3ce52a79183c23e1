"""Turn a guide written in Word into the plain-text guide format.

Mapping (python-docx): the document's Title paragraph (or its core property title, or
the file name) becomes the guide title; Heading 1 and Heading 2 paragraphs become themes;
list paragraphs at the first level become questions, deeper levels become probes;
paragraphs in italics, or starting with "Instruks:" / "Instruction:", become interviewer
instructions; paragraphs starting with "Eksempel:" / "Example:" become examples to
mention if needed; other text under a heading before its first question is a theme
instruction. The result is stored and versioned like any text guide.
"""

from __future__ import annotations

import re
from pathlib import Path

from fieldkit.instruments.guides.parser import GuideError
from fieldkit.i18n import _

INSTR = re.compile(r"^(instruks(jon)?|instruction|merk|note)\s*:\s*", re.IGNORECASE)
EXAMPLE = re.compile(r"^(eksempel|eksempler|example|examples)\s*:\s*", re.IGNORECASE)


def _list_level(paragraph) -> int | None:  # noqa: ANN001
    ppr = paragraph._p.pPr
    if ppr is not None and ppr.numPr is not None:
        ilvl = ppr.numPr.ilvl
        return int(ilvl.val) if ilvl is not None else 0
    style = (paragraph.style.name or "").lower()
    if "list" in style:
        m = re.search(r"(\d+)$", style)
        return int(m.group(1)) - 1 if m else 0
    return None


def docx_to_guide_text(path: Path) -> str:
    try:
        import docx

        document = docx.Document(str(path))
    except Exception as exc:  # noqa: BLE001 - python-docx raises many kinds
        raise GuideError(str(path), None, _("cannot read this Word file ({name}).").format(name=type(exc).__name__),
                         hint=_("Open it in Word and save it again as .docx.")) from None
    title = ""
    lines: list[str] = []
    in_theme = False
    has_question = False
    for para in document.paragraphs:
        text = " ".join(para.text.split())
        if not text:
            continue
        style = (para.style.name or "").lower()
        if style == "title" and not title:
            title = text
            continue
        if style.startswith("heading"):
            lines.append(f"## {text}")
            in_theme, has_question = True, False
            continue
        level = _list_level(para)
        italic = bool(para.runs) and all(r.italic for r in para.runs if r.text.strip())
        if not in_theme:
            lines.append(f"> {INSTR.sub('', text)}")
            continue
        if EXAMPLE.match(text) and has_question:
            for ex in re.split(r"[;,]\s*", EXAMPLE.sub("", text)):
                if ex.strip():
                    lines.append(f"  + {ex.strip()}")
        elif INSTR.match(text) or (italic and level is None):
            lines.append(("  > " if has_question else "> ") + INSTR.sub("", text))
        elif level is not None and level > 0 and has_question:
            lines.append(f"  - {text}")
        elif level is not None or text.endswith("?"):
            lines.append(f"- {text}")
            has_question = True
        else:
            lines.append(("  > " if has_question else "> ") + text)
    title = title or (document.core_properties.title or "").strip() or path.stem
    return "---\n" + f"title: {title}\n" + "---\n" + "\n".join(lines) + "\n"
