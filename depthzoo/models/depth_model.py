"""DepthModel: an encoder and a decoder as one plain ``nn.Module`` mapping RGB in [0, 1] to metric depth."""

from __future__ import annotations

import math
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from typing_extensions import override

from depthzoo.errors import InvalidArgumentError

OutputKind = Literal["metric", "relative_disparity"]
OUTPUT_KINDS: tuple[str, ...] = ("metric", "relative_disparity")


class DepthModel(nn.Module):
    """Monocular depth network. Does its encoder's input normalisation itself.

    ``model(x)`` takes (B, 3, H, W) float RGB in [0, 1] and returns depth in metres, (B, 1, h, w), at the decoder's
    native resolution (``h ~ H / output_stride``); ``model.predict(x)`` returns (B, 1, H, W) at the input size.

    ``model.output_kind`` says what the output means: ``"metric"`` (metres) or ``"relative_disparity"``
    (affine-invariant inverse depth: known only up to a scale and a shift, larger is nearer). It comes from the
    config when given there, else from the decoder's ``output_kind`` attribute (default ``"metric"``), and is saved
    with the config.

    Args:
        encoder: module returning a list of NCHW feature maps, with ``mean``, ``std`` and ``input_multiple``.
        decoder: module mapping that list to (B, 1, h, w), with ``output_stride``.
        config: how the model was built (encoder/decoder names and options), kept for saving and reloading.
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, config: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.config: dict[str, Any] = dict(config or {})
        kind = self.config.get("output_kind") or getattr(decoder, "output_kind", "metric")
        if kind not in OUTPUT_KINDS:
            raise InvalidArgumentError(f"output_kind must be one of {OUTPUT_KINDS}, got {kind!r}")
        self.config["output_kind"] = kind
        mean = torch.tensor(getattr(encoder, "mean", (0.0, 0.0, 0.0)), dtype=torch.float32).view(1, -1, 1, 1)
        std = torch.tensor(getattr(encoder, "std", (1.0, 1.0, 1.0)), dtype=torch.float32).view(1, -1, 1, 1)
        # Derived from the encoder, so not saved in state dicts.
        self.register_buffer("input_mean", mean, persistent=False)
        self.register_buffer("input_std", std, persistent=False)
        self.input_multiple = int(getattr(encoder, "input_multiple", 1))

    @property
    def output_kind(self) -> OutputKind:
        """``"metric"`` (metres) or ``"relative_disparity"`` (inverse depth up to an unknown scale and shift)."""
        return self.config["output_kind"]

    @override
    def extra_repr(self) -> str:
        return f"output_kind={self.output_kind!r}, output_stride={self.output_stride}"

    @property
    def output_stride(self) -> int:
        """Nominal ratio of input size to native output size (2 for FCRN: 228x304 -> 128x160)."""
        return int(getattr(self.decoder, "output_stride", 1))

    def _check_input(self, x: Tensor) -> None:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"expected RGB images shaped (B, 3, H, W), got {tuple(x.shape)}")
        if not x.is_floating_point():
            raise TypeError(f"expected a float tensor with values in [0, 1], got {x.dtype}; use x.float() / 255")

    @override
    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        height, width = x.shape[-2:]
        x = (x - self.input_mean.to(x.dtype)) / self.input_std.to(x.dtype)
        pad_h = -height % self.input_multiple
        pad_w = -width % self.input_multiple
        if pad_h or pad_w:  # patch embeddings that need a multiple of the patch size: pad, then crop the output
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        depth = self.decoder(self.encoder(x))
        if pad_h or pad_w:
            keep_h = math.ceil(depth.shape[-2] * height / (height + pad_h))
            keep_w = math.ceil(depth.shape[-1] * width / (width + pad_w))
            depth = depth[..., :keep_h, :keep_w]
        return depth

    def predict(self, x: Tensor) -> Tensor:
        """Depth in metres at the input size, (B, 1, H, W): eval mode, no gradients, bilinear up-sampling.

        Also checks that the images are in [0, 1] (a common mistake is passing 0..255 values).
        """
        self._check_input(x)
        peak = float(x.detach().amax()) if x.numel() else 0.0
        if peak > 1.0 + 1e-3:
            raise ValueError(f"expected images in [0, 1], got values up to {peak:g}; divide 8-bit images by 255")
        was_training = self.training
        self.eval()
        try:
            with torch.inference_mode():
                depth = self(x)
                return F.interpolate(depth, size=x.shape[-2:], mode="bilinear", align_corners=False)
        finally:
            self.train(was_training)
