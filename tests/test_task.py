"""DepthTask pieces without the CLI: optimiser groups, the masked training loss, weight loading, guards."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import save_file

from depthzoo.callbacks import DepthMapWriter
from depthzoo.errors import InvalidArgumentError, WeightsError
from depthzoo.losses import BerHuLoss
from depthzoo.metrics import DepthMetrics
from depthzoo.schedulers import PolyLR
from depthzoo.task import DepthTask, UntrainedModelError
from depthzoo.visualize import COLORMAP, HEADER_HEIGHT, ROW_GAP
from depthzoo.weights.loading import load_weights_into

TINY = "test_resnet.r160_in1k"


def test_encoder_learning_rate_multiplier_and_scheduler() -> None:
    task = DepthTask(
        encoder=TINY,
        optimizer=lambda params: torch.optim.SGD(params, lr=0.01, momentum=0.9),
        lr_scheduler=lambda opt: torch.optim.lr_scheduler.ReduceLROnPlateau(opt),
        encoder_lr_mult=0.1,
    )
    config = task.configure_optimizers()
    groups = {g["name"]: g for g in config["optimizer"].param_groups}
    assert groups["encoder"]["lr"] == pytest.approx(0.001) and groups["decoder"]["lr"] == pytest.approx(0.01)
    encoder_params = sum(p.numel() for p in groups["encoder"]["params"])
    assert encoder_params == sum(p.numel() for p in task.model.encoder.parameters())
    assert config["lr_scheduler"]["monitor"] == "val/abs_rel"


def test_training_step_is_berhu_on_nearest_resized_ground_truth() -> None:
    task = DepthTask(encoder=TINY, decoder="fast_upconv")
    image = torch.rand(2, 3, 64, 64)
    depth = torch.rand(2, 1, 64, 64) * 5 + 0.5
    depth[:, :, :8] = 0.0  # invalid rows must stay invalid after the resize
    valid = depth > 0
    torch.manual_seed(0)
    loss = task.training_step({"image": image, "depth": depth, "valid": valid}, 0)
    task.model.train()
    pred = task.model(image)  # same weights, same mode: the same prediction
    target = depth[:, :, ::2, ::2]  # nearest down-sampling 64 -> 32 picks every other pixel
    expected = BerHuLoss()(pred, target, target > 0)
    assert pred.shape[-2:] == (32, 32)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert torch.equal(F.interpolate(depth, size=(32, 32), mode="nearest"), target)


def test_evaluation_of_an_untrained_model_is_refused() -> None:
    task = DepthTask(encoder=TINY)
    with pytest.raises(UntrainedModelError, match="--ckpt_path"):
        task.on_test_start()
    task.on_load_checkpoint({})
    task.on_test_start()  # loaded weights: fine


def test_weights_file_initialises_the_whole_model(tmp_path: Path) -> None:
    source = DepthTask(encoder=TINY, decoder="fast_upproj")
    path = tmp_path / "model.safetensors"
    save_file({k: v.contiguous() for k, v in source.model.state_dict().items()}, str(path))
    task = DepthTask(encoder=TINY, decoder="fast_upproj", weights=str(path))
    for key, value in source.model.state_dict().items():
        assert torch.equal(task.model.state_dict()[key], value), key
    assert task.weights_source == str(path) and task.hparams.weights is None  # not saved: reloads use the ckpt
    task.on_test_start()


def test_weights_of_another_architecture_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    save_file({k: v.contiguous() for k, v in DepthTask(encoder=TINY, decoder="upconv").model.state_dict().items()},
              str(path))
    with pytest.raises(WeightsError, match="do not fit the test_resnet.r160_in1k \\+ fast_upproj model"):
        load_weights_into(DepthTask(encoder=TINY, decoder="fast_upproj").model, path)
    with pytest.raises(FileNotFoundError, match="no such weights file"):
        load_weights_into(DepthTask(encoder=TINY).model, tmp_path / "missing.ckpt")


def test_channels_last_gives_the_same_depth_in_nhwc() -> None:
    torch.manual_seed(0)
    plain = DepthTask(encoder=TINY, decoder="fast_upproj").eval()
    nhwc = DepthTask(encoder=TINY, decoder="fast_upproj", channels_last=True).eval()
    nhwc.load_state_dict(plain.state_dict())
    nhwc.setup("test")
    conv = next(m for m in nhwc.model.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    images = torch.rand(2, 3, 48, 64)
    with torch.no_grad():
        torch.testing.assert_close(nhwc(images), plain(images), rtol=1e-4, atol=1e-5)


def _attach(task: DepthTask, **trainer: object) -> None:
    """A stand-in trainer carrying only what the tested hooks read."""
    defaults = {"max_epochs": 2, "max_steps": -1, "estimated_stepping_batches": 10, "datamodule": None}
    task._trainer = SimpleNamespace(**{**defaults, **trainer})


def test_poly_schedule_per_step_with_the_encoder_at_a_tenth() -> None:
    """Depth Anything V2's recipe: head lr, encoder lr / 10, both times (1 - step / total) ** 0.9 every step."""
    task = DepthTask(
        encoder=TINY,
        decoder="dpt",
        optimizer=lambda params: torch.optim.AdamW(params, lr=5e-5, weight_decay=0.01),
        lr_scheduler=lambda opt: PolyLR(opt, power=0.9),
        lr_scheduler_interval="step",
        encoder_lr_mult=0.1,
    )
    _attach(task, estimated_stepping_batches=10)
    config = task.configure_optimizers()
    optimizer, scheduler = config["optimizer"], config["lr_scheduler"]["scheduler"]
    assert config["lr_scheduler"]["interval"] == "step" and scheduler.total_steps == 10
    seen = []
    for _ in range(10):
        seen.append({g["name"]: g["lr"] for g in optimizer.param_groups})
        optimizer.step()
        scheduler.step()
    for step, rates in enumerate(seen):
        factor = (1 - step / 10) ** 0.9
        assert rates["decoder"] == pytest.approx(5e-5 * factor) and rates["encoder"] == pytest.approx(5e-6 * factor)
    assert optimizer.param_groups[0]["lr"] == 0.0


