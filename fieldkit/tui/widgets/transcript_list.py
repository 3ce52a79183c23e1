"""An OptionList that updates only the rows that changed (the review screen's transcript).

Textual's OptionList measures the height of every option again after any change (a new
prompt clears its line cache), which at 2,000 segments takes longer than the change
itself. :meth:`TranscriptList.sync` compares the rows by key and by a signature of what
they show, replaces or inserts only those that differ, measures only those, and lays
the lines out again from the heights it already knows. Where the OptionList internals it
relies on are missing (a future Textual), it falls back to rebuilding the list.
"""

from __future__ import annotations

from typing import Callable, Hashable

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option


class TranscriptList(OptionList):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._keys: list[str] = []
        self._sigs: list[Hashable] = []

    def _rebuild(self, keys: list[str], sigs: list[Hashable], make: Callable[[int], Text]) -> None:
        self.set_options([Option(make(i), id=k) for i, k in enumerate(keys)])
        self._keys, self._sigs = list(keys), list(sigs)

    def sync(self, keys: list[str], sigs: list[Hashable], make: Callable[[int], Text]) -> int:
        """Show the rows ``keys`` (option ids) whose content is summed up by ``sigs``;
        ``make(i)`` renders row i. Returns how many rows were rendered."""
        old_keys, old_sigs = self._keys, self._sigs
        internals = all(hasattr(self, a) for a in ("_options", "_option_to_index", "_id_to_option",
                                                   "_line_cache", "_option_render_cache"))
        if not old_keys or not internals or len(self._options) != len(old_keys):
            self._rebuild(keys, sigs, make)
            return len(keys)
        n_old, n_new = len(old_keys), len(keys)
        p = 0
        while p < min(n_old, n_new) and old_keys[p] == keys[p]:
            p += 1
        s = 0
        while s < min(n_old, n_new) - p and old_keys[n_old - 1 - s] == keys[n_new - 1 - s]:
            s += 1
        # the rows kept in place whose content changed, and the middle that was replaced
        changed = [i for i in range(p) if old_sigs[i] != sigs[i]]
        changed += [n_new - 1 - k for k in range(s) if old_sigs[n_old - 1 - k] != sigs[n_new - 1 - k]]
        middle = range(p, n_new - s)
        if not changed and not len(middle) and n_old == n_new:
            return 0
        options = self._options
        removed = options[p: n_old - s]
        if len(removed) > 200 or len(middle) > 200:       # most of it changed: start afresh
            self._rebuild(keys, sigs, make)
            return len(keys)
        for opt in removed:
            if opt.id is not None:
                self._id_to_option.pop(opt.id, None)
        fresh = [Option(make(i), id=keys[i]) for i in middle]
        for opt in fresh:
            self._id_to_option[opt.id] = opt
        options[p: n_old - s] = fresh
        for i in changed:
            options[i]._set_prompt(make(i))
        self._option_to_index.clear()
        self._option_to_index.update({opt: i for i, opt in enumerate(options)})
        self._keys, self._sigs = list(keys), list(sigs)
        self._relayout(p, n_old - s, len(fresh), changed)
        return len(changed) + len(fresh)

    def _relayout(self, a: int, b_old: int, n_fresh: int, changed: list[int]) -> None:
        """Line layout after rows [a, b_old) were replaced by ``n_fresh`` new ones and
        ``changed`` rows got new prompts: only those are measured."""
        cache = self._line_cache
        self._option_render_cache.clear()          # only the rows on screen are in it
        region = self.scrollable_content_region
        if not cache.lines or not region or len(cache.heights) != b_old - a + len(self._options) - n_fresh:
            cache.clear()                          # never laid out: Textual measures all later
            self.refresh()
            return
        old = [cache.heights[i] for i in range(len(cache.heights))]
        heights = old[:a] + [0] * n_fresh + old[b_old:]
        width = region.width - self._get_left_gutter_width()
        padding = self.get_component_styles("option-list--option").padding
        for i in list(range(a, a + n_fresh)) + changed:
            opt = self._options[i]
            heights[i] = self._get_visual(opt).get_height(self.styles, width - padding.width) + opt._divider
        cache.clear()
        for i, h in enumerate(heights):
            cache.index_to_line[i] = len(cache.lines)
            cache.heights[i] = h
            cache.lines.extend((i, k) for k in range(h))
        self._update_lines()                       # the virtual size from the new lines
        self.refresh()
