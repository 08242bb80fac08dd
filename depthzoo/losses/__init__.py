"""Depth losses, all masked by valid ground truth, in a registry: berhu, l1, l2, silog."""

from depthzoo.losses import berhu, pointwise, silog  # noqa: F401  (registration)
from depthzoo.losses.base import MaskedDepthLoss
from depthzoo.losses.berhu import BerHuLoss
from depthzoo.losses.pointwise import L1Loss, L2Loss
from depthzoo.losses.registry import LOSSES, build_loss, list_losses, register_loss
from depthzoo.losses.silog import SILogLoss

__all__ = [
    "LOSSES",
    "BerHuLoss",
    "L1Loss",
    "L2Loss",
    "MaskedDepthLoss",
    "SILogLoss",
    "build_loss",
    "list_losses",
    "register_loss",
]
