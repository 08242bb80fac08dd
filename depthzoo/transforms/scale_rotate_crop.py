"""The FCRN paper's rotation, random scaling and random crop as one albumentations transform (one warp).

Applied one after the other (``Rotate`` -> ``RandomScale`` -> ``RandomCrop``) the three steps warp the whole
image, resize it to up to 1.5x (2.25x the pixels) and then throw most of it away. They are one affine map, so
this transform draws the same parameters (angle, scale, crop offset in the scaled image) and warps once,
straight into the crop: the same geometry on up to 2.25x fewer pixels per target, one interpolation instead
of two for the image. Masks (depth, validity) use nearest interpolation, so every output value is an input
value; pixels from outside the image are 0 (= invalid). The caller divides depth by ``scale``.
"""
from __future__ import annotations

from typing import Any

import albumentations as A
import cv2
import numpy as np
from typing_extensions import override


class ScaleRotateCrop(A.DualTransform):
    """Rotate by U(-rotation_deg, rotation_deg) about the centre, scale by U(scale_range), crop (height, width).

    The crop offset is uniform over the scaled image, as ``RandomCrop`` after ``RandomScale``; a scaled image
    smaller than the crop is centred in it with 0 around (as ``PadIfNeeded``). The drawn ``scale``, ``angle``
    and ``offset`` are returned as the applied parameters.
    """

    def __init__(
        self,
        height: int,
        width: int,
        scale_range: tuple[float, float] = (1.0, 1.5),
        rotation_deg: float = 5.0,
        interpolation: int = cv2.INTER_LINEAR,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.height, self.width = int(height), int(width)
        self.scale_range = (float(scale_range[0]), float(scale_range[1]))
        self.rotation_deg = float(rotation_deg)
        self.interpolation = interpolation

    @override
    @property
    def targets_as_params(self) -> list[str]:
        return ["image"]

    @override
    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        rows, cols = params["shape"][:2]
        scale = self.py_random.uniform(*self.scale_range)
        angle = self.py_random.uniform(-self.rotation_deg, self.rotation_deg)
        scaled_rows, scaled_cols = int(round(rows * scale)), int(round(cols * scale))
        top = self._offset(scaled_rows, self.height)
        left = self._offset(scaled_cols, self.width)
        # Pixel-centre coordinates: rotate and scale about the centre c, then move the scaled canvas' origin
        # (cv2.resize's x' = (x + 0.5) s - 0.5) and the crop's top-left corner to 0.
        centre = ((cols - 1) / 2.0, (rows - 1) / 2.0)
        matrix = cv2.getRotationMatrix2D(centre, angle, scale)
        matrix[0, 2] += (scale - 1.0) * cols / 2.0 - left
        matrix[1, 2] += (scale - 1.0) * rows / 2.0 - top
        return {"matrix": matrix, "scale": scale, "angle": angle, "offset": (top, left)}

    def _offset(self, scaled: int, crop: int) -> int:
        if scaled >= crop:
            return self.py_random.randint(0, scaled - crop)
        return -((crop - scaled) // 2)  # centred, 0 around

    def _warp(self, array: np.ndarray, matrix: np.ndarray, interpolation: int) -> np.ndarray:
        return cv2.warpAffine(
            array, matrix, (self.width, self.height), flags=interpolation,
            borderMode=cv2.BORDER_CONSTANT, borderValue=0,
        )

    @override
    def apply(self, img: np.ndarray, matrix: np.ndarray, **params: Any) -> np.ndarray:
        return self._warp(img, matrix, self.interpolation)

    @override
    def apply_to_mask(self, mask: np.ndarray, matrix: np.ndarray, **params: Any) -> np.ndarray:
        return self._warp(mask, matrix, cv2.INTER_NEAREST)

    @override
    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("height", "width", "scale_range", "rotation_deg", "interpolation")
