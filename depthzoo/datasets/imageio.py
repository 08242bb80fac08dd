"""Decoding of RGB images and 16-bit depth PNGs, with errors that name the file.

:func:`decode_image` reads a picture as the user sees it: EXIF orientation applied, 16-bit and float images scaled to
[0, 1] from their own range (not clipped to 8 bits), and every failure, a decompression bomb included, named with
its file.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

from depthzoo.datasets.errors import CorruptDataError, ShapeMismatchError

_UINT16_MODES = ("I;16", "I;16L", "I;16B", "I;16N")
_FLOAT_TOLERANCE = 1e-3


def _grey_to_rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[..., None], 3, axis=2)


def _high_range_rgb(image: Image.Image, path: Path) -> np.ndarray | None:
    """(H, W, 3) float32 in [0, 1] for 16-bit, 32-bit integer and float grey images; None for 8-bit modes."""
    if image.mode in _UINT16_MODES:
        return _grey_to_rgb(np.asarray(image).astype(np.float32) / np.float32(65535))
    if image.mode == "I":  # 32-bit integers; 16-bit PNGs decode to this mode in older Pillow releases
        values = np.asarray(image)
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise CorruptDataError(
                f"image holds 32-bit integers from {values.min()} to {values.max()}, outside the 16-bit range that "
                f"depthzoo scales to [0, 1]",
                source=path,
                fix="save it as an 8- or 16-bit image",
            )
        return _grey_to_rgb(values.astype(np.float32) / np.float32(65535))
    if image.mode == "F":
        values = np.asarray(image, dtype=np.float32)
        finite = np.isfinite(values)
        low = float(values[finite].min()) if finite.any() else 0.0
        high = float(values[finite].max()) if finite.any() else 0.0
        if not finite.all() or low < -_FLOAT_TOLERANCE or high > 1 + _FLOAT_TOLERANCE:
            problem = "NaN or infinite values" if not finite.all() else f"values from {low:g} to {high:g}"
            raise CorruptDataError(
                f"float image holds {problem}; float images are read as intensities in [0, 1]",
                source=path,
                fix="rescale it to [0, 1], or save it as an 8- or 16-bit image",
            )
        return _grey_to_rgb(np.clip(values, 0.0, 1.0))
    return None


def decode_image(path: str | Path) -> np.ndarray:
    """An image file as (H, W, 3) RGB, oriented as a viewer shows it.

    8-bit images (any mode PIL converts to RGB: grey, palette, RGBA, CMYK, ...) come back as uint8. 16-bit grey
    images are divided by 65535 and float images are taken as [0, 1] intensities: both come back as float32 in
    [0, 1], at their full precision. The EXIF orientation tag is applied, so a portrait photo stays upright.

    Raises:
        CorruptDataError: the file cannot be decoded (truncated, corrupt, not an image, or larger than PIL's
            decompression-bomb limit ``PIL.Image.MAX_IMAGE_PIXELS``); the message names the file.
    """
    path = Path(path)
    try:
        with Image.open(path) as handle:
            image = ImageOps.exif_transpose(handle)
            high = _high_range_rgb(image, path)
            return high if high is not None else np.asarray(image.convert("RGB"))
    except CorruptDataError:
        raise
    except Image.DecompressionBombError as exc:
        raise CorruptDataError(
            f"refused to decode an image this large ({exc})",
            source=path,
            fix="resize it first; if you trust the file, raise PIL.Image.MAX_IMAGE_PIXELS in Python",
        ) from None
    except Exception as exc:  # PIL's decoders raise many types (OSError, SyntaxError, struct.error, ...)
        raise CorruptDataError(
            f"cannot decode image ({type(exc).__name__}: {exc})",
            source=path,
            fix="the file is truncated, corrupt or not an image; replace it or leave it out of the inputs",
        ) from None


def read_rgb(path: str | Path) -> np.ndarray:
    """Read a JPEG/PNG colour image as (H, W, 3) RGB uint8."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise CorruptDataError(f"cannot decode image {path}: the file is truncated, corrupt or not an image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_depth_png(path: str | Path, units_per_metre: float) -> np.ndarray:
    """Read a single-channel 16-bit depth PNG as (H, W) float32 metres (value / units_per_metre; 0 stays 0).

    NYU sync PNGs store millimetres (1000 units per metre), KITTI annotated PNGs 1/256 m (256 units per metre).
    """
    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise CorruptDataError(f"cannot decode depth PNG {path}: the file is truncated, corrupt or not an image")
    if raw.dtype != np.uint16 or raw.ndim != 2:
        raise CorruptDataError(
            f"depth PNG {path} must be single-channel 16-bit, got dtype {raw.dtype} with shape {raw.shape}"
        )
    return raw.astype(np.float32) / np.float32(units_per_metre)


def read_pair(
    rgb_path: str | Path, depth_path: str | Path, units_per_metre: float, where: str
) -> tuple[np.ndarray, np.ndarray]:
    """Read an RGB image and its depth PNG of the same size; errors are prefixed with ``where`` (list and line)."""
    try:
        image = read_rgb(rgb_path)
        depth = read_depth_png(depth_path, units_per_metre)
    except CorruptDataError as exc:
        raise CorruptDataError(f"{where}: {exc}") from exc
    check_same_size(image, depth, where)
    return image, depth


