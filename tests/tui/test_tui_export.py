"""The export screen through Textual's Pilot, with the files read back by independent
parsers (python-docx, srt, zipfile + lxml) and checked for names."""

from __future__ import annotations

import zipfile
from pathlib import Path

from textual.widgets import Input, Select, SelectionList

from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.export import ExportScreen
from tests.support.builders import REGISTRY_NAMES, all_text, build_project
from tests.support.wait import settle as _settle


async def _export_screen(app, pilot, slug, session_id=None) -> ExportScreen:  # noqa: ANN001
    await _settle(app, pilot)
    app.push_screen(ExportScreen(slug, session_id=session_id))
    await _settle(app, pilot)
    return app.screen


async def test_export_screen_writes_word_qdpx_and_srt_without_names(workspace, tmp_path: Path):
    import docx
    import srt
    from lxml import etree

    handle = workspace.create("Samarbeidsstudien", language="no")
    b = build_project(handle)
    slug = handle.project().slug
    first = b.sessions[0]
    handle.close()
    out = tmp_path / "out"
    app = FieldkitApp(data_dir=workspace.root, project=slug)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await _export_screen(app, pilot, slug, str(first))
        sessions = screen.query_one("#export-sessions", SelectionList)
        assert list(sessions.selected) == [str(first)]           # the session it was opened for
        prompts = [str(sessions.get_option_at_index(i).prompt) for i in range(sessions.option_count)]
        assert prompts[0] == "2026-03-04 · Intervju med Kari Nordmann"   # date and title, in time order
        formats = screen.query_one("#export-formats", SelectionList)
        formats.select("qdpx")
        formats.select("srt")
        screen.query_one("#export-folder", Input).value = str(out)
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        result = str(screen.query_one("#export-result").render())
        assert "Wrote 3 files" in result and "Pseudonymisation (code):" in result and "replacement" in result
        # again: the files exist, the screen asks before replacing them
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        assert type(app.screen).__name__ == "ConfirmScreen" and "already exist" in app.screen.text
        await pilot.press("n")
        await _settle(app, pilot)
        assert "already exist" in str(screen.query_one("#export-result").render())
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        await pilot.press("y")
        await _settle(app, pilot)
        assert "Wrote 3 files" in str(screen.query_one("#export-result").render())
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 3 and {Path(f).suffix for f in files} == {".docx", ".qdpx", ".srt"}
    document = docx.Document(str(next(out.glob("*.docx"))))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "L01" in text or "L02" in text or "L03" in text
    subs = list(srt.parse(next(out.glob("*.srt")).read_text(encoding="utf-8")))
    assert len(subs) == len(b.segments[first])
    assert [(round(s.start.total_seconds() * 1000), round(s.end.total_seconds() * 1000)) for s in subs] == \
        [(a, e) for a, e, _t in b.segments[first]]
    with zipfile.ZipFile(next(out.glob("*.qdpx"))) as z:
        root = etree.fromstring(z.read("project.qde"))
    assert root.tag == "{urn:QDA-XML:project:1.0}Project"
    everything = all_text(out)
    assert not [n for n in REGISTRY_NAMES if n in everything]


async def test_export_with_real_names_needs_confirmation(workspace, tmp_path: Path):
    handle = workspace.create("Samarbeidsstudien", language="no")
    b = build_project(handle)
    slug = handle.project().slug
    handle.close()
    out = tmp_path / "named"
    app = FieldkitApp(data_dir=workspace.root, project=slug)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await _export_screen(app, pilot, slug, str(b.sessions[0]))
        screen.query_one("#export-mode", Select).value = "off"
        formats = screen.query_one("#export-formats", SelectionList)
        formats.deselect("docx")
        formats.select("txt")
        screen.query_one("#export-folder", Input).value = str(out)
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        assert type(app.screen).__name__ == "ConfirmScreen" and "real names" in app.screen.text
        await pilot.press("n")
        await _settle(app, pilot)
        assert not out.exists()
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        await pilot.press("y")
        await _settle(app, pilot)
    assert "Kari Nordmann" in all_text(out)


async def test_export_screen_reports_what_is_missing(workspace, tmp_path: Path):
    handle = workspace.create("Empty study")
    slug = handle.project().slug
    handle.close()
    app = FieldkitApp(data_dir=workspace.root, project=slug)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await _export_screen(app, pilot, slug)
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        assert "Choose at least one session" in str(screen.query_one("#export-result").render())
