"""Masked depth losses: only pixels with valid ground truth (finite depth > 0) count."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class MaskedDepthLoss(nn.Module):
    """Base class: ``loss(pred, target, valid=None)`` on (B, 1, H, W) tensors of equal size.

    The mask is ``target > 0`` and finite, AND-ed with ``valid`` when given. Subclasses implement
    ``reduce(pred, target)`` on the 1-D tensors of valid pixels, or, when they need the images' layout (per-image
    alignment, gradients), ``forward`` itself with :meth:`valid_mask`. A batch without any valid pixel gives a zero that
    is still connected to ``pred`` (so backward works and gives zero gradients), never NaN.
    """

    affine_invariant: bool = False
    """Whether the loss ignores a per-image scale and shift of the prediction (it then trains relative depth)."""

    def forward(self, pred: Tensor, target: Tensor, valid: Tensor | None = None) -> Tensor:
        """The loss over the valid pixels of (B, 1, H, W) ``pred`` and ``target``; ``valid`` narrows the mask."""
        mask = self.valid_mask(pred, target, valid)
        if not bool(mask.any()):
            return (pred * 0.0).sum()
        return self.reduce(pred[mask], target[mask])

    def valid_mask(self, pred: Tensor, target: Tensor, valid: Tensor | None = None) -> Tensor:
        """The pixels that count: finite ``target`` > 0, AND ``valid``; checks that the shapes agree."""
        if pred.shape != target.shape:
            raise ValueError(
                f"prediction {tuple(pred.shape)} and target {tuple(target.shape)} differ in shape; resize the target "
                f"to the prediction (nearest, so invalid pixels stay invalid) before the loss"
            )
        mask = torch.isfinite(target) & (target > 0)
        if valid is not None:
            if valid.shape != target.shape:
                raise ValueError(f"valid mask {tuple(valid.shape)} and target {tuple(target.shape)} differ in shape")
            mask &= valid.bool()
        return mask

    def reduce(self, pred: Tensor, target: Tensor) -> Tensor:
        """The loss of the valid pixels, given as two 1-D tensors of equal length (implemented by each loss)."""
        raise NotImplementedError
