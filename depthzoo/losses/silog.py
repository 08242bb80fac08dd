"""The scale-invariant log loss (Eigen et al. 2014) in the form BTS trains with."""

from __future__ import annotations

import torch
from torch import Tensor
from typing_extensions import override

from depthzoo.errors import InvalidArgumentError
from depthzoo.losses.base import MaskedDepthLoss
from depthzoo.losses.registry import register_loss


@register_loss("silog")
class SILogLoss(MaskedDepthLoss):
    """scale * sqrt(mean(e^2) - lambd * mean(e)^2), e = log(pred) - log(target) on valid pixels.

    ``lambd`` = 0.85 and ``scale`` = 10 are BTS' training values; lambd = 1 makes it fully scale invariant.
    Predictions are clamped to ``min_depth`` before the log (a ReLU head can output 0), and the variance is
    clamped at ``eps`` before the square root, so neither log(0) nor sqrt(0) can produce inf/NaN gradients.
    """

    def __init__(self, lambd: float = 0.85, scale: float = 10.0, min_depth: float = 1e-3, eps: float = 1e-8) -> None:
        super().__init__()
        if not 0 <= lambd <= 1:
            raise InvalidArgumentError(f"lambd must be in [0, 1], got {lambd}")
        self.lambd, self.scale, self.min_depth, self.eps = lambd, scale, min_depth, eps

    @override
    def reduce(self, pred: Tensor, target: Tensor) -> Tensor:
        e = torch.log(pred.clamp(min=self.min_depth)) - torch.log(target)
        variance = (e * e).mean() - self.lambd * e.mean() ** 2
        return self.scale * torch.sqrt(variance.clamp(min=self.eps))
