"""CSV and XLSX of the transcript's segments (session, time, speaker, verbatim, edited,
confidence), of events (session, time, author, kind, tag, coverage status, text, guide
question), of guide coverage (question x session, keyed by guide) and of tags (tag x
session counts). CSV uses the bundle's separator (";" for Norwegian projects: Norwegian
Excel's list separator); XLSX has real dates and times, a frozen bold header, filters
and column widths.

Column names and values are in the exporting person's language, one language per file
(``session_title``/``økt_tittel``, ``covered``/``dekket``); the codes a script keys on (tag
codes, question ids, session ids) stay as stored. JSON is the language-free format."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from fieldkit.export.model import Bundle, Session, coverage_word, hms, kind_value, subkind_word
from fieldkit.i18n import N_, _

EVENT_COLUMNS = ["session", "session_title", "session_date", "time", "position_ms", "end_ms", "made_at",
                 "author", "kind", "tag", "tag_label", "coverage_status", "text", "guide", "question_id",
                 "guide_question", "about"]
#: column widths in the XLSX (characters)
WIDTHS = {"session": 28, "session_title": 30, "session_date": 12, "time": 10, "position_ms": 11, "end_ms": 10,
          "made_at": 19, "author": 10, "kind": 10, "tag": 22, "tag_label": 18, "coverage_status": 15,
          "text": 60, "guide": 24, "question_id": 14, "guide_question": 50, "about": 16}


SEGMENT_COLUMNS = ["session", "session_title", "time", "start_ms", "end_ms", "speaker", "verbatim", "edited",
                   "confidence"]
SEGMENT_WIDTHS = [28, 30, 10, 11, 11, 12, 60, 60, 11]


def segment_rows(bundle: Bundle, typed: bool = False) -> list[list]:
    """One row per transcript segment, both text layers side by side ("" in edited when
    the segment was not edited), the model's confidence (0..1, "" when unknown)."""
    rows = []
    for s in bundle.sessions:
        for g in s.segments:
            rows.append([s.label, s.title, _duration(g.start_ms) if typed else hms(g.start_ms), g.start_ms,
                         g.end_ms, g.speaker, g.verbatim, "" if g.edited is None else g.edited,
                         "" if g.confidence is None else g.confidence])
    return rows
#: column names as written, in the exporting person's language
COLUMN_NAMES = {"session": N_("session"), "session_title": N_("session_title"), "session_date": N_("session_date"),
                "time": N_("time"), "position_ms": N_("position_ms"), "end_ms": N_("end_ms"),
                "made_at": N_("made_at"), "author": N_("author"), "kind": N_("kind"), "tag": N_("tag"),
                "tag_label": N_("tag_label"), "coverage_status": N_("coverage_status"), "text": N_("text"),
                "guide": N_("guide"), "question_id": N_("question_id"), "guide_question": N_("guide_question"),
                "about": N_("about"), "theme": N_("theme"), "question": N_("question"), "scheme": N_("scheme"),
                "label": N_("label"), "total": N_("total"), "start_ms": N_("start_ms"),
                "speaker": N_("speaker"), "verbatim": N_("verbatim"), "edited": N_("edited"),
                "confidence": N_("confidence")}


def columns(names: list[str]) -> list[str]:
    """Column names in the exporting person's language."""
    return [_(COLUMN_NAMES[n]) for n in names]


def event_rows(bundle: Bundle, typed: bool = False) -> list[list]:
    """One row per event. ``typed``: dates, times and timestamps as Python objects (XLSX
    cells Excel can sort and compute with) instead of text."""
    rows = []
    for s in bundle.sessions:
        sdate = _date(s.date) if typed else s.date
        for e in s.events:
            time = "" if e.position_ms is None else (_duration(e.position_ms) if typed else hms(e.position_ms))
            made = (_local(e.wall_time) if typed else e.wall_time) if e.wall_time else ""
            q = bundle.question(s.guide_key, e.question_id) if e.question_id else None
            rows.append([s.label, s.title, sdate, time, e.position_ms, e.end_ms, made, e.author, kind_value(e.kind),
                         e.code if e.kind == "tag" else "", e.tag_label,
                         coverage_word(e.code) if e.kind == "coverage" else "",
                         e.text or subkind_word(e.kind, e.code),
                         (q.guide_title if q else s.guide_title) if e.question_id else "",
                         e.question_id, e.question_text, e.informant])
    return rows


def session_headings(sessions: list[Session]) -> list[str]:
    """Column headings: each session's title and date; the id's start where two agree."""
    heads = [f"{s.title} ({s.date})" if s.date else (s.title or s.label) for s in sessions]
    return [f"{h} {s.id.replace('-', '')[:6]}" if heads.count(h) > 1 else h for h, s in zip(heads, sessions)]


def coverage_table(bundle: Bundle) -> tuple[list[str], list[list]]:
    """Header and rows: guide, theme, question id, question, then one status per session
    ("" where the question is not in that session's guide). Keyed by guide: a session's
    coverage only fills its own guide's questions."""
    sessions = [s for s in bundle.sessions if s.guide_key]
    header = columns(["guide", "theme", "question_id", "question"]) + session_headings(sessions)
    rows = [[q.guide_title, q.theme, q.id, q.text]
            + [coverage_word(s.coverage[q.id]) if s.guide_key == q.guide_key and s.coverage.get(q.id) else ""
               for s in sessions]
            for q in bundle.questions]
    return header, rows


