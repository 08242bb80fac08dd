"""Depth evaluation: the standard metrics as a torchmetrics Metric, and the protocols' crop boxes."""

from depthzoo.metrics.crops import CROP_NAMES, CropBox, crop_box
from depthzoo.metrics.depth_metrics import METRIC_NAMES, DepthMetrics, numpy_median

__all__ = ["CROP_NAMES", "METRIC_NAMES", "CropBox", "DepthMetrics", "crop_box", "numpy_median"]
