"""Guides in a project: import a file as a new version, list guides and versions."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import select

from fieldkit.guides.identity import carry_over
from fieldkit.guides.model import Guide as GuideModel
from fieldkit.guides.files import load_guide_file
from fieldkit.guides.parser import content_hash, parse_guide
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
