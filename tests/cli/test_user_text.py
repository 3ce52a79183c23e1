"""Whatever a person types or pastes arrives whole: the one rule for user text
(fieldkit.text), through the real command line into the store, out through every export
(each opened in its own reader), and in pseudonymisation.

The text is generated (Hypothesis): any Unicode scalar, control characters, Word's manual
line break, right-to-left marks, combining marks, zero-width characters, emoji, lone
surrogates (the command line in the same process can carry them), and one case of
100,000 characters. Pack/merge and sync: tests/test_user_text_team.py; paste in the app:
tests/test_tui_paste.py.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
import uuid
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fieldkit.text import clean_text, clean_value, one_line
from tests.support.shared_files import EAF_SCHEMA, REFI_SCHEMA
from tests.support.text import SPECIAL, scalars, user_text, big_text

# ---------------------------------------------------------------------------- the text





#: what XML 1.0 refuses (lxml's ValueError), besides surrogates
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# ---------------------------------------------------------------------------- the rule


def test_the_rule_on_what_researchers_paste() -> None:
    assert clean_text("Linje 1\x0bLinje 2\r\nLinje 3\rLinje 4\u2028Linje 5\u2029\x0c\x85slutt") == \
        "Linje 1\nLinje 2\nLinje 3\nLinje 4\nLinje 5\n\n\nslutt"
    assert clean_text("rolle\x01\x00 leder\x1f\ttab") == "rolle leder\ttab"
    assert clean_text("Kafe\u0301 \ud800x\ufffe\uffff") == "Kafé x"
    # kept: right-to-left marks, joiners of emoji, soft hyphen, DEL and C1 (XML allows them)
    keep = "\u200f\u202bשלום\u202c \U0001f469\u200d\U0001f467 Kar\u00adi \x7f\x9f"
    assert clean_text(keep) == keep
    assert clean_text("") == "" and clean_text("plain ascii") == "plain ascii"
    assert one_line("Kari\nNordmann\u2028\x0bnurse\n") == "Kari Nordmann nurse"
    assert clean_value({"a\x00": ["x\x0by", 3, None, {"k": "e\u0301"}]}) == {"a": ["x\ny", 3, None, {"k": "é"}]}


@settings(max_examples=300, deadline=None)
@given(user_text)
def test_clean_text_gives_what_every_part_can_carry(text: str) -> None:
    from lxml import etree

    out = clean_text(text)
    assert clean_text(out) == out                                   # idempotent
    assert unicodedata.is_normalized("NFC", out)
    # \n is the only line break left (splitlines breaks at nothing else)
    assert [ln.removesuffix("\n") for ln in out.splitlines(keepends=True)] == out.splitlines()
    assert not re.search("[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]", out)
    assert not _NOT_XML.search(out)
    out.encode("utf-8")                                             # no lone surrogates
    etree.Element("a").text = out                                   # lxml takes it
    etree.Element("a").set("b", out)
    line = one_line(text)
    assert "\n" not in line and clean_text(line) == line
    # nothing a person wrote is lost: every letter and digit is still there, in order
    letters = lambda s: [c for c in unicodedata.normalize("NFD", s) if c.isalnum()]
    surrogate_free = re.sub("[\ud800-\udfff]", "", text)
    assert letters(out) == letters(surrogate_free)
    assert letters(line) == letters(surrogate_free)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | user_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(user_text, inner, max_size=4),
    max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_the_quick_look_at_a_json_value_decides_as_the_full_walk(value) -> None:
    """A JSON column (a segment's words, a session's header) is cleaned after one look at
    its JSON text when there is nothing to clean: the result is the full walk's."""
    from fieldkit.text import clean_json

    assert clean_json(value) == clean_value(value)
    cleaned = clean_value(value)
    assert clean_json(cleaned) is cleaned          # nothing left to clean: the very same value


# ---------------------------------------------------------------------------- through the CLI


