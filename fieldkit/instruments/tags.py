"""Tag schemes: reading the TOML files in data/tagschemes and installing them in a project."""

from __future__ import annotations

import re
import tomllib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fieldkit.errors import ExitCode, FieldkitError
from fieldkit.paths import bundled
from fieldkit.i18n import _, ngettext

if TYPE_CHECKING:
    from fieldkit.store.db import Database
    from fieldkit.store.models import TagScheme

#: keys the interview screen uses for itself
RESERVED_KEYS = set(" npqcxsw?0123456789")
TAG_FIELDS = {"code", "label", "key", "colour", "mode", "description"}
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


class TagSchemeError(FieldkitError):
    exit_code = ExitCode.USAGE


@dataclass
class TagDef:
    code: str
    label: str
    key: str
    colour: str = "#888888"
    mode: str = "point"
    description: str = ""


@dataclass
class SchemeDef:
    name: str
    description: str = ""
    tags: list[TagDef] = field(default_factory=list)


def load_tag_scheme(path: str | Path) -> SchemeDef:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TagSchemeError(_("{path}: cannot read the file ({strerror}).").format(path=path, strerror=exc.strerror)) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TagSchemeError(_("{path}: not a valid TOML file: {exc}").format(path=path, exc=exc)) from exc
    unknown = set(data) - {"name", "description", "tag"}
    if unknown:
        raise TagSchemeError(_("{path}: unknown field {value!r}.").format(path=path, value=sorted(unknown)[0]),
                             hint=_("Allowed: name, description, and [[tag]] tables."))
    if not str(data.get("name", "")).strip():
        raise TagSchemeError(_("{path}: the scheme has no name.").format(path=path))
    scheme = SchemeDef(name=data["name"].strip(), description=data.get("description", ""))
    keys: dict[str, str] = {}
    for n, raw in enumerate(data.get("tag", []), start=1):
        where = f"{path}: tag {n} ({raw.get('code', '?')})"
        bad = set(raw) - TAG_FIELDS
        if bad:
            raise TagSchemeError(_("{where}: unknown field {value!r}.").format(where=where, value=sorted(bad)[0]),
                                 hint=_("Allowed: {fields}").format(fields=", ".join(sorted(TAG_FIELDS))))
        for req in ("code", "label", "key"):
            if not str(raw.get(req, "")).strip():
                raise TagSchemeError(_("{where}: {req!r} is missing.").format(where=where, req=req))
        tag = TagDef(**{k: str(v) for k, v in raw.items()})
        if not CODE_RE.match(tag.code):
            raise TagSchemeError(_("{where}: code must be lower-case letters, digits "
                                     "and _.").format(where=where))
        if len(tag.key) != 1 or tag.key in RESERVED_KEYS:
            raise TagSchemeError(_("{where}: key {key!r} is not allowed.").format(where=where, key=tag.key),
                                 hint=_("One character, not one the interview screen "
                                          "uses: space n p q ? c x s w or a digit."))
        if tag.key in keys:
            raise TagSchemeError(_("{where}: key {key!r} is already used by "
                                     "{value!r}.").format(where=where, key=tag.key, value=keys[tag.key]))
        if tag.code in {t.code for t in scheme.tags}:
            raise TagSchemeError(_("{where}: code {code!r} appears twice.").format(where=where, code=tag.code))
        if tag.mode not in ("point", "state"):
            raise TagSchemeError(_("{where}: mode must be 'point' or 'state'.").format(where=where))
        if not COLOUR_RE.match(tag.colour):
            raise TagSchemeError(_("{where}: colour must look like #1a2b3c.").format(where=where))
        keys[tag.key] = tag.code
        scheme.tags.append(tag)
    if not scheme.tags:
        raise TagSchemeError(_("{path}: the scheme has no [[tag]] entries.").format(path=path))
    return scheme


def scheme_language(project_language: str | None) -> str:
    """The language of the bundled schemes a project gets: ``nb`` for a Norwegian project
    (``no``, ``nb``, ``nn``, ``nob``, ``nno``), ``en`` for any other."""
    code = (project_language or "").strip().lower().replace("_", "-").split("-")[0]
    return "nb" if code in ("no", "nb", "nn", "nob", "nno") else "en"


def bundled_tag_schemes(language: str = "en") -> list[Path]:
    """The bundled scheme files in ``language`` (``en``: ``interview.toml``; ``nb``:
    ``interview.nb.toml``); English where a scheme has no version in the language."""
    folder = bundled("data") / "tagschemes"
    english = sorted(p for p in folder.glob("*.toml") if "." not in p.stem)
    if language == "en":
        return english
    return [folder / f"{p.stem}.{language}.toml" if (folder / f"{p.stem}.{language}.toml").exists() else p
            for p in english]


