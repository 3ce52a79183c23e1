"""The command line and the files it writes in the pseudo-locale (issue 22's acceptance):
with FIELDKIT_LANG=pseudo every string that came through the catalogue stands between
``⟦ ⟧``; a word outside the markers that is not data (names, codes, numbers, dates, what the
user types: commands, options, choices) reached the user without the catalogue.

- every command's --help (one real process, the language set before any command module is
  imported, as for a user);
- the outputs a team reads every week and the errors of common mistakes, on the Norwegian
  demo project (in process);
- every export of the demo session: Word read as text (python-docx and the XML of its
  headers, footers and comments), Markdown, text, CSV, XLSX, REFI-QDA (.qdpx: its project.qde
  and sources), ELAN and the subtitles.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from lxml import etree

import fieldkit
from tests.support.cli import fk
from tests.support.pseudo import demo_data, unmarked

PACKAGE = Path(fieldkit.__file__).parent
REPO = PACKAGE.parent
#: names of programs and file formats, the same in every language
NAMES = ("ATLAS", "ELAN", "MAXQDA", "Markdown", "NVivo", "QDA", "QualCoder", "REFI", "Word", "Excel", "CSV",
         "XLSX", "SRT", "WebVTT", "VTT", "PostgreSQL", "SQLite", "Sikt", "Whisper", "whisper", "faster",
         "PulseAudio", "PipeWire", "ALSA", "FLAC", "WAV", "Opus", "Git", "JSON", "TOML", "UTF", "ONNX", "CAM",
         "Hugging", "Face", "Textual", "docx", "md", "txt", "csv", "xlsx", "qdpx", "eaf", "srt", "vtt", "json",
         "toml", "flac", "wav", "zip", "utf", "sig", "ffmpeg", "Python", "pip", "sudo", "apt", "CUDA", "CPU", "GPU",
         "int8", "float", "tiny", "base", "small", "medium", "large", "turbo", "distil", "Systran", "NB",
         "NbAiLab", "nb", "no", "en", "int")

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


def _typed(text: str, words: set[str]) -> str:
    """Without what a user types: option names, choices, defaults, code, command words."""
    text = re.sub(r"--?[\w-]+", " ", text)
    text = re.sub(r"\[[^\]\n⟦⟧]*\|[^\]\n⟦⟧]*\]", " ", text)      # [docx|md|...]
    text = re.sub(r"`[^`]*`|'[^'\n]*'|«[^»]*»", " ", text)      # code and quoted values
    text = re.sub(r"\b[A-Z_]{2,}\b", " ", text)               # FIELDKIT_HOME, SIGTERM ...
    for word in words:
        text = re.sub(rf"\b{re.escape(word)}\b", " ", text)
    return text


def _choices_and_defaults() -> set[str]:
    """Every choice and default value of every option (typed by the user, not worded)."""
    import click

    from fieldkit.cli import cli

    found: set[str] = set()

    def walk(cmd):
        for p in cmd.params:
            if isinstance(p.type, click.Choice):
                found.update(str(c) for c in p.type.choices)
            if isinstance(p.default, str):
                found.add(p.default)
        if isinstance(cmd, click.Group):
            ctx = click.Context(cmd)
            for name in cmd.list_commands(ctx):
                found.add(name)
                walk(cmd.get_command(ctx, name))

    walk(cli)
    return {w for c in found for w in re.findall(r"[^\W\d_]{2,}", c)}


@pytest.mark.slow
def test_every_help_comes_from_the_catalogue(tmp_path: Path):
    env = {**os.environ, "FIELDKIT_LANG": "pseudo", "FIELDKIT_HOME": str(tmp_path), "COLUMNS": "200",
           "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", HELP_WALK], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    blocks = done.stdout.split("===== ")[1:]
    assert len(blocks) > 50
    typed = _choices_and_defaults()
    found = {}
    for block in blocks:
        command, _nl, body = block.partition("\n")
        assert "⟦Bruk:⟧" in body, body
        words = unmarked(_typed(body, typed), allowed=NAMES)
        if words:
            found[command or "fieldkit"] = words
    assert found == {}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The Norwegian demo project, made in the pseudo-locale (one per module)."""
    from datetime import date, timedelta

    root = tmp_path_factory.mktemp("pseudo") / "home"
    fk(root, "project", "demo", lang="pseudo")
    # a project whose deletion deadline is near: every command on the data folder warns
    fk(root, "project", "new", "Frist", "--sikt", "654321", "--deadline",
       (date.today() + timedelta(days=10)).isoformat(), lang="pseudo")
    return root


