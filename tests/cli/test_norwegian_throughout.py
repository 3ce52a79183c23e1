"""Norwegian throughout (issue 22): with FIELDKIT_LANG=nb no English from the interface
reaches a Norwegian team, in the command line's help or in the files they hand on.

- Babel's own API finds 0 untranslated and 0 fuzzy messages for nb: the messages are
  extracted from the source with Babel's extractor and the catalogue is updated from them
  (as ``pybabel update`` would), then checked.
- every command's ``--help`` in Norwegian (one real process, the language set before any
  command module is imported, as for a user) has no word of the interface's English
  (``tests.support.english``: the msgids' words that no translation uses); what a user
  types (command and option names, choices, code in backticks) is left out of the check.
- every export of the Norwegian demo session (Word, Markdown, text, CSV, XLSX, REFI-QDA,
  ELAN), read back by independent parsers, has none either; the same export in English
  does (the check can fail).
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from lxml import etree

import fieldkit
from tests.support.cli import fk
from tests.support.english import english_in
from tests.support.pseudo import demo_data

PACKAGE = Path(fieldkit.__file__).parent
REPO = PACKAGE.parent
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "N_plural": (1, 2)}


def test_babel_reports_nothing_untranslated_or_fuzzy_for_nb():
    template = Catalog(domain="fieldkit")
    for filename, lineno, message, comments, context in extract_from_dir(
            str(PACKAGE), method_map=[("**/migrations/**.py", "ignore"), ("**.py", "python")], keywords=KEYWORDS):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    assert len(template) > 1000
    merged = Catalog(locale="nb", domain="fieldkit")
    for po in sorted((PACKAGE / "locale" / "nb" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as f:
            for m in read_po(f, locale="nb", domain="fieldkit"):
                if m.id:
                    merged[m.id] = m
    merged.update(template, no_fuzzy_matching=True)
    untranslated = [m.id for m in merged if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    fuzzy = [m.id for m in merged if m.id and m.fuzzy]
    assert untranslated == [] and fuzzy == []
    # and every translation keeps the placeholders of its message (Babel's checkers)
    problems = [(m.id, [str(e) for e in errors]) for m, errors in merged.check()]
    assert problems == []


HELP_WALK = """
import click
from click.testing import CliRunner
from fieldkit.cli import cli, localise
localise(cli)
def walk(path, cmd):
    yield path
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd)
        for name in cmd.list_commands(ctx):
            yield from walk(path + [name], cmd.get_command(ctx, name))
for path in walk([], cli):
    r = CliRunner().invoke(cli, [*path, "--help"], prog_name="fieldkit", terminal_width=200)
    assert r.exit_code == 0, (path, r.output)
    print("=====", " ".join(path))
    print(r.output)
"""


def _typed(text: str, command: str) -> str:
    """The help without what a user types: option names, choices, code, the command words."""
    text = re.sub(r"--?[\w-]+", " ", text)
    text = re.sub(r"\[[^\]\n]*\|[^\]\n]*\]", " ", text)     # [docx|md|...]
    text = re.sub(r"\[standard: [^\]\n]*\]", " ", text)       # a default value, as typed
    text = re.sub(r"`[^`]*`|'[^'\n]*'|«[^»]*»", " ", text)  # code and quoted values
    text = re.sub(r"\b[A-Z_]{2,}\b", " ", text)            # FIELDKIT_HOME, SIGTERM, REFI ...
    for word in ["fieldkit", *command.split()]:
        text = re.sub(rf"\b{re.escape(word)}\b", " ", text)
    return text


@pytest.mark.slow
def test_every_help_is_norwegian(tmp_path: Path):
    import os

    env = {**os.environ, "FIELDKIT_LANG": "nb", "FIELDKIT_HOME": str(tmp_path), "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-c", HELP_WALK], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    blocks = done.stdout.split("===== ")[1:]
    assert len(blocks) > 50
    commands = [b.partition("\n")[0] for b in blocks]
    english = {}
    for block in blocks:
        command, _nl, body = block.partition("\n")
        assert "Bruk: fieldkit" in body and "Valg:" in body, body
        assert "[OPTIONS]" not in body and "TEXT" not in body and "COMMAND" not in body, body
        found = english_in(_typed(body, " ".join(commands)))
        if found:
            english[command] = found
    assert english == {}


def _eaf_text(path: Path) -> str:
    root = etree.parse(str(path)).getroot()
    parts = [t.get("TIER_ID", "") for t in root.iter("TIER")]
    parts += [v.text or "" for v in root.iter("ANNOTATION_VALUE")]
    return "\n".join(parts)


def _xml_text(data: bytes, attributes: tuple[str, ...] = ()) -> str:
    root = etree.fromstring(data)
    for code in [el for el in root.iter() if etree.QName(el).localname == "instrText"]:
        code.getparent().remove(code)   # a field's code (PAGE, NUMPAGES): Word shows its result
    parts = [t for t in root.itertext()]
    for el in root.iter():
        parts += [v for k, v in el.attrib.items() if etree.QName(k).localname in attributes]
    return "\n".join(parts)


def _docx_text(path: Path) -> str:
    """The Word file as a reader sees it: body, tables, comments, headers and footers,
    and the document's properties (python-docx for the body, the XML parts for the rest)."""
    import docx

    doc = docx.Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    parts += [c.text for t in doc.tables for row in t.rows for c in row.cells]
    props = doc.core_properties
    parts += [props.title or "", props.subject or "", props.keywords or "", props.comments or ""]
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if re.match(r"word/(comments|header\d*|footer\d*|footnotes)\.xml$", name):
                parts.append(_xml_text(z.read(name)))
    return "\n".join(parts)


