"""Training augmentation (the FCRN paper's) and deterministic evaluation transforms, on albumentations 2.0.8.

Both take a raw numpy sample (``depthzoo.datasets.base``) and return tensors: image float32 (3,H,W) in [0,1],
depth float32 (1,H,W) metres, valid bool (1,H,W), plus ``index`` and ``focal`` (scaled with any resize).

Depth and the validity mask travel as albumentations *mask* targets, so every geometric step uses nearest
interpolation (depth values are copied, never blended) and fills with 0 (= invalid). ``valid`` is carried
explicitly and ANDed with ``depth > 0`` after the pipeline, so an invalid pixel can never become valid.
"""
from __future__ import annotations

import random

import albumentations as A
import cv2
import numpy as np
import torch

from depthzoo.datasets.base import Sample
from depthzoo.datasets.errors import ShapeMismatchError
from depthzoo.errors import InvalidArgumentError
from depthzoo.geometry import Intrinsics
from depthzoo.transforms.resize import (
    Interpolation,
    Size,
    center_crop,
    check_interpolation,
    crop_image,
    resize_image,
    resize_sample,
)
from depthzoo.transforms.scale_rotate_crop import ScaleRotateCrop
from depthzoo.utils.validation import check_size


def to_tensors(sample: Sample) -> Sample:
    """Numpy sample -> tensors: image (3,H,W) float32 / 255, depth (1,H,W) float32, valid (1,H,W) bool.

    ``intrinsics``, when present, becomes a float64 tensor (fx, fy, cx, cy).
    """
    out = dict(sample)
    if sample.get("intrinsics") is not None:
        out["intrinsics"] = torch.as_tensor(np.asarray(sample["intrinsics"], dtype=np.float64))
    image = np.ascontiguousarray(sample["image"].transpose(2, 0, 1))
    out["image"] = torch.from_numpy(image).float().div_(255.0)
    out["depth"] = torch.from_numpy(np.ascontiguousarray(sample["depth"], dtype=np.float32))[None]
    out["valid"] = torch.from_numpy(np.ascontiguousarray(sample["valid"], dtype=bool))[None]
    out["index"] = int(sample["index"])
    out["focal"] = float(sample["focal"])
    return out


