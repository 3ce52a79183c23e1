"""Projects on disk: one folder per project under ``<data dir>/projects/``.

A project folder holds ``project.db`` (the SQLite database), ``audio/`` (recordings),
``exports/`` and ``backups/``. Moving a project to another laptop is copying its folder
(with fieldkit closed).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from datetime import date
from typing import TYPE_CHECKING, Iterator

from fieldkit.errors import FieldkitError
from fieldkit.paths import ensure_private_dir, resolve_data_dir
from fieldkit.i18n import _

if TYPE_CHECKING:
    from fieldkit.privacy.crypto import ProjectKey
    from fieldkit.store.db import Database
    from fieldkit.store.models import Project

DB_NAME = "project.db"


def slugify(name: str) -> str:
    norm = unicodedata.normalize("NFKD", name.replace("ø", "o").replace("Ø", "O").replace("æ", "ae").replace("Æ", "AE"))
    ascii_ = norm.encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")
    return slug or "project"


@dataclass
class ProjectHandle:
    """An open project: its folder, database and Project row."""

    folder: Path
    db: "Database"
    project_id: object
    key: "ProjectKey | None" = None   # set when the project is encrypted (and unlocked)

    @property
    def audio_dir(self) -> Path:
        return ensure_private_dir(self.folder / "audio")

    @property
    def exports_dir(self) -> Path:
        return ensure_private_dir(self.folder / "exports")

    def project(self) -> "Project":
        from fieldkit.store.models import Project

        with self.db.session() as s:
            return s.get(Project, self.project_id)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "ProjectHandle":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Workspace:
    """The data directory: finds, creates and opens projects."""

    def __init__(self, data_dir: str | Path | None = None, notify=None, ask_passphrase=None):
        self.root = resolve_data_dir(data_dir)
        #: called with a warning sentence when an opened project needs attention
        #: (deletion deadline near); the CLI prints it, the TUI shows it on screen
        self.notify = notify
        #: called with the project folder to get the passphrase of an encrypted project
        #: when open() was not given one (the CLI prompts or reads $FIELDKIT_PASSPHRASE)
        self.ask_passphrase = ask_passphrase
        #: keys of projects unlocked in this process (the app unlocks once per run)
        self.keys: dict[Path, "ProjectKey"] = {}

    @property
    def projects_dir(self) -> Path:
        return self.root / "projects"

    def ensure(self) -> "Workspace":
        ensure_private_dir(self.root)
        ensure_private_dir(self.projects_dir)
        return self

    def project_folders(self) -> Iterator[Path]:
        if not self.projects_dir.is_dir():
            return
        for folder in sorted(self.projects_dir.iterdir()):
            if (folder / DB_NAME).is_file():
                yield folder

    def find(self, name_or_slug: str) -> Path:
        """The folder of the project called ``name_or_slug``: its folder name, or its name
        (as typed, or as its folder name would be made from it). An unknown name is an
        error naming it, never another project."""
        wanted = name_or_slug.strip()
        if not wanted:
            raise FieldkitError(_("No project named."), hint=_("Give the project's name "
                                                              "or folder name."))
        folders = list(self.project_folders())
        for folder in folders:
            if folder.name == wanted:
                return folder
        by_name = [f for f in folders if self._stored_name(f) == wanted]
        if len(by_name) == 1:
            return by_name[0]
        slug = slugify(wanted)
        for folder in folders:
            if folder.name == slug:
                return folder
        casefold = [f for f in folders if (self._stored_name(f) or "").casefold() == wanted.casefold()]
        if len(casefold) == 1:
            return casefold[0]
        names = []
        for f in folders:
            n = self._stored_name(f)
            names.append(_("{name} (folder {folder})").format(name=repr(n), folder=f.name) if n and n != f.name else f.name)
        known = ", ".join(names) or "none yet"
        raise FieldkitError(
            _("No project called {name_or_slug!r} in {projects_dir}.").format(name_or_slug=name_or_slug, projects_dir=self.projects_dir),
            hint=_("Projects here: {known}. Create one with `fieldkit project new "
                     "NAME`.").format(known=known),
        )

    @staticmethod
    def _stored_name(folder: Path) -> str | None:
        """The project's name as stored in its database (read-only, standard library
        alone); None for an encrypted or unreadable one."""
        import sqlite3

        from fieldkit.store.dbfile import SQLITE_MAGIC, read_header

        path = folder / DB_NAME
        try:
            if read_header(path) != SQLITE_MAGIC:
                return None
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=3)
        except (OSError, sqlite3.Error):
            return None
        try:
            rows = con.execute("SELECT name FROM project").fetchall()
            return rows[0][0] if len(rows) == 1 else None
        except sqlite3.Error:
            return None
        finally:
            con.close()

    def open(self, name_or_slug: str | Path, passphrase: str | None = None,
             key: "ProjectKey | None" = None) -> ProjectHandle:
        from sqlmodel import select

        from fieldkit.privacy import crypto
        from fieldkit.store.db import open_database
        from fieldkit.store.models import Project

        folder = Path(name_or_slug) if isinstance(name_or_slug, Path) else self.find(name_or_slug)
        encrypted = crypto.is_encrypted(folder)
        if not encrypted:
            key = None
        elif key is None:
            key = self.keys.get(folder)
        if encrypted and key is None:
            if passphrase is None and self.ask_passphrase is not None:
                passphrase = self.ask_passphrase(folder)
            if not passphrase:
                raise crypto.ProjectLocked(
                    _("The project in {folder} is encrypted and locked.").format(folder=folder),
                    hint=_("Unlock it with its passphrase (or set "
                             "$FIELDKIT_PASSPHRASE for scripts)."),
                )
            key = crypto.unlock(folder, passphrase)
            self.keys[folder] = key
        db = open_database(folder / DB_NAME, key=key)
        with db.session() as s:
            project = s.exec(select(Project)).first()
        if project is None:
            db.close()
            raise FieldkitError(_("The database in {folder} holds no project.").format(folder=folder))
        if self.notify is not None:
            from fieldkit.privacy.deadline import deadline_warning

            warning = deadline_warning(project.deletion_deadline, project.sikt_reference)
            if warning:
                self.notify(f"{project.name}: {warning}")
        return ProjectHandle(folder=folder, db=db, project_id=project.id, key=key)

    def create(self, name: str, passphrase: str | None = None, key_meta: dict | None = None,
               **fields: object) -> ProjectHandle:
        """A new project; with ``passphrase`` its database and audio are encrypted (with
        ``key_meta``, a team's shared key description, with the team's key)."""
        from fieldkit.privacy import crypto
        from fieldkit.store.db import open_database
        from fieldkit.store.models import Project

        self.ensure()
        slug = slugify(name)
        folder = self.projects_dir / slug
        if folder.exists():
            raise FieldkitError(
                _("A project folder {folder} already exists.").format(folder=folder), hint=_("Choose another "
                                                                       "name.")
            )
        ensure_private_dir(folder)
        try:
            key = crypto.create_key(folder, passphrase, key_meta) if passphrase else None
        except BaseException:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
            raise
        db = open_database(folder / DB_NAME, create=True, key=key)
        with db.transaction() as s:
            if key is not None:       # the copies of this project share its key description
                fields.setdefault("encryption", crypto.public_meta(folder))
            project = Project(name=name, slug=slug, **fields)
            s.add(project)
        for sub in ("audio", "exports"):
            ensure_private_dir(folder / sub)
        return ProjectHandle(folder=folder, db=db, project_id=project.id, key=key)

    def set_details(self, name_or_slug: str | Path, *, deletion_deadline: "date | None | object" = ...,
                    sikt_reference: "str | None | object" = ..., language: "str | object" = ...) -> "Project":
        """Change a project's deletion deadline (None removes it), Sikt reference or
        language after ``project new``. Fields left out stay as they are."""
        from fieldkit.store.models import Project

        with self.open(name_or_slug) as handle:
            with handle.db.transaction() as s:
                p = s.get(Project, handle.project_id)
                if deletion_deadline is not ...:
                    p.deletion_deadline = deletion_deadline  # type: ignore[assignment]
                if sikt_reference is not ...:
                    p.sikt_reference = (str(sikt_reference).strip() or None) if sikt_reference else None
                if language is not ...:
                    if not str(language).strip():
                        raise FieldkitError(_("A project needs a transcription "
                                                "language (no, nn, en ...)."))
                    p.language = str(language).strip()
                s.add(p)
                s.flush()
                s.expunge(p)
            return p

    def list_projects(self) -> list[tuple[Path, "Project | None", str | None]]:
        """Every project folder with its Project row, or the reason it cannot be read
        (a damaged project does not hide the others)."""
        from fieldkit.errors import FieldkitError

        out: list[tuple[Path, "Project | None", str | None]] = []
        for folder in self.project_folders():
            try:
                with self.open(folder) as handle:
                    out.append((folder, handle.project(), None))
            except FieldkitError as exc:
                out.append((folder, None, exc.message))
        return out
