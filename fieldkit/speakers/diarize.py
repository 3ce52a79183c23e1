"""Who spoke when, from the audio alone: Silero VAD (bundled with faster-whisper), CAM++
embeddings of short windows, clustering into a known number of speakers, and a label per
10 ms frame. Two-channel recordings can be split by channel energy instead.

Everything here is numpy + onnxruntime; nothing is downloaded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fieldkit.errors import ExitCode, FieldkitError
from fieldkit.speakers.embed import HOP, SR, embed, fbank
from fieldkit.i18n import _, format_number

WIN = 150            # frames per embedding window (1.5 s)
STEP = 80            # frames between windows (0.8 s; 0.4 s gave the same error at twice the cost)
FINE = 20            # frames between the extra windows where the voice changes (0.2 s)
MIN_WIN = 50         # a speech stretch shorter than 0.5 s gets no window of its own
MAX_CLUSTER_POINTS = 1000
#: two groups of windows further apart than this (average cosine distance) are two voices.
#: Measured on the spliced real-voice conversations (tests/bench/speakers_count_bench.py):
#: merges within one voice reached 0.56, merges of two voices 0.57 (two Norwegian men of the
#: same register) to 1.05
VOICE_DISTANCE = 0.565
#: a group of fewer windows than this share of all (at least 2, at most 20 windows, about
#: 16 s of speech) is not counted as a voice of its own (a cough, a laugh, windows across a
#: change of speaker); it joins the nearest voice ...
MIN_VOICE_SHARE = 0.08
MIN_VOICE_WINDOWS = 20
#: ... unless it stands this far from all others (a voice heard in two windows or three: a
#: reader with 3 s of speech joined the others at 0.69; a stray group of one voice's windows
#: at turns without pauses at 0.66)
DISTINCT_VOICE = 0.67


class SpeakerError(FieldkitError):
    exit_code = ExitCode.SPEAKERS


@dataclass
class Turn:
    start_ms: int
    end_ms: int
    speaker: int


@dataclass
class Diarization:
    """``labels[i]`` is the speaker of the 10 ms frame i (-1: nobody speaks)."""
    labels: np.ndarray
    count: int
    method: str = "voice"        # voice / channel
    windows: int = 0
    estimated: bool = False      # the count came from the audio, not from --count

    def turns(self) -> list[Turn]:
        out: list[Turn] = []
        lab = self.labels
        i = 0
        while i < len(lab):
            j = i
            while j < len(lab) and lab[j] == lab[i]:
                j += 1
            if lab[i] >= 0:
                out.append(Turn(i * 10, j * 10, int(lab[i])))
            i = j
        return out

    def votes(self, start_ms: int, end_ms: int) -> np.ndarray:
        """How many frames of [start_ms, end_ms) each speaker has."""
        a, b = max(0, start_ms // 10), max(0, min(len(self.labels), -(-end_ms // 10)))
        seg = self.labels[a:b]
        return np.bincount(seg[seg >= 0], minlength=self.count)[: self.count]

    def speaker_at(self, start_ms: int, end_ms: int) -> int | None:
        """The speaker with most frames in the span, else the nearest labelled frame."""
        v = self.votes(start_ms, end_ms)
        if v.sum():
            return int(v.argmax())
        mid = (start_ms + end_ms) // 20
        known = np.flatnonzero(self.labels >= 0)
        if not len(known):
            return None
        return int(self.labels[known[np.abs(known - mid).argmin()]])


def speech_regions(audio: np.ndarray, act=None) -> list[tuple[int, int]]:
    """(start, end) sample ranges of speech found by Silero VAD. ``act``: the audio's
    voice activity (fieldkit.recording.vad.activity) when the caller has it."""
    from faster_whisper.vad import VadOptions

    from fieldkit.recording.vad import activity

    act = act if act is not None else activity(audio)
    opts = VadOptions(threshold=0.5, min_speech_duration_ms=200, min_silence_duration_ms=250,
                      speech_pad_ms=30)
    return [(int(t["start"]), int(t["end"])) for t in act.timestamps(opts)]


def check_audio(audio: np.ndarray) -> None:
    seconds = len(audio) / SR
    if seconds < 2.0:
        raise SpeakerError(_("The recording is {seconds} s long: too short to "
                               "tell speakers apart.").format(seconds=format_number(seconds, 1)),
                           hint=_("Speaker attribution needs at least a few seconds "
                                    "of speech."))
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    if rms < 10 ** (-60 / 20):
        raise SpeakerError(_("The recording is too quiet to tell speakers apart "
                               "(level {value:.0f} dBFS).").format(value=20 * np.log10(rms + 1e-12)),
                           hint=_("Check that the right microphone was used; the "
                                    "transcript was left as it was."))


def _windows(regions: list[tuple[int, int]], n_frames: int, step: int = STEP) -> list[tuple[int, int]]:
    spans = []
    for s, e in regions:
        a, b = s // HOP, min(n_frames, (e - 400) // HOP + 1)
        if b - a < MIN_WIN:
            continue
        if b - a <= WIN:
            spans.append((a, b))
            continue
        starts = list(range(a, b - WIN + 1, step))
        if starts[-1] + WIN < b:
            starts.append(b - WIN)
        spans.extend((x, x + WIN) for x in starts)
    return spans


def merge_tree(emb: np.ndarray) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Agglomerative clustering of L2-normalised embeddings down to one group, average
    linkage on cosine distance: the merges in order (i absorbs j) and the distance of each."""
    n = len(emb)
    dist = 1.0 - emb @ emb.T
    np.fill_diagonal(dist, np.inf)
    size = np.ones(n)
    merges, heights = [], []
    for _step in range(n - 1):
        i, j = divmod(int(np.argmin(dist)), n)
        heights.append(float(dist[i, j]))
        merged = (dist[i] * size[i] + dist[j] * size[j]) / (size[i] + size[j])
        dist[i, :] = merged
        dist[:, i] = merged
        dist[i, i] = np.inf
        dist[j, :] = np.inf
        dist[:, j] = np.inf
        size[i] += size[j]
        merges.append((i, j))
    return merges, np.array(heights)