def _mask_invalid(depth: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Valid &= depth > 0, and depth = 0 wherever invalid."""
    valid = valid & (depth > 0)
    if not valid.all():
        depth = np.where(valid, depth, np.float32(0))
    return depth, valid


class TrainTransform:
    """The FCRN paper's training augmentation, then a crop to the network input size.

    Steps: optional deterministic resize (NYU: 480x640 -> 240x320, as FCRN), then with ``augment``:
    random scale s ~ U(scale_range) with depth divided by s; rotation ~ U(-rotation_deg, +rotation_deg);
    random crop to ``input_size``; horizontal flip with probability ``flip_p``; per-channel colour scale
    ~ U(color_range) (image only). Without ``augment``: a centre crop to ``input_size``.

    Randomness comes from torch's generator: each call draws one seed from it for albumentations' generators.
    So DataLoader workers (torch-seeded base_seed + worker_id, new every epoch) never repeat each other or the
    previous epoch, and ``torch.manual_seed``/``seed_everything`` reproduce a run, also with num_workers=0.
    All steps share one generator: ``Compose(seed=...)`` would give each step an identically seeded
    generator, which makes e.g. the scale and the rotation angle perfectly correlated.
    """

    def __init__(
        self,
        input_size: Size,
        resize: Size | None = None,
        augment: bool = True,
        scale_range: tuple[float, float] = (1.0, 1.5),
        rotation_deg: float = 5.0,
        color_range: tuple[float, float] = (0.8, 1.2),
        flip_p: float = 0.5,
        interpolation: Interpolation = "nearest",
    ) -> None:
        self.input_size = check_size("input_size", input_size)
        self.resize = check_size("resize", resize, optional=True)
        self.interpolation = check_interpolation(interpolation)
        low, high = scale_range
        if not 0 < low <= high:
            raise InvalidArgumentError(f"scale_range must satisfy 0 < low <= high, got {scale_range!r}")
        if rotation_deg < 0:
            raise InvalidArgumentError(f"rotation_deg must be >= 0, got {rotation_deg!r}")
        if not 0 < color_range[0] <= color_range[1]:
            raise InvalidArgumentError(f"color_range must satisfy 0 < low <= high, got {color_range!r}")
        if not 0.0 <= flip_p <= 1.0:
            raise InvalidArgumentError(f"flip_p must be a probability in [0, 1], got {flip_p!r}")
        if self.resize is not None and (self.resize[0] < self.input_size[0] or self.resize[1] < self.input_size[1]):
            raise ShapeMismatchError(f"resize {self.resize} is smaller than input_size {self.input_size}")
        self.augment = augment
        self.scale_range = (float(low), float(high))
        self._compose = self._build(rotation_deg, color_range, flip_p) if augment else None

    def _build(self, rotation_deg: float, color_range: tuple[float, float], flip_p: float) -> A.Compose:
        height, width = self.input_size
        low, high = self.scale_range
        # Rotation, scaling and the crop are one affine map, warped once straight into the crop (see
        # ScaleRotateCrop): the paper's geometry on up to 2.25x fewer pixels than three separate steps.
        steps: list[A.BasicTransform] = [
            ScaleRotateCrop(height, width, (low, high), rotation_deg, interpolation=cv2.INTER_LINEAR)
        ]
        if flip_p > 0:
            steps.append(A.HorizontalFlip(p=flip_p))
        if tuple(color_range) != (1.0, 1.0):
            steps.append(A.MultiplicativeNoise(multiplier=tuple(color_range), per_channel=True, p=1.0))
        return A.Compose(steps, additional_targets={"depth": "mask", "valid": "mask"}, save_applied_params=True)

    def _seed_from_torch(self) -> None:
        seed = int(torch.randint(0, 2**62, ()).item())
        self._compose.set_random_state(np.random.default_rng(seed), random.Random(seed))

    def __call__(self, sample: Sample) -> Sample:
        """Augment a raw numpy sample and return it as tensors at ``input_size``.

        The sample's ``intrinsics`` are dropped: a zoomed, rotated and cropped image has none of its own.
        """
        sample = {key: value for key, value in sample.items() if key != "intrinsics"}
        if self.resize is not None:
            sample = resize_sample(sample, self.resize, self.interpolation)
        height, width = sample["image"].shape[:2]
        if self.scale_range[0] >= 1.0 and (height < self.input_size[0] or width < self.input_size[1]):
            raise ShapeMismatchError(
                f"sample {sample['index']}: image of size {(height, width)} is smaller than input_size "
                f"{self.input_size}; lower input_size or set resize"
            )
        if self._compose is None:
            out = dict(sample)
            for key in ("image", "depth", "valid"):
                out[key] = center_crop(sample[key], self.input_size)
            return to_tensors(out)
        self._seed_from_torch()
        result = self._compose(image=sample["image"], depth=sample["depth"], valid=sample["valid"].view(np.uint8))
        depth = result["depth"]
        for name, params in result["applied_transforms"]:
            if name == "ScaleRotateCrop" and params["scale"] != 1.0:
                depth = depth / np.float32(params["scale"])
        depth, valid = _mask_invalid(depth, result["valid"].view(bool))
        return to_tensors({**sample, "image": result["image"], "depth": depth, "valid": valid})


class EvalTransform:
    """Deterministic evaluation transform: the image goes to the network input size, the GT stays as read.

    The image is resized to ``resize`` (if given) then centre-cropped to ``crop`` (if given); depth and valid
    keep the reader's resolution, so metrics are computed on the protocol's ground truth (NYU: full 480x640,
    KITTI: the 352x1216 KB crop). NYU/FCRN: resize (240, 320), crop (228, 304) = rows 6:234, cols 8:312.
    """

    def __init__(
        self, resize: Size | None = None, crop: Size | None = None, interpolation: Interpolation = "nearest"
    ) -> None:
        self.resize = check_size("resize", resize, optional=True)
        self.crop = check_size("crop", crop, optional=True)
        self.interpolation = check_interpolation(interpolation)
        if self.resize is not None and self.crop is not None and (
            self.crop[0] > self.resize[0] or self.crop[1] > self.resize[1]
        ):
            raise ShapeMismatchError(f"crop {self.crop} is larger than resize {self.resize}")

    def __call__(self, sample: Sample) -> Sample:
        """Resize and crop a raw numpy sample's image and return the sample as tensors (depth untouched).

        A sample with a known ``focal`` but no ``intrinsics`` gets square pixels and the principal point at the
        centre of the image as read; the intrinsics then follow the resize and crop.
        """
        if sample.get("intrinsics") is None and np.isfinite(sample["focal"]):
            camera = Intrinsics.from_focal(sample["focal"], *sample["image"].shape[:2])
            sample = {**sample, "intrinsics": camera.as_array()}
        if self.resize is not None:
            sample = resize_image(sample, self.resize, self.interpolation)
        if self.crop is not None:
            sample = crop_image(sample, self.crop)
        depth, valid = _mask_invalid(sample["depth"], sample["valid"])
        return to_tensors({**sample, "depth": depth, "valid": valid})
