"""faster-whisper, loaded once per model and settings, yielding plain segments."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from fieldkit.transcription.models import ModelError, resolve_model
from fieldkit.transcription.settings import TranscriptionSettings
from fieldkit.i18n import _

SAMPLE_RATE = 16000
_models: dict[tuple[str, str, int], Any] = {}
_batched: dict[int, Any] = {}
#: audio longer than this goes to the batched pipeline when batching is on (a window or less
#: is one of Whisper's 30 s chunks: nothing to batch)
BATCH_FROM_S = 31
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


def batch_size(settings: TranscriptionSettings) -> int:
    """How many of Whisper's 30 s chunks are decoded together: the setting, else what
    ``fieldkit bench transcribe`` measured fastest for this model on this laptop, else
    :data:`fieldkit.transcription.hub.DEFAULT_BATCH`."""
    if settings.batch:
        return settings.batch
    from fieldkit.transcription.hub import measured_batch

    return measured_batch(settings.model)


def batched(model):
    """faster-whisper's BatchedInferencePipeline over a loaded model (made once per model)."""
    with _lock:
        if id(model) not in _batched:
            from faster_whisper import BatchedInferencePipeline

            _batched[id(model)] = BatchedInferencePipeline(model)
        return _batched[id(model)]


#: a batched segment is cut after a word ending a sentence, or at a pause between words
SPLIT_PAUSE_S = 0.6
#: and at a comma once it is this long, or anywhere once it is twice this
SPLIT_LONG_S = 10.0


def split_on_words(seg):
    """faster-whisper segments from one segment of the batched pipeline (a whole chunk of up
    to 30 s): cut after a sentence's last word, at a pause of :data:`SPLIT_PAUSE_S`, at a
    comma past :data:`SPLIT_LONG_S`, by the word times (the text is the words' own)."""
    words = list(seg.words or [])
    if len(words) < 2:
        yield seg
        return
    start = 0
    for i, w in enumerate(words):
        last = i == len(words) - 1
        nxt = None if last else words[i + 1]
        length = w.end - words[start].start
        text = w.word.strip()
        cut = last or (nxt.start - w.end >= SPLIT_PAUSE_S) or text.endswith((".", "?", "!")) \
            or (length >= SPLIT_LONG_S and text.endswith(",")) or length >= 2 * SPLIT_LONG_S
        if cut:
            part = words[start:i + 1]
            yield replace(seg, start=part[0].start, end=part[-1].end, words=part,
                               text="".join(x.word for x in part))
            start = i + 1


def transcribe_kwargs(settings: TranscriptionSettings, multilingual: bool) -> dict[str, Any]:
    language = None if settings.language == "auto" else settings.language
    if not multilingual:
        if language not in (None, "en"):
            raise ModelError(_("The model {model!r} understands English only, not "
                                 "{language!r}.").format(model=settings.model, language=language),
                             hint=_("Use the multilingual base model (or NB-Whisper) "
                                      "for Norwegian."))
        language = "en"
    kw = dict(
        language=language, beam_size=settings.beam_size, vad_filter=settings.vad,
        condition_on_previous_text=settings.condition_on_previous_text,
        word_timestamps=settings.word_timestamps or bool(settings.vocabulary),
    )
    if settings.vocabulary and settings.word_list_use == "hotwords":
        # a prompt on every window: it spells the terms right, and makes Whisper skip speech
        # (the final pass's dropped-speech pass decodes that again without it)
        kw["hotwords"] = settings.hotwords()
    return kw


def transcribe_array(settings: TranscriptionSettings, audio: np.ndarray, offset_ms: int = 0,
                     model=None, act=None) -> Iterator[SegmentResult]:
    """Segments of 16 kHz float32 mono ``audio``, times shifted by ``offset_ms``.

    The project's word list (``settings.vocabulary``) is used as ``word_list_use`` says
    (fieldkit.transcription.wordlist): "targeted" decodes without it and decodes a segment
    with a near miss of a term again with it. ``act``: the audio's voice activity
    (fieldkit.recording.vad.activity) when the caller has it; with the VAD setting on,
    Whisper is then given the speech it finds (faster-whisper's own VAD filter, the same
    options) without running the voice detector over the audio again."""
    model = model or load_model(settings)
    kwargs = transcribe_kwargs(settings, model.model.is_multilingual)
    batch = batch_size(settings)
    chunks = None
    if batch > 1 and len(audio) > BATCH_FROM_S * SAMPLE_RATE:
        # without timestamps: with them the batched decoder dropped words here (WER 9.6 % against
        # 2.9 % sequential on the English clips); its one segment per 30 s chunk is cut at the
        # words' own times (split_on_words) instead
        segments, info = batched(model).transcribe(audio, batch_size=batch, without_timestamps=True, **kwargs)
        segments = (part for seg in segments for part in split_on_words(seg))
    else:
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
        if settings.vocabulary and words and settings.word_list_use == "targeted":
            words, text = _targeted(settings, model, audio, offset_ms, words, text)
        if settings.vocabulary and words and settings.word_list_use in ("targeted", "correct"):
            words, fixed = correct_words(words, settings.vocabulary)
            if fixed:
                text = words_text(words)
        yield SegmentResult(
            start_ms=offset_ms + round(seg.start * 1000), end_ms=offset_ms + round(seg.end * 1000),
            text=text,
            words=words,
            avg_logprob=seg.avg_logprob, no_speech_prob=seg.no_speech_prob, language=info.language,
        )


#: a segment decoded again with the list keeps its word count within this share (or 2 words)
TARGET_WORDS = 0.2


def _targeted(settings: TranscriptionSettings, model, audio: np.ndarray, offset_ms: int,
              words: list[dict], text: str) -> tuple[list[dict], str]:
    """A segment (``words`` in absolute times) with a near miss of a listed term is decoded
    again on its own with the list as hotwords; the new words replace the old only when they
    have a term the old missed and about as many words (nothing skipped, nothing invented)."""
    from dataclasses import replace as dc_replace

    from fieldkit.transcription.wordlist import has_term, maybe_terms

    near = maybe_terms(words, settings.vocabulary)
    if not near:
        return words, text
    pad = 200
    a = max(0, words[0]["s"] - offset_ms - pad)
    b = min(len(audio) * 1000 // SAMPLE_RATE, words[-1]["e"] - offset_ms + pad)
    clip = audio[a * SAMPLE_RATE // 1000:b * SAMPLE_RATE // 1000]
    alone = dc_replace(settings, vocabulary=settings.vocabulary, word_list_use="hotwords",
                       condition_on_previous_text=False, vad=False, batch=1)
    again = [w for seg in transcribe_array(alone, clip, offset_ms=offset_ms + a, model=model) for w in seg.words]
    if not again or abs(len(again) - len(words)) > max(2, TARGET_WORDS * len(words)):
        return words, text
    if not any(has_term(again, t) and not has_term(words, t) for t in near):
        return words, text
    from fieldkit.transcription.wordlist import words_text

    return again, words_text(again)


def decode_file(path: Path) -> np.ndarray:
    from faster_whisper import decode_audio

    return decode_audio(str(path), sampling_rate=SAMPLE_RATE)
