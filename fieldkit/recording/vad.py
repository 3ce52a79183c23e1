"""Voice activity, computed once per stretch of audio and read in several ways.

The Silero model that faster-whisper bundles gives a speech probability for every 32 ms
(512 samples at 16 kHz); what differs between its users (where a window is cut, the
speech Whisper is given, the speech the dropped-speech pass checks, the speech the
speaker embeddings are taken from) is only how those probabilities are turned into
stretches: threshold, shortest pause, padding. :func:`activity` runs the model once;
:meth:`Activity.timestamps` gives exactly what ``faster_whisper.vad.get_speech_timestamps``
gives for any ``VadOptions`` (its post-processing, faster-whisper 1.2, MIT licence), so a
window's audio goes through the model once instead of three to five times."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SR = 16000
CHUNK = 512


@dataclass
class Activity:
    """Speech probabilities of ``n`` samples of audio, one per 512-sample chunk."""
    probs: np.ndarray
    n: int

    def prefix(self, n: int) -> "Activity":
        """The activity of the first ``n`` samples (the last chunk was heard with what
        followed it rather than with zeros: the difference is one 32 ms chunk)."""
        n = max(0, min(n, self.n))
        return Activity(self.probs[: n // CHUNK + 1], n)

    def timestamps(self, opts=None, **kwargs) -> list[dict]:
        """``get_speech_timestamps(audio, opts)`` of the audio this was computed from."""
        from faster_whisper.vad import VadOptions

        if opts is None:
            opts = VadOptions(**kwargs)
        return _timestamps(self.probs, self.n, opts)


def activity(audio: np.ndarray) -> Activity:
    """Run the Silero VAD over 16 kHz mono ``audio`` once (as get_speech_timestamps pads it)."""
    from faster_whisper.vad import get_vad_model

    audio = np.asarray(audio, dtype=np.float32)
    padded = np.pad(audio, (0, CHUNK - audio.shape[0] % CHUNK))
    return Activity(np.asarray(get_vad_model()(padded)).reshape(-1), len(audio))


def _timestamps(speech_probs: np.ndarray, audio_length_samples: int, vad_options) -> list[dict]:
    # faster_whisper.vad.get_speech_timestamps (1.2.1) after its model call, unchanged
    sampling_rate = SR
    threshold = vad_options.threshold
    neg_threshold = vad_options.neg_threshold
    min_speech_duration_ms = vad_options.min_speech_duration_ms
    max_speech_duration_s = vad_options.max_speech_duration_s
    min_silence_duration_ms = vad_options.min_silence_duration_ms
    window_size_samples = CHUNK
    speech_pad_ms = vad_options.speech_pad_ms
    min_speech_samples = sampling_rate * min_speech_duration_ms / 1000
    speech_pad_samples = sampling_rate * speech_pad_ms / 1000
    max_speech_samples = (sampling_rate * max_speech_duration_s - window_size_samples
                          - 2 * speech_pad_samples)
    min_silence_samples = sampling_rate * min_silence_duration_ms / 1000
    min_silence_samples_at_max_speech = sampling_rate * 98 / 1000

    triggered = False
    speeches: list[dict] = []
    current_speech: dict = {}
    if neg_threshold is None:
        neg_threshold = max(threshold - 0.15, 0.01)
    temp_end = 0
    prev_end = next_start = 0

    for i, speech_prob in enumerate(speech_probs):
        if (speech_prob >= threshold) and temp_end:
            temp_end = 0
            if next_start < prev_end:
                next_start = window_size_samples * i
        if (speech_prob >= threshold) and not triggered:
            triggered = True
            current_speech["start"] = window_size_samples * i
            continue
        if triggered and (window_size_samples * i) - current_speech["start"] > max_speech_samples:
            if prev_end:
                current_speech["end"] = prev_end
                speeches.append(current_speech)
                current_speech = {}
                if next_start < prev_end:
                    triggered = False
                else:
                    current_speech["start"] = next_start
                prev_end = next_start = temp_end = 0
            else:
                current_speech["end"] = window_size_samples * i
                speeches.append(current_speech)
                current_speech = {}
                prev_end = next_start = temp_end = 0
                triggered = False
                continue
        if (speech_prob < neg_threshold) and triggered:
            if not temp_end:
                temp_end = window_size_samples * i
            if (window_size_samples * i) - temp_end > min_silence_samples_at_max_speech:
                prev_end = temp_end
            if (window_size_samples * i) - temp_end < min_silence_samples:
                continue
            current_speech["end"] = temp_end
            if (current_speech["end"] - current_speech["start"]) > min_speech_samples:
                speeches.append(current_speech)
            current_speech = {}
            prev_end = next_start = temp_end = 0
            triggered = False
            continue

    if current_speech and (audio_length_samples - current_speech["start"]) > min_speech_samples:
        current_speech["end"] = audio_length_samples
        speeches.append(current_speech)

    for i, speech in enumerate(speeches):
        if i == 0:
            speech["start"] = int(max(0, speech["start"] - speech_pad_samples))
        if i != len(speeches) - 1:
            silence_duration = speeches[i + 1]["start"] - speech["end"]
            if silence_duration < 2 * speech_pad_samples:
                speech["end"] += int(silence_duration // 2)
                speeches[i + 1]["start"] = int(max(0, speeches[i + 1]["start"] - silence_duration // 2))
            else:
                speech["end"] = int(min(audio_length_samples, speech["end"] + speech_pad_samples))
                speeches[i + 1]["start"] = int(max(0, speeches[i + 1]["start"] - speech_pad_samples))
        else:
            speech["end"] = int(min(audio_length_samples, speech["end"] + speech_pad_samples))
    return speeches
