"""Pictures into a run's experiment loggers: TensorBoard, Weights & Biases, MLflow and Comet, each through its own API.

Lightning's loggers share ``log_metrics`` but not images, so :func:`log_image` picks each logger's own call. A logger
that takes no pictures (CSV) is skipped: the run also saves every picture as a file.
"""

from __future__ import annotations

import numpy as np
from lightning.pytorch.loggers import CometLogger, Logger, MLFlowLogger, TensorBoardLogger, WandbLogger


def log_image(logger: Logger, key: str, image: np.ndarray, step: int, artifact_file: str) -> bool:
    """Log an (H, W, 3) uint8 picture to ``logger``; returns False where the logger takes no pictures.

    Args:
        logger: one of the trainer's loggers.
        key: the picture's name in dashboards that group by key (TensorBoard, W&B, Comet), e.g. ``"val/depth"``.
        image: the picture, RGB.
        step: the global step it belongs to.
        artifact_file: the file name where the logger stores pictures as files (MLflow), e.g.
            ``"val_images/epoch=003.png"``.
    """
    if isinstance(logger, TensorBoardLogger):
        logger.experiment.add_image(key, image, step, dataformats="HWC")
    elif isinstance(logger, MLFlowLogger):
        logger.experiment.log_image(logger.run_id, image, artifact_file)
    elif isinstance(logger, CometLogger):
        logger.experiment.log_image(image, name=key, step=step)
    elif isinstance(logger, WandbLogger) or callable(getattr(logger, "log_image", None)):
        logger.log_image(key=key, images=[image], step=step)  # W&B's signature, which custom loggers tend to copy
    else:
        return False
    return True


__all__ = ["log_image"]
