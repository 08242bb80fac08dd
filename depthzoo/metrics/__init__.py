"""Depth evaluation: the standard metrics and iBims-1's depth-boundary errors, and the protocols' crop boxes."""

from depthzoo.metrics.boundary import boundary_errors, depth_edges
from depthzoo.metrics.crops import CROP_NAMES, CropBox, crop_box
from depthzoo.metrics.depth_metrics import BOUNDARY_METRIC_NAMES, METRIC_NAMES, DepthMetrics, numpy_median

__all__ = [
    "BOUNDARY_METRIC_NAMES",
    "CROP_NAMES",
    "METRIC_NAMES",
    "CropBox",
    "DepthMetrics",
    "boundary_errors",
    "crop_box",
    "depth_edges",
    "numpy_median",
]
