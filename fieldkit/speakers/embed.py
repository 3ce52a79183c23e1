"""Speaker embeddings: Kaldi-style log-mel filterbank features in numpy and the CAM++
network (converted to ONNX by scripts/convert_campplus.py) on onnxruntime.

No PyTorch and no download: the ONNX file ships inside fieldkit (``data/campplus.onnx``,
Apache-2.0, see ``data/NOTICE.md``)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

SR = 16000
FRAME = 400          # 25 ms
HOP = 160            # 10 ms
NFFT = 512
N_MELS = 80
MODEL_PATH = Path(__file__).with_name("data") / "campplus.onnx"

_session = None
_lock = threading.Lock()


def _mel_banks() -> np.ndarray:
    def mel(f: np.ndarray | float) -> np.ndarray:
        return 1127.0 * np.log(1.0 + np.asarray(f, dtype=np.float64) / 700.0)

    low, high = mel(20.0), mel(SR / 2)
    delta = (high - low) / (N_MELS + 1)
    bins = mel(np.arange(NFFT // 2) * SR / NFFT)
    banks = np.zeros((N_MELS, NFFT // 2 + 1), dtype=np.float32)
    for m in range(N_MELS):
        left, centre, right = low + m * delta, low + (m + 1) * delta, low + (m + 2) * delta
        up = (bins - left) / (centre - left)
        down = (right - bins) / (right - centre)
        banks[m, : NFFT // 2] = np.maximum(0.0, np.minimum(up, down))
    return banks


_BANKS = _mel_banks()
_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(FRAME) / (FRAME - 1))) ** 0.85


def fbank(audio: np.ndarray) -> np.ndarray:
    """80 log-mel energies per 10 ms frame (25 ms frames, Povey window, pre-emphasis 0.97,
    no dither), as Kaldi computes them; frame i covers samples [160 i, 160 i + 400)."""
    audio = np.asarray(audio, dtype=np.float32)
    n = 1 + (len(audio) - FRAME) // HOP
    if n <= 0:
        return np.zeros((0, N_MELS), dtype=np.float32)
    out = np.empty((n, N_MELS), dtype=np.float32)
    eps = np.finfo(np.float32).eps
    step = 4096                       # frames per block keeps memory small on long recordings
    for a in range(0, n, step):
        b = min(n, a + step)
        idx = (np.arange(a, b) * HOP)[:, None] + np.arange(FRAME)[None, :]
        frames = audio[idx].astype(np.float64)
        frames -= frames.mean(axis=1, keepdims=True)
        frames[:, 1:] -= 0.97 * frames[:, :-1].copy()
        frames[:, 0] *= 1 - 0.97
        frames *= _WINDOW
        power = np.abs(np.fft.rfft(frames, n=NFFT, axis=1)) ** 2
        out[a:b] = np.log(np.maximum(power.astype(np.float32) @ _BANKS.T, eps))
    return out


def _onnx():
    global _session
    with _lock:
        if _session is None:
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 2
            opts.inter_op_num_threads = 1
            opts.log_severity_level = 3
            # no spinning between operators: on a laptop (or CI) busy with other work, the
            # spinning thread took CPU from the one doing the work (measured under load:
            # about a third less CPU and wall time for the same embeddings)
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            _session = ort.InferenceSession(str(MODEL_PATH), sess_options=opts,
                                            providers=["CPUExecutionProvider"])
        return _session


def embed(feats: np.ndarray, spans: list[tuple[int, int]], batch: int = 32) -> np.ndarray:
    """One L2-normalised embedding per (first_frame, end_frame) span of ``feats``."""
    sess = _onnx()
    out = np.zeros((len(spans), 192), dtype=np.float32)
    by_len: dict[int, list[int]] = {}
    for i, (a, b) in enumerate(spans):
        by_len.setdefault(b - a, []).append(i)
    for length, idxs in by_len.items():
        for k in range(0, len(idxs), batch):
            part = idxs[k:k + batch]
            x = np.stack([feats[spans[i][0]:spans[i][1]] for i in part])
            x = x - x.mean(axis=1, keepdims=True)
            out[part] = sess.run(None, {"feats": x.astype(np.float32)})[0]
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-9)
