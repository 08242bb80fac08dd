"""depthzoo: a PyTorch Lightning package with a pluggable model zoo for monocular depth estimation.

>>> import depthzoo
>>> model = depthzoo.create_model(encoder="resnet50", decoder="fast_upproj", pretrained=False)
>>> depth = model.predict(images)  # (B, 3, H, W) RGB in [0, 1] -> (B, 1, H, W) metres

Heavy parts (the Lightning task, data modules, metrics) are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from depthzoo.losses import build_loss, list_losses, register_loss
from depthzoo.models import DepthModel, create_model, list_decoders, list_encoders, register_decoder

__version__ = "0.1.0"

# Public names that live in modules with heavier imports (lightning, h5py, albumentations), loaded lazily.
_LAZY = {
    "DepthMetrics": "depthzoo.metrics",
    "DepthTask": "depthzoo.task",
    "from_fcrn_official": "depthzoo.official",
    "save_model": "depthzoo.io",
    "load_model": "depthzoo.io",
    "list_checkpoints": "depthzoo.hub",
    "load_checkpoint": "depthzoo.hub",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'depthzoo' has no attribute {name!r}")


__all__ = [
    "DepthModel",
    "__version__",
    "build_loss",
    "create_model",
    "list_decoders",
    "list_encoders",
    "list_losses",
    "register_decoder",
    "register_loss",
    *_LAZY,
]
