"""Observer agreement: kappa per tag code over time slices, checked against values worked
out by hand, and `fieldkit agreement` on a real project."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlmodel import select

from fieldkit.sessions.agreement import Span, compare, session_agreement
from fieldkit.errors import FieldkitError
from tests.support.cli import fk as run_cli

# 20 s in 2 s slices: slices 0..9.
#   digression (state)  A: 0-6 s   -> slices 0,1,2      B: 2-8 s -> slices 1,2,3
#   key_quote (point)   A: at 5 s  -> window 4-6 s -> slice 2
#                       B: at 5.5 s -> window 4.5-6.5 s -> slices 2,3
A = [Span("digression", 0, 6000, point=False), Span("key_quote", 5000)]
B = [Span("digression", 2000, 8000, point=False), Span("key_quote", 5500)]


def test_kappa_per_code_by_hand():
    codes, overall, diffs = compare(A, B, length_ms=20000, window_ms=2000)
    dig, kq = codes
    # digression: both 2, A only 1, B only 1, neither 6
    assert (dig.both, dig.only_a, dig.only_b, dig.neither) == (2, 1, 1, 6)
    # po = 8/10; pe = (3*3 + 7*7)/100 = 0.58; kappa = 0.22/0.42
    assert dig.observed == pytest.approx(0.8)
    assert dig.expected == pytest.approx(0.58)
    assert dig.kappa == pytest.approx(0.22 / 0.42)
    # key_quote: both 1, A only 0, B only 1, neither 8
    assert (kq.both, kq.only_a, kq.only_b, kq.neither) == (1, 0, 1, 8)
    # po = 0.9; pe = (1*2 + 9*8)/100 = 0.74; kappa = 0.16/0.26
    assert kq.kappa == pytest.approx(0.16 / 0.26)
    # pooled: both 3, A only 1, B only 2, neither 14 over 20; pe = (4*5 + 16*15)/400 = 0.65
    assert overall.kappa == pytest.approx((0.85 - 0.65) / 0.35)
    assert [(d.code, d.start_ms, d.end_ms, d.tagged_by) for d in diffs] == [
        ("digression", 0, 2000, "A"), ("digression", 6000, 8000, "B"), ("key_quote", 6000, 8000, "B")]


def test_opposite_tagging_is_minus_one_and_constant_tagging_undefined():
    codes, _o, _d = compare([Span("x", 1000)], [Span("x", 3000)], length_ms=4000, window_ms=2000)
    # A: slice 0 only, B: slice 1 only -> po 0, pe (1*1 + 1*1)/4 = 0.5 -> kappa -1
    assert codes[0].kappa == pytest.approx(-1.0)
    whole = [Span("s", 0, 4000, point=False)]
    codes, _o, diffs = compare(whole, whole, length_ms=4000, window_ms=2000)
    assert codes[0].observed == 1.0 and codes[0].kappa is None and diffs == []


def test_window_length_changes_the_slices():
    # with 1 s slices the two key quotes (5.0 s and 5.5 s) cover 4.5-5.5 and 5.0-6.0 ...
    codes, _o, _d = compare([Span("q", 5000)], [Span("q", 5500)], length_ms=10000, window_ms=1000)
    (q,) = codes
    # A: window 4.5-5.5 -> slices 4,5; B: 5.0-6.0 -> slice 5 -> both 1, A only 1, neither 8
    assert (q.both, q.only_a, q.only_b, q.neither) == (1, 1, 0, 8)
    # po 0.9, pe (2*1 + 8*9)/100 = 0.74
    assert q.kappa == pytest.approx(0.16 / 0.26)


def test_unclosed_stretch_lasts_to_the_end():
    codes, _o, diffs = compare([Span("d", 6000, None, point=False)], [Span("d", 6000, 10000, point=False)],
                               length_ms=10000, window_ms=2000)
    assert codes[0].both == 2 and codes[0].kappa == pytest.approx(1.0) and diffs == []


def add_researcher(h, name: str, initials: str):  # noqa: ANN001, ANN201
    from fieldkit.store.models import Researcher

    with h.db.transaction() as s:
        r = Researcher(project_id=h.project_id, name=name, initials=initials)
        s.add(r)
    return r.id


def _project(tmp_path: Path):
    from fieldkit.instruments.events import add_event
    from fieldkit.projects import Workspace
    from fieldkit.store.models import Recording, Session, TagCode, TagScheme
    from fieldkit.instruments.tags import bundled_tag_schemes, install_tag_scheme

    ws = Workspace(tmp_path / "data").ensure()
    h = ws.create("Pilot study")
    kari = add_researcher(h, "Kari Lie", "KL")
    ola = add_researcher(h, "Ola Berg", "OB")
    scheme = install_tag_scheme(h.db, h.project_id,
                                next(p for p in bundled_tag_schemes() if p.stem == "interview"))
    with h.db.transaction() as s:
        sess = Session(project_id=h.project_id, title="Pilot 1", tag_scheme_id=scheme.id,
                       lead_id=ola, observer_id=kari)
        s.add(sess)
        s.flush()
        s.add(Recording(session_id=sess.id, folder="audio/x", state="complete", duration_ms=20000))
        codes = {c.code: c.id for c in s.exec(select(TagCode).where(TagCode.scheme_id == scheme.id))}
    sid = sess.id
    for author, (dig_from, dig_to, quote_at) in ((ola, (0, 6000, 5000)), (kari, (2000, 8000, 5500))):
        ev = add_event(h.db, sid, "tag", position_ms=dig_from, author_id=author, code="digression",
                       tag_code_id=codes["digression"])
        from fieldkit.instruments.events import close_state_event

        close_state_event(h.db, ev.id, dig_to)
        add_event(h.db, sid, "tag", position_ms=quote_at, author_id=author, code="key_quote",
                  tag_code_id=codes["key_quote"])
    # a note and an untimed tag do not count
    add_event(h.db, sid, "note", position_ms=3000, author_id=kari, text="interesting")
    assert TagScheme  # the scheme's rows came from the bundled file
    return ws, h, sid


def test_session_agreement_reads_both_researchers_tags(tmp_path: Path):
    ws, h, sid = _project(tmp_path)
    rep = session_agreement(h, sid)
    assert (rep.rater_a, rep.rater_b) == ("OB", "KL")      # the lead first
    assert rep.length_ms == 20000
    kappas = {c.code: c.kappa for c in rep.codes}
    assert kappas["digression"] == pytest.approx(0.22 / 0.42)
    assert kappas["key_quote"] == pytest.approx(0.16 / 0.26)
    assert {c.code: c.label for c in rep.codes}["key_quote"] == "Key quote"
    with pytest.raises(FieldkitError, match="No researcher with the initials 'ZZ'"):
        session_agreement(h, sid, raters=("OB", "ZZ"))
    h.close()


def test_one_researcher_alone_is_explained(tmp_path: Path):
    from fieldkit.instruments.events import add_event
    from fieldkit.projects import Workspace
    from fieldkit.store.models import Session

    ws = Workspace(tmp_path / "data").ensure()
    with ws.create("Solo") as h:
        me = add_researcher(h, "Anne Solberg", "AS")
        with h.db.transaction() as s:
            sess = Session(project_id=h.project_id, title="Alone")
            s.add(sess)
        add_event(h.db, sess.id, "tag", position_ms=1000, author_id=me, code="key_quote")
        with pytest.raises(FieldkitError, match="only AS tagged"):
            session_agreement(h, sess.id)


def test_cli_prints_kappa_and_differences(tmp_path: Path):
    ws, h, sid = _project(tmp_path)
    h.close()
    env = {**os.environ, "FIELDKIT_HOME": str(tmp_path / "data"), "COLUMNS": "160"}
    r = run_cli(None, "agreement", "Pilot 1", "-p", "Pilot study", ok=False, env=env)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "OB and KL, 10 slices of 2 s" in out
    dig = next(line for line in out.splitlines() if line.strip().startswith("Digression"))
    assert "0.52" in dig and "80%" in dig and "moderate" in dig
    quote = next(line for line in out.splitlines() if line.strip().startswith("Key quote"))
    assert "0.62" in quote and "substantial" in quote
    assert "Where they differ (3)" in out
    r = run_cli(None, "agreement", "Pilot 1", "-p", "Pilot study", "--window", "4", ok=False, env=env)
    assert r.returncode == 0 and "5 slices of 4 s" in r.stdout, r.stderr
    r = run_cli(None, "agreement", "Pilot 1", "-p", "Pilot study", "--raters", "OB", ok=False, env=env)
    assert r.returncode == 2 and "two researchers" in r.stderr and "Traceback" not in r.stderr
