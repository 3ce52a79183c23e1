"""Guides: the parser, bad input, ids across edits, versions, coverage, CLI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.builders import GUIDE_TEXT as GUIDE
from sqlmodel import select

from fieldkit.instruments.guides.coverage import (
    probe_used,
    project_matrix,
    returned_to,
    session_coverage,
    set_coverage,
)
from fieldkit.instruments.guides.model import Guide
from fieldkit.instruments.guides.files import load_guide_file
from fieldkit.instruments.guides.parser import GuideError, parse_guide
from fieldkit.instruments.guides.store import import_guide
from fieldkit.paths import bundled
from fieldkit.store.models import Event, EventKind, GuideVersion, Session
from tests.support.cli import fk as run_cli


def test_parse_all_features():
    g = parse_guide(GUIDE, "t.md")
    assert (g.title, g.language, g.informant_types) == ("Test guide", "no", ["leder", "fagperson"])
    assert g.header == ["Intervjuer", "Sted og dato"] and g.intro == "Husk samtykke."
    assert [t.title for t in g.themes] == ["Bakgrunn", "Samarbeid", "Avslutning"]
    t1, t2, t3 = g.themes
    assert t1.minutes == 10 and t1.instructions == ["Tema-instruks."] and not t1.open
    q = t1.questions[0]
    assert q.text == "Hva er rollen din?" and [p.text for p in q.probes] == ["Hvor lenge har du hatt den?"]
    assert q.instructions == ["Få fram nivået."] and q.examples == ["eksempel en", "eksempel to"]
    assert t1.questions[1].only_for == ["leder"] and not t1.questions[1].applies_to("fagperson")
    assert t3.open and t3.minutes == 5
    ids = [i for i, *_ in g.iter_items()]
    assert len(ids) == len(set(ids)) == 3 + 5 + 3
    assert Guide.from_outline(g.to_outline()).to_outline() == g.to_outline()
    assert g.theme_of(t2.questions[0].probes[1].id) is t2


def test_explicit_ids_and_continuation():
    g = parse_guide("---\ntitle: X\n---\n## T {#tema}\n- Et langt\n  spørsmål {#q-lang}\n", "x.md")
    assert g.themes[0].id == "tema"
    assert g.themes[0].questions[0].id == "q-lang"
    assert g.themes[0].questions[0].text == "Et langt spørsmål"


BAD = [
    ("no front matter", "## T\n- q\n", 1, "front-matter"),
    ("unclosed front", "---\ntitle: X\n## T\n", 1, "not closed"),
    ("unknown key", "---\ntitle: X\nfarge: blå\n---\n## T\n- q\n", 3, "unknown key 'farge'"),
    ("no title", "---\nlanguage: no\n---\n## T\n- q\n", 1, "no title"),
    ("bad language", "---\ntitle: X\nlanguage: norsk bokmål\n---\n## T\n- q\n", 3, "not a language code"),
    ("empty theme", "---\ntitle: X\n---\n## Tom\n## T\n- q\n", 4, "has no questions"),
    ("probe first", "---\ntitle: X\n---\n## T\n  - probe\n", 5, "probe before any question"),
    ("question before theme", "---\ntitle: X\n---\n- q\n", 4, "before the first theme"),
    ("duplicate id", "---\ntitle: X\n---\n## T {#a}\n- q {#a}\n", 5, "already used on line 4"),
    ("undeclared type", "---\ntitle: X\ninformant types: a\n---\n## T\n- q [only: b]\n", 6, "not declared"),
    ("numbered", "---\ntitle: X\n---\n## T\n1. q\n", 5, "numbered lists"),
    ("h3", "---\ntitle: X\n---\n## T\n- q\n### Sub\n", 6, "level-3 heading"),
    ("text after questions", "---\ntitle: X\n---\n## T\n- q\nstray text\n", 6, "plain text after"),
    ("open with two", "---\ntitle: X\n---\n## T [open]\n- a\n- b\n", 4, "open theme"),
    ("no themes", "---\ntitle: X\n---\njust text\n", None, "no themes"),
    ("empty", "   \n\n", None, "empty"),
    ("example first", "---\ntitle: X\n---\n## T\n+ ex\n", 5, "example"),
    ("twice", "---\ntitle: X\ntitle: Y\n---\n## T\n- q\n", 3, "given twice"),
]


@pytest.mark.parametrize("name,text,line,needle", BAD, ids=[b[0] for b in BAD])
def test_bad_guides_name_line_and_problem(name, text, line, needle):
    with pytest.raises(GuideError) as err:
        parse_guide(text, "bad.md")
    assert err.value.line == line
    assert needle in err.value.message and err.value.message.startswith("bad.md")


def test_bad_files(tmp_path: Path):
    cases = {
        "latin1.md": "---\ntitle: Møte\n---\n## T\n- q\n".encode("latin-1"),
        "utf16.md": "---\ntitle: X\n---\n## T\n- q\n".encode("utf-16"),
        "binary.md": bytes(range(256)) * 4,
        "huge.md": b"---\ntitle: X\n---\n## T\n" + b"- q\n" * 200_000,
    }
    needles = {"latin1.md": "not UTF-8", "utf16.md": "UTF-16", "binary.md": "binary",
               "huge.md": "at most 512 kB"}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(GuideError, match=needles[name]):
            load_guide_file(tmp_path / name)
    with pytest.raises(GuideError, match="no such file"):
        load_guide_file(tmp_path / "missing.md")
    with pytest.raises(GuideError, match="folder"):
        load_guide_file(tmp_path)
    bom = tmp_path / "bom.md"
    bom.write_bytes(b"\xef\xbb\xbf---\r\ntitle: BOM\r\n---\r\n## T\r\n- q\r\n")
    assert load_guide_file(bom)[0].title == "BOM"


def test_every_bundled_guide_passes_check():
    files = sorted(bundled("guides").glob("*.md"))
    files = [f for f in files if f.name != "README.md"]
    assert len(files) >= 4
    langs = []
    for f in files:
        r = run_cli(None, "guide", "check", str(f), ok=False)
        assert r.returncode == 0, f"{f.name}: {r.stderr}"
        assert "OK:" in r.stdout
        langs.append(load_guide_file(f)[0].language)
    assert langs.count("no") >= 2 and "en" in langs


def test_check_never_prints_a_traceback(tmp_path: Path):
    odd = {"empty.md": b"", "nul.md": b"\x00\x01", "bad.docx": b"PK\x03\x04 not really a zip",
           "fake.docx": b"hello", "lat.md": "æøå".encode("latin-1")}
    for name, data in odd.items():
        (tmp_path / name).write_bytes(data)
    for target in [*odd, "", "missing.md"]:
        r = run_cli(None, "guide", "check", str(tmp_path / target), ok=False)
        assert r.returncode != 0 and "Traceback" not in r.stderr, (target, r.stderr)
        assert "fieldkit:" in r.stderr


# ------------------------------------------------------------------ identity and versions


def _ids(g: Guide) -> dict[str, str]:
    return {text: i for i, _k, text, _p in g.iter_items()}


def test_identity_survives_typo_reorder_and_move(project):
    v1, created = import_guide(project.db, project.project_id, "leder.md", text=GUIDE)
    assert created and v1.number == 1
    g1 = Guide.from_outline(v1.outline)
    old = _ids(g1)
    edited = (GUIDE
              .replace("Hva er rollen din?", "Hva er egentlig rollen din?")        # reword
              .replace("- Hva skjer ved uenighet?\n", "")                          # delete
              .replace("## Avslutning [open] (5 min)\n- Noe mer?\n",
                       "## Avslutning [open] (5 min)\n- Noe mer?\n")
              .replace("- Hvem samarbeider du med? [only: leder]\n", "")           # move ...
              .replace("## Samarbeid\n", "## Samarbeid\n- Hvem samarbeider du med? [only: leder]\n")
              .replace("  - Hvem deltar?\n  - Hvor ofte?\n", "  - Hvor ofte?\n  - Hvem deltar?\n")  # reorder
              + "\n## Nytt tema\n- Et helt nytt spørsmål?\n")
    v2, created = import_guide(project.db, project.project_id, "leder.md", text=edited)
    assert created and v2.number == 2
    g2 = Guide.from_outline(v2.outline)
    new = _ids(g2)
    assert new["Hva er egentlig rollen din?"] == old["Hva er rollen din?"]
    assert new["Hvem samarbeider du med?"] == old["Hvem samarbeider du med?"]
    assert g2.theme_of(new["Hvem samarbeider du med?"]).title == "Samarbeid"
    assert new["Hvem deltar?"] == old["Hvem deltar?"] and new["Hvor ofte?"] == old["Hvor ofte?"]
    assert new["Et helt nytt spørsmål?"] not in old.values()
    retired = {r.id: r for r in g2.retired}
    assert old["Hva skjer ved uenighet?"] in retired
    assert g2.find(old["Hva skjer ved uenighet?"]).text == "Hva skjer ved uenighet?"
    # same content again: no new version
    again, created = import_guide(project.db, project.project_id, "leder.md", text=edited + "\n\n")
    assert not created and again.number == 2
    # a deleted question's id is never given to a new one later
    v3, _ = import_guide(project.db, project.project_id, "leder.md",
                         text=edited + "- Enda et spørsmål?\n")
    assert old["Hva skjer ved uenighet?"] not in {i for i, *_ in Guide.from_outline(v3.outline).iter_items()}


def test_changing_a_guide_never_rewrites_past_sessions(project):
    v1, _ = import_guide(project.db, project.project_id, "g.md", text=GUIDE)
    with project.db.transaction() as s:
        sess = Session(project_id=project.project_id, title="S1", guide_version_id=v1.id)
        s.add(sess)
    q = Guide.from_outline(v1.outline).themes[1].questions[1]  # "Hva skjer ved uenighet?"
    set_coverage(project.db, sess.id, q.id, "covered", position_ms=1000)
    import_guide(project.db, project.project_id, "g.md", text=GUIDE.replace("- Hva skjer ved uenighet?\n", ""))
    with project.db.session() as s:
        assert s.get(Session, sess.id).guide_version_id == v1.id
        assert s.get(GuideVersion, v1.id).source_text == GUIDE
    assert session_coverage(project.db, sess.id).of(q.id).value == "covered"


# ------------------------------------------------------------------ coverage


def _session(project, version, title, pilot=False):
    with project.db.transaction() as s:
        sess = Session(project_id=project.project_id, title=title, guide_version_id=version.id,
                       is_pilot=pilot)
        s.add(sess)
    return sess


def test_coverage_events_and_summaries(project):
    v1, _ = import_guide(project.db, project.project_id, "g.md", text=GUIDE)
    g = Guide.from_outline(v1.outline)
    q_role, q_who = g.themes[0].questions
    q_meet, q_disagree = g.themes[1].questions
    a = _session(project, v1, "A")
    b = _session(project, v1, "B")
    _session(project, v1, "Pilot", pilot=True)
    set_coverage(project.db, a.id, q_role.id, "partly", position_ms=5_000)
    set_coverage(project.db, a.id, q_role.id, "covered", position_ms=65_000)
    set_coverage(project.db, a.id, q_who.id, "skipped", position_ms=70_000)
    probe_used(project.db, a.id, q_role.probes[0].id, position_ms=20_000)
    returned_to(project.db, a.id, g.themes[0].id, position_ms=900_000)
    set_coverage(project.db, b.id, q_meet.id, "covered", position_ms=3_000)
    with pytest.raises(Exception, match="not a question"):
        set_coverage(project.db, a.id, "nope", "covered", position_ms=1)
    with pytest.raises(ValueError):
        set_coverage(project.db, a.id, q_role.id, "done", position_ms=1)

    cov = session_coverage(project.db, a.id)
    assert cov.of(q_role.id).value == "covered" and cov.of(q_who.id).value == "skipped"
    assert cov.probes_used == {q_role.probes[0].id}
    assert cov.returns == [(900_000, g.themes[0].id)]
    assert cov.untouched_themes() == ["Samarbeid", "Avslutning"]
    assert cov.counts() == {"not_yet": 3, "partly": 0, "covered": 1, "skipped": 1}
    with project.db.session() as s:
        evs = s.exec(select(Event).where(Event.session_id == a.id, Event.kind == EventKind.coverage)
                     .order_by(Event.position_ms)).all()
        assert [(e.position_ms, e.code) for e in evs][:2] == [(5_000, "partly"), (65_000, "covered")]

    m = project_matrix(project.db, project.project_id)
    assert [t for _i, t in m.sessions] == ["A", "B"]
    row = {r.question_id: r for r in m.rows}
    assert [c.value for c in row[q_role.id].cells.values()] == ["covered", "not_yet"]
    assert [c.value for c in row[q_meet.id].cells.values()] == ["not_yet", "covered"]
    gaps = dict(m.gaps())
    assert gaps["Hva skjer ved uenighet?"] == 2 and gaps["Hva er rollen din?"] == 1
    assert len(project_matrix(project.db, project.project_id, include_pilot=True).sessions) == 3

    # a later version retires a question; the old session keeps it in the matrix
    v2, _ = import_guide(project.db, project.project_id, "g.md",
                         text=GUIDE.replace("- Hva skjer ved uenighet?\n", ""))
    c = _session(project, v2, "C")
    m = project_matrix(project.db, project.project_id)
    row = {r.question_id: r for r in m.rows}
    assert row[q_disagree.id].retired and row[q_disagree.id].cells[c.id] is None


def test_cli_import_list_and_coverage(project, tmp_path):
    env = {**os.environ, "FIELDKIT_HOME": str(project.folder.parent.parent)}
    guide = bundled("guides") / "no-leder-samhandling.md"
    r = run_cli(None, "guide", "import", str(guide), "-p", project.folder.name, ok=False, env=env)
    assert r.returncode == 0 and "as version 1" in r.stdout, r.stderr
    r = run_cli(None, "guide", "import", str(guide), "-p", project.folder.name, ok=False, env=env)
    assert "No change" in r.stdout
    r = run_cli(None, "guide", "list", "-p", project.folder.name, ok=False, env=env)
    assert "no-leder-samhandling" in r.stdout and "v1" in r.stdout
    with project.db.session() as s:
        v = s.exec(select(GuideVersion)).one()
    sess = _session(project, v, "Intervju 1")
    q = Guide.from_outline(v.outline).themes[0].questions[0]
    set_coverage(project.db, sess.id, q.id, "covered", position_ms=1)
    r = run_cli(None, "coverage", "-p", project.folder.name, "--session", sess.id.hex[:8], ok=False, env={**env, "COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    assert "covered" in r.stdout and "Untouched themes: Samarbeidsarenaer" in r.stdout
    r = run_cli(None, "coverage", "-p", project.folder.name, ok=False, env={**env, "COLUMNS": "200"})
    assert r.returncode == 0 and "✔" in r.stdout and "Not covered in 1 session of" in r.stdout


def test_docx_import(tmp_path: Path, project):
    import docx

    d = docx.Document()
    d.add_paragraph("Intervjuguide fra Word", style="Title")
    d.add_paragraph("Instruks: husk samtykke")
    d.add_heading("Bakgrunn", level=1)
    d.add_paragraph("Hva er rollen din?", style="List Number")
    d.add_paragraph("Hvor lenge?", style="List Bullet 2")
    p = d.add_paragraph()
    p.add_run("Få fram ledernivået").italic = True
    d.add_paragraph("Eksempel: budsjett; personal")
    d.add_heading("Avslutning", level=2)
    d.add_paragraph("Noe mer du vil si?")
    path = tmp_path / "guide.docx"
    d.save(path)
    g, text = load_guide_file(path)
    assert g.title == "Intervjuguide fra Word" and g.intro == "husk samtykke"
    q = g.themes[0].questions[0]
    assert q.text == "Hva er rollen din?" and [p.text for p in q.probes] == ["Hvor lenge?"]
    assert q.instructions == ["Få fram ledernivået"] and q.examples == ["budsjett", "personal"]
    assert g.themes[1].questions[0].text == "Noe mer du vil si?"
    v, _ = import_guide(project.db, project.project_id, path)
    assert v.source_text == text and v.source_name == "guide.docx"
