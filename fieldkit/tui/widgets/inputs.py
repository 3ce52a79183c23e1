"""Input fields that keep everything pasted into them.

Textual's ``Input`` keeps only ``text.splitlines()[0]`` of a paste: three pasted lines
became the first alone, and since ``splitlines`` also splits at ``\\x0b``, ``\\x0c``,
``\\x1c``-``\\x1e``, ``\\x85`` and ``\\u2028``, a paste could lose text with no visible line
break. Every screen uses these instead (a test checks that none imports Textual's):

* :class:`Input`: a single-line field. A paste is cleaned by the one rule for user text
  (:func:`fieldkit.text.one_line`) and its lines are joined with spaces; nothing is dropped.
* :class:`LinesInput`: the note field (interview and observer screens) and the transcript
  edit field in review. It stays one line on the screen so that Enter saves it with one
  keypress, as the observer needs during an interview; a pasted line break is kept in the
  value and shown as ``↵``. ``keep_lines = False`` makes it behave like :class:`Input`
  (review's find uses the same line).
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widgets import Input as _TextualInput

from fieldkit.text import clean_text, one_line

#: how a kept line break is shown in a one-line field
SHOWN_BREAK = "↵"


class Input(_TextualInput):
    """A single-line field whose paste joins the pasted lines with spaces."""

    keep_lines = False

    def pasted(self, text: str) -> str:
        """What a paste of ``text`` inserts."""
        if self.password:
            # a passphrase is taken as pasted (no normal form: the key is derived from
            # these very characters); a copied line's own line break is left out
            return " ".join(text.strip("\r\n").splitlines())
        return clean_text(text) if self.keep_lines else one_line(text)

    def _on_paste(self, event: events.Paste) -> None:
        # instead of Textual's handler (which would insert the first line again)
        event.prevent_default()
        if event.text:
            text = self.pasted(event.text)
            selection = self.selection
            if selection.is_empty:
                self.insert_text_at_cursor(text)
            else:
                self.replace(text, *selection)
        event.stop()


class LinesInput(Input):
    """A one-line field that keeps the line breaks of a paste (shown as ``↵``); Enter
    still saves."""

    keep_lines = True

    def __init__(self, *args, keep_lines: bool = True, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.keep_lines = keep_lines

    def _shown(self, text: str) -> str:
        return text.replace("\n", SHOWN_BREAK)

    @property
    def _value(self) -> Text:
        if self.password or "\n" not in self.value:
            return super()._value
        text = Text(self._shown(self.value), no_wrap=True, overflow="ignore", end="")
        if self.highlighter is not None:
            text = self.highlighter(text)
        return text

    def _position_to_cell(self, position: int) -> int:
        if "\n" not in self.value:
            return super()._position_to_cell(position)
        from textual.expand_tabs import expand_tabs_inline

        return cell_len(expand_tabs_inline(self._shown(self.value[:position]), 4))


__all__ = ["Input", "LinesInput", "SHOWN_BREAK"]
