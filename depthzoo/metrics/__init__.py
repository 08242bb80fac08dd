"""Depth evaluation: the standard metrics (a torchmetrics Metric), alignments, depth-boundary errors, and crops.

The depth-boundary errors are iBims-1's. Names are imported on first use, so the losses can use the alignment solves
without importing torchmetrics.
"""

from __future__ import annotations

from depthzoo.utils.lazy import lazy_exports

_EXPORTS = {
    "depthzoo.metrics.alignment": ["ALIGNMENTS", "fit_scale", "fit_scale_shift"],
    "depthzoo.metrics.boundary": ["boundary_errors", "depth_edges"],
    "depthzoo.metrics.crops": ["CROP_NAMES", "CropBox", "crop_box"],
    "depthzoo.metrics.depth_metrics": ["BOUNDARY_METRIC_NAMES", "METRIC_NAMES", "DepthMetrics", "numpy_median"],
}

__all__ = sorted(name for names in _EXPORTS.values() for name in names)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
