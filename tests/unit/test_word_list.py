"""The project's word list (fieldkit/transcription/wordlist.py): never a prompt on every window
(faster-whisper's hotwords are one, and Whisper skips speech under it); decoded without it, a
segment with a near miss of a term decoded again alone with the list ("targeted"), and near
misses the model was unsure of corrected; on real Norwegian speech with base."""

from __future__ import annotations

import pytest

from fieldkit.transcription.engine import load_model, transcribe_array, transcribe_kwargs
from fieldkit.transcription.settings import resolve_settings
from fieldkit.transcription.wordlist import correct_words, maybe_terms
from tests.support.real_speech import clip, needs_speech


def _w(text: str, p: float = 0.5) -> list[dict]:
    return [{"w": " " + t, "s": i * 100, "e": i * 100 + 90, "p": p} for i, t in enumerate(text.split())]


def test_near_misses_are_corrected_and_sure_or_far_words_are_not():
    words, n = correct_words(_w("møte i helse nord rhf og samhandlingsutvalget, sa Holmbejørdal."),
                             ["Helse Nord RHF", "samhandlingsutvalg", "Holen Bjørdal"])
    text = "".join(w["w"] for w in words).strip()
    assert text == "møte i Helse Nord RHF og samhandlingsutvalg, sa Holen Bjørdal.", text
    assert n == 3 and words[2]["s"] == 200 and words[2]["e"] == 490 and words[2]["was"] == "helse nord rhf"
    # a word the model was sure of stays; so does one that is not close
    sure, n = correct_words(_w("Holmbejordal", p=0.97), ["Holen Bjørdal"])
    assert n == 0 and sure[0]["w"] == " Holmbejordal"
    far, n = correct_words(_w("koordinatoren ringte"), ["DPS", "IP-plan"])
    assert n == 0
    # a neighbour is not swallowed: "og Trondgiske" keeps its "og"
    words, n = correct_words(_w("og Trondgiske som"), ["Trond Giske"])
    assert "".join(w["w"] for w in words).strip() == "og Trond Giske som"


def test_the_word_list_is_no_prompt_on_every_window():
    st = resolve_settings(model="base", language="no", vocabulary=["DPS", "IP-plan"])
    assert st.word_list_use == "targeted"
    kwargs = transcribe_kwargs(st, multilingual=True)
    assert "hotwords" not in kwargs and "initial_prompt" not in kwargs
    assert kwargs["word_timestamps"] is True
    # the other ways stay to be measured (tests/bench/word_list_bench.py)
    assert transcribe_kwargs(resolve_settings(model="base", language="no", vocabulary=["DPS"],
                                              word_list_use="hotwords"), multilingual=True)["hotwords"] == "DPS"
    from fieldkit.transcription.settings import SettingsError

    with pytest.raises(SettingsError, match="word_list_use"):
        resolve_settings(word_list_use="prompt")


def test_near_terms_pick_the_segments_decoded_again():
    assert maybe_terms(_w("sa Fredrik Holmbejørdal i går"), ["Fredric Holen Bjørdal", "Trond Giske", "DPS"]) \
        == ["Fredric Holen Bjørdal"]
    assert maybe_terms(_w("and so my fellow americans ask not"), ["Americans", "wizard"]) == []
    assert maybe_terms(_w("vi snakket om været"), ["DPS", "IP-plan", "samhandlingsutvalg"]) == []


@needs_speech
@pytest.mark.slow
def test_word_list_on_real_norwegian_speech():
    audio, _ref = clip("no_npsc_medium")
    model = load_model(resolve_settings(model="base", language="no"))
    plain = " ".join(s.text for s in transcribe_array(resolve_settings(model="base", language="no"), audio, model=model))
    for use in ("correct", "targeted"):
        listed = list(transcribe_array(resolve_settings(model="base", language="no", vocabulary=["Trond Giske"],
                                                        word_list_use=use), audio, model=model))
        text = " ".join(s.text for s in listed)
        assert "Trond Giske" not in plain and "Trond Giske" in text, (use, plain, text)
        # nothing else lost: as many words, the same time span
        assert abs(len(text.split()) - len(plain.split())) <= 2, (use, plain, text)


def test_the_registry_adds_its_organisations_not_names(project):
    from datetime import date

    from fieldkit.store.models import Informant, Session
    from fieldkit.transcription.service import change_word_list, session_settings

    change_word_list(project, add=["samhandlingsutvalg", "helse nord rhf"])
    with project.db.transaction() as s:
        s.add(Informant(project_id=project.project_id, code="L01", name="Kari Nordmann", organisation="Helse Nord RHF"))
        s.add(Informant(project_id=project.project_id, code="L02", name="Ola Hansen", organisation=" Bodø  kommune "))
        s.add(Informant(project_id=project.project_id, code="L03", name="Per Berg", organisation="Tromsø kommune",
                        withdrawn_on=date(2026, 1, 5)))
        sess = Session(project_id=project.project_id, title="Intervju")
        s.add(sess)
    st = session_settings(project, sess.id)
    assert st.vocabulary == ["samhandlingsutvalg", "helse nord rhf", "Bodø kommune"]
    assert session_settings(project, sess.id, vocabulary=["DPS"]).vocabulary == ["DPS"]
