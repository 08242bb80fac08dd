"""An independent float64 numpy forward pass of Depth Anything V2, written from the facts, on release-named weights.

It shares no code with depthzoo: its own patch embedding, bicubic position-embedding resampling (scale factor
(grid + 0.1) / 37, PyTorch's convention of a=-0.75, half-pixel centres, clamped borders), attention, LayerNorm,
GELU, DPT reassembly, residual conv units, bilinear ``align_corners=True`` resizing and head.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erf

MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])
PATCH = 14
TRAINED_GRID = 37


# ------------------------------------------------------------------------------------------------ resampling
def cubic_weights(t: np.ndarray, a: float = -0.75) -> np.ndarray:
    """Keys' cubic convolution weights of the 4 taps at offsets -1, 0, 1, 2 from floor(src), for fractions t."""
    def near(d: np.ndarray) -> np.ndarray:  # |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d: np.ndarray) -> np.ndarray:  # 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=-1)


def bicubic_matrix(size_in: int, size_out: int, scale: float) -> np.ndarray:
    """(size_out, size_in) resampling matrix: output i reads input coordinate (i + 0.5) / scale - 0.5."""
    matrix = np.zeros((size_out, size_in))
    for i in range(size_out):
        src = (i + 0.5) / scale - 0.5
        base = int(np.floor(src))
        for tap, weight in zip(range(base - 1, base + 3), cubic_weights(np.array(src - base))):
            matrix[i, min(max(tap, 0), size_in - 1)] += weight
    return matrix


def bilinear_align_corners_matrix(size_in: int, size_out: int) -> np.ndarray:
    """(size_out, size_in) matrix of bilinear resizing with the corner pixels aligned."""
    matrix = np.zeros((size_out, size_in))
    for i in range(size_out):
        src = i * (size_in - 1) / (size_out - 1) if size_out > 1 else 0.0
        lo = int(np.floor(src))
        hi = min(lo + 1, size_in - 1)
        frac = src - lo
        matrix[i, lo] += 1 - frac
        matrix[i, hi] += frac
    return matrix


def resize_maps(x: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Separable resizing of (C, H, W) maps with (H', H) and (W', W) matrices."""
    return np.einsum("ih,chw,jw->cij", rows, x, cols, optimize=True)


def position_embedding(pos_embed: np.ndarray, grid_h: int, grid_w: int) -> np.ndarray:
    """(1 + gh * gw, C) embedding: the class token's as it is, the 37x37 patch grid by the 0.1-offset rule."""
    pos = pos_embed[0]
    if (grid_h, grid_w) == (TRAINED_GRID, TRAINED_GRID):
        return pos
    grid = pos[1:].reshape(TRAINED_GRID, TRAINED_GRID, -1).transpose(2, 0, 1)
    rows = bicubic_matrix(TRAINED_GRID, grid_h, (grid_h + 0.1) / TRAINED_GRID)
    cols = bicubic_matrix(TRAINED_GRID, grid_w, (grid_w + 0.1) / TRAINED_GRID)
    patches = resize_maps(grid, rows, cols).transpose(1, 2, 0).reshape(grid_h * grid_w, -1)
    return np.concatenate([pos[:1], patches], axis=0)


# ------------------------------------------------------------------------------------------------ transformer
def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1 + erf(x / np.sqrt(2.0)))


def block(x: np.ndarray, w: dict[str, np.ndarray], prefix: str, heads: int) -> np.ndarray:
    tokens, width = x.shape
    head_dim = width // heads
    h = layer_norm(x, w[prefix + "norm1.weight"], w[prefix + "norm1.bias"])
    qkv = (h @ w[prefix + "attn.qkv.weight"].T + w[prefix + "attn.qkv.bias"]).reshape(tokens, 3, heads, head_dim)
    q, k, v = (qkv[:, i].transpose(1, 0, 2) for i in range(3))  # (heads, tokens, head_dim)
    logits = q @ k.transpose(0, 2, 1) / np.sqrt(head_dim)
    logits -= logits.max(-1, keepdims=True)
    attn = np.exp(logits)
    attn /= attn.sum(-1, keepdims=True)
    out = (attn @ v).transpose(1, 0, 2).reshape(tokens, width)
    out = out @ w[prefix + "attn.proj.weight"].T + w[prefix + "attn.proj.bias"]
    x = x + w[prefix + "ls1.gamma"] * out
    h = layer_norm(x, w[prefix + "norm2.weight"], w[prefix + "norm2.bias"])
    h = gelu(h @ w[prefix + "mlp.fc1.weight"].T + w[prefix + "mlp.fc1.bias"])
    h = h @ w[prefix + "mlp.fc2.weight"].T + w[prefix + "mlp.fc2.bias"]
    return x + w[prefix + "ls2.gamma"] * h


