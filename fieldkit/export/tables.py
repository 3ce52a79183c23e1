"""CSV and XLSX of events (session, time, author, kind, tag, text, guide question) and
of guide coverage (question x session)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from fieldkit.export.model import Bundle, hms

EVENT_COLUMNS = ["session", "session_date", "time", "position_ms", "end_ms", "author", "kind",
                 "tag", "tag_label", "text", "question_id", "guide_question", "about"]


def event_rows(bundle: Bundle) -> list[list]:
    rows = []
    for s in bundle.sessions:
        for e in s.events:
            rows.append([s.label, s.date, hms(e.position_ms) if e.position_ms is not None else "",
                         e.position_ms, e.end_ms, e.author, e.kind,
                         e.code if e.kind == "tag" else "", e.tag_label, e.text, e.question_id,
                         e.question_text, e.informant])
    return rows


def coverage_table(bundle: Bundle) -> tuple[list[str], list[list]]:
    """Header and rows: theme, question id, question, then one status per session
    ("" where the question was not in that session's guide)."""
    sessions = [s for s in bundle.sessions if s.coverage]
    header = ["theme", "question_id", "question"] + [s.label for s in sessions]
    rows = [[q.theme, q.id, q.text] + [s.coverage.get(q.id, "") for s in sessions]
            for q in bundle.questions]
    return header, rows


def _csv_bytes(header: list, rows: list) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return buf.getvalue().encode("utf-8-sig")   # BOM: Excel then reads æøå right


def _slug(bundle: Bundle) -> str:
    from fieldkit.export.collect import _slug as slug

    return slug(bundle.project) or "project"


def plan_csv(bundle: Bundle, out_dir: Path) -> list:
    name = _slug(bundle)
    return [
        (out_dir / f"{name}-events.csv", lambda f: f.write(_csv_bytes(EVENT_COLUMNS, event_rows(bundle)))),
        (out_dir / f"{name}-coverage.csv", lambda f: f.write(_csv_bytes(*coverage_table(bundle)))),
    ]


def _write_xlsx(bundle: Bundle, f) -> None:  # noqa: ANN001
    from openpyxl import Workbook

    from fieldkit.export.text import metadata_lines

    wb = Workbook(write_only=True)

    def sheet(title: str, header: list, rows: list) -> None:
        ws = wb.create_sheet(title)
        ws.append(header)
        for r in rows:
            # a text starting with "=" stays text, never a formula
            ws.append([_cell(ws, v) for v in r])

    sheet("Events", EVENT_COLUMNS, event_rows(bundle))
    sheet("Coverage", *coverage_table(bundle))
    meta_keys: list[str] = []
    metas = []
    for s in bundle.sessions:
        d = dict(metadata_lines(bundle, s))
        for k in d:
            if k not in meta_keys:
                meta_keys.append(k)
        metas.append(d)
    sheet("Sessions", meta_keys, [[d.get(k, "") for k in meta_keys] for d in metas])
    wb.save(f)


def _cell(ws, v):  # noqa: ANN001, ANN202
    if isinstance(v, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        v = ILLEGAL_CHARACTERS_RE.sub("", v)
    if isinstance(v, str) and v.startswith("="):
        from openpyxl.cell import WriteOnlyCell

        c = WriteOnlyCell(ws, value=v)
        c.data_type = "s"
        return c
    return v


def plan_xlsx(bundle: Bundle, out_dir: Path) -> list:
    return [(out_dir / f"{_slug(bundle)}.xlsx", lambda f: _write_xlsx(bundle, f))]