def _exported_text(out: Path) -> dict[str, str]:
    texts = {}
    for p in sorted(out.iterdir()):
        if p.suffix == ".docx":
            texts[p.name] = _docx_text(p)
        elif p.suffix in (".md", ".txt"):
            texts[p.name] = p.read_text(encoding="utf-8")
        elif p.suffix == ".csv":
            with p.open(encoding="utf-8-sig", newline="") as f:
                texts[p.name] = "\n".join(";".join(r) for r in csv.reader(f, delimiter=";"))
        elif p.suffix == ".xlsx":
            from openpyxl import load_workbook

            wb = load_workbook(p, read_only=True)
            texts[p.name] = "\n".join([*wb.sheetnames, *(str(v) for ws in wb.worksheets
                                                          for row in ws.iter_rows(values_only=True)
                                                          for v in row if v is not None)])
        elif p.suffix == ".qdpx":
            with zipfile.ZipFile(p) as z:
                texts[p.name] = "\n".join(
                    [_xml_text(z.read("project.qde"), ("name",))]
                    + [z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".txt")])
        elif p.suffix == ".eaf":
            texts[p.name] = _eaf_text(p)
    return texts


def _demo_data() -> str:
    """What the demo session is made of (its words are the team's, not the interface's)."""
    files = [REPO / "data" / "demo" / "transcript.json", REPO / "data" / "demo" / "demo.json",
             REPO / "data" / "tagschemes" / "interview.nb.toml", REPO / "guides" / "no-leder-samhandling.md"]
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


FORMATS = ["docx", "md", "txt", "csv", "xlsx", "qdpx", "eaf"]


@pytest.mark.slow
def test_norwegian_exports_have_no_english_from_the_interface(tmp_path: Path):
    root = tmp_path / "home"
    fk(root, "project", "demo", lang="nb")
    args = ["export", "-p", "demo", "--all", *[x for f in FORMATS for x in ("-f", f)]]
    fk(root, *args, "--out", str(tmp_path / "nb"), lang="nb")
    texts = _exported_text(tmp_path / "nb")
    assert {Path(n).suffix for n in texts} == {f".{f}" for f in FORMATS}
    word = next(t for n, t in texts.items() if n.endswith(".docx"))
    # the Word file is the one read by the most people: Norwegian headings, tags and states
    for expected in ("Varighet", "Godt sitat", "Merke (OB)", "dekket"):
        assert expected in word, expected
    data = _demo_data()
    found = {name: english_in(text, data) for name, text in texts.items()}
    assert {k: v for k, v in found.items() if v} == {}

    # the same session exported in English has the interface's English (the check bites)
    fk(root, *args, "--out", str(tmp_path / "en"), lang="en")
    english = {name: english_in(text, data) for name, text in _exported_text(tmp_path / "en").items()}
    bites = {Path(n).suffix for n, words in english.items() if words}
    assert {".docx", ".md", ".xlsx", ".qdpx", ".eaf"} <= bites, english


