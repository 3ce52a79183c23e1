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


# ---------------------------------------------------------------- languages and editing

def test_bundled_schemes_in_bokmal_have_the_english_codes_and_keys():
    from fieldkit.instruments.tags import scheme_language

    assert scheme_language("no") == scheme_language("nn") == scheme_language("nb-NO") == "nb"
    assert scheme_language("en") == scheme_language("de") == scheme_language("") == "en"
    en = {load_tag_scheme(p).name: load_tag_scheme(p) for p in bundled_tag_schemes("en")}
    nb = {load_tag_scheme(p).name: load_tag_scheme(p) for p in bundled_tag_schemes("nb")}
    assert set(en) == {"Interview", "Meeting observation"}
    assert set(nb) == {"Intervju", "Møteobservasjon"}
    for e, n in (("Interview", "Intervju"), ("Meeting observation", "Møteobservasjon")):
        assert [(t.code, t.key, t.mode) for t in en[e].tags] == [(t.code, t.key, t.mode) for t in nb[n].tags]
        # every label and description is written anew, none left in English
        for te, tn in zip(en[e].tags, nb[n].tags):
            assert te.label != tn.label and (te.description == tn.description == "" or te.description != tn.description)
    assert {t.code: t.label for t in nb["Intervju"].tags}["key_quote"] == "Godt sitat"


def test_project_language_chooses_the_schemes(workspace):
    from fieldkit.sessions.plan import setup_choices

    with workspace.create("Norsk", language="no") as h:
        assert {n for _i, n in setup_choices(h).schemes} == {"Intervju", "Møteobservasjon"}
    with workspace.create("English", language="en") as h:
        assert {n for _i, n in setup_choices(h).schemes} == {"Interview", "Meeting observation"}


def _tagged_session(project):
    """A session set up with the bokmål interview scheme and two "Godt sitat" events."""
    from fieldkit.instruments.events import add_event
    from fieldkit.sessions.plan import SessionPlan, save_session, setup_choices
    from fieldkit.store.models import EventKind

    c = setup_choices(project)
    scheme_id = dict((n, i) for i, n in c.schemes)["Intervju"]
    sid = save_session(project, SessionPlan("Intervju 1", tag_scheme_id=scheme_id))
    with project.db.session() as s:
        quote = s.exec(select(TagCode).where(TagCode.scheme_id == scheme_id, TagCode.code == "key_quote")).one()
    for ms in (1000, 5000):
        add_event(project.db, sid, EventKind.tag, position_ms=ms, code=quote.code, tag_code_id=quote.id)
    return sid, quote.id


def test_rename_keeps_events_and_exports_show_the_new_label(project, tmp_path: Path):
    import csv

    from fieldkit.export import run_export
    from fieldkit.export.collect import ExportOptions
    from fieldkit.instruments.tags import list_schemes, rename_tag
    from fieldkit.store.models import Event

    sid, code_id = _tagged_session(project)
    rename_tag(project.db, project.project_id, "Intervju", "k", "  Sitat   til rapporten ")
    with project.db.session() as s:
        row = s.get(TagCode, code_id)
        assert (row.code, row.key, row.label) == ("key_quote", "k", "Sitat til rapporten")
        events = s.exec(select(Event).where(Event.session_id == sid)).all()
        assert [e.tag_code_id for e in events] == [code_id, code_id]
    used = {t.code: t.events for sc in list_schemes(project.db, project.project_id) for t in sc.tags}
    assert used["key_quote"] == 2
    out = tmp_path / "out"
    run_export(project, "csv", None, ExportOptions(), out)
    tags_csv = next(out.rglob("*-tags.csv"))
    text = tags_csv.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(text.splitlines(), delimiter=";"))
    labels = {r[2]: r[-1] for r in rows[1:]}
    assert labels["Sitat til rapporten"] == "2"
    # an interview-only project lists no meeting-observation tags
    assert not {r[0] for r in rows[1:]} - {"Intervju"}
    assert "Brukeren snakker" not in text and "Møteobservasjon" not in text


def test_refi_lists_only_the_schemes_in_use(project, tmp_path: Path):
    import zipfile
    from xml.etree import ElementTree as ET

    from fieldkit.export import run_export
    from fieldkit.export.collect import ExportOptions

    _tagged_session(project)
    out = tmp_path / "qdpx"
    run_export(project, "qdpx", None, ExportOptions(), out)
    with zipfile.ZipFile(next(out.rglob("*.qdpx"))) as z:
        root = ET.fromstring(z.read("project.qde"))
    names = {el.get("name") for el in root.iter() if el.tag.endswith("}Code")}
    assert "Godt sitat" in names and "Avsporing" in names
    assert not {"Beslutning tatt", "Brukeren snakker"} & names


def test_add_key_and_remove_are_checked(project):
    from fieldkit.instruments.tags import add_tag, find_scheme, remove_tag, set_tag_key

    _sid, _code = _tagged_session(project)
    t = add_tag(project.db, project.project_id, "Intervju", "Stillhet på én ø", "y", mode="state")
    assert (t.code, t.key, t.mode) == ("stillhet_pa_en_o", "y", "state")
    for bad_key, needle in (("n", "not allowed"), ("k", "already used by “Godt sitat”"), ("yy", "not allowed")):
        with pytest.raises(TagSchemeError, match=needle):
            set_tag_key(project.db, project.project_id, "Intervju", "y", bad_key)
    with pytest.raises(TagSchemeError, match="already has a tag called"):
        add_tag(project.db, project.project_id, "Intervju", "godt SITAT", "j")
    with pytest.raises(TagSchemeError, match="several tag schemes"):
        add_tag(project.db, project.project_id, None, "Ny", "j")
    assert set_tag_key(project.db, project.project_id, "Int", "stillhet_pa_en_o", "j").key == "j"
    # a used tag stays; an unused one goes
    with pytest.raises(TagSchemeError, match="has been used 2 times"):
        remove_tag(project.db, project.project_id, "Intervju", "key_quote")
    remove_tag(project.db, project.project_id, "Intervju", "j")
    codes = [t.code for t in find_scheme(project.db, project.project_id, "Intervju").tags]
    assert "stillhet_pa_en_o" not in codes and "key_quote" in codes
