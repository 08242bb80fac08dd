"""Callbacks: writing predicted depth maps to disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch.nn.functional as F
from lightning.pytorch.callbacks import BasePredictionWriter
from typing_extensions import override

from depthzoo.visualize import colorize, save_depth_png16, save_png


class DepthMapWriter(BasePredictionWriter):
    """Writes each predicted depth map at its input image's size, under ``output_dir``.

    Per image: ``NAME_depth.png`` (16-bit, millimetres), ``NAME.npy`` (float32 metres) and ``NAME_color.png``.
    """

    def __init__(self, output_dir: str = "predictions") -> None:
        super().__init__(write_interval="batch")
        self.output_dir = Path(output_dir)

    @override
    def write_on_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        prediction: dict[str, Any],
        batch_indices: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        depth = prediction["depth"]
        for i, name in enumerate(prediction["name"]):
            size = (int(prediction["height"][i]), int(prediction["width"][i]))
            full = F.interpolate(depth[i : i + 1].float(), size=size, mode="bilinear", align_corners=False)
            metres = full[0, 0].cpu().numpy().astype(np.float32)
            base = self.output_dir / name
            base.parent.mkdir(parents=True, exist_ok=True)
            np.save(base.with_name(base.name + ".npy"), metres)
            save_depth_png16(metres, base.with_name(base.name + "_depth.png"))
            save_png(colorize(metres), base.with_name(base.name + "_color.png"))
