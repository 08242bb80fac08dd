"""Plain masked L1 and L2 depth losses (the paper's L2 baseline)."""

from __future__ import annotations

from torch import Tensor
from typing_extensions import override

from depthzoo.losses.base import MaskedDepthLoss
from depthzoo.losses.registry import register_loss


@register_loss("l1")
class L1Loss(MaskedDepthLoss):
    """Mean absolute error over valid pixels."""

    @override
    def reduce(self, pred: Tensor, target: Tensor) -> Tensor:
        return (pred - target).abs().mean()


@register_loss("l2")
class L2Loss(MaskedDepthLoss):
    """Mean squared error over valid pixels."""

    @override
    def reduce(self, pred: Tensor, target: Tensor) -> Tensor:
        return (pred - target).pow(2).mean()
