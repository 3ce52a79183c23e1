"""Guides in a project: import a file as a new version, list guides and versions."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import select

from fieldkit.instruments.guides.identity import carry_over
from fieldkit.instruments.guides.model import Guide as GuideModel
from fieldkit.instruments.guides.files import load_guide_file
from fieldkit.instruments.guides.parser import content_hash, parse_guide
from fieldkit.text import clean_text
from fieldkit.projects import slugify
from fieldkit.store.models import Guide, GuideVersion

if TYPE_CHECKING:
    from fieldkit.store.db import Database


def import_guide(
    db: "Database",
    project_id: uuid.UUID,
    source: str | Path,
    *,
    text: str | None = None,
    slug: str | None = None,
    author_id: uuid.UUID | None = None,
) -> tuple[GuideVersion, bool]:
    """Add a guide file to a project, or a new version of it. Returns (version, created).

    The guide is identified by ``slug`` (default: the file name without extension).
    Identical content returns the existing latest version (created=False). Ids of
    themes, questions and probes are carried over from the previous version. Past
    versions are never changed, so sessions keep the guide they used.
    """
    if text is None:
        parsed, text = load_guide_file(source, assign=False)
    else:
        parsed = parse_guide(text, str(source), assign=False)
    cleaned = clean_text(text)
    if cleaned != text:
        # the file is checked as it is (so a problem names its line in the file), then
        # stored and parsed by the one rule for user text (Word's manual line break,
        # control characters, decomposed letters)
        text = cleaned
        parsed = parse_guide(text, str(source), assign=False)
    slug = slug or slugify(Path(str(source)).stem)
    digest = content_hash(text)
    with db.transaction() as s:
        guide = s.exec(select(Guide).where(Guide.project_id == project_id, Guide.slug == slug)).first()
        latest = None
        if guide is None:
            guide = Guide(project_id=project_id, slug=slug, title=parsed.title,
                          language=parsed.language, created_by=author_id)
            s.add(guide)
            s.flush()
        else:
            latest = s.exec(select(GuideVersion).where(GuideVersion.guide_id == guide.id)
                            .order_by(GuideVersion.number.desc())).first()
            if latest is not None and latest.content_hash == digest:
                return latest, False
            guide.title, guide.language = parsed.title, parsed.language
            s.add(guide)
        prev = GuideModel.from_outline(latest.outline) if latest is not None else None
        carry_over(prev, parsed)
        version = GuideVersion(
            guide_id=guide.id, number=(latest.number + 1) if latest else 1, content_hash=digest,
            source_name=Path(str(source)).name, source_text=text, outline=parsed.to_outline(),
            created_by=author_id,
        )
        s.add(version)
    return version, True


def latest_versions(db: "Database", project_id: uuid.UUID) -> list[tuple[Guide, GuideVersion]]:
    with db.session() as s:
        out = []
        for guide in s.exec(select(Guide).where(Guide.project_id == project_id).order_by(Guide.slug)):
            v = s.exec(select(GuideVersion).where(GuideVersion.guide_id == guide.id)
                       .order_by(GuideVersion.number.desc())).first()
            if v is not None:
                out.append((guide, v))
        return out


def guide_of_version(db: "Database", version_id: uuid.UUID) -> GuideModel:
    with db.session() as s:
        version = s.get(GuideVersion, version_id)
        if version is None:
            raise KeyError(version_id)
        return GuideModel.from_outline(version.outline)


def _find(s, project_id: uuid.UUID, slug: str) -> Guide:  # noqa: ANN001
    from fieldkit.errors import FieldkitError
    from fieldkit.i18n import _

    guide = s.exec(select(Guide).where(Guide.project_id == project_id, Guide.slug == slug)).first()
    if guide is None:
        raise FieldkitError(_("No guide {slug!r} in this project.").format(slug=slug),
                            hint=_("`fieldkit guide list -p PROJECT` shows the guides."))
    return guide


def rename_guide(db: "Database", project_id: uuid.UUID, slug: str, new_slug: str,
                 *, title: str | None = None) -> Guide:
    """Give a guide another name in the project (e.g. when a teammate's different guide
    has the same name and sync cannot join them). Its versions and sessions stay."""
    from fieldkit.errors import FieldkitError
    from fieldkit.i18n import _
    from fieldkit.store.models import utcnow

    new_slug = slugify(new_slug)
    with db.transaction() as s:
        guide = _find(s, project_id, slug)
        if new_slug != slug and s.exec(select(Guide).where(Guide.project_id == project_id,
                                                          Guide.slug == new_slug)).first():
            raise FieldkitError(_("There is already a guide {slug!r} in this project.").format(slug=new_slug),
                                hint=_("Choose another name. Nothing was changed."))
        guide.slug = new_slug
        if title:
            guide.title = title
        guide.updated_at = utcnow()
        s.add(guide)
        s.flush()
        s.refresh(guide)
        s.expunge(guide)
        return guide


def remove_guide(db: "Database", project_id: uuid.UUID, slug: str) -> int:
    """Remove a guide no session uses, with its versions. Returns the versions removed."""
    from fieldkit.errors import FieldkitError
    from fieldkit.i18n import _, ngettext
    from fieldkit.store.models import Session

    with db.transaction() as s:
        guide = _find(s, project_id, slug)
        versions = s.exec(select(GuideVersion).where(GuideVersion.guide_id == guide.id)).all()
        ids = [v.id for v in versions]
        used = s.exec(select(Session).where(Session.guide_version_id.in_(ids))).all() if ids else []
        if used:
            raise FieldkitError(
                ngettext("The guide {slug!r} is used by {n} session ({titles}).",
                         "The guide {slug!r} is used by {n} sessions ({titles}).", len(used)).format(
                    slug=slug, n=len(used), titles=", ".join(x.title for x in used[:3])),
                hint=_("Rename it instead: fieldkit guide rename -p PROJECT {slug} NEWNAME. "
                       "Nothing was removed.").format(slug=slug))
        for v in versions:
            s.delete(v)
        s.delete(guide)
        return len(versions)


def find_guide_version(db: "Database", project_id: uuid.UUID, name: str) -> GuideVersion:
    """The latest version of the guide named by its slug, its title or the start of its
    title (case does not matter); an unknown or ambiguous name is a clear error."""
    from fieldkit.errors import FieldkitError
    from fieldkit.i18n import _

    want = name.strip().casefold()
    pairs = latest_versions(db, project_id)
    exact = [(g, v) for g, v in pairs if want in (g.slug.casefold(), g.title.casefold())]
    found = exact or [(g, v) for g, v in pairs if want and g.title.casefold().startswith(want)]
    if len(found) == 1:
        return found[0][1]
    if not found:
        raise FieldkitError(_("No guide {name!r} in this project.").format(name=name),
                            hint=_("`fieldkit guide list -p PROJECT` shows the guides."))
    raise FieldkitError(_("{name!r} fits several guides: {titles}.").format(
        name=name, titles="; ".join(g.title for g, _v in found)), hint=_("Give more of the title."))


def set_session_guide(db: "Database", session_id: uuid.UUID, version: GuideVersion) -> None:
    """Give a session its guide (the version named)."""
    from fieldkit.store.models import Session

    with db.transaction() as s:
        sess = s.get(Session, session_id)
        sess.guide_version_id = version.id
        s.add(sess)
