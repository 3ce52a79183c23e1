"""Exports researchers can use: Word, Markdown and text, subtitles, spreadsheets, JSON,
REFI-QDA (.qdpx) and ELAN, pseudonymised by default.

:func:`run_export` collects the sessions (:mod:`fieldkit.export.collect`, where the
pseudonymisation happens), plans every output file, refuses if any exists (unless
``force``), then writes each atomically (:mod:`fieldkit.store.atomic`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fieldkit.errors import ExitCode, FieldkitError
from fieldkit.i18n import _, ngettext

if TYPE_CHECKING:
    from fieldkit.export.collect import ExportOptions
    from fieldkit.export.model import Bundle
    from fieldkit.projects import ProjectHandle

FORMATS = ("docx", "md", "txt", "srt", "vtt", "csv", "xlsx", "json", "qdpx", "eaf")


class ExportExists(FieldkitError):
    exit_code = ExitCode.EXISTS


@dataclass
class SessionChoice:
    """A session as the export screen offers it."""

    id: str
    title: str
    date: str          # ISO date or ""
    is_pilot: bool

    @property
    def label(self) -> str:
        return " · ".join(x for x in (self.date, self.title) if x) + ("  (pilot)" if self.is_pilot else "")


def session_choices(handle: "ProjectHandle") -> list[SessionChoice]:
    """The project's sessions in time order, for choosing what to export."""
    from sqlmodel import select

    from fieldkit.store.models import Session, local_day

    with handle.db.session() as s:
        rows = s.exec(select(Session).where(Session.project_id == handle.project_id)
                      .order_by(Session.starts_at, Session.created_at)).all()
        return [SessionChoice(str(x.id), x.title, local_day(x.starts_at),
                              x.is_pilot) for x in rows]


@dataclass
class ExportResult:
    files: list[Path] = field(default_factory=list)
    bundle: "Bundle | None" = None


def plan_files(bundle: "Bundle", fmt: str, out_dir: Path) -> list:
    """[(path, write(fileobj))] for one format."""
    if fmt in ("txt", "md"):
        from fieldkit.export import text

        return text.plan(bundle, out_dir, fmt)
    if fmt in ("srt", "vtt"):
        from fieldkit.export import subtitles

        return subtitles.plan(bundle, out_dir, fmt)
    if fmt == "csv":
        from fieldkit.export import tables

        return tables.plan_csv(bundle, out_dir)
    if fmt == "xlsx":
        from fieldkit.export import tables

        return tables.plan_xlsx(bundle, out_dir)
    if fmt == "json":
        from fieldkit.export import jsonout

        return jsonout.plan(bundle, out_dir)
    if fmt == "docx":
        from fieldkit.export import docx_writer

        return docx_writer.plan(bundle, out_dir)
    if fmt == "qdpx":
        from fieldkit.export import refi

        return refi.plan(bundle, out_dir)
    if fmt == "eaf":
        from fieldkit.export import elan

        return elan.plan(bundle, out_dir)
    raise FieldkitError(_("Unknown export format {fmt!r}.").format(fmt=fmt), hint=_("Formats: {formats}").format(formats=", ".join(FORMATS)))