def test_poly_schedule_per_epoch_takes_max_epochs_and_needs_an_end() -> None:
    task = DepthTask(encoder=TINY, lr_scheduler=lambda opt: PolyLR(opt))
    _attach(task, max_epochs=7)
    assert task.configure_optimizers()["lr_scheduler"]["scheduler"].total_steps == 7
    task = DepthTask(encoder=TINY, lr_scheduler=lambda opt: PolyLR(opt), lr_scheduler_interval="step")
    _attach(task, max_epochs=-1, estimated_stepping_batches=float("inf"))
    with pytest.raises(InvalidArgumentError, match="PolyLR needs the run's length.*max_epochs"):
        task.configure_optimizers()


def test_plateau_schedule_cannot_step_per_iteration() -> None:
    task = DepthTask(encoder=TINY, lr_scheduler=lambda opt: torch.optim.lr_scheduler.ReduceLROnPlateau(opt),
                     lr_scheduler_interval="step")
    with pytest.raises(InvalidArgumentError, match="lr_scheduler_interval: epoch"):
        task.configure_optimizers()
    with pytest.raises(InvalidArgumentError, match="'epoch' or 'step'"):
        DepthTask(encoder=TINY, lr_scheduler_interval="batch")  # type: ignore[arg-type]


@pytest.mark.parametrize("stage", ["fit", "validate", "test"])
def test_a_relative_model_is_evaluated_after_alignment_in_disparity(stage: str) -> None:
    task = DepthTask(encoder=TINY, decoder="dpt", decoder_kwargs={"activation": "relu"})
    _attach(task)
    task.setup(stage)
    protocol = task.evaluation_protocol()
    assert (protocol["alignment"], protocol["prediction"]) == ("scale_shift_disparity", "disparity")
    declared = DepthTask(encoder=TINY, decoder="dpt", decoder_kwargs={"activation": "relu"}, output_kind="metric")
    _attach(declared)
    declared.setup(stage)  # a ReLU head trained on metres is metric
    assert (declared.evaluation_protocol()["alignment"], declared.evaluation_protocol()["prediction"]) == (
        "none",
        "depth",
    )


def test_a_head_that_cannot_reach_the_data_range_warns() -> None:
    task = DepthTask(encoder=TINY, decoder="dpt")  # sigmoid x 10 m by default
    _attach(task, datamodule=SimpleNamespace(max_depth=80.0, min_depth=1e-3, eval_crop=None))
    with pytest.warns(UserWarning, match="cannot predict beyond 10 m.*goes to 80 m.*max_depth 80"):
        task.setup("fit")


def test_pixels_deeper_than_a_bounded_head_are_left_out_of_the_loss() -> None:
    task = DepthTask(encoder=TINY, decoder="dpt", decoder_kwargs={"max_depth": 5.0}, loss="l1")
    image = torch.rand(2, 3, 32, 32)
    depth = torch.full((2, 1, 32, 32), 2.0)
    depth[:, :, :16] = 9.0  # unreachable for sigmoid x 5 m
    loss = task.training_step({"image": image, "depth": depth, "valid": depth > 0}, 0)
    task.model.train()
    pred = task.model(image)
    assert loss.item() == pytest.approx((pred[:, :, 16:] - 2.0).abs().mean().item(), rel=1e-5)