def bundled_scheme_path(stem: str, language: str = "en") -> Path:
    """One bundled scheme (``interview``, ``observation``) in ``language``."""
    return next(p for p in bundled_tag_schemes(language) if p.stem.split(".")[0] == stem)


def default_scheme_names(stem: str = "interview") -> set[str]:
    """The names of one bundled scheme in every language ("Interview", "Intervju"): how the
    setup screen finds the interview scheme to offer first."""
    folder = bundled("data") / "tagschemes"
    return {load_tag_scheme(p).name for p in folder.glob(f"{stem}*.toml")
            if p.stem.split(".")[0] == stem}


def install_tag_scheme(db: "Database", project_id: uuid.UUID, path: str | Path,
                       author_id: uuid.UUID | None = None) -> "TagScheme":
    """Add a scheme to a project (or return the one of the same name already there)."""
    from sqlmodel import select

    from fieldkit.store.models import TagCode, TagMode, TagScheme

    scheme = load_tag_scheme(path)
    with db.transaction() as s:
        existing = s.exec(select(TagScheme).where(TagScheme.project_id == project_id,
                                                  TagScheme.name == scheme.name)).first()
        if existing is not None:
            return existing
        row = TagScheme(project_id=project_id, name=scheme.name, description=scheme.description,
                        created_by=author_id)
        s.add(row)
        s.flush()
        for n, t in enumerate(scheme.tags):
            s.add(TagCode(scheme_id=row.id, code=t.code, label=t.label, key=t.key, colour=t.colour,
                          mode=TagMode(t.mode), description=t.description, sort=n,
                          created_by=author_id))
    return row


# ---------------------------------------------------------------------------- editing a scheme
# A team makes the codes its own before the first interview: rename a label, add or remove a
# tag, move a key. Events refer to a tag by its row (``Event.tag_code_id``) and its code
# (``Event.code``), never by its label, so renaming keeps everything already tagged.


@dataclass
class TagRow:
    id: uuid.UUID
    code: str
    label: str
    key: str
    mode: str
    colour: str
    description: str
    events: int          # how many events in the project carry this tag


@dataclass
class SchemeRow:
    id: uuid.UUID
    name: str
    description: str
    sessions: int        # sessions set up with this scheme
    tags: list[TagRow] = field(default_factory=list)


def list_schemes(db: "Database", project_id: uuid.UUID) -> list[SchemeRow]:
    """The project's schemes with their tags, in key order as set up, and how often each is used."""
    from sqlalchemy import func
    from sqlmodel import select

    from fieldkit.store.models import Event, Session, TagCode, TagScheme

    with db.session() as s:
        schemes = s.exec(select(TagScheme).where(TagScheme.project_id == project_id)
                         .order_by(TagScheme.name)).all()
        out = []
        for sc in schemes:
            used = s.exec(select(func.count()).select_from(Session)
                          .where(Session.tag_scheme_id == sc.id)).one()
            row = SchemeRow(sc.id, sc.name, sc.description, int(used))
            codes = s.exec(select(TagCode).where(TagCode.scheme_id == sc.id)
                           .order_by(TagCode.sort, TagCode.code)).all()
            for c in codes:
                n = s.exec(select(func.count()).select_from(Event).where(Event.tag_code_id == c.id)).one()
                row.tags.append(TagRow(c.id, c.code, c.label, c.key, c.mode.value, c.colour,
                                       c.description, int(n)))
            out.append(row)
    return out


def find_scheme(db: "Database", project_id: uuid.UUID, name: str | None) -> SchemeRow:
    """A scheme by name (case-insensitive, or the start of it); the only one when ``name`` is None."""
    schemes = list_schemes(db, project_id)
    if not schemes:
        raise TagSchemeError(_("The project has no tag scheme yet."),
                             hint=_("Set up a session first, or run `fieldkit tags list -p PROJECT`, "
                                    "which installs the default schemes."))
    names = ", ".join(x.name for x in schemes)
    if name is None:
        if len(schemes) == 1:
            return schemes[0]
        raise TagSchemeError(_("The project has several tag schemes: {names}.").format(names=names),
                             hint=_("Choose one with --scheme."))
    wanted = name.strip().casefold()
    exact = [x for x in schemes if x.name.casefold() == wanted]
    found = exact or [x for x in schemes if x.name.casefold().startswith(wanted)]
    if len(found) != 1:
        raise TagSchemeError(_("No tag scheme “{name}” in the project.").format(name=name),
                             hint=_("The project's schemes: {names}.").format(names=names))
    return found[0]


def find_tag(scheme: SchemeRow, which: str) -> TagRow:
    """A tag of ``scheme`` by code, key or label (case-insensitive)."""
    w = which.strip()
    for t in scheme.tags:
        if w in (t.code, t.key) or t.label.casefold() == w.casefold():
            return t
    raise TagSchemeError(_("No tag “{which}” in the scheme “{scheme}”.").format(which=which, scheme=scheme.name),
                         hint=_("Name it by code, key or label: `fieldkit tags list -p PROJECT`."))


