"""Depth losses, all masked by valid ground truth, in a registry: berhu, l1, l2, silog, ssi, gradient_matching.

Weighted sums of them are losses too: ``build_loss("ssi+0.5*gradient_matching")`` or :func:`build_losses`.

Every module of this folder is imported here, so a new loss file registering itself with ``@register_loss`` is
found without editing a list; other packages register through the ``depthzoo.losses`` entry points.
"""

from depthzoo.losses.base import MaskedDepthLoss
from depthzoo.losses.berhu import BerHuLoss
from depthzoo.losses.pointwise import L1Loss, L2Loss
from depthzoo.losses.registry import LOSSES, WeightedSumLoss, build_loss, build_losses, list_losses, register_loss
from depthzoo.losses.relative import GradientMatchingLoss, ScaleShiftInvariantLoss
from depthzoo.losses.silog import SILogLoss
from depthzoo.registry import import_submodules

import_submodules(__name__)

__all__ = [
    "LOSSES",
    "BerHuLoss",
    "GradientMatchingLoss",
    "L1Loss",
    "L2Loss",
    "MaskedDepthLoss",
    "SILogLoss",
    "ScaleShiftInvariantLoss",
    "WeightedSumLoss",
    "build_loss",
    "build_losses",
    "list_losses",
    "register_loss",
]
