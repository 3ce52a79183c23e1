"""`fieldkit import` says who was there (--lead, --observer, --informant), keeps the people
of a planned session, and takes the session's kind from the file: individual unless the
file says it is a phone call (telephone-band sound, or a call word in its name or title).
A pair interview (parintervju) is a kind of its own, with seats as in a group."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
from sqlmodel import select

from fieldkit.store.models import Informant, Recording, Researcher, Session, SessionParticipant
from tests.support.cli import fk


def _tone(path: Path, seconds: float = 1.0, sr: int = 16000) -> Path:
    t = np.arange(int(seconds * sr)) / sr
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), sr)
    return path


def _people(project, title: str) -> tuple[Session, str | None, str | None, list[tuple[int | None, str]]]:
    with project.db.session() as s:
        sess = s.exec(select(Session).where(Session.title == title)).one()
        ini = {r.id: r.initials for r in s.exec(select(Researcher))}
        parts = sorted((p.seat, i.code) for p, i in s.exec(
            select(SessionParticipant, Informant).join(Informant).where(SessionParticipant.session_id == sess.id)))
        return sess, ini.get(sess.lead_id), ini.get(sess.observer_id), parts


def test_import_says_who_was_there_and_the_kind(project, tmp_path):
    root, name = project.folder.parent.parent, project.folder.name
    for code in ("L01", "L02"):
        fk(root, "informant", "add", code, "-p", name)
    fk(root, "import", str(_tone(tmp_path / "opptak 12.wav")), "-p", name, "--title", "Pair", "--kind", "pair",
       "--lead", "AL", "--observer", "OO", "--informant", "L01", "--informant", "L02")
    sess, lead, observer, parts = _people(project, "Pair")
    assert (sess.kind.value, lead, observer, parts) == ("pair", "AL", "OO", [(1, "L01"), (2, "L02")])

    # the kind: individual by default; telephone when the file says so
    fk(root, "import", str(_tone(tmp_path / "dictaphone 3.wav")), "-p", name, "--title", "Plain")
    r = fk(root, "import", str(_tone(tmp_path / "Call recording 4790012.wav")), "-p", name, "--title", "Named")
    assert "phone call" in r.stdout
    fk(root, "import", str(_tone(tmp_path / "opptak 13.wav", sr=8000)), "-p", name, "--title", "Narrow")
    fk(root, "import", str(_tone(tmp_path / "opptak 14.wav", sr=8000)), "-p", name, "--title", "Told",
       "--kind", "individual")
    kinds = {t: _people(project, t)[0].kind.value for t in ("Plain", "Named", "Narrow", "Told")}
    assert kinds == {"Plain": "individual", "Named": "telephone", "Narrow": "telephone", "Told": "individual"}


def test_import_into_a_planned_session_keeps_its_people(project, tmp_path):
    from fieldkit.sessions.plan import SessionPlan, save_session

    root, name = project.folder.parent.parent, project.folder.name
    for code in ("L01", "L02", "L03"):
        fk(root, "informant", "add", code, "-p", name)
    with project.db.session() as s:
        res = {r.initials: r.id for r in s.exec(select(Researcher))}
    save_session(project, SessionPlan("Planned", kind="pair", lead_id=res["AL"], observer_id=res["OO"],
                                      informants=["L02", "L01"]))
    wav = _tone(tmp_path / "phone call.wav")
    fk(root, "import", str(wav), "-p", name, "--session", "Planned")
    sess, lead, observer, parts = _people(project, "Planned")
    assert (sess.kind.value, lead, observer, parts) == ("pair", "AL", "OO", [(1, "L02"), (2, "L01")])
    assert sess.status.value == "recorded"

    # an unknown researcher: a clear message, and nothing changes (no recording, the same people)
    r = fk(root, "import", str(wav), "-p", name, "--session", "Planned", "--informant", "L03", "--lead", "ZZ",
           ok=False)
    assert r.returncode != 0 and "--lead ZZ: no researcher with these initials" in r.stderr
    assert "Traceback" not in r.stderr
    assert _people(project, "Planned")[1:] == ("AL", "OO", [(1, "L02"), (2, "L01")])
    with project.db.session() as s:
        assert len(s.exec(select(Recording).where(Recording.session_id == sess.id)).all()) == 1

    # people added to a recorded session: the informant takes the next seat, the lead changes
    fk(root, "import", str(wav), "-p", name, "--session", "Planned", "--informant", "L03", "--lead", "OO",
       "--observer", "AL")
    assert _people(project, "Planned")[1:] == ("OO", "AL", [(1, "L02"), (2, "L01"), (3, "L03")])
    r = fk(root, "import", str(wav), "-p", name, "--session", "Planned", "--informant", "L09", ok=False)
    assert "No informant with code 'L09'" in r.stderr


def test_kind_in_norwegian_and_english(project, tmp_path):
    """--kind takes the bokmål words (individuelt, par, gruppe, telefon ...) and the English
    ones in either language; the help and the error list the user's language; the stored kind
    is the same either way."""
    root, name = project.folder.parent.parent, project.folder.name
    wav = _tone(tmp_path / "opptak 20.wav")
    fk(root, "import", str(wav), "-p", name, "--title", "Telefon nb", "--kind", "telefon", lang="nb")
    fk(root, "import", str(wav), "-p", name, "--title", "Par nb", "--kind", "Par", lang="nb")
    fk(root, "import", str(wav), "-p", name, "--title", "Group nb", "--kind", "group", lang="nb")
    fk(root, "import", str(wav), "-p", name, "--title", "Gruppe en", "--kind", "gruppe", lang="en")
    fk(root, "import", str(wav), "-p", name, "--title", "Focus en", "--kind", "focus_group", lang="en")
    kinds = {t: _people(project, t)[0].kind.value for t in ("Telefon nb", "Par nb", "Group nb", "Gruppe en", "Focus en")}
    assert kinds == {"Telefon nb": "telephone", "Par nb": "pair", "Group nb": "group", "Gruppe en": "group",
                     "Focus en": "focus_group"}

    r = fk(root, "import", "--help", lang="nb")
    assert "[individuelt|par|gruppe|fokusgruppe|observasjon|telefon]" in r.stdout, r.stdout
    r = fk(root, "import", "--help", lang="en")
    assert "[individual|pair|group|focus_group|observation|telephone]" in r.stdout, r.stdout
    r = fk(root, "import", str(wav), "-p", name, "--title", "X", "--kind", "intervju", lang="nb", ok=False)
    assert r.returncode == 2 and "'telefon'" in r.stderr and "telephone" not in r.stderr, r.stderr
    with project.db.session() as s:   # nothing half-made by the refused import
        assert s.exec(select(Session).where(Session.title == "X")).first() is None
