"""Text snippets while typing, the same in every field that takes them: the transcript edit
and the note in review, the interview's note line (lead's and observer's seat) and the
debrief's boxes. The expanding itself is the core's
(:meth:`fieldkit.sessions.snippets.Expansion.expand`); this only applies it to a Textual
field at its cursor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import TextArea

if TYPE_CHECKING:
    from fieldkit.sessions.snippets import Expansion
    from fieldkit.tui.widgets.inputs import Input

#: the value a field was given by the last expansion (its Changed event must not expand
#: again: a snippet whose text ends with an abbreviation would never stop)
_EXPANDED = "_fieldkit_snippet_value"


def expand_in_input(inp: "Input", expansion: "Expansion | None") -> None:
    """An abbreviation just typed before the cursor of a one-line field expands (call on
    its ``Input.Changed``)."""
    if expansion is None or not expansion.table or getattr(inp, _EXPANDED, None) == inp.value:
        return
    text, cursor = expansion.expand(inp.value, inp.cursor_position)
    if text != inp.value:
        setattr(inp, _EXPANDED, text)
        inp.value = text
        inp.cursor_position = cursor


def expand_in_area(area: TextArea, expansion: "Expansion | None") -> None:
    """The same in a multi-line box, on the cursor's line (call on ``TextArea.Changed``)."""
    if expansion is None or not expansion.table or area.read_only or getattr(area, _EXPANDED, None) == area.text:
        return
    row, col = area.cursor_location
    line = area.document.get_line(row)
    text, cursor = expansion.expand(line, col)
    if text != line:
        area.replace(text, (row, 0), (row, len(line)), maintain_selection_offset=False)
        area.cursor_location = (row, cursor)
        setattr(area, _EXPANDED, area.text)


def finished_input(inp: "Input", value: str, expansion: "Expansion | None") -> str:
    """The value of a one-line field being saved: an abbreviation that ends it expands when
    the cursor is at its end (where it was just typed)."""
    if expansion is None or inp.cursor_position != len(value):
        return value
    return expansion.finish(value)


def finish_area(area: TextArea, expansion: "Expansion | None") -> None:
    """A box being saved: an abbreviation typed last, at the very end, expands in the box."""
    if expansion is None or not expansion.table or area.read_only:
        return
    end = area.document.end
    if area.cursor_location != end:
        return
    line = area.document.get_line(end[0])
    done = expansion.finish(line)
    if done != line:
        area.replace(done, (end[0], 0), end, maintain_selection_offset=False)
        area.cursor_location = area.document.end


__all__ = ["expand_in_area", "expand_in_input", "finish_area", "finished_input"]
