"""DepthTask: the Lightning system around a DepthModel (training, evaluation, prediction).

Built only from plain, typed, serialisable arguments (encoder and decoder names, loss name, ...), so LightningCLI
configs validate every field and checkpoints reload without the CLI and without network.
"""

from __future__ import annotations

import inspect
import math
from pathlib import Path
from typing import Any, Literal

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from lightning.pytorch.utilities import rank_zero_info, rank_zero_only, rank_zero_warn
from torch import Tensor
from typing_extensions import override

from depthzoo.errors import DataError, DepthzooError, InvalidArgumentError, listing
from depthzoo.inference import FastInference, Precision, resolve_precision
from depthzoo.losses import build_loss, build_losses
from depthzoo.metrics import DepthMetrics
from depthzoo.metrics.depth_metrics import Alignment
from depthzoo.models import DepthModel, create_model
from depthzoo.models.depth_model import OutputKind, flip_averaged
from depthzoo.models.encoders.pretrained import check_local_weights, read_encoder_state
from depthzoo.utils.loggers import log_image
from depthzoo.visualize import save_png, validation_panel
from depthzoo.weights.lightning import readable_checkpoint
from depthzoo.weights.loader import build_model, read_weights

Stage = Literal["val", "test"]

ALIGNMENT_NOTES = {
    "median": "prediction times median(gt) / median(prediction) per image",
    "scale": "least-squares scale per image",
    "scale_shift": "least-squares scale and shift in depth per image",
    "scale_shift_disparity": "least-squares scale and shift in disparity per image, depth capped at max_depth",
}


def disparity_target(depth: Tensor, valid: Tensor) -> Tensor:
    """1 / depth on valid pixels (finite depth > 0 and ``valid``), 0 elsewhere: a relative model's target."""
    usable = valid & torch.isfinite(depth) & (depth > 0)
    return torch.where(usable, 1.0 / torch.where(usable, depth, 1.0), 0.0)


def describe_data(datamodule: Any, split: Literal["train", "test"]) -> dict[str, Any] | None:
    """What a model card says about a data module: its class, file name, format and sample count (no local paths)."""
    if datamodule is None:
        return None
    root = getattr(datamodule, "root", None)
    dataset = getattr(datamodule, f"{split}_dataset", None)
    size = None
    try:
        size = len(dataset) if dataset is not None else None
    except TypeError:
        size = None
    return {
        "data module": type(datamodule).__name__,
        "dataset": Path(str(root)).name if root else None,
        "format": getattr(datamodule, "format", None),
        f"{split} samples": size,
    }


class UntrainedModelError(DepthzooError, RuntimeError):
    """Evaluation or prediction was asked of a model whose weights were never trained nor loaded."""


class DivergedError(DataError, FloatingPointError):
    """The training loss became NaN or infinite (a learning rate too high, or data in the wrong units)."""