def tag_table(bundle: Bundle) -> tuple[list[str], list[list]]:
    """Tag x session: how often each tag was set in each session (a category x interview
    sheet), with a total."""
    counts: dict[str, dict[str, int]] = {}
    for s in bundle.sessions:
        for e in s.events:
            if e.kind == "tag":
                per = counts.setdefault(e.code, {})
                per[s.id] = per.get(s.id, 0) + 1
    header = columns(["scheme", "tag", "label"]) + session_headings(bundle.sessions) + columns(["total"])
    rows = []
    for c in bundle.codes:
        per = counts.get(c.id, {})
        cells = [per.get(s.id, 0) for s in bundle.sessions]
        rows.append([c.scheme, c.code, c.label] + cells + [sum(cells)])
    return header, rows


def _date(iso: str):
    from datetime import date

    try:
        return date.fromisoformat(iso) if iso else ""
    except ValueError:
        return iso


def _duration(ms: int):
    from datetime import timedelta

    return timedelta(milliseconds=max(0, ms) // 1000 * 1000)


def _local(iso: str):
    """A stored UTC time as the local wall-clock time, without a zone (Excel has none)."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(iso).astimezone().replace(tzinfo=None)
    except ValueError:
        return iso


def _csv_bytes(header: list, rows: list, sep: str = ",") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return buf.getvalue().encode("utf-8-sig")   # BOM: Excel then reads æøå right


def _slug(bundle: Bundle) -> str:
    from fieldkit.export.collect import _slug as slug

    return slug(bundle.project) or "project"


def plan_csv(bundle: Bundle, out_dir: Path) -> list:
    name, sep = _slug(bundle), bundle.csv_separator or ","
    return [
        (out_dir / f"{name}-segments.csv",
         lambda f: f.write(_csv_bytes(columns(SEGMENT_COLUMNS), segment_rows(bundle), sep))),
        (out_dir / f"{name}-events.csv", lambda f: f.write(_csv_bytes(columns(EVENT_COLUMNS), event_rows(bundle), sep))),
        (out_dir / f"{name}-coverage.csv", lambda f: f.write(_csv_bytes(*coverage_table(bundle), sep))),
        (out_dir / f"{name}-tags.csv", lambda f: f.write(_csv_bytes(*tag_table(bundle), sep))),
    ]


def _write_xlsx(bundle: Bundle, f) -> None:
    from openpyxl import Workbook

    from fieldkit.export.text import metadata_lines

    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    formats = {"date": "yyyy-mm-dd", "time": "[h]:mm:ss", "datetime": "yyyy-mm-dd hh:mm:ss"}

    def sheet(title: str, header: list, rows: list, widths: list[int] | None = None,
              kinds: dict[int, str] | None = None, wrap_header: bool = False) -> None:
        ws = wb.create_sheet(title)
        ws.freeze_panes = "A2"
        if header:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(1, len(rows) + 1)}"
        for n, w in enumerate(widths or [], start=1):
            ws.column_dimensions[get_column_letter(n)].width = w
        head = []
        for h in header:
            c = WriteOnlyCell(ws, value=_fit(h) if isinstance(h, str) else h)
            c.font = bold
            if wrap_header:
                c.alignment = Alignment(wrap_text=True, vertical="top")
            head.append(c)
        ws.append(head)
        for r in rows:
            # a text starting with "=" stays text, never a formula
            ws.append([_cell(ws, v, (kinds or {}).get(i), formats) for i, v in enumerate(r)])

    sheet(_("Segments"), columns(SEGMENT_COLUMNS), segment_rows(bundle, typed=True), SEGMENT_WIDTHS,
          {SEGMENT_COLUMNS.index("time"): "time"})
    ev_kinds = {EVENT_COLUMNS.index("session_date"): "date", EVENT_COLUMNS.index("time"): "time",
                EVENT_COLUMNS.index("made_at"): "datetime"}
    sheet(_("Events"), columns(EVENT_COLUMNS), event_rows(bundle, typed=True), [WIDTHS[c] for c in EVENT_COLUMNS],
          ev_kinds)
    header, rows = coverage_table(bundle)
    sheet(_("Coverage"), header, rows, [24, 24, 14, 50] + [16] * (len(header) - 4), wrap_header=True)
    header, rows = tag_table(bundle)
    sheet(_("Tags x sessions"), header, rows, [16, 20, 22] + [16] * (len(header) - 3), wrap_header=True)
    meta_keys: list[str] = []
    metas = []
    for s in bundle.sessions:
        d = dict(metadata_lines(bundle, s))
        for k in d:
            if k not in meta_keys:
                meta_keys.append(k)
        metas.append(d)
    sheet(_("Sessions"), meta_keys, [[d.get(k, "") for k in meta_keys] for d in metas],
          [max(10, min(40, len(k) + 4)) for k in meta_keys])
    wb.save(f)


#: the most characters an Excel cell holds (a longer one makes Excel call the file damaged)
EXCEL_CELL_MAX = 32767


def _fit(text: str) -> str:
    """``text`` for one Excel cell: cut at Excel's limit, with "…" (CSV and the other
    formats keep it whole)."""
    return text if len(text) <= EXCEL_CELL_MAX else text[:EXCEL_CELL_MAX - 1] + "…"


def _cell(ws, v, kind: str | None = None, formats: dict | None = None):
    from openpyxl.cell import WriteOnlyCell

    if isinstance(v, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        v = _fit(ILLEGAL_CHARACTERS_RE.sub("", v))
    if isinstance(v, str) and v.startswith("="):
        c = WriteOnlyCell(ws, value=v)
        c.data_type = "s"
        return c
    if kind and v != "" and v is not None and formats:
        c = WriteOnlyCell(ws, value=v)
        c.number_format = formats[kind]
        return c
    return v


def plan_xlsx(bundle: Bundle, out_dir: Path) -> list:
    return [(out_dir / f"{_slug(bundle)}.xlsx", lambda f: _write_xlsx(bundle, f))]
