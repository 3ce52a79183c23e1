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
from fieldkit.i18n import _

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


def bundled_tag_schemes() -> list[Path]:
    return sorted((bundled("data") / "tagschemes").glob("*.toml"))


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