class DepthTask(pl.LightningModule):
    """Monocular depth estimation with any encoder/decoder pair from the zoo.

    Args:
        encoder: timm encoder name (any ``list_encoders()`` entry, e.g. ``resnet50``, ``convnext_tiny``).
        encoder_depth: use only the encoder's first n feature levels (default all; 4 ends a ResNet at stride 16).
        encoder_indices: the transformer blocks (ViTs) or feature levels the encoder returns, counted from 0;
            default what the decoder asks for (``dpt`` on a 12-block ViT: 2, 5, 8, 11).
        pos_embed_interpolation: ViTs: "timm" (timm's rule) or "dinov2" (the rule of the DINOv2 and Depth Anything
            V2 releases) for fitting the position embedding to other input sizes.
        decoder: registered decoder name (``list_decoders()``), e.g. ``fast_upproj`` or ``dpt``.
        decoder_kwargs: options of that decoder (validated before anything is built).
        output_kind: what the model predicts: "metric" (metres) or "relative_disparity" (inverse depth up to a
            scale and shift, trained on 1 / depth with e.g. ``ssi+0.5*gradient_matching`` and evaluated after a
            per-image least-squares alignment in disparity); None: the decoder's own (FCRN's is metric; ``dpt``
            with ``activation: relu`` is relative). Declare "metric" when training a ReLU head on metres.
        pretrained: start the encoder from ImageNet weights (never used when reloading a checkpoint).
        encoder_weights: local file with ImageNet encoder weights (offline alternative to ``pretrained``).
        encoder_weights_strict: False loads only the ``encoder_weights`` tensors that fit and logs the rest
            (partial transfer); by default a file that does not fit the encoder exactly is refused.
        weights: any source :func:`depthzoo.load` accepts (a known checkpoint name, a model file, a Lightning
            ``.ckpt``, a ``save_pretrained`` folder, the official FCRN release, a Depth Anything V2 release ``.pth``,
            a Hugging Face repository id) whose weights initialise the whole model (fine-tuning or evaluating
            released models). Its architecture is the one the source records; architecture arguments given
            explicitly (``encoder``, ``decoder``, ``decoder_kwargs``, ``encoder_depth``, ``encoder_indices``,
            ``pos_embed_interpolation``, ``output_kind``) override it (an error when the tensors then do not fit),
            and describe the architecture of bare weights. A Depth Anything V2 release, whose file cannot say which
            head it was trained with, gets the metric head from ``decoder_kwargs`` (``activation: sigmoid``,
            ``max_depth``).
        loss: registered loss name (``list_losses()``: ``berhu``, ``l1``, ``l2``, ``silog``, ``ssi``,
            ``gradient_matching``) or a weighted sum of them, e.g. ``ssi+0.5*gradient_matching``.
        loss_kwargs: options of that loss (validated like the decoder's); for a sum, per term:
            ``{ssi: {trim: 0.2}}``.
        losses: the loss as a list of terms instead, ``[{name: ssi, trim: 0.2}, {name: gradient_matching,
            weight: 0.5}]`` (each: a registered name, an optional weight, that loss's options); replaces ``loss``.
        optimizer: optimizer factory (LightningCLI: ``--optimizer`` class path); default AdamW(lr=1e-3).
        lr_scheduler: optional scheduler factory; ReduceLROnPlateau monitors ``monitor``. A
            :class:`~depthzoo.schedulers.PolyLR` without ``total_steps`` gets the run's length.
        lr_scheduler_interval: step the scheduler every "epoch" or every optimizer "step" (poly schedules).
        encoder_lr_mult: the encoder's learning rate is the optimizer's times this (0 freezes it in effect).
        min_depth: lower bound of valid evaluation depth; None takes the datamodule's (1e-3 m).
        max_depth: upper bound of valid evaluation depth; None takes the datamodule's (NYU 10 m, KITTI 80 m).
        eval_crop: evaluation crop; "auto" takes the datamodule's (NYU Eigen crop, KITTI Garg crop); None: none.
        eval_average: "image" (per-image mean, the BTS convention) or "pixel" (pooled, the FCRN paper's).
        eval_clamp: clamp predictions to the depth range before evaluation (BTS).
        eval_alignment: per-image alignment before the metrics (``DepthMetrics``): "none", "median", "scale",
            "scale_shift" or "scale_shift_disparity"; None: "scale_shift_disparity" for a relative model (as MiDaS
            and Depth Anything evaluate), "none" for a metric one.
        eval_flip: average each evaluation and prediction with the mirrored prediction of the mirrored image
            (flip test-time augmentation, as BTS and AdaBins evaluate); twice the compute.
        eval_boundary: also report iBims-1's depth-boundary errors ``dbe_acc`` and ``dbe_comp`` (pixels; dense
            ground truth only: NYU, synthetic rooms, not KITTI), in validation and test.
        baseline_depth: also evaluate a constant prediction: a value in metres, or "train_median" (the median valid
            depth of the training split, asked of the datamodule), shown next to the model's test table.
        num_val_images: rows saved each validation epoch: input, ground truth and prediction (with their depth edges
            in white) and the relative error map, at the ground truth's size.
        monitor: the metric that picks the best checkpoint and drives ReduceLROnPlateau.
        channels_last: run the model on NHWC tensors (faster convolutions with bf16/fp16 on recent CPUs and
            GPUs; the results are the same up to floating-point rounding).
        predict_precision: precision of ``predict``: "auto" (bf16 autocast where the hardware has native bf16,
            else fp32), "bf16" or "fp32". Prediction runs a fast copy of the model (BatchNorm folded into the
            convolutions, channels_last; :mod:`depthzoo.inference`).
        predict_compile: ``torch.compile`` that copy (a one-off cost of tens of seconds; for long videos and folders).
        eval_precision: precision of ``validate`` and ``test``: "fp32" (default, so published numbers reproduce),
            "bf16" or "auto".
    """

    def __init__(
        self,
        encoder: str = "resnet50",
        decoder: str = "fast_upproj",
        decoder_kwargs: dict[str, Any] | None = None,
        encoder_depth: int | None = None,
        encoder_indices: list[int] | None = None,
        pos_embed_interpolation: Literal["timm", "dinov2"] = "timm",
        output_kind: OutputKind | None = None,
        pretrained: bool = False,
        encoder_weights: str | None = None,
        encoder_weights_strict: bool = True,
        weights: str | None = None,
        loss: str = "berhu",
        loss_kwargs: dict[str, Any] | None = None,
        losses: list[dict[str, Any]] | None = None,
        optimizer: OptimizerCallable = torch.optim.AdamW,
        lr_scheduler: LRSchedulerCallable | None = None,
        lr_scheduler_interval: Literal["epoch", "step"] = "epoch",
        encoder_lr_mult: float = 1.0,
        min_depth: float | None = None,
        max_depth: float | None = None,
        eval_crop: str | None = "auto",
        eval_average: Literal["image", "pixel"] = "image",
        eval_clamp: bool = True,
        eval_alignment: Alignment | None = None,
        eval_flip: bool = False,
        eval_boundary: bool = False,
        baseline_depth: float | Literal["train_median"] | None = None,
        num_val_images: int = 4,
        monitor: str = "val/abs_rel",
        channels_last: bool = False,
        predict_precision: Precision = "auto",
        predict_compile: bool = False,
        eval_precision: Precision = "fp32",
    ) -> None:
        super().__init__()
        # Weight sources are kept out of the saved hyper-parameters: a reload takes weights from the checkpoint
        # and must never download or look for files again.
        self.save_hyperparameters(ignore=["optimizer", "lr_scheduler"])
        self.hparams.update(pretrained=False, encoder_weights=None, weights=None)
        if lr_scheduler_interval not in ("epoch", "step"):
            raise InvalidArgumentError(
                f"lr_scheduler_interval must be 'epoch' or 'step', got {lr_scheduler_interval!r}"
            )
        resolve_precision(predict_precision)  # a wrong value fails here, not after the data is loaded
        resolve_precision(eval_precision)
        architecture = {
            "encoder": encoder,
            "decoder": decoder,
            "decoder_kwargs": decoder_kwargs,
            "encoder_depth": encoder_depth,
            "encoder_indices": encoder_indices,
            "pos_embed_interpolation": pos_embed_interpolation,
            "output_kind": output_kind,
        }
        self.weights_source: str | None = None
        if weights is not None:
            if encoder_weights is not None:  # superseded by ``weights``; a broken file is still a mistake to report
                read_encoder_state(check_local_weights(encoder_weights))
            self.model: DepthModel = self._load_weights(weights, architecture)
            self.weights_source = str(weights)
        else:
            self.model = create_model(
                encoder,
                decoder,
                pretrained=pretrained,
                encoder_weights=encoder_weights,
                encoder_weights_strict=encoder_weights_strict,
                encoder_depth=encoder_depth,
                encoder_indices=encoder_indices,
                pos_embed_interpolation=pos_embed_interpolation,
                output_kind=output_kind,
                **(decoder_kwargs or {}),
            )
        if losses is not None and loss_kwargs:
            raise InvalidArgumentError(
                "loss_kwargs and losses were both given", fix="put each loss's options in its entry of losses"
            )
        self.loss_fn = build_losses(losses) if losses is not None else build_loss(loss, **(loss_kwargs or {}))
        self._empty_training_samples: set[int] = set()
        self._empty_samples_reported = False
        self.optimizer_factory = optimizer
        self.scheduler_factory = lr_scheduler
        self.fast_inference: FastInference | None = None
        self.training_record: dict[str, Any] | None = None
        self.test_record: dict[str, Any] | None = None
        self.val_metrics: DepthMetrics | None = None
        self.test_metrics: DepthMetrics | None = None
        self.baseline_metrics: DepthMetrics | None = None
        self.baseline_value: float | None = None

    @classmethod
    def load_from_checkpoint(cls, checkpoint_path: Any, *args: Any, **kwargs: Any) -> DepthTask:  # type: ignore[override]
        """Lightning's ``load_from_checkpoint``; a truncated, corrupt or unsafe file is a WeightsError naming it."""
        with readable_checkpoint(checkpoint_path):
            return super().load_from_checkpoint(checkpoint_path, *args, **kwargs)

    # ---------------------------------------------------------------------------------------------------- model
    def _load_weights(self, weights: str, architecture: dict[str, Any]) -> DepthModel:
        """The model of ``weights`` through :func:`depthzoo.load`; the hyper-parameters follow its architecture.

        Architecture arguments that differ from their defaults are overrides; for bare weights (no recorded
        architecture) all of them describe the model.
        """
        source = read_weights(weights)
        defaults = inspect.signature(DepthTask.__init__).parameters
        overrides = {
            key: value
            for key, value in architecture.items()
            if source.config is None or value != defaults[key].default
        }
        model = build_model(source, **overrides)
        config = model.config
        self.hparams.update(
            encoder=config["encoder"],
            decoder=config["decoder"],
            decoder_kwargs=dict(config.get("decoder_kwargs") or {}),
            encoder_depth=config.get("encoder_depth"),
            encoder_indices=config.get("encoder_indices"),
            pos_embed_interpolation=config.get("pos_embed_interpolation", "timm"),
            output_kind=config.get("output_kind", "metric"),
        )
        return model

    def forward(self, images: Tensor) -> Tensor:
        """Depth in metres (relative disparity for a relative model) at the model's native resolution."""
        if self.hparams.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        return self.model(images)

    def _evaluation_forward(self, images: Tensor) -> Tensor:
        """The forward pass of evaluation and prediction: with ``eval_flip``, averaged with the mirrored pass."""
        return flip_averaged(self, images) if self.hparams.eval_flip else self(images)

    # ------------------------------------------------------------------------------------------------- training
    @override
    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        pred = self(batch["image"])
        target, valid = batch["depth"], batch["valid"]
        self._count_empty_samples(batch)
        if self._datamodule_attr("sparse_depth", False):
            # Sparse (LiDAR-like) ground truth: compare at its resolution, so no depth point is dropped.
            pred = F.interpolate(pred, size=target.shape[-2:], mode="bilinear", align_corners=False)
        else:
            # Nearest, so no invalid (0) pixel is ever blended into a valid depth.
            size = pred.shape[-2:]
            target = F.interpolate(target, size=size, mode="nearest")
            valid = F.interpolate(valid.to(pred.dtype), size=size, mode="nearest") > 0.5
        head_max = getattr(self.model.decoder, "max_depth", None)
        if head_max is not None:  # a bounded head cannot reach deeper pixels; Depth Anything V2 leaves them out too
            valid = valid & (target <= head_max)
        if self.model.output_kind == "relative_disparity":
            target = disparity_target(target, valid)
        loss = self.loss_fn(pred, target, valid)
        if not torch.isfinite(loss):
            raise DivergedError(
                f"non-finite training loss {loss.item()} at step {self.global_step}",
                fix="lower the learning rate or check the data (depth must be metres, images in [0, 1])",
            )
        self.log("train/loss", loss, prog_bar=True, batch_size=pred.shape[0])
        self.weights_source = self.weights_source or "training"
        return loss

    def _count_empty_samples(self, batch: dict[str, Tensor]) -> None:
        """Remember the training samples whose (augmented) ground truth has no valid pixel."""
        if self._empty_samples_reported or "index" not in batch:
            return
        empty = ~batch["valid"].flatten(1).any(dim=1)
        if bool(empty.any()):
            self._empty_training_samples.update(batch["index"][empty].tolist())

    @override
    def on_train_epoch_end(self) -> None:
        if self._empty_samples_reported:
            return
        self._empty_samples_reported = True  # once per run: the first epoch has seen every sample
        if self._empty_training_samples:
            found = sorted(self._empty_training_samples)
            rank_zero_warn(
                f"{len(found)} training samples had no valid ground-truth pixel after augmentation in the first "
                f"epoch (dataset positions {listing(found)}); they add nothing to the loss. If that is unexpected, "
                "check the data's invalid value, masks and depth scale"
            )

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
        interval = self.hparams.lr_scheduler_interval
        if getattr(scheduler, "total_steps", 0) is None and hasattr(scheduler, "set_total_steps"):
            total = self.trainer.estimated_stepping_batches if interval == "step" else self.trainer.max_epochs
            if total is None or not math.isfinite(total) or total < 1:
                raise InvalidArgumentError(
                    f"{type(scheduler).__name__} needs the run's length, but the trainer has no end "
                    f"(max_epochs={self.trainer.max_epochs}, max_steps={self.trainer.max_steps})",
                    fix="set --trainer.max_epochs (or max_steps), or the scheduler's total_steps",
                )
            scheduler.set_total_steps(int(total))
        config: dict[str, Any] = {"scheduler": scheduler, "interval": interval}
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            if interval != "epoch":
                raise InvalidArgumentError(
                    "ReduceLROnPlateau follows a validation metric, which exists once per epoch",
                    fix="use lr_scheduler_interval: epoch with it",
                )
            config["monitor"] = self.hparams.monitor
        return {"optimizer": optimizer, "lr_scheduler": config}

    # ----------------------------------------------------------------------------------------------- evaluation
    @override
    def setup(self, stage: str) -> None:
        if stage in ("fit", "validate", "test"):
            self._check_head_range()
        if stage == "fit" and self.loss_fn.affine_invariant and self.model.output_kind == "metric":
            raise InvalidArgumentError(
                f"the loss {self.loss_fn!r} ignores a per-image scale and shift of the prediction, so a metric model "
                "trained with it would never learn metres",
                fix="train a relative model: --model.output_kind relative_disparity (or use a metric loss: berhu)",
            )
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

    def _check_head_range(self) -> None:
        """Warn when a bounded head (sigmoid x max_depth) cannot reach the data's depth range."""
        head_max = getattr(self.model.decoder, "max_depth", None)
        data_max = self.evaluation_protocol()["max_depth"]
        if head_max is not None and data_max is not None and data_max > head_max:
            rank_zero_warn(
                f"the model's head cannot predict beyond {head_max:g} m, but the data's depth range goes to "
                f"{data_max:g} m; set --model.decoder_kwargs.max_depth {data_max:g}",
                category=UserWarning,
            )

    def _datamodule_attr(self, name: str, default: Any) -> Any:
        datamodule = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        return getattr(datamodule, name, default)

    def evaluation_protocol(self) -> dict[str, Any]:
        """The DepthMetrics settings in force: the task's arguments, else the datamodule's dataset defaults."""
        crop = self.hparams.eval_crop
        relative = self.model.output_kind == "relative_disparity"
        alignment = self.hparams.get("eval_alignment") or ("scale_shift_disparity" if relative else "none")
        return {
            "min_depth": self.hparams.min_depth or self._datamodule_attr("min_depth", 1e-3),
            "max_depth": self.hparams.max_depth or self._datamodule_attr("max_depth", 10.0),
            "crop": self._datamodule_attr("eval_crop", None) if crop == "auto" else crop,
            "average": self.hparams.eval_average,
            "clamp": self.hparams.eval_clamp,
            "alignment": alignment,
            "prediction": "disparity" if relative else "depth",
            "boundary": self.hparams.get("eval_boundary", False),
        }

    def _make_metrics(self) -> DepthMetrics:
        return DepthMetrics(**self.evaluation_protocol()).to(self.device)

    def _resolve_baseline(self) -> float:
        value = self.hparams.baseline_depth
        if value != "train_median":
            return float(value)
        datamodule = getattr(self.trainer, "datamodule", None)
        if datamodule is None or not hasattr(datamodule, "train_median_depth"):
            raise InvalidArgumentError(
                "baseline_depth='train_median' needs a datamodule with train_median_depth()", fix="pass a number"
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
        self.fast_inference = FastInference(
            self.model, precision=self.hparams.predict_precision, compile=self.hparams.predict_compile
        )

    @override
    def on_predict_end(self) -> None:
        self.fast_inference = None  # a copy of the model: free it

    def _evaluate(self, batch: dict[str, Tensor], metrics: DepthMetrics) -> Tensor:
        if resolve_precision(self.hparams.eval_precision, self.device) == "bf16":
            with torch.autocast(self.device.type, dtype=torch.bfloat16):
                pred = self._evaluation_forward(batch["image"]).float()
        else:
            pred = self._evaluation_forward(batch["image"])
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
        self.test_record = {
            "data": describe_data(getattr(self.trainer, "datamodule", None), "test"),
            "protocol": self.evaluation_protocol(),
            "metrics": model_values,
        }
        baseline_values = None
        if self.baseline_metrics is not None:
            baseline_values = {k: float(v) for k, v in self.baseline_metrics.compute().items()}
            self.log_dict({f"baseline/{k}": v for k, v in baseline_values.items()}, sync_dist=False)
            self.baseline_metrics.reset()
        self._print_table(model_values, baseline_values)

    @rank_zero_only
    def _print_table(self, model: dict[str, float], baseline: dict[str, float] | None) -> None:
        protocol = self.evaluation_protocol()
        header = (
            f"Test metrics ({protocol['average']} average, depth range ({protocol['min_depth']:g}, "
            f"{protocol['max_depth']:g}) m, crop {protocol['crop']}"
        )
        if protocol["alignment"] != "none":
            what = "a relative model: " if protocol["prediction"] == "disparity" else ""
            header += f", alignment {protocol['alignment']}: {what}{ALIGNMENT_NOTES[protocol['alignment']]}"
        if self.hparams.get("eval_flip"):
            header += ", flip test-time augmentation"
        header += ")"
        if baseline is not None:
            aligned = " aligned like the model" if protocol["alignment"] != "none" else ""
            header += f"; baseline = constant {self.baseline_value:.3f} m{aligned}"
        lines = [header, f"{'metric':<10}{'model':>12}" + (f"{'baseline':>12}" if baseline is not None else "")]
        for key in model:
            lines.append(f"{key:<10}{model[key]:>12.4f}" + (f"{baseline[key]:>12.4f}" if baseline is not None else ""))
        print("\n" + "\n".join(lines), flush=True)

    @override
    def on_fit_end(self) -> None:
        loss = self.hparams.loss + (f" {dict(self.hparams.loss_kwargs)}" if self.hparams.loss_kwargs else "")
        optimizer = self.trainer.optimizers[0] if self.trainer.optimizers else None
        self.training_record = {
            "data": describe_data(getattr(self.trainer, "datamodule", None), "train"),
            "initial weights": self.weights_source if self.weights_source not in (None, "training") else None,
            "epochs": self.current_epoch,
            "steps": self.global_step,
            "loss": loss,
            "optimizer": type(optimizer).__name__ if optimizer is not None else None,
        }

    def save_pretrained(self, folder: str | Path, **kwargs: Any) -> Path:
        """``self.model.save_pretrained(folder)`` with what this task knows for the model card.

        After ``fit`` the card records the training data and recipe; after ``test`` the evaluation data, protocol
        and metrics. ``kwargs`` go to :meth:`DepthModel.save_pretrained` (``license=...``, ``overwrite=True``, ...).
        """
        kwargs.setdefault("training", self.training_record)
        kwargs.setdefault("evaluation", self.test_record)
        return self.model.save_pretrained(folder, **kwargs)

    # --------------------------------------------------------------------------------------------------- images
    @rank_zero_only
    def _save_val_images(self, batch: dict[str, Tensor], pred: Tensor) -> None:
        count = min(self.hparams.num_val_images, pred.shape[0])
        target = batch["depth"][:count].float()
        valid = batch["valid"][:count] if batch.get("valid") is not None else None
        # The prediction as the metrics see it, at the ground truth's size (large enough to read): a relative
        # model's disparity aligned into metres like its evaluation.
        assert self.val_metrics is not None
        shown = self.val_metrics.evaluated_prediction(pred[:count].detach().float(), target, valid)
        grid = validation_panel(
            [batch["image"][i].float().cpu().numpy() for i in range(count)],
            [target[i, 0].cpu().numpy() for i in range(count)],
            [shown[i].cpu().numpy() for i in range(count)],
            prediction_title="prediction" if self.model.output_kind == "metric" else "prediction, aligned",
        )
        name = f"epoch={self.current_epoch:03d}.png"
        log_dir = Path(self.trainer.log_dir or self.trainer.default_root_dir)
        save_png(grid, log_dir / "val_images" / name, overwrite=True)  # the run's own
        for logger in self.loggers:
            log_image(logger, "val/depth", grid, self.global_step, f"val_images/{name}")

    # ----------------------------------------------------------------------------------------------- prediction
    @override
    def predict_step(self, batch: dict[str, Any], batch_idx: int) -> dict[str, Any]:
        runner = self.fast_inference
        forward = runner if runner is not None else self
        images = batch["image"]
        depth = flip_averaged(forward, images) if self.hparams.eval_flip else forward(images)
        # The frames of a video batch stay in the batch (the writer reads them there), out of the kept predictions.
        kept = {k: v for k, v in batch.items() if k not in ("image", "frame", "depth", "valid")}
        return {**kept, "depth": depth, "output_kind": self.model.output_kind}
