"""Pseudonymisation through a whole export, as a new team's first project meets it:
informants whose surnames are ordinary words (Per Bruker, Jon Leder), one called like
the project (Kari Demo in "Demo"), an organisation holding a place name, codes typed
into notes and header fields. Files are read back as text (JSON, Markdown, CSV)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.support.builders import all_text


def outline() -> dict:
    return {"title": "Samarbeidsmøte om en bruker", "language": "no", "informant_types": [], "header": [],
            "intro": "", "retired": [],
            "themes": [{"id": "t1", "title": "Hva en bruker trenger", "minutes": 10, "open": False,
                        "instructions": [], "questions": [
                            {"id": "q1", "text": "Hvordan følger vår leder opp en bruker?", "instructions": [],
                             "examples": [], "only_for": [], "probes": []}]}]}


def make_project(workspace) -> tuple:  # noqa: ANN001
    from fieldkit.store.models import (
        Event, EventKind, Guide, GuideVersion, Informant, Researcher, Session, SessionKind, SessionParticipant,
        TranscriptSegment,
    )

    handle = workspace.create("Demo", language="no", vocabulary="Samhandlingsreformen\nDemo")
    pid = handle.project_id
    with handle.db.transaction() as s:
        ida = Researcher(project_id=pid, name="Ida Holm", initials="IH")
        per = Informant(project_id=pid, code="B01", name="Per Bruker", role="bruker", organisation="NAV")
        jon = Informant(project_id=pid, code="A01", name="Jon Leder", role="ansatt", organisation="Vestby kommune")
        kari = Informant(project_id=pid, code="A02", name="Kari Demo", role="ansatt", organisation="Vestby kommune")
        guide = Guide(project_id=pid, slug="samarbeid", title="Samarbeidsmøte om en bruker")
        s.add_all([ida, per, jon, kari, guide])
        s.flush()
        gv = GuideVersion(guide_id=guide.id, number=1, content_hash="d" * 64, source_text="-", outline=outline())
        s.add(gv)
        s.flush()
        sess = Session(project_id=pid, title="Møte med en bruker i Vestby", kind=SessionKind.group, place="Vestby",
                       starts_at=datetime(2026, 6, 1, 9, tzinfo=timezone.utc), guide_version_id=gv.id,
                       lead_id=ida.id, header={"Informanter": "A01, A02 og B01", "Sted": "Vestby kommune"})
        s.add(sess)
        s.flush()
        for inf, lab in ((per, "I1"), (jon, "I2"), (kari, "I3")):
            s.add(SessionParticipant(session_id=sess.id, informant_id=inf.id, speaker_label=lab))
        lines = [(0, 4000, None, ida, "Hvordan følger vår leder opp en bruker?"),
                 (4000, 9000, jon, None, "Som leder i Vestby kommune møter jeg hver bruker. Per Bruker vet det."),
                 (9000, 14000, per, None, "Bruker du tolk? spurte Jon. Demo-prosjektet hjalp, sa Kari Demo."),
                 (14000, 18000, kari, None, "Leder: ja. Det sa Bruker selv i Vestby.")]
        for a, b, inf, res, text in lines:
            s.add(TranscriptSegment(session_id=sess.id, start_ms=a, end_ms=b, verbatim=text,
                                    speaker_informant_id=inf.id if inf else None,
                                    speaker_researcher_id=res.id if res else None))
        s.add(Event(session_id=sess.id, kind=EventKind.note, position_ms=6000, created_by=ida.id,
                    text="A01 ser bort mens B01 snakker om Vestby kommune"))
        s.add(Event(session_id=sess.id, kind=EventKind.debrief, code="impressions", created_by=ida.id,
                    text="A02 og Jon Leder var enige; Demo-prosjektet nevnt."))
    return handle, sess.id


def run(handle, fmt, tmp_path: Path, mode: str) -> Path:  # noqa: ANN001
    from fieldkit.export import run_export
    from fieldkit.export.collect import ExportOptions

    out = tmp_path / f"out-{mode}-{uuid.uuid4().hex[:4]}"
    run_export(handle, fmt, None, ExportOptions(mode=mode), out)
    return out


def test_ordinary_words_and_the_project_name_stay(workspace, tmp_path: Path) -> None:  # noqa: ANN001
    handle, _sid = make_project(workspace)
    out = run(handle, ["json", "md"], tmp_path, "code")
    data = json.loads(next(out.glob("*.json")).read_text(encoding="utf-8"))
    s = data["sessions"][0]
    assert data["project"] == "Demo"                                  # not "A02"
    assert s["guide_title"] == "Samarbeidsmøte om en bruker"          # not "... om en B01"
    assert data["questions"][0]["text"] == "Hvordan følger vår leder opp en bruker?"
    texts = [seg["verbatim"] for seg in s["segments"]]
    assert texts[1] == "Som leder i P1 kommune møter jeg hver bruker. B01 vet det."
    assert texts[2] == "Bruker du tolk? spurte A01. Demo-prosjektet hjalp, sa A02."
    assert texts[3] == "Leder: ja. Det sa B01 selv i P1."
    text = all_text(out)
    for name in ("Per Bruker", "Jon Leder", "Kari Demo", "Jon.", "Kari", "Per ", "Ida", "Holm", "Vestby"):
        assert name not in text, name
    handle.close()


def test_role_mode_label_and_text_agree(workspace, tmp_path: Path) -> None:  # noqa: ANN001
    handle, _sid = make_project(workspace)
    out = run(handle, "json", tmp_path, "role")
    s = json.loads(next(out.glob("*.json")).read_text(encoding="utf-8"))["sessions"][0]
    speakers = {seg["speaker"] for seg in s["segments"]}
    assert "ansatt, [place] kommune" in speakers and not any("Vestby" in x for x in speakers)
    assert s["segments"][1]["verbatim"].startswith("Som leder i [place] kommune")
    # the code typed in a note becomes the same label as the speaker's
    note = next(e for e in s["events"] if e["kind"] == "note")
    assert note["text"] == "[ansatt, [place] kommune] ser bort mens [bruker, NAV] snakker om [place] kommune"
    handle.close()


@pytest.mark.parametrize("fmt", ["json", "md", "csv"])
def test_nn_never_doubles_and_no_codes_remain(workspace, tmp_path: Path, fmt: str) -> None:  # noqa: ANN001
    import re

    handle, _sid = make_project(workspace)
    out = run(handle, fmt, tmp_path, "nn")
    text = all_text(out)
    assert "NN NN" not in text
    assert not re.search(r"\b(A01|A02|B01)\b", text), "informant codes left in an NN export"
    if fmt == "json":
        s = json.loads(next(out.glob("*.json")).read_text(encoding="utf-8"))["sessions"][0]
        assert s["header"]["Informanter"] == "NN, NN og NN"
        assert next(e for e in s["events"] if e["kind"] == "note")["text"].startswith("NN ser bort mens NN")
    handle.close()
