"""``fieldkit snippets`` (issue 24): the team's abbreviations for review, kept in the
project; bad input names what is wrong and changes nothing."""

from __future__ import annotations

from tests.support.cli import fk


def test_snippets_add_list_change_and_remove(tmp_path):
    from fieldkit.projects import Workspace
    from fieldkit.sessions.snippets import snippets

    root = tmp_path / "data"
    fk(root, "project", "new", "Helse nord", "--language", "no")
    assert "No snippets yet" in fk(root, "snippets", "list", "-p", "Helse nord").stdout
    assert "Added ,,i → {informant}." in fk(root, "snippets", "add", ",,i", "{informant}", "-p", "Helse nord").stdout
    fk(root, "snippets", "add", "(ll)", "(ler)", "-p", "Helse nord")
    assert "Changed (ll)" in fk(root, "snippets", "add", "(ll)", "(latter)", "-p", "Helse nord").stdout
    bad = fk(root, "snippets", "add", ",,x", "{nobody}", "-p", "Helse nord", ok=False)
    assert bad.returncode != 0 and "{nobody}" in bad.stderr + bad.stdout and "{informant}" in bad.stderr + bad.stdout
    assert fk(root, "snippets", "list", "-p", "Helse nord").stdout.splitlines() == [",,i\t{informant}", "(ll)\t(latter)"]
    fk(root, "snippets", "remove", "(ll)", "-p", "Helse nord")
    missing = fk(root, "snippets", "remove", "(ll)", "-p", "Helse nord", ok=False)
    assert missing.returncode != 0 and "(ll)" in missing.stderr + missing.stdout
    with Workspace(root).open("Helse nord") as handle:
        assert snippets(handle) == {",,i": "{informant}"}
    # in Norwegian
    assert "La til ,,s" in fk(root, "snippets", "add", ",,s", "{lead}", "-p", "Helse nord", lang="nb").stdout
