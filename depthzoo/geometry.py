"""Camera geometry: pinhole intrinsics, the NYU Depth v2 camera, and back-projection of depth maps to 3-D points.

>>> k = NYU_INTRINSICS.scaled(240, 320)
>>> round(k.fx, 4), round(k.cx, 4)
(259.4289, 162.7912)

Coordinates are OpenCV's camera frame: x to the right, y down, z forward (the depth), in metres; pixel ``(u, v)``
is column ``u`` and row ``v``, with the centre of the top-left pixel at ``(0, 0)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import torch

from depthzoo.errors import InvalidArgumentError
from depthzoo.utils.validation import check_number

Array = TypeVar("Array", np.ndarray, torch.Tensor)


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics in pixel-index coordinates, for an image of ``height`` x ``width`` pixels.

    Args:
        fx: horizontal focal length in pixels.
        fy: vertical focal length in pixels.
        cx: principal point column.
        cy: principal point row.
        height: image height the values refer to.
        width: image width the values refer to.
    """

    fx: float
    fy: float
    cx: float
    cy: float
    height: int
    width: int

    def scaled(self, height: int, width: int) -> Intrinsics:
        """The same camera for the image resized to ``height`` x ``width`` (focal and principal point alike).

        The principal point is scaled as a fraction of the image size; :meth:`resized` follows the pixel centres of
        an image resampled by cv2 or ``F.interpolate`` exactly instead (they differ by half a pixel times the scale
        change). The synthetic rooms are rendered with this camera.
        """
        sx, sy = width / self.width, height / self.height
        return Intrinsics(self.fx * sx, self.fy * sy, self.cx * sx, self.cy * sy, height, width)

    def resized(self, height: int, width: int) -> Intrinsics:
        """The camera of this image resampled to ``height`` x ``width`` (cv2.resize, bilinear without corners).

        Those resamplers map pixel centre ``u`` to ``(u + 0.5) * sx - 0.5``, so the principal point moves with it.

        >>> Intrinsics(100.0, 100.0, 49.5, 29.5, 60, 100).resized(30, 50)
        Intrinsics(fx=50.0, fy=50.0, cx=24.5, cy=14.5, height=30, width=50)
        """
        sx, sy = width / self.width, height / self.height
        return Intrinsics(
            self.fx * sx, self.fy * sy, (self.cx + 0.5) * sx - 0.5, (self.cy + 0.5) * sy - 0.5, height, width
        )

    def cropped(self, top: int, left: int, height: int, width: int) -> Intrinsics:
        """The camera of the ``height`` x ``width`` window whose top-left pixel is (``top``, ``left``)."""
        return Intrinsics(self.fx, self.fy, self.cx - left, self.cy - top, height, width)

    @classmethod
    def from_focal(
        cls, focal: float, height: int, width: int, cx: float | None = None, cy: float | None = None
    ) -> Intrinsics:
        """A camera with square pixels (fx = fy = ``focal``); the principal point defaults to the image centre."""
        return cls(
            float(focal), float(focal),
            (width - 1) / 2 if cx is None else float(cx), (height - 1) / 2 if cy is None else float(cy),
            int(height), int(width),
        )

    def as_tuple(self) -> tuple[float, float, float, float]:
        """(fx, fy, cx, cy)."""
        return self.fx, self.fy, self.cx, self.cy

    def as_array(self) -> np.ndarray:
        """(fx, fy, cx, cy) as float64, the form samples and batches carry (without the image size)."""
        return np.array(self.as_tuple(), dtype=np.float64)


NYU_INTRINSICS = Intrinsics(fx=518.8579, fy=519.4696, cx=325.5824, cy=253.7362, height=480, width=640)
"""NYU Depth v2's colour camera at 640x480 (the intrinsics of the NYU toolbox, BTS' lists and the Toolbox)."""


def depth_to_points(
    depth: Array, focal: float, cx: float | None = None, cy: float | None = None, fy: float | None = None
) -> Array:
    """Back-project a z-depth map to camera-frame 3-D points: ``(..., H, W)`` -> ``(..., H, W, 3)``.

    Pixel ``(u, v)`` with depth ``z`` becomes ``((u - cx) z / fx, (v - cy) z / fy, z)``: x right, y down, z forward,
    in the depth's unit (metres). Works on numpy arrays and torch tensors (same type and dtype back; integer
    depths become float64). Invalid pixels (depth 0 or not finite) give points with that z; filter them with
    ``np.isfinite(depth) & (depth > 0)``.

    >>> depth = np.full((2, 3), 2.0)
    >>> depth_to_points(depth, focal=2.0)[1, 2].tolist()   # column 2, row 1; centre (1, 0.5)
    [1.0, 0.5, 2.0]

    Args:
        depth: z-depth (distance along the optical axis, not along the ray), e.g. metres.
        focal: horizontal focal length ``fx`` in pixels of this depth map.
        cx: principal point column; default the image centre ``(W - 1) / 2``.
        cy: principal point row; default ``(H - 1) / 2``.
        fy: vertical focal length; default ``focal`` (square pixels).
    """
    fx = check_number("focal", focal, low=0.0)
    fy = fx if fy is None else check_number("fy", fy, low=0.0)
    if fx == 0 or fy == 0:
        raise InvalidArgumentError("focal lengths must be positive pixels", fix="pass the focal length of this map")
    if depth.ndim < 2:
        raise InvalidArgumentError(f"depth must be (..., H, W), got shape {tuple(depth.shape)}")
    height, width = depth.shape[-2:]
    cx = (width - 1) / 2 if cx is None else check_number("cx", cx)
    cy = (height - 1) / 2 if cy is None else check_number("cy", cy)
    if isinstance(depth, torch.Tensor):
        z = depth if depth.is_floating_point() else depth.double()
        u = torch.arange(width, dtype=z.dtype, device=z.device)
        v = torch.arange(height, dtype=z.dtype, device=z.device)
        x = (u - cx) / fx * z
        y = (v - cy).unsqueeze(-1) / fy * z
        return torch.stack((x, y, z), dim=-1)
    z = np.asarray(depth)
    z = z if np.issubdtype(z.dtype, np.floating) else z.astype(np.float64)
    u = np.arange(width, dtype=z.dtype)
    v = np.arange(height, dtype=z.dtype)[:, None]
    x = (u - z.dtype.type(cx)) / z.dtype.type(fx) * z
    y = (v - z.dtype.type(cy)) / z.dtype.type(fy) * z
    return np.stack((x, y, z), axis=-1)


__all__ = ["NYU_INTRINSICS", "Intrinsics", "depth_to_points"]