def _check_key(scheme: SchemeRow, key: str, tag_id: uuid.UUID | None = None) -> None:
    if len(key) != 1 or key in RESERVED_KEYS or not key.isprintable():
        raise TagSchemeError(_("Key “{key}” is not allowed.").format(key=key),
                             hint=_("One character, not one the interview screen "
                                    "uses: space n p q ? c x s w or a digit."))
    other = next((t for t in scheme.tags if t.key == key and t.id != tag_id), None)
    if other is not None:
        raise TagSchemeError(_("Key “{key}” is already used by “{label}”.").format(key=key, label=other.label),
                             hint=_("Move that tag to another key first."))


def _check_label(scheme: SchemeRow, label: str, tag_id: uuid.UUID | None = None) -> str:
    label = " ".join(label.split())
    if not label:
        raise TagSchemeError(_("A tag needs a label."))
    other = next((t for t in scheme.tags if t.label.casefold() == label.casefold() and t.id != tag_id), None)
    if other is not None:
        raise TagSchemeError(_("The scheme already has a tag called “{label}”.").format(label=other.label))
    return label


def rename_tag(db: "Database", project_id: uuid.UUID, scheme: str | None, which: str, label: str) -> TagRow:
    """Give a tag a new label; its code, key and events stay."""
    from fieldkit.store.models import TagCode

    sc = find_scheme(db, project_id, scheme)
    tag = find_tag(sc, which)
    label = _check_label(sc, label, tag.id)
    with db.transaction() as s:
        row = s.get(TagCode, tag.id)
        row.label = label
        s.add(row)
    return find_tag(find_scheme(db, project_id, sc.name), tag.code)


def set_tag_key(db: "Database", project_id: uuid.UUID, scheme: str | None, which: str, key: str) -> TagRow:
    """Move a tag to another key."""
    from fieldkit.store.models import TagCode

    sc = find_scheme(db, project_id, scheme)
    tag = find_tag(sc, which)
    _check_key(sc, key, tag.id)
    with db.transaction() as s:
        row = s.get(TagCode, tag.id)
        row.key = key
        s.add(row)
    return find_tag(find_scheme(db, project_id, sc.name), tag.code)


def _new_code(sc: SchemeRow, label: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFKD", label.casefold().replace("ø", "o").replace("æ", "ae"))
    base = re.sub(r"[^a-z0-9]+", "_", plain.encode("ascii", "ignore").decode()).strip("_")[:32] or "tag"
    if not base[0].isalpha():
        base = f"tag_{base}"[:32]
    code, n = base, 2
    while code in {t.code for t in sc.tags}:
        code, n = f"{base}_{n}", n + 1
    return code


def add_tag(db: "Database", project_id: uuid.UUID, scheme: str | None, label: str, key: str,
            code: str | None = None, mode: str = "point", colour: str = "#888888", description: str = "",
            author_id: uuid.UUID | None = None) -> TagRow:
    """A new tag at the end of the scheme (``code`` made from the label when not given)."""
    from fieldkit.store.models import TagCode, TagMode

    sc = find_scheme(db, project_id, scheme)
    label = _check_label(sc, label)
    _check_key(sc, key)
    code = code or _new_code(sc, label)
    if not CODE_RE.match(code):
        raise TagSchemeError(_("Code “{code}”: code must be lower-case letters, digits and _.").format(code=code))
    if code in {t.code for t in sc.tags}:
        raise TagSchemeError(_("The scheme already has a tag with code “{code}”.").format(code=code))
    if mode not in ("point", "state"):
        raise TagSchemeError(_("Mode must be 'point' or 'state'."))
    if not COLOUR_RE.match(colour):
        raise TagSchemeError(_("Colour “{colour}” must look like #1a2b3c.").format(colour=colour))
    with db.transaction() as s:
        s.add(TagCode(scheme_id=sc.id, code=code, label=label, key=key, colour=colour, mode=TagMode(mode),
                      description=description, sort=len(sc.tags), created_by=author_id))
    return find_tag(find_scheme(db, project_id, sc.name), code)


def remove_tag(db: "Database", project_id: uuid.UUID, scheme: str | None, which: str) -> TagRow:
    """Take a tag out of a scheme. Refused while events carry it: they would lose their label."""
    from fieldkit.store.models import TagCode

    sc = find_scheme(db, project_id, scheme)
    tag = find_tag(sc, which)
    if tag.events:
        raise TagSchemeError(
            ngettext("“{label}” has been used {n} time; removing it would take the label from that event.",
                     "“{label}” has been used {n} times; removing it would take the label from those events.",
                     tag.events).format(label=tag.label, n=tag.events),
            hint=_("Rename it instead (`fieldkit tags rename`), or leave it unused."))
    with db.transaction() as s:
        s.delete(s.get(TagCode, tag.id))
    return tag
