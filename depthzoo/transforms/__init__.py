"""Sample transforms: the FCRN paper's training augmentation, the evaluation transform, and resize/crop helpers.

- :mod:`~depthzoo.transforms.pipelines`: :class:`TrainTransform` and :class:`EvalTransform` (numpy sample -> tensors);
- :mod:`~depthzoo.transforms.scale_rotate_crop`: zoom, rotation and crop in one warp (an albumentations transform);
- :mod:`~depthzoo.transforms.resize`: resizing (depth always nearest) with the focal length following the image.
"""

from depthzoo.transforms.pipelines import EvalTransform, TrainTransform

__all__ = ["EvalTransform", "TrainTransform"]