def clean_tree(obj: object) -> object:
    """``obj`` with every string in it by fieldkit.text's rule: a dataclass is cleaned in
    place (public fields), lists, tuples and dicts are rebuilt."""
    from dataclasses import fields, is_dataclass

    from fieldkit.text import clean_text

    if isinstance(obj, str):
        return clean_text(obj)
    if is_dataclass(obj) and not isinstance(obj, type):
        for f in fields(obj):
            value = getattr(obj, f.name)
            cleaned = clean_tree(value)
            if cleaned is not value:
                setattr(obj, f.name, cleaned)
        return obj
    if isinstance(obj, dict):
        return {clean_tree(k): clean_tree(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [clean_tree(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(clean_tree(v) for v in obj)
    return obj


def write_bundle(bundle: "Bundle", formats: list[str] | tuple[str, ...], out_dir: Path,
                 force: bool = False) -> list[Path]:
    from fieldkit.store.atomic import atomic_write
    from fieldkit.paths import ensure_private_dir

    # The edge of every writer (DOCX, REFI-QDA, ELAN, XLSX, subtitles, CSV, Markdown, JSON):
    # they all write from the bundle, so text stored by an older fieldkit (a control
    # character, a lone surrogate) is cleaned here once and no writer can fail on it.
    clean_tree(bundle)
    out_dir = Path(out_dir)
    ensure_private_dir(out_dir)
    planned = [pf for fmt in formats for pf in plan_files(bundle, fmt, out_dir)]
    names = [p for p, _w in planned]
    dupes = {p for p in names if names.count(p) > 1}
    if dupes:
        raise FieldkitError(_("Two exported files would have the same name: {name}.").format(name=sorted(dupes)[0].name))
    existing = [p for p in names if p.exists()]
    if existing and not force:
        others = len(existing) - 1
        message = (_("{path} already exists; nothing was written.") if not others else
                   ngettext("{path} and {n} more file already exist; nothing was written.",
                            "{path} and {n} more files already exist; nothing was written.", others))
        raise ExportExists(message.format(path=existing[0], n=others),
                           hint=_("Add --force to replace them, or choose another "
                                    "folder with --out."))
    written: list[Path] = []
    created: list[Path] = []     # files this export made (not ones --force replaced)
    for path, write in planned:
        new = not path.exists()
        try:
            atomic_write(path, write, overwrite=force)
        except FileExistsError as exc:
            raise ExportExists(_("{path} appeared while exporting; it was left as it "
                                   "is.").format(path=path)) from exc
        except OSError as exc:
            # a full disk or a folder that refuses the file, halfway through: the files
            # this export already made go too, so no export is left with parts missing
            for done in created:
                done.unlink(missing_ok=True)
            _let_go(exc)
            raise _write_failed(path, exc) from exc
        written.append(path)
        if new:
            created.append(path)
    return written


def _let_go(exc: BaseException | None) -> None:
    """Free what the failed writer left open, quietly: a Word or REFI-QDA writer's zip file
    otherwise closes later on the closed file and prints "Exception ignored" lines under
    the message."""
    import gc
    import sys
    import traceback

    hook = sys.unraisablehook
    sys.unraisablehook = lambda _unraisable: None
    try:
        seen: set[int] = set()
        while exc is not None and id(exc) not in seen:   # the error and those it came from
            seen.add(id(exc))
            traceback.clear_frames(exc.__traceback__)
            exc = exc.__context__
        gc.collect()
    finally:
        sys.unraisablehook = hook


def _write_failed(path: Path, exc: OSError) -> FieldkitError:
    import errno

    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        reason = _("the disk is full")
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason = _("the folder does not allow it")
    else:
        reason = exc.strerror or type(exc).__name__
    return FieldkitError(_("{path} could not be written: {reason}.").format(path=path, reason=reason),
                         hint=_("Nothing of this export was kept. Free some space or choose another "
                                "folder (--out), then export again."))


def run_export(handle: "ProjectHandle", formats: list[str] | tuple[str, ...] | str,
               session_ids: list[uuid.UUID] | None = None, options: "ExportOptions | None" = None,
               out_dir: Path | None = None, force: bool = False) -> ExportResult:
    from fieldkit.export.collect import collect

    if isinstance(formats, str):
        formats = [formats]
    for fmt in formats:
        if fmt not in FORMATS:
            raise FieldkitError(_("Unknown export format {fmt!r}.").format(fmt=fmt), hint=_("Formats: {formats}").format(formats=", ".join(FORMATS)))
    bundle = collect(handle, session_ids, options)
    if not bundle.sessions:
        raise FieldkitError(_("There are no sessions to export."))
    files = write_bundle(bundle, formats, Path(out_dir) if out_dir else handle.exports_dir, force)
    _audit(handle, bundle, formats, files)
    return ExportResult(files=files, bundle=bundle)


def _audit(handle: "ProjectHandle", bundle: "Bundle", formats, files: list[Path]) -> None:
    from fieldkit.store.models import AuditEntry

    with handle.db.transaction() as s:
        s.add(AuditEntry(action="export", detail={
            "formats": list(formats), "sessions": len(bundle.sessions), "files": len(files),
            "pseudonymisation": bundle.mode, "layer": bundle.layer, "replacements": bundle.report,
        }))
