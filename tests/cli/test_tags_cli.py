"""``fieldkit tags``: a team makes the tag scheme its own from the command line (issue 22),
in Norwegian for a Norwegian project, with what is stored checked in the database."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from fieldkit.projects import Workspace
from fieldkit.store.models import TagCode, TagScheme
from tests.support.cli import fk


def _codes(root: Path, slug: str) -> dict[str, tuple[str, str, str]]:
    """scheme name/code -> (label, key, mode) as stored."""
    with Workspace(root).open(slug) as h, h.db.session() as s:
        names = {x.id: x.name for x in s.exec(select(TagScheme))}
        return {f"{names[c.scheme_id]}/{c.code}": (c.label, c.key, c.mode.value) for c in s.exec(select(TagCode))}


def test_tags_commands_edit_the_stored_scheme_in_norwegian(tmp_path: Path):
    root = tmp_path / "home"
    fk(root, "project", "new", "Studie", "--language", "no")
    out = fk(root, "tags", "list", "-p", "Studie", lang="nb").stdout
    assert "Intervju  (brukt i 0 økter)" in out and "Møteobservasjon" in out
    assert "Tast" in out and "Godt sitat" in out and "av/på" in out
    assert "Key quote" not in out and "Meeting" not in out

    r = fk(root, "tags", "rename", "Godt sitat", "Sitat", "-s", "int", "-p", "Studie", lang="nb")
    assert "Nytt navn: key_quote heter nå «Sitat» (tast k)." in r.stdout
    r = fk(root, "tags", "key", "key_quote", "g", "-s", "Intervju", "-p", "Studie", lang="nb")
    assert "«Sitat» ligger nå på tasten g." in r.stdout
    r = fk(root, "tags", "add", "Stillhet", "y", "--on-off", "-s", "Intervju", "-p", "Studie", lang="nb")
    assert "La til «Stillhet» på tasten y (kode stillhet)." in r.stdout
    stored = _codes(root, "studie")
    assert stored["Intervju/key_quote"] == ("Sitat", "g", "point")
    assert stored["Intervju/stillhet"] == ("Stillhet", "y", "state")

    # refused with a clear message, nothing changed
    r = fk(root, "tags", "key", "stillhet", "g", "-s", "Intervju", "-p", "Studie", lang="nb", ok=False)
    assert r.returncode != 0 and "Tasten «g» brukes allerede av «Sitat»." in r.stderr
    r = fk(root, "tags", "add", "Ny", "j", "-p", "Studie", lang="nb", ok=False)
    assert r.returncode != 0 and "flere merkeordninger: Intervju, Møteobservasjon" in r.stderr
    assert "Velg én med --scheme." in r.stderr
    assert _codes(root, "studie") == stored

    r = fk(root, "tags", "remove", "y", "-s", "Intervju", "-p", "Studie", lang="nb")
    assert "Fjernet «Stillhet» (kode stillhet)." in r.stdout
    assert "Intervju/stillhet" not in _codes(root, "studie")


def test_tags_in_an_english_project(tmp_path: Path):
    root = tmp_path / "home"
    fk(root, "project", "new", "Study", "--language", "en")
    out = fk(root, "tags", "list", "-p", "Study", "-s", "Interview").stdout
    assert "Interview  (used in 0 sessions)" in out and "Key quote" in out and "Meeting" not in out
    r = fk(root, "tags", "rename", "k", "Quote", "-s", "Interview", "-p", "Study")
    assert "Renamed: key_quote is now “Quote” (key k)." in r.stdout
    help_text = fk(root, "tags", "add", "--help", lang="nb").stdout
    assert "-p, --project PROSJEKT  Prosjektet (navn eller kortnavn)." in help_text