#: (arguments, exit code): the outputs read every week and common mistakes
OUTPUTS = [
    (("project", "list"), 0), (("informant", "list", "-p", "demo"), 0),
    (("researcher", "list", "-p", "demo"), 0), (("tags", "list", "-p", "demo"), 0), (("status", "-p", "demo"), 0),
    (("coverage", "-p", "demo"), 0), (("guide", "list", "-p", "demo"), 0),
    (("guide", "check", str(REPO / "guides" / "no-leder-samhandling.md")), 0),
    (("plan", "-p", "demo", "--day", "2026-03-03"), 0), (("models", "list"), 0), (("consent", "-p", "demo"), 2),
    (("agreement", "-p", "demo", "Lederintervju L01 (demo)"), None), (("informant", "add", "L01", "-p", "demo"), None),
    (("guide", "check", str(REPO / "README.md")), None), (("tags", "key", "key_quote", "f", "-p", "demo"), None),
    (("import", "-p", "demo", "--title", "Ny", "--kind", "telephone", "/nowhere.wav"), None),
    (("researcher", "add", "X", "-p", "demo"), None), (("purge", "X99", "-p", "demo"), None),
    (("export", "-p", "Finnes ikke", "--all", "-f", "md"), 1), (("export", "-p", "demo"), 2),
    (("informant", "withdraw", "X99", "-p", "demo"), None), (("import", "-p", "demo", "/nowhere.wav"), 2),
    (("tags", "list", "-p", "demo", "--scheme", "Finnes ikke"), None), (("nosuchcommand",), 2),
    # the observer's seat with nothing recording, a model name mistyped
    (("observe", "-p", "demo"), None), (("models", "download", "nosuchmodel"), None),
]


@pytest.mark.slow
def test_outputs_and_errors_come_from_the_catalogue(demo: Path):
    data = demo_data() + "\nDemo University Ada Lund Ola Berg Finnes ikke nosuchcommand nowhere Frist nosuchmodel"
    typed = _choices_and_defaults()
    found = {}
    for args, code in OUTPUTS:
        r = fk(demo, *args, lang="pseudo", ok=False)
        if code is not None:
            assert r.returncode == code, (args, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr, (args, r.stderr)
        if args == ("project", "list"):   # the warning, in Norwegian, the date as Norwegian writes it
            assert "Frist: ⟦Slettefrist (Sikt-ref. 654321) om 10 dager (" in r.stderr, r.stderr
        words = unmarked(_typed(r.stdout + "\n" + r.stderr, typed), data, allowed=NAMES)
        if words:
            found[" ".join(args[:3])] = words
    assert found == {}


def _xml_text(data: bytes, attributes: tuple[str, ...] = ()) -> str:
    root = etree.fromstring(data)
    for code in [el for el in root.iter() if etree.QName(el).localname == "instrText"]:
        code.getparent().remove(code)   # a field's code (PAGE): Word shows its result
    parts = list(root.itertext())
    for el in root.iter():
        parts += [v for k, v in el.attrib.items() if etree.QName(k).localname in attributes]
    return "\n".join(parts)


def _exported_text(out: Path) -> dict[str, str]:
    import docx
    from openpyxl import load_workbook

    texts = {}
    for p in sorted(out.rglob("*")):
        if p.suffix == ".docx":
            doc = docx.Document(str(p))
            parts = [x.text for x in doc.paragraphs]
            parts += [c.text for t in doc.tables for row in t.rows for c in row.cells]
            props = doc.core_properties
            parts += [props.title or "", props.subject or "", props.keywords or "", props.comments or ""]
            with zipfile.ZipFile(p) as z:
                parts += [_xml_text(z.read(n)) for n in z.namelist()
                          if re.match(r"word/(comments|header\d*|footer\d*|footnotes)\.xml$", n)]
            texts[p.name] = "\n".join(parts)
        elif p.suffix in (".md", ".txt", ".srt", ".vtt"):
            texts[p.name] = p.read_text(encoding="utf-8")
        elif p.suffix == ".csv":
            with p.open(encoding="utf-8-sig", newline="") as f:
                texts[p.name] = "\n".join(";".join(r) for r in csv.reader(f, delimiter=";"))
        elif p.suffix == ".xlsx":
            wb = load_workbook(p, read_only=True)
            texts[p.name] = "\n".join([*wb.sheetnames, *(str(v) for ws in wb.worksheets
                                                          for row in ws.iter_rows(values_only=True)
                                                          for v in row if v is not None)])
        elif p.suffix == ".qdpx":
            with zipfile.ZipFile(p) as z:
                texts[p.name] = "\n".join([_xml_text(z.read("project.qde"), ("name",))]
                                          + [z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".txt")])
        elif p.suffix == ".eaf":
            root = etree.parse(str(p)).getroot()
            texts[p.name] = "\n".join([t.get("TIER_ID", "") for t in root.iter("TIER")]
                                      + [v.text or "" for v in root.iter("ANNOTATION_VALUE")])
    return texts