def test_prediction_of_a_relative_model_is_written_as_disparity(tmp_path: Path) -> None:
    task = DepthTask(encoder=TINY, decoder="dpt", decoder_kwargs={"activation": "relu"})
    writer = DepthMapWriter(str(tmp_path))
    disparity = torch.rand(1, 1, 8, 8) + 0.1
    prediction = {"depth": disparity, "name": ["room"], "height": torch.tensor([16]), "width": torch.tensor([16])}
    writer.write_on_batch_end(None, task, prediction, None, None, 0)  # type: ignore[arg-type]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["room_color.png", "room_disparity.npy"]
    values = np.load(tmp_path / "room_disparity.npy")
    expected = F.interpolate(disparity, size=(16, 16), mode="bilinear", align_corners=False)[0, 0].numpy()
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-6)
    far, near = np.unravel_index(values.argmin(), values.shape), np.unravel_index(values.argmax(), values.shape)
    colours = np.asarray(Image.open(tmp_path / "room_color.png"))
    assert tuple(colours[near]) == tuple(COLORMAP[0]) and tuple(colours[far]) == tuple(COLORMAP[-1])  # as in depth


def test_boundary_errors_on_sparse_ground_truth_are_refused_at_setup() -> None:
    from types import SimpleNamespace

    from depthzoo.errors import InvalidArgumentError

    task = DepthTask(encoder=TINY, decoder="fast_upproj", eval_boundary=True)

    class SparseData:  # what KITTIDataModule says of itself
        dense_ground_truth = False
        max_depth = 80.0
        eval_crop = None

    task._trainer = SimpleNamespace(datamodule=SparseData())
    with pytest.raises(InvalidArgumentError, match="SparseData's is sparse.*--model.eval_boundary false"):
        task.setup("fit")
    SparseData.dense_ground_truth = True
    task.setup("fit")
    assert task.val_metrics is not None and task.val_metrics.boundary


def test_validation_picture_is_saved_and_given_to_loggers_that_take_pictures(tmp_path: Path) -> None:
    class PictureLogger:  # any logger with W&B's log_image(key, images, step)
        def __init__(self) -> None:
            self.calls = []

        def log_image(self, key, images, step):
            self.calls.append((key, images, step))

    logger = PictureLogger()
    task = DepthTask(encoder=TINY, decoder="fast_upconv", num_val_images=2)
    task._trainer = SimpleNamespace(log_dir=str(tmp_path), default_root_dir=str(tmp_path), loggers=[logger],
                                    current_epoch=3, global_step=40)
    task.val_metrics = DepthMetrics(max_depth=10.0)
    depth = torch.linspace(1.0, 4.0, 2 * 48 * 64).reshape(2, 1, 48, 64)
    task._save_val_images({"image": torch.rand(2, 3, 48, 64), "depth": depth}, depth[:, :, ::2, ::2] * 1.1)
    saved = np.asarray(Image.open(tmp_path / "val_images" / "epoch=003.png"))
    ((key, (picture,), step),) = logger.calls
    assert key == "val/depth" and step == 40 and np.array_equal(picture, saved)
    assert saved.shape[0] == HEADER_HEIGHT + 2 * 48 + ROW_GAP  # the titled two-row panel


def test_a_relative_models_validation_picture_shows_its_prediction_aligned_into_metres(tmp_path: Path) -> None:
    task = DepthTask(encoder=TINY, decoder="fast_upconv", num_val_images=1, output_kind="relative_disparity")
    task._trainer = SimpleNamespace(log_dir=str(tmp_path), default_root_dir=str(tmp_path), loggers=[],
                                    current_epoch=0, global_step=0)
    task.val_metrics = DepthMetrics(max_depth=10.0, alignment="scale_shift_disparity", prediction="disparity")
    depth = 1.0 + torch.rand(1, 1, 48, 64) * 3
    disparity = 0.5 / depth + 0.2  # the scene's disparity up to a scale and a shift: aligned, it is the depth again
    task._save_val_images({"image": torch.rand(1, 3, 48, 64), "depth": depth}, disparity)
    saved = np.asarray(Image.open(tmp_path / "val_images" / "epoch=000.png"))
    row = saved[HEADER_HEIGHT:]
    assert np.abs(row[:, 64:128].astype(int) - row[:, 128:192].astype(int)).max() <= 1  # prediction == truth
    shown = task.val_metrics.evaluated_prediction(disparity, depth)
    assert torch.allclose(shown, depth[:, 0].double(), rtol=1e-6)
