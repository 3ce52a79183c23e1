"""Which speaker-embedding weights: CAM++ (fieldkit's ONNX file) or Resemblyzer's LSTM
d-vector (`resemblyzer` 0.1.4, pretrained.pt)? The same pipeline (Silero VAD, 1.5 s windows
every 0.8 s, average-linkage clustering, true count) on the same spliced conversations,
with only the embedding swapped.

Resemblyzer is a torch file and needs librosa for its mel spectrogram, neither of which
fieldkit has: give a virtualenv that has torch, librosa and the resemblyzer wheel
(installed with --no-deps):

    python3 -m venv /tmp/tv && /tmp/tv/bin/pip install torch librosa
    /tmp/tv/bin/pip install --no-deps resemblyzer==0.1.4
    PYTHONPATH=. .venv/bin/python tests/bench/speakers_compare_bench.py --extra-site /tmp/tv/lib/python3.11/site-packages
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def resemblyzer_embed(site: str):  # noqa: ANN201
    sys.path.append(site)
    import importlib.util

    import librosa
    import torch

    spec = importlib.util.find_spec("resemblyzer")
    weights = Path(spec.submodule_search_locations[0]) / "pretrained.pt"
    state = torch.load(str(weights), map_location="cpu")
    lstm = torch.nn.LSTM(40, 256, 3, batch_first=True)
    linear = torch.nn.Linear(256, 256)
    lstm.load_state_dict({k[5:]: v for k, v in state["model_state"].items() if k.startswith("lstm.")})
    linear.load_state_dict({k[7:]: v for k, v in state["model_state"].items() if k.startswith("linear.")})
    torch.set_num_threads(2)
    cache: dict[int, np.ndarray] = {}

    def embed(feats: np.ndarray, spans: list[tuple[int, int]], batch: int = 32) -> np.ndarray:
        mel = cache[id(feats)]
        out = np.zeros((len(spans), 256), dtype=np.float32)
        by_len: dict[int, list[int]] = {}
        for i, (a, b) in enumerate(spans):
            by_len.setdefault(b - a, []).append(i)
        with torch.no_grad():
            for idxs in by_len.values():
                for k in range(0, len(idxs), batch):
                    part = idxs[k:k + batch]
                    x = torch.from_numpy(np.stack([mel[spans[i][0]:spans[i][1]] for i in part]))
                    _, (h, _c) = lstm(x)
                    e = torch.relu(linear(h[-1]))
                    out[part] = (e / torch.norm(e, dim=1, keepdim=True).clamp_min(1e-9)).numpy()
        return out

    def features(audio: np.ndarray) -> np.ndarray:
        mel = librosa.feature.melspectrogram(y=audio.astype(np.float32), sr=16000, n_fft=400, hop_length=160,
                                             n_mels=40).astype(np.float32).T
        cache.clear()
        cache[id(mel)] = mel
        return mel

    return features, embed


def main() -> None:
    from fieldkit.speakers import diarize as D
    from tests.bench.speakers_bench import cases
    from tests.support.conversations import conversation, diarization_error

    ap = argparse.ArgumentParser()
    ap.add_argument("--extra-site", required=True, help="site-packages with torch, librosa and resemblyzer")
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    r_fbank, r_embed = resemblyzer_embed(args.extra_site)
    methods = {"CAM++ (onnx)": (D.fbank, D.embed), "Resemblyzer (torch)": (r_fbank, r_embed)}
    results: dict[str, dict[int, list[float]]] = {m: {} for m in methods}
    secs = {m: 0.0 for m in methods}
    minutes = 0.0
    for k, voices, seed in cases(args.seeds):
        conv = conversation(voices, seed=seed)
        minutes += len(conv.audio) / 16000 / 60
        for name, (fb, em) in methods.items():
            D.fbank, D.embed = fb, em
            t0 = time.perf_counter()
            d = D.diarize(conv.audio, k)
            secs[name] += time.perf_counter() - t0
            results[name].setdefault(k, []).append(diarization_error(conv.reference(), d.labels))
    for name, per in results.items():
        figures = "; ".join(f"{k} speakers {np.mean(v):.1%} (max {np.max(v):.1%})" for k, v in per.items())
        print(f"{name:<20} DER {figures}; {secs[name] / minutes:.2f} s per minute")


if __name__ == "__main__":
    main()
