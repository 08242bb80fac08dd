"""Per-image least-squares alignment of predictions to ground truth, for models known only up to scale (and shift).

Each function works on a batch of images (B, H, W) with a validity mask and returns one solution per image, solved
in float64 in closed form:

- :func:`fit_scale`: ``s = sum(p g) / sum(p^2)`` minimises ``sum((s p - g)^2)``;
- :func:`fit_scale_shift`: ``s = cov(p, g) / var(p)``, ``t = mean(g) - s mean(p)`` minimises
  ``sum((s p + t - g)^2)`` (the normal equations of MiDaS' ``compute_scale_and_shift``, solved centred, which keeps
  their precision when depths share a large offset).

Degenerate images get the least-squares solution of smallest scale: a constant prediction (or a single valid pixel)
gets ``s = 0, t = mean(g)``, an all-zero one ``s = 0``; images without a valid pixel get ``s = 1, t = 0``.

>>> p = torch.tensor([[[1.0, 2.0, 3.0]]], dtype=torch.float64)
>>> s, t = fit_scale_shift(p, 2 * p + 1, torch.ones(1, 1, 3, dtype=torch.bool))
>>> float(s[0]), float(t[0])
(2.0, 1.0)
"""

from __future__ import annotations

import torch
from torch import Tensor

ALIGNMENTS: tuple[str, ...] = ("none", "median", "scale", "scale_shift", "scale_shift_disparity")
"""How :class:`~depthzoo.metrics.DepthMetrics` aligns each prediction to its ground truth before the metrics."""


_RELATIVE_SPREAD = 1e-9


def _masked_sums(values: Tensor, mask: Tensor) -> Tensor:
    return torch.where(mask, values, 0.0).sum(dim=(-2, -1))


def fit_scale(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Per image, the scale ``s`` (B,) float64 minimising ``sum over mask of (s p - g)^2``."""
    p, g = pred.to(torch.float64), target.to(torch.float64)
    numerator, denominator = _masked_sums(p * g, mask), _masked_sums(p * p, mask)
    empty = mask.sum(dim=(-2, -1)) == 0
    scale = torch.where(denominator > 0, numerator / torch.where(denominator > 0, denominator, 1.0), 0.0)
    return torch.where(empty, 1.0, scale)


def fit_scale_shift(pred: Tensor, target: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """Per image, ``(s, t)`` (B,) float64 minimising ``sum over mask of (s p + t - g)^2``."""
    p, g = pred.to(torch.float64), target.to(torch.float64)
    count = mask.sum(dim=(-2, -1)).to(torch.float64)
    safe_count = count.clamp(min=1.0)
    p_mean = _masked_sums(p, mask) / safe_count
    g_mean = _masked_sums(g, mask) / safe_count
    p_centred = p - p_mean[:, None, None]
    variance = _masked_sums(p_centred * p_centred, mask)
    covariance = _masked_sums(p_centred * (g - g_mean[:, None, None]), mask)
    # A spread below 1e-9 of the values' size is rounding of a constant (its mean is inexact), not signal.
    spread = variance > _RELATIVE_SPREAD**2 * _masked_sums(p * p, mask)
    scale = torch.where(spread, covariance / torch.where(spread, variance, 1.0), 0.0)
    shift = g_mean - scale * p_mean
    empty = count == 0
    return torch.where(empty, 1.0, scale), torch.where(empty, 0.0, shift)


__all__ = ["ALIGNMENTS", "fit_scale", "fit_scale_shift"]
