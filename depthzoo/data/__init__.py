"""Datasets, augmentations and LightningDataModules for NYU Depth v2 and KITTI.

Names are imported on first access, so ``import depthzoo.data.<module>`` stays light (no Lightning,
no albumentations) for code that needs only one reader or the synthetic renderer.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "NYUv2DataModule": "depthzoo.data.datamodules",
    "KITTIDataModule": "depthzoo.data.datamodules",
    "NYUv2Mat": "depthzoo.data.nyu",
    "NYUv2Sync": "depthzoo.data.nyu",
    "KITTIEigen": "depthzoo.data.kitti",
    "repack_mat": "depthzoo.data.nyu",
    "write_synthetic_nyu": "depthzoo.data.synthetic",
    "render_scene": "depthzoo.data.synthetic",
    "make_eval_sampler": "depthzoo.data.samplers",
    "DistributedEvalSampler": "depthzoo.data.samplers",
    "TrainTransform": "depthzoo.data.transforms",
    "EvalTransform": "depthzoo.data.transforms",
    "DatasetNotFoundError": "depthzoo.data.errors",
    "CorruptDataError": "depthzoo.data.errors",
    "SplitListError": "depthzoo.data.errors",
    "ShapeMismatchError": "depthzoo.data.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'depthzoo.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