@pytest.fixture(scope="module")
def cli_project(tmp_path_factory):
    """A project made with the command line, and a one-second recording to import."""
    import numpy as np
    import soundfile as sf
    from click.testing import CliRunner

    from fieldkit.cli import cli

    root = tmp_path_factory.mktemp("usertext")
    wav = root / "tone.wav"
    t = np.arange(16000) / 16000
    sf.write(str(wav), (0.2 * np.sin(2 * np.pi * 440 * t)).astype("float32"), 16000)
    runner = CliRunner()
    data = root / "data"
    r = runner.invoke(cli, ["--data-dir", str(data), "project", "new", "Tekststudien"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["--data-dir", str(data), "researcher", "add", "Ada Lead", "-p", "tekststudien",
                            "--initials", "AL"])
    assert r.exit_code == 0, r.output
    return runner, data, wav


def _run(runner, data: Path, *args: str) -> str:
    from fieldkit.cli import cli

    r = runner.invoke(cli, ["--data-dir", str(data), *args])
    assert r.exit_code == 0, (args[:3], r.output, r.exception)
    return r.output


def _stored(db: Path, sql: str, *params) -> list:
    """Rows read with the standard library's sqlite3 (not the code under test)."""
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def assert_every_export_opens(out: Path) -> dict:
    """Each file of an export in its reader: the .qdpx and .eaf validated against their
    schemas, Word in python-docx, Excel in openpyxl, the text formats decoded, JSON
    parsed. Returns the parsed JSON export."""
    import docx
    import openpyxl
    from lxml import etree

    files = {p.suffix: p for p in out.iterdir()}
    assert {".docx", ".qdpx", ".eaf", ".xlsx", ".srt", ".vtt", ".csv", ".md", ".txt", ".json"} <= set(files), files
    refi = etree.XMLSchema(etree.parse(str(REFI_SCHEMA)))
    with zipfile.ZipFile(files[".qdpx"]) as z:
        qde = etree.fromstring(z.read("project.qde"))
        for name in z.namelist():
            if name.startswith("sources/") and name.endswith(".txt"):
                z.read(name).decode("utf-8")
    assert refi.validate(qde), refi.error_log
    eaf_schema = etree.XMLSchema(etree.parse(str(EAF_SCHEMA)))
    for eaf in out.glob("*.eaf"):
        doc = etree.parse(str(eaf))
        assert eaf_schema.validate(doc), eaf_schema.error_log
    for d in out.glob("*.docx"):
        document = docx.Document(str(d))
        assert document.paragraphs
    for x in out.glob("*.xlsx"):
        wb = openpyxl.load_workbook(str(x))
        assert wb.sheetnames
        for ws in wb.worksheets:   # within Excel's own limit for a cell
            assert all(len(c.value) <= 32767 for row in ws.iter_rows() for c in row if isinstance(c.value, str))
    for ext in ("*.srt", "*.vtt", "*.csv", "*.md", "*.txt"):
        for p in out.glob(ext):
            p.read_bytes().decode("utf-8")
    return json.loads(files[".json"].read_text(encoding="utf-8"))


def enter_everywhere(runner, data: Path, wav: Path, text: str) -> tuple[str, uuid.UUID]:
    """``text`` into every user-text field through the real entry points: the informant's
    role (informant add --role), the session title (import --title), a note and a
    transcript edit (the functions the interview and review screens call)."""
    from fieldkit.projects import Workspace
    from fieldkit.sessions.notes import add_note
    from fieldkit.store.models import SessionParticipant, TranscriptSegment
    from fieldkit.sessions.review import edit_segment

    code = "T" + uuid.uuid4().hex[:6]
    _run(runner, data, "informant", "add", code, "-p", "tekststudien", "--role", text,
         "--organisation", text[:200], "--name", "Kari Nordmann")
    title = text if text.strip() else "x" + text
    shown = _run(runner, data, "import", str(wav), "-p", "tekststudien", "--title", title)
    sid_hex = re.search(r"session id ([0-9a-f]{8})", shown).group(1)
    with Workspace(data).open("tekststudien") as h:
        with h.db.transaction() as s:
            from sqlmodel import select

            from fieldkit.store.models import Informant, Session

            sess = next(x for x in s.exec(select(Session)) if x.id.hex.startswith(sid_hex))
            inf = s.exec(select(Informant).where(Informant.code == code)).one()
            s.add(SessionParticipant(session_id=sess.id, informant_id=inf.id, speaker_label=code))
            seg = TranscriptSegment(session_id=sess.id, start_ms=0, end_ms=900, speaker_label=code,
                                    verbatim="heard words")
            s.add(seg)
            sid = sess.id
        if clean_text(text).strip():
            add_note(h, sid, 500, text)
        edit_segment(h, seg.id, text + " edited")
    return code, sid


def check_stored(data: Path, text: str, code: str, sid: uuid.UUID) -> None:
    db = data / "projects" / "tekststudien" / "project.db"
    want = clean_text(text)
    [(role, org)] = _stored(db, "SELECT role, organisation FROM informant WHERE code = ?", code)
    assert role == want and org == clean_text(text[:200])
    [(title,)] = _stored(db, "SELECT title FROM session WHERE id = ?", sid.hex)
    assert title == clean_text(text if text.strip() else "x" + text)
    [(edited,)] = _stored(db, "SELECT edited FROM transcriptsegment WHERE session_id = ?", sid.hex)
    assert edited in (clean_text(text + " edited").strip(), None)
    notes = _stored(db, "SELECT text FROM event WHERE session_id = ? AND kind = 'note'", sid.hex)
    assert [n for (n,) in notes] == ([want.strip()] if want.strip() else [])


def export_session(runner, data: Path, sid: uuid.UUID, out: Path, mode: str = "off") -> dict:
    args = ["export", "-p", "tekststudien", "--session", sid.hex[:8], "--out", str(out), "--no-audio",
            "--pseudonymise", mode, "--force"]
    for f in ("docx", "qdpx", "eaf", "xlsx", "srt", "vtt", "csv", "md", "txt", "json"):
        args += ["-f", f]
    _run(runner, data, *args)
    return assert_every_export_opens(out)


@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(text=user_text)
@example(text="Møte\x0bTirsdag\x01 \x00rolle\u2028leder\r\nslutt")
@example(text=big_text())
def test_any_text_through_the_cli_is_stored_by_the_rule_and_every_export_opens(cli_project, tmp_path_factory,
                                                                               text: str) -> None:
    runner, data, wav = cli_project
    code, sid = enter_everywhere(runner, data, wav, text)
    check_stored(data, text, code, sid)
    out = tmp_path_factory.mktemp("export")
    exported = export_session(runner, data, sid, out)
    [session] = exported["sessions"]
    assert session["title"] == clean_text(text if text.strip() else "x" + text)
    if clean_text(text).strip():
        assert clean_text(text).strip() in [e["text"] for e in session["events"]]
    # pseudonymised as well (the default), in the reading formats
    export_session(runner, data, sid, tmp_path_factory.mktemp("export-code"), mode="code")


# ---------------------------------------------------------------------------- older data


def test_migration_cleans_text_stored_by_an_older_version_and_exports_open(workspace, tmp_path: Path) -> None:
    """A database at 0006 holding what older versions let through (NUL, Word's line
    break, a control character in a role, a line separator in a JSON header): opening it
    migrates and cleans every user-text column, marks the rows changed for the next sync,
    and every export opens."""
    from fieldkit.export import run_export
    from fieldkit.export.collect import ExportOptions
    from tests.support.builders import build_project

    handle = workspace.create("Gamle data", language="no")
    b = build_project(handle, segs=6, events=4)
    db = handle.db.path
    handle.close()
    con = sqlite3.connect(db)
    sid = b.sessions[0].hex
    con.execute("UPDATE session SET title = ?, header = ? WHERE id = ?",
                ("Intervju\x0bdag 2", json.dumps({"Sted": "Vestby\u2028rådhus\x00"}), sid))
    con.execute("UPDATE informant SET role = ?", ("leder\x01",))
    con.execute("UPDATE event SET text = ? WHERE kind = 'note'", ("notat\x00 med NUL\r\nog CR",))
    con.execute("UPDATE transcriptsegment SET edited = ?", ("redigert\x0c\x1ftekst\u0065\u0301",))
    before = dict(con.execute("SELECT id, updated_at FROM event WHERE kind = 'note'").fetchall())
    # what later revisions added goes too (the database is as 0006_seats left it)
    for (trigger,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                  "AND name LIKE 'forget_%'").fetchall():
        con.execute(f"DROP TRIGGER {trigger}")
    for col in ("vv", "anc", "data"):          # 0009_i26merge's record versions
        con.execute(f"ALTER TABLE recordstate DROP COLUMN {col}")
    for col in ("snippets", "encryption"):     # 0010_s2review_snippets, 0011_s2crypt
        con.execute(f"ALTER TABLE project DROP COLUMN {col}")
    con.execute("UPDATE alembic_version SET version_num = '0006_seats'")
    con.commit()
    con.close()

    handle = workspace.open("gamle-data")
    assert handle.db.migrated_from == "0006_seats"
    rows = _stored(db, "SELECT title, header FROM session WHERE id = ?", sid)
    assert rows == [("Intervju\ndag 2", json.dumps({"Sted": "Vestby\nrådhus"}))] or \
        (rows[0][0] == "Intervju\ndag 2" and json.loads(rows[0][1]) == {"Sted": "Vestby\nrådhus"})
    assert {r for (r,) in _stored(db, "SELECT role FROM informant")} <= {"leder", ""}
    assert {t for (t,) in _stored(db, "SELECT text FROM event WHERE kind = 'note'")} == {"notat med NUL\nog CR"}
    assert {t for (t,) in _stored(db, "SELECT edited FROM transcriptsegment")} == {"redigert\ntekst\u00e9"}
    after = dict(_stored(db, "SELECT id, updated_at FROM event WHERE kind = 'note'"))
    assert all(after[k] > before[k] for k in before)        # the next sync carries them
    from fieldkit.store.dbfile import SCHEMA_HEAD

    assert _stored(db, "SELECT version_num FROM alembic_version") == [(SCHEMA_HEAD,)]
    out = tmp_path / "out"
    run_export(handle, ["docx", "qdpx", "eaf", "xlsx", "srt", "vtt", "csv", "md", "txt", "json"],
               None, ExportOptions(mode="code"), out)
    assert_every_export_opens(out)
    handle.close()


def test_writers_clean_text_from_older_versions_at_their_edge(workspace, tmp_path: Path) -> None:
    """Text that reached the database without the rule (written past it, as an older
    version did): every writer still finishes, and writes the cleaned text."""
    from fieldkit.export import run_export
    from fieldkit.export.collect import ExportOptions
    from tests.support.builders import build_project

    handle = workspace.create("Kanten", language="no")
    b = build_project(handle, segs=4, events=3)
    con = sqlite3.connect(handle.db.path)
    con.execute("UPDATE session SET title = ? WHERE id = ?", ("Tittel\x0bmed\x01kontroll", b.sessions[0].hex))
    con.execute("UPDATE informant SET role = ?", ("rolle\x02",))
    con.execute("UPDATE event SET text = ? WHERE kind = 'note'", ("notat\x00\x1b[31m",))
    con.execute("UPDATE transcriptsegment SET edited = ?", ("tekst\x0c\ufffe",))
    con.commit()
    con.close()
    out = tmp_path / "out"
    run_export(handle, ["docx", "qdpx", "eaf", "xlsx", "srt", "vtt", "csv", "md", "txt", "json"],
               None, ExportOptions(mode="off"), out)
    exported = assert_every_export_opens(out)
    titles = {s["title"] for s in exported["sessions"]}
    assert "Tittel\nmedkontroll" in titles
    texts = {e["text"] for s in exported["sessions"] for e in s["events"]}
    assert "notat[31m" in texts
    handle.close()


# ---------------------------------------------------------------------------- QualCoder


@pytest.mark.slow
def test_qualcoder_imports_a_project_of_pasted_text(cli_project, tmp_path: Path, monkeypatch) -> None:
    from tests.support.qualcoder import import_with_qualcoder, qualcoder_src

    src = qualcoder_src()
    if src is None:
        pytest.skip("QualCoder is not on PyPI: set FIELDKIT_QUALCODER_SRC to a checkout of "
                    "github.com/ccbogel/QualCoder to import the .qdpx with its own importer")
    runner, data, wav = cli_project
    text = "Notat fra skjema:\x0bførste linje\u2028andre \u200f\u05e9\u05dc\u05d5\u05dd\u200f " \
           "e\u0301 \U0001f469\u200d\U0001f467\x01\x00 slutt"
    _code, sid = enter_everywhere(runner, data, wav, text)
    out = tmp_path / "qc"
    _run(runner, data, "export", "-p", "tekststudien", "--session", sid.hex[:8], "-f", "qdpx",
         "--out", str(out), "--pseudonymise", "off", "--no-audio")
    qdpx = next(out.glob("*.qdpx"))
    conn, _settings, log = import_with_qualcoder(src, qdpx, tmp_path, monkeypatch)
    assert not [m for m in log if "error" in m.lower()], log
    memos = [r[0] for r in conn.execute("select memo from annotation")]
    assert any(m.endswith(": " + clean_text(text).strip()) for m in memos), memos   # "[00:00:00] Note: ..."
    texts = [r[0] for r in conn.execute("select fulltext from source where fulltext is not null")]
    # the transcript edit, on its speaker's line (the source text has one line a segment)
    assert any(" ".join(clean_text(text + " edited").split()) in t for t in texts), texts


# ---------------------------------------------------------------------------- pseudonymisation


NEIGHBOURS = [s for s in SPECIAL if not any(c.isalnum() for c in s)] + ["\u0301", "\u20dd"]


@settings(max_examples=150, deadline=None)
@given(before=st.sampled_from(NEIGHBOURS + [" ", ""]), after=st.sampled_from(NEIGHBOURS + [" ", "", "."]),
       inside=st.sampled_from(["", "\u00ad", "\u200b", "\u200c", "\u200d", "\u2060"]),
       at=st.integers(1, 3), full=st.booleans(), rest=st.text(scalars, max_size=10))
def test_pseudonymisation_catches_names_next_to_any_character(before: str, after: str, inside: str, at: int,
                                                              full: bool, rest: str) -> None:
    """A name beside a control character, a mark, an emoji or a right-to-left mark, or
    split by a soft hyphen or a zero-width character, is still the name: in the text as
    pasted and in the text as stored (cleaned)."""
    from fieldkit.privacy.pseudonym import Person, Pseudonymiser

    p = Pseudonymiser.build("code", [Person("Kari Nordmann", "informant", "L03")])
    name = "Kari Nordmann" if full else "Nordmann"
    split = name[:at] + inside + name[at:]
    text = f"Etterpå sa {before}{split}{after} at {rest}"
    for t in (text, clean_text(text)):
        out = p.apply(t)
        assert "L03" in out, (t, out)
        assert not p.leaks(out)
        plain = unicodedata.normalize("NFC", out).translate({ord(c): None for c in "\u00ad\u200b\u200c\u200d\u2060"})
        assert "Nordmann" not in plain and "Kari Nordmann" not in plain


def test_pseudonymisation_examples_with_invisible_characters() -> None:
    from fieldkit.privacy.pseudonym import Person, Pseudonymiser

    p = Pseudonymiser.build("code", [Person("Kari Nordmann", "informant", "L03")])
    assert p.apply("Kar\u00adi sa ja") == "L03 sa ja"
    assert p.apply("Nord\u200bmann\u200d kom") == "L03\u200d kom"
    assert p.apply("\u202bKari\u202c sa") == "\u202bL03\u202c sa"
    assert p.apply("Kari\x0bNordmann") == "L03"
    assert p.apply("Kari\u0301 sa") == "L03 sa"        # a mark after the name, composed by NFC
    assert p.apply("Karis bok, Kari\U0001f600") == "L03s bok, L03\U0001f600"
    assert p.apply("Karianne og Kariña") == "Karianne og Kariña"   # other names stay


# ---------------------------------------------------------------------------- the app's fields


def test_every_screen_uses_fieldkits_input_fields() -> None:
    """No screen or widget uses Textual's Input directly (its paste keeps only the first
    line): they use fieldkit.tui.widgets.inputs."""
    root = Path(__file__).resolve().parents[1] / "fieldkit" / "tui"
    offenders = []
    for path in root.rglob("*.py"):
        if path.name == "inputs.py":
            continue
        src = path.read_text(encoding="utf-8")
        for m in re.finditer(r"from textual\.widgets import ([^\n]+)", src):
            if "Input" in [x.strip() for x in m.group(1).strip("()").split(",")]:
                offenders.append(str(path.relative_to(root)))
        if re.search(r"textual\.widgets\.Input\b|widgets\._input", src):
            offenders.append(str(path.relative_to(root)))
    assert offenders == []
