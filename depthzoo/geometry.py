"""Camera geometry: pinhole intrinsics, and the NYU Depth v2 camera.

>>> k = NYU_INTRINSICS.scaled(240, 320)
>>> round(k.fx, 4), round(k.cx, 4)
(259.4289, 162.7912)
"""

from __future__ import annotations

from dataclasses import dataclass


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
        """The same camera for the image resized to ``height`` x ``width`` (focal and principal point alike)."""
        sx, sy = width / self.width, height / self.height
        return Intrinsics(self.fx * sx, self.fy * sy, self.cx * sx, self.cy * sy, height, width)


NYU_INTRINSICS = Intrinsics(fx=518.8579, fy=519.4696, cx=325.5824, cy=253.7362, height=480, width=640)
"""NYU Depth v2's colour camera at 640x480 (the intrinsics of the NYU toolbox, BTS' lists and the Toolbox)."""

__all__ = ["NYU_INTRINSICS", "Intrinsics"]