def check_same_size(image: np.ndarray, depth: np.ndarray, where: str) -> None:
    """Refuse an image/depth pair whose spatial sizes differ, giving both shapes."""
    if image.shape[:2] != depth.shape[:2]:
        raise ShapeMismatchError(
            f"{where}: image shape {tuple(image.shape)} and depth shape {tuple(depth.shape)} differ in height/width"
        )


def valid_depth(depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (depth with non-finite values set to 0, valid mask = finite and > 0) so no NaN leaks downstream."""
    finite = np.isfinite(depth)
    if not finite.all():
        depth = np.where(finite, depth, np.float32(0)).astype(np.float32, copy=False)
    return depth, depth > 0


DEPTH_SUFFIXES = (".png", ".npy", ".tif", ".tiff", ".exr", ".pfm")
"""Depth file types :func:`read_depth_file` reads: 16-bit PNG, ``.npy``, float or 16-bit TIFF, OpenEXR, PFM."""
INTEGER_DEPTH_SCALE = 1000.0
"""The default ``depth_scale`` of integer depth files: millimetres (RealSense, Kinect, NYU's PNGs)."""
OPENEXR_HELP = (
    "OpenCV decodes OpenEXR only when built with it and when the environment variable OPENCV_IO_ENABLE_OPENEXR=1 "
    "is set before the first EXR file is read (opencv-python 4.x wheels include OpenEXR but disable it by "
    "default; some builds, e.g. opencv-python-headless 5.0, have none). Start depthzoo with "
    "OPENCV_IO_ENABLE_OPENEXR=1, install an OpenCV build with OpenEXR, or convert the depth maps to .npy or "
    "float32 TIFF"
)


def read_depth_raw(path: str | Path) -> np.ndarray:
    """The stored values of a depth file as a 2-D array of its own dtype (no unit conversion).

    ``.npy`` is read without pickles; PNG, TIFF, EXR and PFM through cv2 unchanged. A 3-channel EXR/TIFF whose
    channels are equal (as some renderers write depth) gives that channel; anything else that is not one channel
    is refused, as are 8-bit images (256 levels are a picture of depth, not depth). OpenCV reads an EXR's Y (or R,
    G, B) channels only: depth stored in a lone Z channel reads as zeros.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in DEPTH_SUFFIXES:
        raise CorruptDataError(
            f"{path}: depth files must be one of {', '.join(DEPTH_SUFFIXES)}, got {suffix or 'no suffix'!r}"
        )
    if suffix == ".npy":
        try:
            raw = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise CorruptDataError(f"cannot read depth array {path}: {exc}") from exc
    else:
        try:
            raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        except cv2.error:  # OpenCV 4.x raises where OpenEXR is built in but disabled
            raw = None
        if raw is None:
            if suffix == ".exr":
                raise CorruptDataError(f"cannot decode OpenEXR depth {path}: {OPENEXR_HELP}")
            raise CorruptDataError(f"cannot decode depth file {path}: it is truncated, corrupt or not an image")
    if raw.ndim == 3 and raw.shape[2] == 1:
        raw = raw[..., 0]
    if raw.ndim == 3 and suffix in (".exr", ".tif", ".tiff", ".pfm") and all(
        np.array_equal(raw[..., 0], raw[..., c], equal_nan=raw.dtype.kind == "f") for c in range(1, raw.shape[2])
    ):
        raw = raw[..., 0]
    if raw.ndim != 2:
        exr = " (OpenCV reads an EXR's Y or R, G, B channels: store depth as Y, or equal in R, G and B)"
        raise CorruptDataError(
            f"depth file {path} must hold one channel (H, W), got shape {raw.shape}; a colourised picture of depth "
            "is not depth: save the depth values themselves (16-bit PNG, .npy, float TIFF)"
            + (exr if suffix == ".exr" else "")
        )
    if raw.dtype.kind not in "fui" or raw.dtype.itemsize < 2 or raw.dtype == np.bool_:
        raise CorruptDataError(
            f"depth file {path} holds {raw.dtype} values; depth must be 16-bit integers (with depth_scale units per "
            "metre) or floating point (8-bit images have only 256 levels: save depth as 16-bit PNG or .npy)"
        )
    return raw


def default_depth_scale(raw: np.ndarray) -> float:
    """The ``depth_scale`` used when none is given: 1000 (millimetres) for integer files, 1 (metres) for floats."""
    return INTEGER_DEPTH_SCALE if raw.dtype.kind in "ui" else 1.0


def read_mask(path: str | Path) -> np.ndarray:
    """A validity mask file as (H, W) bool: non-zero (in any channel) is valid. PNG/JPEG/TIFF or a ``.npy`` array."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        try:
            raw = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise CorruptDataError(f"cannot read mask array {path}: {exc}") from exc
    else:
        raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if raw is None:
            raise CorruptDataError(f"cannot decode mask {path}: it is truncated, corrupt or not an image")
    if raw.ndim == 3:
        raw = (raw != 0).any(axis=2)
    if raw.ndim != 2:
        raise CorruptDataError(f"mask {path} must be an (H, W) image, got shape {raw.shape}")
    return raw != 0
