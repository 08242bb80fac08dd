"""Depth losses, all masked by valid ground truth, in a registry: berhu, l1, l2, silog.

Every module of this folder is imported here, so a new loss file registering itself with ``@register_loss`` is
found without editing a list; other packages register through the ``depthzoo.losses`` entry points.
"""

from depthzoo.losses.base import MaskedDepthLoss
from depthzoo.losses.berhu import BerHuLoss
from depthzoo.losses.pointwise import L1Loss, L2Loss
from depthzoo.losses.registry import LOSSES, build_loss, list_losses, register_loss
from depthzoo.losses.silog import SILogLoss
from depthzoo.registry import import_submodules

import_submodules(__name__)

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