def encoder_features(
    w: dict[str, np.ndarray], image: np.ndarray, indices: tuple[int, ...], heads: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(patch tokens (gh*gw, C), class token (C,)) after the final norm, at each chosen block."""
    x = (image - MEAN[:, None, None]) / STD[:, None, None]
    height, width = x.shape[1:]
    gh, gw = height // PATCH, width // PATCH
    kernel = w["pretrained.patch_embed.proj.weight"]
    channels = kernel.shape[0]
    patches = x[:, : gh * PATCH, : gw * PATCH].reshape(3, gh, PATCH, gw, PATCH).transpose(1, 3, 0, 2, 4)
    tokens = patches.reshape(gh * gw, -1) @ kernel.reshape(channels, -1).T + w["pretrained.patch_embed.proj.bias"]
    tokens = np.concatenate([w["pretrained.cls_token"][0], tokens], axis=0)
    tokens = tokens + position_embedding(w["pretrained.pos_embed"], gh, gw)
    features = []
    blocks = 1 + max(int(k.split(".")[2]) for k in w if k.startswith("pretrained.blocks."))
    for b in range(blocks):
        tokens = block(tokens, w, f"pretrained.blocks.{b}.", heads)
        if b in indices:
            normed = layer_norm(tokens, w["pretrained.norm.weight"], w["pretrained.norm.bias"])
            features.append((normed[1:], normed[0]))
    return features


# ------------------------------------------------------------------------------------------------ DPT head
def conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Cross-correlation of (C, H, W) with (O, C, k, k), zero padding."""
    out_ch, _, kh, kw = weight.shape
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding)))
    ho = (xp.shape[1] - kh) // stride + 1
    wo = (xp.shape[2] - kw) // stride + 1
    out = np.zeros((out_ch, ho, wo))
    for dy in range(kh):
        for dx in range(kw):
            window = xp[:, dy : dy + stride * (ho - 1) + 1 : stride, dx : dx + stride * (wo - 1) + 1 : stride]
            out += np.tensordot(weight[:, :, dy, dx], window, axes=(1, 0))
    return out if bias is None else out + bias[:, None, None]


def transposed_conv_nonoverlapping(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Transposed convolution whose kernel equals its stride: every input pixel paints its own k x k tile."""
    _, out_ch, k, _ = weight.shape
    channels, height, width = x.shape
    tiles = np.einsum("chw,coyx->ohywx", x, weight, optimize=True)
    return tiles.reshape(out_ch, height * k, width * k) + bias[:, None, None]


def residual_unit(x: np.ndarray, w: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    out = conv2d(np.maximum(x, 0), w[prefix + "conv1.weight"], w[prefix + "conv1.bias"], padding=1)
    out = conv2d(np.maximum(out, 0), w[prefix + "conv2.weight"], w[prefix + "conv2.bias"], padding=1)
    return out + x


def bilinear_resize(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(C, H, W) -> (C, *size), bilinear with aligned corners."""
    rows = bilinear_align_corners_matrix(x.shape[1], size[0])
    return resize_maps(x, rows, bilinear_align_corners_matrix(x.shape[2], size[1]))


def fusion(
    w: dict[str, np.ndarray], k: int, x: np.ndarray, skip: np.ndarray | None, size: tuple[int, int]
) -> np.ndarray:
    prefix = f"depth_head.scratch.refinenet{k}."
    if skip is not None:
        x = x + residual_unit(skip, w, prefix + "resConfUnit1.")
    x = residual_unit(x, w, prefix + "resConfUnit2.")
    return conv2d(bilinear_resize(x, size), w[prefix + "out_conv.weight"], w[prefix + "out_conv.bias"])


def head_logits(
    w: dict[str, np.ndarray], features: list[tuple[np.ndarray, np.ndarray]], gh: int, gw: int
) -> np.ndarray:
    """The head's output before its last activation, (H, W) = (14 gh, 14 gw)."""
    h = "depth_head."
    levels = []
    for i, (tokens, cls) in enumerate(features):
        if h + f"readout_projects.{i}.0.weight" in w:
            joined = np.concatenate([tokens, np.broadcast_to(cls, tokens.shape)], axis=-1)
            tokens = gelu(joined @ w[h + f"readout_projects.{i}.0.weight"].T + w[h + f"readout_projects.{i}.0.bias"])
        x = tokens.T.reshape(-1, gh, gw)
        x = conv2d(x, w[h + f"projects.{i}.weight"], w[h + f"projects.{i}.bias"])
        if i in (0, 1):
            x = transposed_conv_nonoverlapping(x, w[h + f"resize_layers.{i}.weight"], w[h + f"resize_layers.{i}.bias"])
        elif i == 3:
            x = conv2d(x, w[h + "resize_layers.3.weight"], w[h + "resize_layers.3.bias"], stride=2, padding=1)
        levels.append(conv2d(x, w[h + f"scratch.layer{i + 1}_rn.weight"], None, padding=1))
    l1, l2, l3, l4 = levels
    path = fusion(w, 4, l4, None, l3.shape[1:])
    path = fusion(w, 3, path, l3, l2.shape[1:])
    path = fusion(w, 2, path, l2, l1.shape[1:])
    path = fusion(w, 1, path, l1, (2 * l1.shape[1], 2 * l1.shape[2]))
    out = conv2d(path, w[h + "scratch.output_conv1.weight"], w[h + "scratch.output_conv1.bias"], padding=1)
    out = bilinear_resize(out, (PATCH * gh, PATCH * gw))
    out = conv2d(out, w[h + "scratch.output_conv2.0.weight"], w[h + "scratch.output_conv2.0.bias"], padding=1)
    return conv2d(np.maximum(out, 0), w[h + "scratch.output_conv2.2.weight"], w[h + "scratch.output_conv2.2.bias"])[0]


def forward_logits(w: dict[str, np.ndarray], image: np.ndarray, indices: tuple[int, ...], heads: int) -> np.ndarray:
    """Depth Anything V2 on one (3, H, W) RGB image in [0, 1] up to the head's last activation, float64."""
    features = encoder_features(w, image, indices, heads)
    return head_logits(w, features, image.shape[1] // PATCH, image.shape[2] // PATCH)


def relative_output(logits: np.ndarray) -> np.ndarray:
    """The relative releases: ReLU in the head, then ReLU again."""
    return np.maximum(np.maximum(logits, 0), 0)


def metric_output(logits: np.ndarray, max_depth: float) -> np.ndarray:
    """The metric releases: sigmoid x max_depth."""
    return max_depth / (1 + np.exp(-logits))
