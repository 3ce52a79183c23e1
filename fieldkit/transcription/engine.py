"""faster-whisper, loaded once per model and settings, yielding plain segments."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from fieldkit.transcription.models import ModelError, resolve_model
from fieldkit.transcription.settings import TranscriptionSettings
from fieldkit.i18n import _

SAMPLE_RATE = 16000
_models: dict[tuple[str, str, int], Any] = {}
_lock = threading.Lock()


@dataclass
class SegmentResult:
    start_ms: int
    end_ms: int
    text: str
    words: list[dict[str, Any]] = field(default_factory=list)
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    language: str = ""


def load_model(settings: TranscriptionSettings):
    path = resolve_model(settings.model)
    key = (str(path), settings.compute_type, settings.cpu_threads())
    with _lock:
        if key not in _models:
            from faster_whisper import WhisperModel

            try:
                _models[key] = WhisperModel(str(path), device="cpu", compute_type=settings.compute_type,
                                            cpu_threads=settings.cpu_threads())
            except Exception as exc:
                raise ModelError(_("The model in {path} could not be loaded: {exc}").format(path=path, exc=exc),
                                 hint=_("The folder may be damaged; reinstall or "
                                          "re-download it.")) from exc
        return _models[key]


def transcribe_kwargs(settings: TranscriptionSettings, multilingual: bool) -> dict[str, Any]:
    language = None if settings.language == "auto" else settings.language
    if not multilingual:
        if language not in (None, "en"):
            raise ModelError(_("The model {model!r} understands English only, not "
                                 "{language!r}.").format(model=settings.model, language=language),
                             hint=_("Use the multilingual base model (or NB-Whisper) "
                                      "for Norwegian."))
        language = "en"
    return dict(
        language=language, beam_size=settings.beam_size, vad_filter=settings.vad,
        condition_on_previous_text=settings.condition_on_previous_text,
        # the project's word list is not given to the decoder (as hotwords it is a prompt on
        # every window, which makes Whisper skip speech): transcribe_array corrects near misses
        word_timestamps=settings.word_timestamps or bool(settings.vocabulary),
    )


def transcribe_array(settings: TranscriptionSettings, audio: np.ndarray, offset_ms: int = 0,
                     model=None, act=None) -> Iterator[SegmentResult]:
    """Segments of 16 kHz float32 mono ``audio``, times shifted by ``offset_ms``. ``act``:
    the audio's voice activity (fieldkit.recording.vad.activity) when the caller has it;
    with the VAD setting on, Whisper is then given the speech it finds (faster-whisper's
    own VAD filter, the same options) without running the model over the audio again."""
    model = model or load_model(settings)
    kwargs = transcribe_kwargs(settings, model.model.is_multilingual)
    chunks = None
    if act is not None and kwargs["vad_filter"]:
        from faster_whisper.vad import VadOptions, collect_chunks

        chunks = act.timestamps(VadOptions())
        if not chunks:
            return
        audio = np.concatenate(collect_chunks(audio, chunks)[0], axis=0)
        kwargs["vad_filter"] = False
    segments, info = model.transcribe(audio, **kwargs)
    if chunks:
        from faster_whisper.transcribe import restore_speech_timestamps

        segments = restore_speech_timestamps(segments, chunks, SAMPLE_RATE)
    from fieldkit.transcription.wordlist import correct_words, words_text

    for seg in segments:
        words = [{"w": w.word, "s": offset_ms + round(w.start * 1000), "e": offset_ms + round(w.end * 1000),
                  "p": round(w.probability, 3)} for w in (seg.words or [])]
        text = seg.text.strip()
        if settings.vocabulary and words:
            words, fixed = correct_words(words, settings.vocabulary)
            if fixed:
                text = words_text(words)
        yield SegmentResult(
            start_ms=offset_ms + round(seg.start * 1000), end_ms=offset_ms + round(seg.end * 1000),
            text=text,
            words=words,
            avg_logprob=seg.avg_logprob, no_speech_prob=seg.no_speech_prob, language=info.language,
        )


def decode_file(path: Path) -> np.ndarray:
    from faster_whisper import decode_audio

    return decode_audio(str(path), sampling_rate=SAMPLE_RATE)
