"""Depth evaluation: the standard metrics as a torchmetrics Metric, per-image alignments, and the protocols' crops.

Names are imported on first use, so the losses can use the alignment solves without importing torchmetrics.
"""

from __future__ import annotations

from depthzoo.utils.lazy import lazy_exports

_EXPORTS = {
    "depthzoo.metrics.alignment": ["ALIGNMENTS", "fit_scale", "fit_scale_shift"],
    "depthzoo.metrics.crops": ["CROP_NAMES", "CropBox", "crop_box"],
    "depthzoo.metrics.depth_metrics": ["METRIC_NAMES", "DepthMetrics", "numpy_median"],
}

__all__ = sorted(name for names in _EXPORTS.values() for name in names)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
