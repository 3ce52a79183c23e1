"""Tag schemes: bundled ones load, bad ones are refused with the file and tag named."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from fieldkit.store.models import TagCode, TagMode, TagScheme
from fieldkit.instruments.tags import TagSchemeError, bundled_tag_schemes, install_tag_scheme, load_tag_scheme


def test_bundled_schemes():
    names = {load_tag_scheme(p).name for p in bundled_tag_schemes()}
    assert {"Interview", "Meeting observation"} <= names
    interview = load_tag_scheme(next(p for p in bundled_tag_schemes() if p.stem == "interview"))
    assert any(t.mode == "state" for t in interview.tags)
    assert len({t.key for t in interview.tags}) == len(interview.tags)


def test_install_is_idempotent(project):
    path = next(p for p in bundled_tag_schemes() if p.stem == "interview")
    a = install_tag_scheme(project.db, project.project_id, path)
    b = install_tag_scheme(project.db, project.project_id, path)
    assert a.id == b.id
    with project.db.session() as s:
        codes = s.exec(select(TagCode).where(TagCode.scheme_id == a.id).order_by(TagCode.sort)).all()
        assert codes[0].code == "key_quote" and codes[0].key == "k"
        assert any(c.mode == TagMode.state for c in codes)
        assert len(s.exec(select(TagScheme)).all()) == 1


@pytest.mark.parametrize("body,needle", [
    ('name = "X"\n[[tag]]\ncode = "a"\nlabel = "A"\nkey = "n"\n', "key 'n' is not allowed"),
    ('name = "X"\n[[tag]]\ncode = "a"\nlabel = "A"\nkey = "k"\n[[tag]]\ncode = "b"\nlabel = "B"\nkey = "k"\n',
     "already used by 'a'"),
    ('name = "X"\n[[tag]]\ncode = "a"\nlabel = "A"\nkey = "k"\nshape = "round"\n', "unknown field 'shape'"),
    ('name = "X"\n[[tag]]\ncode = "a"\nlabel = "A"\nkey = "k"\nmode = "range"\n', "mode must be"),
    ('name = "X"\n[[tag]]\ncode = "A B"\nlabel = "A"\nkey = "k"\n', "code must be"),
    ('name = "X"\n[[tag]]\ncode = "a"\nlabel = "A"\nkey = "k"\ncolour = "red"\n', "colour"),
    ('name = "X"\n', "no [[tag]]"),
    ('name = \n', "not a valid TOML"),
    ('[[tag]]\ncode = "a"\nlabel = "A"\nkey = "k"\n', "no name"),
])
def test_bad_schemes(tmp_path: Path, body: str, needle: str):
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(TagSchemeError) as err:
        load_tag_scheme(path)
    assert needle in str(err.value) and str(path) in str(err.value)
