"""Test helper: the official FCRN TensorFlow graph re-implemented in float64 NumPy, straight from the official tensors.

Written independently of depthzoo's modules, as the official ``fcrn.py``/``network.py`` graph reads (NHWC, HWIO
kernels, official layer names):
- ``conv`` with padding "SAME" pads (k-1)//2 on every side, then a VALID convolution (stride 2 on 1x1 convs reads
  every other pixel, no padding);
- ``pool1`` is TensorFlow's native SAME max-pool: out = ceil(in/2), pad_total = max((out-1)*2 + 3 - in, 0),
  pad_before = pad_total // 2, the rest after;
- batch norm: (x - mean) / sqrt(variance + 1e-4) * scale + offset;
- fast up-convolution: ConvA 3x3 pad [1,1]x[1,1], ConvB 2x3 pad [1,0]x[1,1], ConvC 3x2 pad [1,1]x[1,0],
  ConvD 2x2 pad [1,0]x[1,0] ([top,bottom]x[left,right]), placed at Y[2i,2j], Y[2i+1,2j], Y[2i,2j+1], Y[2i+1,2j+1];
- ConvPred is followed by a ReLU (``conv``'s default).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

BN_EPS = 1e-4
STAGES = {2: ("abc", 64), 3: ("abcd", 128), 4: ("abcdef", 256), 5: ("abc", 512)}


class OfficialGraph:
    def __init__(self, tensors: Mapping[str, np.ndarray]) -> None:
        self.t = {k: np.asarray(v, dtype=np.float64) for k, v in tensors.items()}

    def conv(
        self, x: np.ndarray, name: str, stride: int = 1, pads: tuple[int, int, int, int] | None = None
    ) -> np.ndarray:
        kernel = self.t[f"{name}/weights"]
        kh, kw = kernel.shape[:2]
        top, bottom, left, right = (
            pads if pads is not None else ((kh - 1) // 2, (kh - 1) // 2, (kw - 1) // 2, (kw - 1) // 2)
        )
        x = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
        windows = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]  # N, H, W, C, kh, kw
        out = np.tensordot(windows, kernel, axes=([3, 4, 5], [2, 0, 1]))
        bias = self.t.get(f"{name}/biases")
        return out + bias if bias is not None else out

    def bn(self, x: np.ndarray, name: str, relu: bool = False) -> np.ndarray:
        t = self.t
        out = (x - t[f"{name}/mean"]) / np.sqrt(t[f"{name}/variance"] + BN_EPS) * t[f"{name}/scale"] + t[
            f"{name}/offset"
        ]
        return np.maximum(out, 0.0) if relu else out

    @staticmethod
    def max_pool_tf_same(x: np.ndarray) -> np.ndarray:
        pads = []
        for size in x.shape[1:3]:
            total = max((math.ceil(size / 2) - 1) * 2 + 3 - size, 0)
            pads.append((total // 2, total - total // 2))
        x = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=-np.inf)
        return sliding_window_view(x, (3, 3), axis=(1, 2))[:, ::2, ::2].max(axis=(-2, -1))

    def bottleneck(self, x: np.ndarray, stage: int, letter: str) -> np.ndarray:
        stride = 2 if letter == "a" and stage > 2 else 1
        tag = f"{stage}{letter}"
        if letter == "a":
            shortcut = self.bn(self.conv(x, f"res{tag}_branch1", stride=stride, pads=(0, 0, 0, 0)), f"bn{tag}_branch1")
        else:
            shortcut = x
        out = self.bn(
            self.conv(x, f"res{tag}_branch2a", stride=stride, pads=(0, 0, 0, 0)), f"bn{tag}_branch2a", relu=True
        )
        out = self.bn(self.conv(out, f"res{tag}_branch2b"), f"bn{tag}_branch2b", relu=True)
        out = self.bn(self.conv(out, f"res{tag}_branch2c"), f"bn{tag}_branch2c")
        return np.maximum(out + shortcut, 0.0)

    def unpool_as_conv(self, x: np.ndarray, layer: str, relu: bool) -> np.ndarray:
        a = self.conv(x, f"layer{layer}_ConvA", pads=(1, 1, 1, 1))
        b = self.conv(x, f"layer{layer}_ConvB", pads=(1, 0, 1, 1))
        c = self.conv(x, f"layer{layer}_ConvC", pads=(1, 1, 1, 0))
        d = self.conv(x, f"layer{layer}_ConvD", pads=(1, 0, 1, 0))
        n, h, w, ch = a.shape
        y = np.empty((n, 2 * h, 2 * w, ch))
        y[:, 0::2, 0::2], y[:, 1::2, 0::2], y[:, 0::2, 1::2], y[:, 1::2, 1::2] = a, b, c, d
        return self.bn(y, f"layer{layer}_BN", relu=relu)

    def up_project(self, x: np.ndarray, block_id: str) -> np.ndarray:
        branch1 = self.unpool_as_conv(x, f"{block_id}_br1", relu=True)
        branch1 = self.bn(self.conv(branch1, f"layer{block_id}_Conv"), f"layer{block_id}_BN")
        branch2 = self.unpool_as_conv(x, f"{block_id}_br2", relu=False)
        return np.maximum(branch1 + branch2, 0.0)

    def stem(self, rgb255_nhwc: np.ndarray) -> np.ndarray:
        """conv1 -> bn_conv1 -> ReLU (before pool1)."""
        return self.bn(self.conv(rgb255_nhwc, "conv1", stride=2), "bn_conv1", relu=True)

    def __call__(self, rgb255_nhwc: np.ndarray) -> np.ndarray:
        """(N, H, W, 3) RGB in 0..255 -> (N, h, w, 1) depth."""
        x = self.max_pool_tf_same(self.stem(rgb255_nhwc))
        for stage, (letters, _) in STAGES.items():
            for letter in letters:
                x = self.bottleneck(x, stage, letter)
        x = self.bn(self.conv(x, "layer1"), "layer1_BN")
        for block_id in ("2x", "4x", "8x", "16x"):
            x = self.up_project(x, block_id)
        return np.maximum(self.conv(x, "ConvPred"), 0.0)
