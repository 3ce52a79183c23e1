"""Conversations with known turns, spliced from real speech for the speaker tests and the
speaker benchmark.

Voices: the six clips of tests/data/speech (copied from ../shared/speech; each a different
speaker) and two LibriSpeech readers in tests/data/speakers. Every voice is filtered to
one common long-term spectrum and one level, so the recording colour of a clip does not
give its speaker away; a faint common noise floor runs under the whole conversation.
Each voice's speech is cut at its pauses into turns of 1.5 s or more, and the turns of all
voices are interleaved so that no voice speaks twice in a row."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from tests.support.shared_files import REPO
from tests.support.shared_files import speech_dir as _speech_dir

SR = 16000
SHARED_VOICES = ["en_jfk", "en_librivox_sense", "no_npsc_medium", "en_libri61_left", "en_libri260_right",
                 "no_npsc_short"]
EXTRA_VOICES = {"ls_1998": ["1998-15444-0000.flac", "1998-15444-0002.flac"],
                "ls_3331": ["3331-159605-0000.flac", "3331-159605-0002.flac"]}
ALL_VOICES = SHARED_VOICES + list(EXTRA_VOICES)


def speech_dir() -> Path | None:
    d = _speech_dir()
    return d if (d / "en_jfk.flac").is_file() else None


def _read(path: Path) -> np.ndarray:
    import soundfile as sf

    x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    assert sr == SR, path
    return x.mean(axis=1)


def voice(name: str) -> np.ndarray:
    if name in EXTRA_VOICES:
        d = REPO / "tests" / "data" / "speakers"
        return np.concatenate([_read(d / f) for f in EXTRA_VOICES[name]])
    d = speech_dir()
    if d is None:
        raise FileNotFoundError("tests/data/speech (or ../shared/speech) has no clips")
    return _read(d / f"{name}.flac")


def _ltas(x: np.ndarray, nfft: int = 1024) -> np.ndarray:
    n = (len(x) - nfft) // (nfft // 2)
    idx = np.arange(n)[:, None] * (nfft // 2) + np.arange(nfft)[None]
    frames = x[idx] * np.hanning(nfft)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    loud = power.sum(1) > np.percentile(power.sum(1), 40)     # speech frames, not pauses
    return power[loud].mean(0) + 1e-12


def _smooth_octave(spec: np.ndarray, fraction: float = 1 / 3) -> np.ndarray:
    f = np.arange(len(spec), dtype=float)
    out = np.empty_like(spec)
    for i in range(len(spec)):
        lo, hi = f[i] * 2 ** (-fraction / 2), f[i] * 2 ** (fraction / 2) + 1
        out[i] = spec[int(lo):int(np.ceil(hi)) + 1].mean()
    return out


def equalise(voices: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Filter every voice to the geometric-mean long-term spectrum of all, then to -23 dBFS
    over its speech."""
    spectra = {k: _smooth_octave(_ltas(v)) for k, v in voices.items()}
    target = np.exp(np.mean([np.log(s) for s in spectra.values()], axis=0))
    out = {}
    for k, v in voices.items():
        gain = np.sqrt(target / spectra[k])
        spec = np.fft.rfft(v)
        grid = np.linspace(0, len(gain) - 1, len(spec))
        y = np.fft.irfft(spec * np.interp(grid, np.arange(len(gain)), gain), n=len(v))
        frame = y[: len(y) // 400 * 400].reshape(-1, 400)
        rms = np.sqrt((frame ** 2).mean(1))
        level = np.sqrt(np.mean(rms[rms > np.percentile(rms, 40)] ** 2))
        out[k] = (y * (10 ** (-23 / 20) / level)).astype(np.float32)
    return out


def _pieces(x: np.ndarray, min_s: float = 1.5) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """Cut a voice at its pauses: (start, end, speech regions inside) of pieces >= min_s."""
    from fieldkit.speakers.diarize import speech_regions

    regions = speech_regions(x)
    out, cur = [], []
    for s, e in regions:
        cur.append((s, e))
        if cur[-1][1] - cur[0][0] >= min_s * SR:
            out.append(cur)
            cur = []
    if cur:
        if out and cur[-1][1] - cur[0][0] < min_s * SR:
            out[-1].extend(cur)
        else:
            out.append(cur)
    pad = int(0.05 * SR)
    return [(max(0, p[0][0] - pad), min(len(x), p[-1][1] + pad), p) for p in out]


@dataclass
class Conversation:
    audio: np.ndarray
    voices: list[str]
    turns: list[tuple[int, int, int]]          # (start_ms, end_ms, voice index) of each turn
    speech: list[tuple[int, int, int]]         # (start_ms, end_ms, voice index) of speech inside turns

    def reference(self) -> np.ndarray:
        """Voice index per 10 ms frame (-1: silence)."""
        lab = np.full(len(self.audio) // 160 + 2, -1, dtype=np.int16)
        for s, e, v in self.speech:
            lab[s // 10: e // 10] = v
        return lab

    def write(self, path: Path) -> Path:
        import soundfile as sf

        sf.write(str(path), self.audio, SR, subtype="PCM_16")
        return path


def conversation(voices: list[str], seed: int = 0, gap: tuple[float, float] = (0.25, 0.6)) -> Conversation:
    """The conversation of ``voices`` (the same for the same arguments: built once per
    process, each caller gets its own copy of the audio)."""
    conv = _conversation(tuple(voices), seed, tuple(gap))
    return Conversation(conv.audio.copy(), list(conv.voices), list(conv.turns), list(conv.speech))


@lru_cache(maxsize=16)
def _conversation(voices: tuple[str, ...], seed: int, gap: tuple[float, float]) -> Conversation:
    voices = list(voices)
    rng = np.random.default_rng(seed)
    clean = equalise({v: voice(v) for v in voices})
    queues = {i: _pieces(clean[v]) for i, v in enumerate(voices)}
    out = [np.zeros(int(0.5 * SR), dtype=np.float32)]
    pos = len(out[0])
    turns, speech, last = [], [], -1
    while any(queues.values()):
        # the voice with most left to say speaks next (never twice in a row), ties at random
        left = {i: len(q) for i, q in queues.items() if q and i != last}
        if not left:
            left = {i: len(q) for i, q in queues.items() if q}
        most = max(left.values())
        who = int(rng.choice([i for i, n in left.items() if n == most]))
        s, e, regions = queues[who].pop(0)
        out.append(clean[voices[who]][s:e])
        turns.append((pos * 1000 // SR, (pos + e - s) * 1000 // SR, who))
        for rs, re_ in regions:
            speech.append(((pos + rs - s) * 1000 // SR, (pos + re_ - s) * 1000 // SR, who))
        pos += e - s
        g = np.zeros(int(rng.uniform(*gap) * SR), dtype=np.float32)
        out.append(g)
        pos += len(g)
        last = who
    audio = np.concatenate(out)
    audio += rng.normal(0, 10 ** (-65 / 20), len(audio)).astype(np.float32)
    return Conversation(audio.astype(np.float32), voices, turns, speech)


def best_mapping(conf: np.ndarray) -> dict[int, int]:
    """hyp -> ref mapping maximising matched frames (conf[ref, hyp])."""
    from itertools import permutations

    nr, nh = conf.shape
    n = max(nr, nh)
    c = np.zeros((n, n))
    c[:nr, :nh] = conf
    best, best_perm = -1.0, None
    if n <= 8:
        for perm in permutations(range(n)):
            v = c[np.arange(n), perm].sum()
            if v > best:
                best, best_perm = v, perm
        return {h: r for r, h in enumerate(best_perm)}
    mapping, used = {}, set()
    for r, h in sorted(np.ndindex(n, n), key=lambda rh: -c[rh]):
        if r not in used and h not in mapping:
            mapping[h] = r
            used.add(r)
    return mapping


def diarization_error(ref: np.ndarray, hyp: np.ndarray, collar_ms: int = 0) -> float:
    """(missed + false alarm + confusion) / reference speech, per 10 ms frame, with the best
    one-to-one mapping of hypothesis speakers to reference speakers. Frames within
    ``collar_ms`` of a reference turn boundary are not scored."""
    n = min(len(ref), len(hyp))
    ref, hyp = ref[:n].astype(int), hyp[:n].astype(int)
    scored = np.ones(n, dtype=bool)
    if collar_ms:
        c = collar_ms // 10
        change = np.flatnonzero(np.diff(ref) != 0) + 1
        for b in change:
            scored[max(0, b - c): b + c] = False
    ref, hyp = ref[scored], hyp[scored]
    nr, nh = max(ref.max() + 1, 1), max(hyp.max() + 1, 1)
    both = (ref >= 0) & (hyp >= 0)
    conf = np.zeros((nr, nh))
    np.add.at(conf, (ref[both], hyp[both]), 1)
    mapping = best_mapping(conf)
    correct = sum(conf[mapping[h], h] for h in range(nh) if mapping.get(h, nr) < nr)
    speech = (ref >= 0).sum()
    miss = ((ref >= 0) & (hyp < 0)).sum()
    fa = ((ref < 0) & (hyp >= 0)).sum()
    confusion = both.sum() - correct
    return float((miss + fa + confusion) / max(speech, 1))


def word_error(conv: Conversation, words: list[tuple[int, int, str]]) -> float:
    """Share of transcript word time attributed to the wrong voice, best one-to-one mapping of
    labels to voices; words outside every reference turn are not scored."""
    labels = sorted({lab for _s, _e, lab in words})
    conf = np.zeros((len(conv.voices), len(labels)))
    for s, e, lab in words:
        mid = (s + e) // 2
        who = next((v for a, b, v in conv.turns if a <= mid < b), None)
        if who is not None:
            conf[who, labels.index(lab)] += max(e - s, 10)
    mapping = best_mapping(conf)
    correct = sum(conf[mapping[h], h] for h in range(len(labels)) if mapping.get(h, len(conv.voices)) < len(conv.voices))
    return float(1 - correct / max(conf.sum(), 1))
