"""depthzoo: a PyTorch Lightning package with a pluggable model zoo for monocular depth estimation.

>>> import torch, depthzoo
>>> model = depthzoo.create_model(encoder="resnet18", decoder="fast_upproj", pretrained=False)
>>> images = torch.rand(2, 3, 64, 96)   # RGB in [0, 1]
>>> model.predict(images).shape         # depth in metres at the input size
torch.Size([2, 1, 64, 96])

``depthzoo.load(source)`` loads any trained model: a known checkpoint name, a model file, a Lightning ``.ckpt``, a
``save_pretrained`` folder, the official FCRN release or a Hugging Face repository id.

Heavy parts (the Lightning task, data modules, metrics, weight readers) are imported on first use.
"""

from __future__ import annotations

from depthzoo import hub as hub  # connects DepthModel's Hub methods (save_pretrained, from_pretrained) to their work
from depthzoo.errors import DepthzooError
from depthzoo.losses import build_loss, list_losses, register_loss
from depthzoo.models import DepthModel, create_model, list_decoders, list_encoders, register_decoder
from depthzoo.utils.lazy import lazy_exports
from depthzoo.version import __version__

# Public names that live in modules with heavier imports (lightning, h5py, albumentations), loaded lazily.
_LAZY = {
    "depthzoo.metrics": ["DepthMetrics"],
    "depthzoo.task": ["DepthTask"],
    "depthzoo.weights.fcrn": ["from_fcrn_official"],
    "depthzoo.weights.depth_anything": ["from_depth_anything_v2"],
    "depthzoo.weights.model_file": ["save_model", "load_model"],
    "depthzoo.weights.manifest": ["list_checkpoints", "load_checkpoint"],
    "depthzoo.weights.loader": ["load"],
    "depthzoo.export": ["export_model"],
}

__getattr__, _lazy_dir = lazy_exports(__name__, _LAZY)

__all__ = [
    "DepthModel",
    "DepthzooError",
    "__version__",
    "build_loss",
    "create_model",
    "list_decoders",
    "list_encoders",
    "list_losses",
    "register_decoder",
    "register_loss",
    *(name for names in _LAZY.values() for name in names),
]
