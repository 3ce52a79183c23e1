"""`fieldkit bench transcribe --speech DIR`: WER/CER per installed model on real speech,
scored by fieldkit's own edit distance and checked against jiwer; real-time factors of the
final pass against raw faster-whisper (sequential and batched) on the same file, kept for
`models list` and the final pass's batching."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import jiwer
import pytest

from fieldkit.tools.bench import bench_accuracy, edit_distance, normalise, pooled
from tests.support.real_speech import SPEECH, needs_speech
from tests.support.cli import fk as run_cli


@pytest.mark.parametrize("ref,hyp", [
    ("ask not what your country can do for you", "ask not what you country can do for you"),
    ("stortingets møte er lovlig satt", "stortinget smøte er lovlig satt og"),
    ("a b c", ""),
    ("en to tre fire", "to tre fire fem seks"),
])
def test_edit_distance_agrees_with_jiwer(ref, hyp):
    assert edit_distance(ref.split(), hyp.split()) / len(ref.split()) == pytest.approx(jiwer.wer(ref, hyp or "x") if hyp else 1.0)
    if hyp:
        assert edit_distance(list(ref), list(hyp)) / len(ref) == pytest.approx(jiwer.cer(ref, hyp))


@needs_speech
@pytest.mark.slow
def test_bench_accuracy_on_real_clips(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDKIT_CACHE", str(tmp_path / "cache"))
    for name in ("en_libri61_left", "no_npsc_short"):
        for ext in (".flac", ".txt"):
            shutil.copyfile(SPEECH / f"{name}{ext}", tmp_path / f"{name}{ext}")
    scores = bench_accuracy(tmp_path, ["tiny.en"], echo=lambda m: None)
    # tiny.en is English only: the Norwegian clip is skipped, not scored as gibberish
    assert [(s.clip, s.language) for s in scores] == [("en_libri61_left", "en")]
    s = scores[0]
    ref = normalise((tmp_path / "en_libri61_left.txt").read_text())
    assert s.wer == pytest.approx(jiwer.wer(ref, normalise(s.text)))
    assert s.cer == pytest.approx(jiwer.cer(ref, normalise(s.text)))
    assert s.wer < 0.3
    assert pooled(scores)[("tiny.en", "en")][2] == len(ref.split())
    # the speed it measured is what `models list` shows from now on
    from fieldkit.transcription.hub import speed_of

    rtf, measured = speed_of("tiny.en")
    assert measured and rtf == pytest.approx(s.seconds / s.audio_s, rel=0.01)
    env = {**os.environ, "FIELDKIT_CACHE": str(tmp_path / "cache")}
    # per installed model: fieldkit's final pass against raw faster-whisper on the same file
    r = run_cli(None, "bench", "transcribe", "--speech", str(tmp_path), "--model", "tiny.en", "--seconds", "5",
                ok=False, env=env)
    assert r.returncode == 0, r.stderr
    row = next(line for line in r.stdout.splitlines() if line.startswith("tiny.en")).split()
    assert row[1] == "en" and int(row[2]) == len(ref.split())
    wer, raw_wer, rtf, with_speakers, raw, raw_batched, batch = map(float, row[3:10])
    assert wer < 0.3 and raw_wer < 0.3 and 0 < rtf <= with_speakers and raw > 0 and raw_batched > 0
    assert batch == (8 if raw_batched < 0.95 * raw else 1), "the batch size chosen is the faster one"
    assert "load average" in r.stdout
    import json

    kept = json.loads((Path(os.environ["FIELDKIT_MEASURES"]) / "speed.json").read_text())["tiny.en"]
    assert kept["source"] == "bench" and kept["batch"] == batch and kept["rtf"] == pytest.approx(rtf, abs=0.002)
    assert kept["wer"] == pytest.approx(wer, abs=0.001)
    from fieldkit.transcription.hub import measured_batch

    assert measured_batch("tiny.en") == batch
    r = run_cli(None, "models", "list", ok=False, env=env)
    assert "(measured here)" in r.stdout


def test_bench_accuracy_needs_clips(tmp_path):
    from fieldkit.errors import FieldkitError

    with pytest.raises(FieldkitError, match="No speech clips"):
        bench_accuracy(tmp_path, ["tiny.en"])
