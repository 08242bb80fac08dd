"""The reverse Huber (berHu) loss of Laina et al. 2016."""

from __future__ import annotations

import torch
from torch import Tensor
from typing_extensions import override

from depthzoo.errors import InvalidArgumentError
from depthzoo.losses.base import MaskedDepthLoss
from depthzoo.losses.registry import register_loss


@register_loss("berhu")
class BerHuLoss(MaskedDepthLoss):
    """B(x) = |x| for |x| <= c, (x^2 + c^2) / (2c) otherwise, with x = pred - target on valid pixels.

    c = ``threshold`` * max|x| over the valid pixels of the whole batch (0.2 in the paper), treated as a constant
    (no gradient through the max). The gradient is sign(x) inside the threshold and x / c outside. Mean over valid
    pixels. When every residual is 0, c is 0 and the loss is 0 (the quadratic branch is never taken).

    Residuals 1 and 5 give c = 0.2 * 5 = 1: |1| = 1 and (25 + 1) / 2 = 13, so the mean is 7.

    >>> loss = BerHuLoss()
    >>> float(loss(torch.tensor([[[[2.0, 6.0]]]]), torch.tensor([[[[1.0, 1.0]]]])))
    7.0
    """

    def __init__(self, threshold: float = 0.2) -> None:
        super().__init__()
        if not threshold > 0:
            raise InvalidArgumentError(f"threshold must be > 0 (the paper uses 0.2), got {threshold}")
        self.threshold = threshold

    @override
    def reduce(self, pred: Tensor, target: Tensor) -> Tensor:
        diff = pred - target
        abs_diff = diff.abs()
        c = (self.threshold * abs_diff.max()).detach()
        safe_c = torch.clamp(c, min=torch.finfo(diff.dtype).tiny)
        quadratic = (diff * diff + c * c) / (2 * safe_c)
        return torch.where(abs_diff <= c, abs_diff, quadratic).mean()
