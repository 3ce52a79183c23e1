"""Reading a guide file from disk: plain text (.md, .txt) or Word (.docx).

The text parser (``fieldkit.instruments.guides.parser``) and the Word converter
(``fieldkit.instruments.guides.docx_import``) know nothing of each other; this module picks one by
the file's suffix, so neither imports the other.
"""

from __future__ import annotations

from pathlib import Path

from fieldkit.instruments.guides.model import Guide
from fieldkit.instruments.guides.parser import GuideError, decode_guide_bytes, parse_guide
from fieldkit.i18n import _


def load_guide_file(path: str | Path, *, assign: bool = True) -> tuple[Guide, str]:
    """Read and parse a guide file (.md/.txt, or .docx converted first)."""
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise GuideError(source, None, _("no such file."))
    if path.is_dir():
        raise GuideError(source, None, _("this is a folder, not a guide file."))
    if path.suffix.lower() == ".docx":
        from fieldkit.instruments.guides.docx_import import docx_to_guide_text

        text = docx_to_guide_text(path)
    else:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise GuideError(source, None, _("cannot read the file: {strerror}.").format(strerror=exc.strerror)) from exc
        text = decode_guide_bytes(data, source)
    return parse_guide(text, source, assign=assign), text
