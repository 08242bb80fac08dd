"""DepthTask: the Lightning system around a DepthModel (training, evaluation, prediction).

Built only from plain, typed, serialisable arguments (encoder and decoder names, loss name, ...), so LightningCLI
configs validate every field and checkpoints reload without the CLI and without network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import lightning.pytorch as pl
import numpy as np
import torch
import torch.nn.functional as F
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from lightning.pytorch.utilities import rank_zero_info, rank_zero_only
from torch import Tensor
from typing_extensions import override

from depthzoo.errors import DepthzooError, InvalidArgumentError
from depthzoo.losses import build_loss
from depthzoo.metrics import DepthMetrics
from depthzoo.models import DepthModel, create_model
from depthzoo.visualize import depth_panel, save_png
from depthzoo.weights.loading import load_weights_into

Stage = Literal["val", "test"]


class UntrainedModelError(DepthzooError, RuntimeError):
    """Evaluation or prediction was asked of a model whose weights were never trained nor loaded."""


class DepthTask(pl.LightningModule):
    """Monocular depth estimation with any encoder/decoder pair from the zoo.

    Args:
        encoder: timm encoder name (any ``list_encoders()`` entry, e.g. ``resnet50``, ``convnext_tiny``).
        encoder_depth: use only the encoder's first n feature levels (default all; 4 ends a ResNet at stride 16).
        decoder: registered decoder name (``list_decoders()``), e.g. ``fast_upproj``.
        decoder_kwargs: options of that decoder (validated before anything is built).
        pretrained: start the encoder from ImageNet weights (never used when reloading a checkpoint).
        encoder_weights: local file with ImageNet encoder weights (offline alternative to ``pretrained``).
        weights: a depthzoo model file (``.safetensors`` from ``depthzoo.save_model`` or ``convert-fcrn``) or a
            Lightning ``.ckpt`` whose weights initialise the whole model (fine-tuning or evaluating released models).
        loss: registered loss name (``list_losses()``: ``berhu``, ``l1``, ``l2``, ``silog``).
        loss_kwargs: options of that loss (validated like the decoder's).
        optimizer: optimizer factory (LightningCLI: ``--optimizer`` class path); default AdamW(lr=1e-3).
        lr_scheduler: optional scheduler factory; ReduceLROnPlateau monitors ``monitor``.
        encoder_lr_mult: the encoder's learning rate is the optimizer's times this (0 freezes it in effect).
        min_depth: lower bound of valid evaluation depth; None takes the datamodule's (1e-3 m).
        max_depth: upper bound of valid evaluation depth; None takes the datamodule's (NYU 10 m, KITTI 80 m).
        eval_crop: evaluation crop; "auto" takes the datamodule's (NYU Eigen crop, KITTI Garg crop); None: none.
        eval_average: "image" (per-image mean, the BTS convention) or "pixel" (pooled, the FCRN paper's).
        eval_clamp: clamp predictions to the depth range before evaluation (BTS).
        eval_boundary: also report iBims-1's depth-boundary errors ``dbe_acc`` and ``dbe_comp`` (pixels; dense
            ground truth only: NYU, synthetic rooms, not KITTI), in validation and test.
        baseline_depth: also evaluate a constant prediction: a value in metres, or "train_median" (the median valid
            depth of the training split, asked of the datamodule), shown next to the model's test table.
        num_val_images: rows saved each validation epoch: input, ground truth and prediction (with their depth edges
            in white) and the relative error map, at the ground truth's size.
        monitor: the metric that picks the best checkpoint and drives ReduceLROnPlateau.
        channels_last: run the model on NHWC tensors (faster convolutions with bf16/fp16 on recent CPUs and
            GPUs; the results are the same up to floating-point rounding).
    """

    def __init__(
        self,
        encoder: str = "resnet50",
        decoder: str = "fast_upproj",
        decoder_kwargs: dict[str, Any] | None = None,
        encoder_depth: int | None = None,
        pretrained: bool = False,
        encoder_weights: str | None = None,
        weights: str | None = None,
        loss: str = "berhu",
        loss_kwargs: dict[str, Any] | None = None,
        optimizer: OptimizerCallable = torch.optim.AdamW,
        lr_scheduler: LRSchedulerCallable | None = None,
        encoder_lr_mult: float = 1.0,
        min_depth: float | None = None,
        max_depth: float | None = None,
        eval_crop: str | None = "auto",
        eval_average: Literal["image", "pixel"] = "image",
        eval_clamp: bool = True,
        eval_boundary: bool = False,
        baseline_depth: float | Literal["train_median"] | None = None,
        num_val_images: int = 4,
        monitor: str = "val/abs_rel",
        channels_last: bool = False,
    ) -> None:
        super().__init__()
        # Weight sources are kept out of the saved hyper-parameters: a reload takes weights from the checkpoint
        # and must never download or look for files again.
        self.save_hyperparameters(ignore=["optimizer", "lr_scheduler"])
        self.hparams.update(pretrained=False, encoder_weights=None, weights=None)
        self.model: DepthModel = create_model(
            encoder, decoder, pretrained=pretrained, encoder_weights=encoder_weights, encoder_depth=encoder_depth,
            **(decoder_kwargs or {}),
        )
        self.loss_fn = build_loss(loss, **(loss_kwargs or {}))
        self.optimizer_factory = optimizer
        self.scheduler_factory = lr_scheduler
        self.weights_source: str | None = None
        if weights is not None:
            load_weights_into(self.model, weights)
            self.weights_source = str(weights)
        self.val_metrics: DepthMetrics | None = None
        self.test_metrics: DepthMetrics | None = None
        self.baseline_metrics: DepthMetrics | None = None
        self.baseline_value: float | None = None

    # ---------------------------------------------------------------------------------------------------- model
    def forward(self, images: Tensor) -> Tensor:
        """Depth in metres at the model's native resolution."""
        if self.hparams.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        return self.model(images)

    # ------------------------------------------------------------------------------------------------- training
    @override
    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        pred = self(batch["image"])
        size = pred.shape[-2:]
        # Nearest, so no invalid (0) pixel is ever blended into a valid depth.
        target = F.interpolate(batch["depth"], size=size, mode="nearest")
        valid = F.interpolate(batch["valid"].to(pred.dtype), size=size, mode="nearest") > 0.5
        loss = self.loss_fn(pred, target, valid)
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"non-finite training loss {loss.item()} at step {self.global_step}: lower the learning rate or check "
                f"the data (depth must be metres, images in [0, 1])"
            )
        self.log("train/loss", loss, prog_bar=True, batch_size=pred.shape[0])
        self.weights_source = self.weights_source or "training"
        return loss

    @override
    def configure_optimizers(self) -> Any:
        encoder_params = [p for p in self.model.encoder.parameters() if p.requires_grad]
        encoder_ids = {id(p) for p in encoder_params}
        other_params = [p for p in self.parameters() if p.requires_grad and id(p) not in encoder_ids]
        groups = [
            {"params": encoder_params, "lr_mult": self.hparams.encoder_lr_mult, "name": "encoder"},
            {"params": other_params, "lr_mult": 1.0, "name": "decoder"},
        ]
        optimizer = self.optimizer_factory([g for g in groups if g["params"]])
        for group in optimizer.param_groups:  # scale before any scheduler records its initial_lr
            group["lr"] = group["lr"] * group.get("lr_mult", 1.0)
        if self.scheduler_factory is None:
            return optimizer
        scheduler = self.scheduler_factory(optimizer)
        config: dict[str, Any] = {"scheduler": scheduler, "interval": "epoch"}
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            config["monitor"] = self.hparams.monitor
        return {"optimizer": optimizer, "lr_scheduler": config}

    # ----------------------------------------------------------------------------------------------- evaluation
    @override
    def setup(self, stage: str) -> None:
        if self.hparams.channels_last:
            self.model.to(memory_format=torch.channels_last)
        if self.hparams.eval_boundary and not self._datamodule_attr("dense_ground_truth", True):
            name = type(self.trainer.datamodule).__name__
            raise InvalidArgumentError(
                f"eval_boundary needs dense ground truth, but {name}'s is sparse (no depth edges to compare with)",
                fix="pass --model.eval_boundary false",
            )
        if stage in ("fit", "validate") and self.val_metrics is None:
            self.val_metrics = self._make_metrics()
        if stage == "test":
            self.test_metrics = self._make_metrics()
            if self.hparams.baseline_depth is not None:
                self.baseline_value = self._resolve_baseline()
                self.baseline_metrics = self._make_metrics()

    def _datamodule_attr(self, name: str, default: Any) -> Any:
        datamodule = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        return getattr(datamodule, name, default)

    def evaluation_protocol(self) -> dict[str, Any]:
        """The DepthMetrics settings in force: the task's arguments, else the datamodule's dataset defaults."""
        crop = self.hparams.eval_crop
        return {
            "min_depth": self.hparams.min_depth or self._datamodule_attr("min_depth", 1e-3),
            "max_depth": self.hparams.max_depth or self._datamodule_attr("max_depth", 10.0),
            "crop": self._datamodule_attr("eval_crop", None) if crop == "auto" else crop,
            "average": self.hparams.eval_average,
            "clamp": self.hparams.eval_clamp,
            "boundary": self.hparams.eval_boundary,
        }

    def _make_metrics(self) -> DepthMetrics:
        return DepthMetrics(**self.evaluation_protocol()).to(self.device)

    def _resolve_baseline(self) -> float:
        value = self.hparams.baseline_depth
        if value != "train_median":
            return float(value)
        datamodule = getattr(self.trainer, "datamodule", None)
        if datamodule is None or not hasattr(datamodule, "train_median_depth"):
            raise ValueError(
                "baseline_depth='train_median' needs a datamodule with train_median_depth(); pass a number instead"
            )
        return float(datamodule.train_median_depth())

    def _require_weights(self, what: str) -> None:
        if self.weights_source is None:
            raise UntrainedModelError(
                f"{what} would use a randomly initialised model. Pass --ckpt_path PATH (a Lightning checkpoint, "
                f"e.g. 'best' or 'last' after fit) or --model.weights FILE (a depthzoo model file, e.g. from "
                f"'depthzoo convert-fcrn'); in Python, DepthTask.load_from_checkpoint(PATH)."
            )

    @override
    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.weights_source = "checkpoint"

    @override
    def on_validation_start(self) -> None:
        if not self.trainer.state.fn == "fit":
            self._require_weights("validate")

    @override
    def on_test_start(self) -> None:
        self._require_weights("test")

    @override
    def on_predict_start(self) -> None:
        self._require_weights("predict")

    def _evaluate(self, batch: dict[str, Tensor], metrics: DepthMetrics) -> Tensor:
        pred = self(batch["image"])
        metrics.update(pred, batch["depth"], batch.get("valid"))
        return pred

    @override
    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        assert self.val_metrics is not None
        pred = self._evaluate(batch, self.val_metrics)
        if batch_idx == 0 and self.hparams.num_val_images > 0 and not self.trainer.sanity_checking:
            self._save_val_images(batch, pred)

    @override
    def test_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        assert self.test_metrics is not None
        pred = self._evaluate(batch, self.test_metrics)
        if self.baseline_metrics is not None and self.baseline_value is not None:
            self.baseline_metrics.update(torch.full_like(pred, self.baseline_value), batch["depth"], batch.get("valid"))

    def _log_metrics(self, stage: Stage, metrics: DepthMetrics) -> dict[str, float]:
        values = {k: float(v) for k, v in metrics.compute().items()}  # already synchronised across processes
        counts = metrics.summary()
        for key, value in values.items():
            name = f"{stage}/{key}"
            self.log(name, value, prog_bar=name == self.hparams.monitor, sync_dist=False)
        self.log(f"{stage}/images", float(counts["images_evaluated"]), sync_dist=False)
        if counts["images_skipped"]:
            rank_zero_info(f"{stage}: {counts['images_skipped']} images without valid ground truth were skipped")
        metrics.reset()
        return values

    @override
    def on_validation_epoch_end(self) -> None:
        if self.val_metrics is None:
            return
        self._log_metrics("val", self.val_metrics)

    @override
    def on_test_epoch_end(self) -> None:
        assert self.test_metrics is not None
        model_values = self._log_metrics("test", self.test_metrics)
        if self.baseline_metrics is not None:
            baseline_values = {k: float(v) for k, v in self.baseline_metrics.compute().items()}
            self.log_dict({f"baseline/{k}": v for k, v in baseline_values.items()}, sync_dist=False)
            self.baseline_metrics.reset()
            self._print_comparison(model_values, baseline_values)

    @rank_zero_only
    def _print_comparison(self, model: dict[str, float], baseline: dict[str, float]) -> None:
        protocol = self.evaluation_protocol()
        lines = [
            f"Test metrics ({protocol['average']} average, depth range ({protocol['min_depth']:g}, "
            f"{protocol['max_depth']:g}) m, crop {protocol['crop']}); baseline = constant {self.baseline_value:.3f} m",
            f"{'metric':<10}{'model':>12}{'baseline':>12}",
        ]
        for key in model:
            lines.append(f"{key:<10}{model[key]:>12.4f}{baseline[key]:>12.4f}")
        print("\n" + "\n".join(lines), flush=True)

    # --------------------------------------------------------------------------------------------------- images
    @rank_zero_only
    def _save_val_images(self, batch: dict[str, Tensor], pred: Tensor) -> None:
        count = min(self.hparams.num_val_images, pred.shape[0])
        # Tiles at the ground truth's size, so the picture is large enough to read.
        pred_full = F.interpolate(pred[:count].float(), size=batch["depth"].shape[-2:], mode="bilinear",
                                  align_corners=False)
        rows = [
            depth_panel(
                batch["image"][i].float().cpu().numpy(),
                batch["depth"][i, 0].float().cpu().numpy(),
                pred_full[i, 0].detach().cpu().numpy(),
                edges=True,
                error=True,
            )
            for i in range(count)
        ]
        grid = np.concatenate(rows, axis=0)
        log_dir = Path(self.trainer.log_dir or self.trainer.default_root_dir)
        save_png(grid, log_dir / "val_images" / f"epoch={self.current_epoch:03d}.png")
        experiment = getattr(self.logger, "experiment", None)
        if hasattr(experiment, "add_image"):  # TensorBoard
            experiment.add_image("val/depth", grid, self.global_step, dataformats="HWC")

    # ----------------------------------------------------------------------------------------------- prediction
    @override
    def predict_step(self, batch: dict[str, Any], batch_idx: int) -> dict[str, Any]:
        depth = self(batch["image"])
        return {"depth": depth, **{k: v for k, v in batch.items() if k != "image"}}
