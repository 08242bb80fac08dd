"""The relative-depth losses of MiDaS (Ranftl et al. 2020): scale-and-shift-invariant and multi-scale gradient matching.

Both align each image's prediction to its target by least squares, ``s p + t`` (the closed form of
:func:`depthzoo.metrics.alignment.fit_scale_shift`, differentiated through as MiDaS does), before comparing. A
relative model (``output_kind: relative_disparity``) is trained on disparity targets (1 / depth on valid pixels),
so the alignment happens in disparity space. Sums over the batch are divided by the batch's valid pixel count
(MiDaS' "batch-based" reduction).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from typing_extensions import override

from depthzoo.errors import InvalidArgumentError
from depthzoo.losses.base import MaskedDepthLoss
from depthzoo.losses.registry import register_loss
from depthzoo.metrics.alignment import fit_scale_shift


def aligned_residuals(pred: Tensor, target: Tensor, mask: Tensor, align: bool = True) -> Tensor:
    """``s p + t - g`` per image (0 outside ``mask``), (B, 1, H, W) in ``pred``'s dtype (at least float32).

    Invalid pixels are zeroed before any arithmetic, so their values (NaN, inf, anything) reach neither the
    alignment nor the gradient.
    """
    dtype = torch.promote_types(pred.dtype, torch.float32)
    p = torch.where(mask, pred.to(dtype), 0.0)
    g = torch.where(mask, target.to(dtype), 0.0)
    if align:
        scale, shift = fit_scale_shift(p[:, 0], g[:, 0], mask[:, 0])
        p = p * scale.to(dtype).view(-1, 1, 1, 1) + shift.to(dtype).view(-1, 1, 1, 1)
    return torch.where(mask, p - g, 0.0)


@register_loss("ssi")
class ScaleShiftInvariantLoss(MaskedDepthLoss):
    """MiDaS' scale-and-shift-invariant loss: ``sum(r^2) / (2 M)`` with ``r = s p + t - g`` aligned per image.

    ``(s, t)`` solve least squares over each image's valid pixels; ``M`` is the number of pixels that count in
    the batch. ``trim`` drops, per image, that fraction of the valid pixels with the largest ``|r|`` (MiDaS'
    trimmed loss uses 0.2), which keeps wrong ground truth (reflections, sensor errors) from dominating.

    An exact affine copy of the target costs nothing:

    >>> g = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    >>> round(float(ScaleShiftInvariantLoss()(3 * g - 5, g)), 9)
    0.0

    Args:
        trim: fraction of each image's valid pixels, those with the largest residuals, left out (0 <= trim < 1).
    """

    affine_invariant = True

    def __init__(self, trim: float = 0.0) -> None:
        super().__init__()
        if isinstance(trim, bool) or not isinstance(trim, (int, float)) or not 0.0 <= trim < 1.0:
            raise InvalidArgumentError(f"trim must be a fraction in [0, 1) (MiDaS uses 0.2), got {trim!r}")
        self.trim = float(trim)

    @override
    def extra_repr(self) -> str:
        return f"trim={self.trim}" if self.trim else ""

    @override
    def forward(self, pred: Tensor, target: Tensor, valid: Tensor | None = None) -> Tensor:
        mask = self.valid_mask(pred, target, valid)
        squared = aligned_residuals(pred, target, mask).square()
        if self.trim > 0:
            mask = mask & self._kept(squared, mask)
        count = mask.sum()
        if int(count) == 0:
            return (pred * 0.0).sum()
        return torch.where(mask, squared, 0.0).sum() / (2 * count)

    def _kept(self, squared: Tensor, mask: Tensor) -> Tensor:
        """Per image, the ceil((1 - trim) n) valid pixels with the smallest squared residuals."""
        kept = torch.zeros_like(mask)
        for index in range(mask.shape[0]):
            count = int(mask[index].sum())
            keep = math.ceil((1.0 - self.trim) * count)
            if keep == 0:
                continue
            values = torch.where(mask[index], squared[index].detach(), torch.inf).flatten()
            order = torch.argsort(values, stable=True)[:keep]
            kept[index].view(-1)[order] = True
        return kept


@register_loss("gradient_matching")
class GradientMatchingLoss(MaskedDepthLoss):
    """MiDaS' multi-scale gradient-matching loss on the aligned residual ``r = s p + t - g``.

    At each of ``scales`` scales (every 2^k-th pixel, k = 0 .. scales - 1, as MiDaS subsamples), the sum of
    ``|r(x+1) - r(x)|`` and ``|r(y+1) - r(y)|`` over neighbours that are both valid, divided by the number of valid
    pixels at that scale in the batch; the scales are summed. It asks depth edges to sit where the target's are.

    Args:
        scales: number of scales (MiDaS: 4).
        align: align each image by least squares first (MiDaS); False compares raw gradients (metric models).
    """

    def __init__(self, scales: int = 4, align: bool = True) -> None:
        super().__init__()
        if isinstance(scales, bool) or not isinstance(scales, int) or scales < 1:
            raise InvalidArgumentError(f"scales must be a positive integer (MiDaS uses 4), got {scales!r}")
        self.scales, self.align = scales, bool(align)
        self.affine_invariant = self.align

    @override
    def extra_repr(self) -> str:
        return f"scales={self.scales}, align={self.align}"

    @override
    def forward(self, pred: Tensor, target: Tensor, valid: Tensor | None = None) -> Tensor:
        mask = self.valid_mask(pred, target, valid)
        residual = aligned_residuals(pred, target, mask, self.align)
        total = (pred * 0.0).sum()
        for level in range(self.scales):
            step = 2**level
            r, m = residual[..., ::step, ::step], mask[..., ::step, ::step]
            count = m.sum()
            if int(count) == 0:
                continue
            across = torch.where(m[..., :, 1:] & m[..., :, :-1], (r[..., :, 1:] - r[..., :, :-1]).abs(), 0.0)
            down = torch.where(m[..., 1:, :] & m[..., :-1, :], (r[..., 1:, :] - r[..., :-1, :]).abs(), 0.0)
            total = total + (across.sum() + down.sum()) / count
        return total


__all__ = ["GradientMatchingLoss", "ScaleShiftInvariantLoss", "aligned_residuals"]
