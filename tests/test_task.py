"""DepthTask pieces without the CLI: optimiser groups, the masked training loss, weight loading, guards."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from depthzoo.errors import WeightsError
from depthzoo.losses import BerHuLoss
from depthzoo.task import DepthTask, UntrainedModelError
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