@pytest.mark.slow
def test_every_export_comes_from_the_catalogue(demo: Path, tmp_path: Path):
    from fieldkit.cli.export import FORMATS

    out = tmp_path / "out"
    fk(demo, "export", "-p", "demo", "--all", *[x for f in FORMATS for x in ("-f", f)], "--out", str(out),
       lang="pseudo")
    texts = _exported_text(out)
    assert {Path(n).suffix for n in texts} >= {".docx", ".md", ".csv", ".xlsx", ".qdpx", ".eaf", ".srt"}, texts.keys()
    # names replaced by roles ("[sted]", "Intervjuer"), as a published quote has them
    fk(demo, "export", "-p", "demo", "--all", "-f", "docx", "-f", "md", "--pseudonymise", "role",
       "--out", str(tmp_path / "roles"), lang="pseudo")
    texts |= {f"role: {n}": t for n, t in _exported_text(tmp_path / "roles").items()}
    data = demo_data() + "\nDemo University Ada Lund Ola Berg"
    found = {name: unmarked(text, data, allowed=NAMES) for name, text in texts.items()}
    assert {k: v for k, v in found.items() if v} == {}


def test_every_metavar_comes_from_the_catalogue():
    """The placeholders of --help (``INITIALER``, ``TT:MM:SS``): the help walk above takes
    capitals for typed names, so they are checked here, one by one."""
    from tests.support.pseudo import metavars_outside_the_catalogue

    assert metavars_outside_the_catalogue() == {}


def test_metavars_do_not_keep_the_language_their_command_was_first_loaded_in():
    """A command module loaded first while Norwegian was chosen kept 'MAPPE' and 'KODE' for
    every later language (click names a Path when the option is made; tags.py translated its
    placeholders at import): found by CI, where test order decides which language loads a
    command first. A fresh process loads every command in Norwegian, then asks in the
    pseudo-locale."""
    code = "\n".join([
        "import click", "from fieldkit import i18n", "i18n.set_language('nb')", "from fieldkit.cli import cli",
        "def load(cmd):", "    if isinstance(cmd, click.Group):", "        ctx = click.Context(cmd)",
        "        for name in cmd.list_commands(ctx):", "            load(cmd.get_command(ctx, name))",
        "load(cli)", "from tests.support.pseudo import metavars_outside_the_catalogue as m", "print(repr(m()))"])
    repo = Path(fieldkit.__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=repo,
                          env={**os.environ, "FIELDKIT_LANG": "nb", "PYTHONPATH": str(repo)}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "{}", done.stdout


def test_core_verdicts_and_conflict_lines_come_from_the_catalogue():
    """What the core reports as a kind and values and the interface shows as it is: the
    microphone test's verdict (`fieldkit devices --test`, the setup screen's Ctrl+T) and a
    team conflict's lines (`fieldkit project conflicts`, the conflicts screen)."""
    from fieldkit.recording.mictest import FULL_SCALE, MicTest
    from fieldkit.team.ops import describe_conflict
    from tests.support.pseudo import pseudo_language

    with pseudo_language():
        verdicts = [MicTest(p).verdict for p in (0, 200, 16000, FULL_SCALE)]
        lines = describe_conflict({"kept_side": "merged", "kept": {"role": "leder", "group_label": "A"},
                                   "other": {"role": "rådgiver", "group_label": "A"}})
        lines += describe_conflict({"kept_side": "deleted", "kept": {}, "other": {"edited": "Ja, det stemmer."}})
    assert [v.kind for v in verdicts] == ["silent", "quiet", "ok", "clipping"]
    assert [unmarked(str(v)) for v in verdicts] == [[]] * 4, verdicts
    assert len(lines) == 2 and [unmarked(str(x), "leder rådgiver Ja det stemmer") for x in lines] == [[], []], lines
    assert "⟦rolle⟧" in lines[0] and "⟦redigert tekst⟧" in lines[1], lines


@pytest.mark.slow
def test_a_locked_database_is_said_in_the_catalogues_words(demo: Path):
    """Another program holds the project's database (issue 22, a locked database): the
    message and its hint come from the catalogue (about 3 s: SQLite's busy timeout)."""
    import sqlite3

    con = sqlite3.connect(demo / "projects" / "frist" / "project.db")
    con.execute("PRAGMA journal_mode=DELETE")
    con.isolation_level = None
    con.execute("BEGIN EXCLUSIVE")
    try:
        r = fk(demo, "informant", "add", "L09", "-p", "frist", lang="pseudo", ok=False)
    finally:
        con.rollback()
        con.close()
    assert r.returncode == 3 and "Traceback" not in r.stderr, r.stderr
    assert "låst av et annet program" in r.stderr and unmarked(r.stderr, "Frist frist L09") == [], r.stderr