def cut_tree(n: int, merges: list[tuple[int, int]], k: int) -> np.ndarray:
    """The labels (0..k-1) of ``n`` points after the first n-k merges of ``merge_tree``."""
    owner = np.arange(n)
    for i, j in merges[: max(0, n - k)]:
        owner[owner == j] = i
    _, labels = np.unique(owner, return_inverse=True)
    return labels


def average_linkage(emb: np.ndarray, k: int) -> np.ndarray:
    """Agglomerative clustering of L2-normalised embeddings into k groups, average linkage
    on cosine distance (measured against spectral clustering on the spliced conversations:
    2-4 % lower error for 4 and 8 speakers, see README)."""
    merges, _h = merge_tree(emb)
    return cut_tree(len(emb), merges, k)


def _refine(emb: np.ndarray, lab: np.ndarray, k: int, rounds: int = 3) -> np.ndarray:
    for _round in range(rounds):
        cent = np.array([emb[lab == j].mean(0) if np.any(lab == j) else np.zeros(emb.shape[1]) for j in range(k)])
        cent /= np.maximum(np.linalg.norm(cent, axis=1, keepdims=True), 1e-9)
        new = (emb @ cent.T).argmax(1)
        if np.array_equal(new, lab):
            break
        lab = new
    return lab


@dataclass
class Voices:
    """The speech of a recording as embeddings: speech regions (samples), the windows (frame
    spans), one L2-normalised embedding per window, the number of 10 ms frames, and how to
    embed extra windows where the voice changes (from the features in memory, or, for a
    recording taken window by window, by reading those windows again)."""
    regions: list[tuple[int, int]]
    spans: list[tuple[int, int]]
    emb: np.ndarray
    pieces: int
    n_frames: int
    embed_extra: Callable[[list[tuple[int, int]]], np.ndarray]
    tree: tuple | None = None     # merge_tree of the clustered sample, made once

    def merge_tree(self) -> tuple[np.ndarray, tuple]:
        pick = _sample(self.emb)
        if self.tree is None:
            self.tree = merge_tree(self.emb[pick])
        return pick, self.tree


def _check_count(count: int) -> None:
    if count < 1:
        raise SpeakerError(_("--count {count}: a conversation has at least one "
                               "speaker.").format(count=count))


