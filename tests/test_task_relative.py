"""DepthTask for relative depth (disparity targets, scale-and-shift-invariant losses, aligned evaluation), flip
test-time augmentation, sparse ground truth and the report of samples without valid depth."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from depthzoo.errors import InvalidArgumentError
from depthzoo.losses import GradientMatchingLoss, ScaleShiftInvariantLoss
from depthzoo.models import create_model
from depthzoo.task import DepthTask, disparity_target

TINY = "test_resnet.r160_in1k"


def batch() -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    depth = torch.rand(2, 1, 64, 64, generator=generator) * 5 + 0.5
    depth[:, :, :8] = 0.0
    return {"image": torch.rand(2, 3, 64, 64, generator=generator), "depth": depth, "valid": depth > 0,
            "index": torch.tensor([4, 9])}


def test_relative_models_train_on_disparity_with_the_midas_losses() -> None:
    task = DepthTask(encoder=TINY, decoder="fast_upconv", output_kind="relative_disparity",
                     loss="ssi+0.5*gradient_matching")
    data = batch()
    torch.manual_seed(0)
    loss = task.training_step(data, 0)
    task.model.train()
    pred = task.model(data["image"])
    target = data["depth"][:, :, ::2, ::2]
    disparity = torch.where(target > 0, 1.0 / target.clamp(min=1e-6), 0.0)
    expected = ScaleShiftInvariantLoss()(pred, disparity) + 0.5 * GradientMatchingLoss()(pred, disparity)
    assert task.model.output_kind == "relative_disparity"
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


def test_disparity_target_is_inverse_depth_on_valid_pixels_only() -> None:
    depth = torch.tensor([[[[2.0, 0.0, float("nan"), 4.0]]]])
    valid = torch.tensor([[[[True, True, True, False]]]])
    assert disparity_target(depth, valid).tolist() == [[[[0.5, 0.0, 0.0, 0.0]]]]


def test_losses_as_a_list_and_their_checks() -> None:
    task = DepthTask(encoder=TINY, output_kind="relative_disparity",
                     losses=[{"name": "ssi", "trim": 0.2}, {"name": "gradient_matching", "weight": 0.5}])
    assert repr(task.loss_fn) == "WeightedSumLoss(ssi + 0.5*gradient_matching)"
    metric = DepthTask(encoder=TINY, loss="ssi+0.5*gradient_matching")  # evaluating such a model is fine
    with pytest.raises(InvalidArgumentError, match="--model.output_kind relative_disparity"):
        metric.setup("fit")
    with pytest.raises(InvalidArgumentError, match="loss_kwargs and losses"):
        DepthTask(encoder=TINY, losses=[{"name": "l1"}], loss_kwargs={"threshold": 0.2})


def test_evaluation_protocol_aligns_relative_models_in_disparity() -> None:
    relative = DepthTask(encoder=TINY, output_kind="relative_disparity", loss="ssi")
    protocol = relative.evaluation_protocol()
    assert (protocol["alignment"], protocol["prediction"]) == ("scale_shift_disparity", "disparity")
    assert DepthTask(encoder=TINY).evaluation_protocol()["alignment"] == "none"
    assert DepthTask(encoder=TINY, eval_alignment="median").evaluation_protocol()["alignment"] == "median"
    wrong = DepthTask(encoder=TINY, output_kind="relative_disparity", loss="ssi", eval_alignment="scale_shift")
    with pytest.raises(InvalidArgumentError, match="relative disparity prediction has no metric depth"):
        wrong._make_metrics()


def test_the_test_table_says_which_alignment_it_used(capsys: pytest.CaptureFixture) -> None:
    task = DepthTask(encoder=TINY, output_kind="relative_disparity", loss="ssi", eval_flip=True)
    task._print_table({"abs_rel": 0.1, "d1": 0.9}, None)
    out = capsys.readouterr().out
    assert "alignment scale_shift_disparity: a relative model: least-squares scale and shift in disparity" in out
    assert "flip test-time augmentation" in out and "baseline" not in out


def test_flip_averages_with_the_mirrored_prediction() -> None:
    torch.manual_seed(0)
    model = create_model(TINY, "fast_upproj").eval()
    images = torch.rand(2, 3, 48, 64)
    with torch.no_grad():
        plain, mirrored = model(images), model(images.flip(-1)).flip(-1)
    expected = F.interpolate(0.5 * (plain + mirrored), size=(48, 64), mode="bilinear", align_corners=False)
    torch.testing.assert_close(model.predict(images, flip=True, precision="fp32"), expected)
    plain_prediction = model.predict(images, precision="fp32")
    assert not torch.allclose(model.predict(images, flip=True, precision="fp32"), plain_prediction)
    task = DepthTask(encoder=TINY, decoder="fast_upproj", eval_flip=True).eval()
    task.model.load_state_dict(model.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(task._evaluation_forward(images), 0.5 * (plain + mirrored))
        assert task.predict_step({"image": images, "name": ["a", "b"]}, 0)["depth"].shape == plain.shape


def test_sparse_ground_truth_is_compared_at_its_own_resolution() -> None:
    task = DepthTask(encoder=TINY, decoder="fast_upconv", loss="l1")
    task._datamodule_attr = lambda name, default: name == "sparse_depth" or default  # a sparse data module
    data = batch()
    data["valid"] = torch.zeros_like(data["valid"])
    data["valid"][:, :, 9::4, 1::4] = True  # points that nearest down-sampling to 32x32 would all miss
    torch.manual_seed(0)
    loss = task.training_step(data, 0)
    task.model.train()
    pred = F.interpolate(task.model(data["image"]), size=(64, 64), mode="bilinear", align_corners=False)
    expected = (pred - data["depth"])[data["valid"]].abs().mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6) and loss.item() > 0


def test_training_samples_without_valid_depth_are_reported_once() -> None:
    task = DepthTask(encoder=TINY, decoder="fast_upconv")
    data = batch()
    data["valid"][1] = False
    task._count_empty_samples(data)
    task._count_empty_samples(data)
    with pytest.warns(UserWarning, match=r"1 training samples had no valid ground-truth pixel .*positions 9\)"):
        task.on_train_epoch_end()
    task._count_empty_samples(data)
    task.on_train_epoch_end()  # reported once per run