@pytest.mark.slow
def test_word_export_of_a_norwegian_session_has_no_english_in_any_part(tmp_path: Path):
    """The Word file read as text, part by part (headings and the facts table, the page header
    and footer, the comments with coverage words and tag names, the speaker labels, the dates),
    with the names as codes and as roles: Norwegian in each part, and no word of the
    interface's English list; the same file made in English has English in each part."""
    import docx

    root = tmp_path / "home"
    fk(root, "project", "demo", lang="nb")

    def parts(lang: str, mode: str) -> dict[str, str]:
        out = tmp_path / f"{lang}-{mode}"
        fk(root, "export", "-p", "demo", "--all", "-f", "docx", "--pseudonymise", mode, "--out", str(out), lang=lang)
        path = next(out.rglob("*.docx"))
        doc = docx.Document(str(path))
        with zipfile.ZipFile(path) as z:
            xml = {n: _xml_text(z.read(n)) for n in z.namelist()
                   if re.match(r"word/(comments|header\d*|footer\d*)\.xml$", n)}
        return {
            "body": "\n".join(p.text for p in doc.paragraphs),
            "facts": "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells),
            "header": "\n".join(v for n, v in xml.items() if "header" in n),
            "footer": "\n".join(v for n, v in xml.items() if "footer" in n),
            "comments": "\n".join(v for n, v in xml.items() if "comments" in n),
        }

    data = demo_data()   # the values of the demo's files (their keys are the program's English)
    expected = {   # (part, text) a Norwegian reader finds
        "code": [("facts", "Deltakere"), ("facts", "Varighet"), ("facts", "3. mars 2026"),
                 ("facts", "individuelt intervju"), ("facts", "Tekstlag"), ("footer", "Side"), ("footer", "av"),
                 ("comments", "Merke (OB): Godt sitat"), ("comments", ": dekket"), ("comments", ": delvis"),
                 ("comments", "Notat (OB)"), ("comments", "Nøling"), ("body", "Notater uten tidspunkt"),
                 ("body", "] AL: "), ("body", "] L01: ")],
        "role": [("body", "] Intervjuer: "), ("facts", "Intervjuer (intervjuer)"), ("facts", "[sted]"),
                 ("comments", "Merke (Observatør)")],
    }
    for mode, wanted in expected.items():
        nb = parts("nb", mode)
        for part, text in wanted:
            assert text in nb[part], (mode, part, text, nb[part][:800])
        found = {part: english_in(text, data) for part, text in nb.items()}
        assert {k: v for k, v in found.items() if v} == {}, mode
    # the check bites: the English file has the interface's English in its text and facts
    # (the comments' and footer's few English words, "Tag", "Note", "Page", are also
    # written in Norwegian text, so the list cannot hold them: the Norwegian wording of
    # those parts is asserted above instead)
    en = parts("en", "role")
    bites = {part for part, text in en.items() if english_in(text, data)}
    assert {"body", "facts"} <= bites, {p: english_in(t, data) for p, t in en.items()}
    assert "Page" in en["footer"] and "Tag (Observer)" in en["comments"], en


#: the main outputs of the commands a team uses every week, on the Norwegian demo project
OUTPUTS = [
    ("project", "list"), ("informant", "list", "-p", "demo"), ("researcher", "list", "-p", "demo"),
    ("tags", "list", "-p", "demo"), ("status", "-p", "demo"), ("coverage", "-p", "demo"),
    ("guide", "list", "-p", "demo"), ("guide", "check", str(REPO / "guides" / "no-leder-samhandling.md")),
    ("plan", "-p", "demo", "--day", "2026-03-03"), ("models", "list"),
]


@pytest.mark.slow
def test_main_outputs_are_norwegian(tmp_path: Path):
    root = tmp_path / "home"
    fk(root, "project", "demo", lang="nb")
    data = _demo_data() + "\nDemo University Ada Lund Ola Berg"   # the demo's own people
    english = {}
    for args in OUTPUTS:
        r = fk(root, *args, lang="nb")
        text = _typed(r.stdout, " ".join(a for a in args if not a.startswith(("/", "-"))))
        text = re.sub(r"\S*/\S*", " ", text)   # paths and model repositories
        found = english_in(text, data)
        if found:
            english[" ".join(args[:2])] = found
    assert english == {}