def _check_speech(regions: list[tuple[int, int]]) -> None:
    speech_s = sum(e - s for s, e in regions) / SR
    if speech_s < 1.0:
        raise SpeakerError(_("Only {speech_s} s of speech found: too little to "
                               "tell speakers apart.").format(speech_s=format_number(speech_s, 1)),
                           hint=_("The recording may be silent or too quiet; the "
                                    "transcript was left as it was."))


def _pieces(regions: list[tuple[int, int]]) -> int:
    return sum(max(1, (e - s) // HOP // WIN) for s, e in regions if (e - s) // HOP >= MIN_WIN)


def _check_pieces(v: Voices, count: int) -> None:
    if min(v.pieces, len(v.emb)) < count:
        raise SpeakerError(
            _("{count} speakers asked for, but the recording holds only {pieces} "
                "separate 1.5 s pieces of speech to compare.").format(count=count,
                                                                      pieces=min(v.pieces, len(v.emb))),
            hint=_("Give a smaller --count, or check the session's participants."))


def voices(audio: np.ndarray, step: int = STEP) -> Voices:
    """VAD, features and window embeddings of 16 kHz mono ``audio``."""
    audio = np.asarray(audio, dtype=np.float32)
    check_audio(audio)
    regions = speech_regions(audio)
    _check_speech(regions)
    feats = fbank(audio)
    spans = _windows(regions, len(feats), step)
    emb = embed(feats, spans) if spans else np.zeros((0, 192), dtype=np.float32)
    return Voices(regions, spans, emb, _pieces(regions), len(feats), lambda extra: embed(feats, extra))


def voices_stream(read, total_ms: int, step: int = STEP,
                  on_progress=None, heard: dict | None = None) -> Voices:
    """:func:`voices` of a recording too long to hold in memory: ``read(a_ms, b_ms)`` gives
    16 kHz mono audio of a part. The recording is taken in windows cut at pauses
    (:mod:`fieldkit.recording.windows`, the transcription's path); only the voice embeddings
    (192 numbers per 0.8 s of speech) are kept, so memory is bounded by a window.
    ``on_progress(done_ms, total_ms)`` follows the windows. ``heard``: the voice activity
    the transcription found in the same windows (fieldkit.recording.windows.next_window)."""
    from fieldkit.recording.windows import next_window

    if total_ms < 2000:
        raise SpeakerError(_("The recording is {seconds} s long: too short to "
                               "tell speakers apart.").format(seconds=format_number(total_ms / 1000, 1)),
                           hint=_("Speaker attribution needs at least a few seconds "
                                    "of speech."))
    regions: list[tuple[int, int]] = []
    spans: list[tuple[int, int]] = []
    embs: list[np.ndarray] = []
    bounds: list[tuple[int, int]] = []           # (first frame, end frame) of each window
    square_sum, n_samples = 0.0, 0
    pos = 0
    while pos < total_ms:
        if on_progress:
            on_progress(pos, total_ms)
        win = next_window(read, pos, total_ms, heard)
        audio = win.audio
        square_sum += float(np.sum(np.square(audio, dtype=np.float64)))
        n_samples += len(audio)
        base = win.start_ms * SR // 1000          # window starts fall on 10 ms frames
        f0 = base // HOP
        local = speech_regions(audio, act=win.act) if win.speech else []   # the VAD ran once, in next_window
        regions.extend((base + s, base + e) for s, e in local)
        if local:
            feats = fbank(audio)
            ws = _windows(local, len(feats), step)
            if ws:
                embs.append(embed(feats, ws))
                spans.extend((a + f0, b + f0) for a, b in ws)
        bounds.append((f0, f0 + max(0, 1 + (len(audio) - 400) // HOP)))
        pos = win.end_ms
    rms = (square_sum / max(1, n_samples)) ** 0.5
    if rms < 10 ** (-60 / 20):
        raise SpeakerError(_("The recording is too quiet to tell speakers apart "
                               "(level {value:.0f} dBFS).").format(value=20 * np.log10(rms + 1e-12)),
                           hint=_("Check that the right microphone was used; the "
                                    "transcript was left as it was."))
    _check_speech(regions)
    emb = np.concatenate(embs) if embs else np.zeros((0, 192), np.float32)

    def embed_extra(extra: list[tuple[int, int]]) -> np.ndarray:
        # the closer look where the voice changes: read again only the windows concerned
        import bisect

        out = np.zeros((len(extra), 192), np.float32)
        by_win: dict[int, list[int]] = {}
        starts = [a for a, _b in bounds]
        for i, (a, _b) in enumerate(extra):
            by_win.setdefault(bisect.bisect_right(starts, a) - 1, []).append(i)
        for w, idxs in by_win.items():
            f0, f1 = bounds[w]
            feats = fbank(read(f0 * 10, (f1 + WIN) * 10 + 15))   # extras may reach past its end
            local = [(extra[i][0] - f0, extra[i][1] - f0) for i in idxs]
            ok = [k for k, (a, b) in enumerate(local) if a >= 0 and b <= len(feats)]
            if ok:
                out[[idxs[k] for k in ok]] = embed(feats, [local[k] for k in ok])
        return out

    return Voices(regions, spans, emb, _pieces(regions), total_ms // 10, embed_extra)


def _sample(emb: np.ndarray) -> np.ndarray:
    """The windows clustered: all, or an even sample of a long recording's."""
    if len(emb) > MAX_CLUSTER_POINTS:
        return np.linspace(0, len(emb) - 1, MAX_CLUSTER_POINTS).round().astype(int)
    return np.arange(len(emb))


def _cluster(v: Voices, count: int) -> np.ndarray:
    emb = v.emb
    pick, (merges, _h) = v.merge_tree()
    sub = cut_tree(len(pick), merges, count)
    if len(pick) < len(emb):           # long recordings: cluster an even sample, assign the rest
        cent = np.array([emb[pick][sub == j].mean(0) for j in range(count)])
        lab = (emb @ cent.T).argmax(1)
    else:
        lab = sub
    return _refine(emb, lab, count)


def estimate_count(v: Voices, most: int) -> int:
    """How many voices the audio holds, at most ``most``: the groups of the average-linkage
    tree cut at ``VOICE_DISTANCE`` that hold enough windows (``MIN_VOICE_SHARE``), and the
    smaller groups (two windows or more: a short question on the phone) that stand apart
    from every other voice by more than ``DISTINCT_VOICE``."""
    if len(v.emb) < 2 or most <= 1:
        return 1
    pick, (merges, heights) = v.merge_tree()
    need = min(max(MIN_VOICE_SHARE * len(pick), 2), MIN_VOICE_WINDOWS)
    sizes = np.bincount(cut_tree(len(pick), merges, int((heights > VOICE_DISTANCE).sum()) + 1))
    big = int((sizes >= need).sum())
    sizes = np.bincount(cut_tree(len(pick), merges, int((heights > DISTINCT_VOICE).sum()) + 1))
    small = int(((sizes >= 2) & (sizes < need)).sum())
    return int(max(1, min(most, big + small)))


def diarize_auto(audio: np.ndarray, most: int, step: int = STEP) -> Diarization:
    """Like ``diarize``, with the number of voices found in the audio (at most ``most``:
    the people who could have spoken)."""
    _check_count(most)
    v = voices(audio, step)
    count = min(estimate_count(v, most), max(1, v.pieces))
    d = diarize(audio, count, step, v=v)
    d.estimated = True
    return d


def diarize(audio: np.ndarray, count: int, step: int = STEP, v: Voices | None = None) -> Diarization:
    """Label every 10 ms of 16 kHz mono ``audio`` with one of ``count`` speakers."""
    _check_count(count)
    v = v or voices(audio, step)
    _check_pieces(v, count)
    return _label(v, _cluster(v, count), count, step)


def diarize_stream(read, total_ms: int, count: int | None, step: int = STEP,
                   on_progress=None, most: int | None = None, heard: dict | None = None) -> Diarization:
    """:func:`diarize` (``count`` given) or :func:`diarize_auto` (``count`` None: the voices
    found in the audio, at most ``most``) of a recording taken window by window
    (:func:`voices_stream`): ``read(a_ms, b_ms)`` gives 16 kHz mono audio of a part."""
    _check_count(count if count is not None else (most or 0))
    v = voices_stream(read, total_ms, step, on_progress, heard)
    estimated = count is None
    if count is None:
        count = min(estimate_count(v, most or 1), max(1, v.pieces))
    _check_pieces(v, count)
    d = _label(v, _cluster(v, count), count, step)
    d.estimated = estimated
    return d


def _label(v: Voices, lab: np.ndarray, count: int, step: int = STEP, **extra) -> Diarization:
    regions, spans, emb, n_frames = v.regions, list(v.spans), v.emb, v.n_frames
    # where the voice changes between neighbouring windows, look closer: windows every 0.2 s
    # in between, each given the nearest voice (the change is placed to within ~0.1 s)
    cent = np.array([emb[lab == j].mean(0) if np.any(lab == j) else np.zeros(emb.shape[1]) for j in range(count)])
    cent /= np.maximum(np.linalg.norm(cent, axis=1, keepdims=True), 1e-9)
    extra_spans = []
    for i in range(len(spans) - 1):
        (a0, b0), (a1, b1) = spans[i], spans[i + 1]
        if lab[i] != lab[i + 1] and a1 - a0 <= step and b0 - a0 == WIN and b1 - a1 == WIN:
            extra_spans.extend((x, x + WIN) for x in range(a0 + FINE, a1, FINE))
    if extra_spans:
        lab = np.concatenate([lab, (v.embed_extra(extra_spans) @ cent.T).argmax(1)])
        spans = spans + extra_spans
    # each speech frame takes the label of the window whose centre is nearest
    labels = np.full(n_frames + 2, -1, dtype=np.int16)
    centres = np.array([(a + b) / 2 for a, b in spans])
    order = np.argsort(centres, kind="stable")
    sorted_centres = centres[order]
    for s, e in regions:
        a, b = s // HOP, min(n_frames + 2, -(-e // HOP))
        lo = int(np.searchsorted(sorted_centres, a - WIN, side="left"))
        hi = int(np.searchsorted(sorted_centres, b + WIN, side="right"))
        inside = np.sort(order[lo:hi])      # in window order, as ties were always broken
        if not len(inside) or b <= a:
            continue
        frames = np.arange(a, b)
        nearest = inside[np.abs(centres[inside][None, :] - frames[:, None]).argmin(1)]
        labels[a:b] = lab[nearest]
    return Diarization(labels=labels, count=count, windows=len(spans), **extra)


def diarize_channels(stereo: np.ndarray, count: int = 2) -> Diarization:
    """Two microphones, one near the interviewer and one near the informant: a speech frame
    belongs to the channel that is louder in it (speaker 0: channel 1, speaker 1: channel 2)."""
    if stereo.ndim != 2 or stereo.shape[1] != 2:
        raise SpeakerError(_("--channels 2 needs a two-channel recording; this one "
                               "has {value} channel(s).").format(value=1 if stereo.ndim == 1 else stereo.shape[1]))
    mono = stereo.mean(axis=1).astype(np.float32)
    check_audio(mono)
    regions = speech_regions(mono)
    n = len(mono) // HOP
    energy = np.stack([np.sqrt(np.mean(np.square(stereo[: n * HOP, c].reshape(n, HOP)), axis=1) + 1e-12)
                       for c in range(2)], axis=1)
    # smooth over 0.3 s so a breath on the other microphone does not flip the speaker
    kernel = np.ones(30) / 30
    smooth = np.stack([np.convolve(np.log(energy[:, c]), kernel, mode="same") for c in range(2)], axis=1)
    labels = np.full(n + 2, -1, dtype=np.int16)
    for s, e in regions:
        a, b = s // HOP, min(n, -(-e // HOP))
        labels[a:b] = smooth[a:b].argmax(1)
    return Diarization(labels=labels, count=2, method="channel")


def channel_separation(stereo: np.ndarray) -> float:
    """How clearly the channels separate the voices: the median absolute level difference
    between the channels in dB over speech (0 for a mono file copied to two channels)."""
    n = len(stereo) // HOP
    e = np.stack([np.sqrt(np.mean(np.square(stereo[: n * HOP, c].reshape(n, HOP)), axis=1) + 1e-12)
                  for c in range(2)], axis=1)
    loud = e.max(1) > np.percentile(e.max(1), 50)
    if not loud.any():
        return 0.0
    return float(np.median(np.abs(20 * np.log10(e[loud, 0] / e[loud, 1]))))
