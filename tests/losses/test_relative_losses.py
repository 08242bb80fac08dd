"""MiDaS' ssi and gradient-matching losses against a float64 numpy re-implementation, and weighted sums of losses."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from depthzoo.losses import GradientMatchingLoss, ScaleShiftInvariantLoss, build_loss, build_losses
from depthzoo.registry import RegistryError


def batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(pred, disparity target) float64 (2, 1, 9, 13) with a fifth of the targets invalid (0)."""
    generator = torch.Generator().manual_seed(seed)
    target = torch.rand(2, 1, 9, 13, generator=generator, dtype=torch.float64) + 0.2
    target[torch.rand(target.shape, generator=generator) < 0.2] = 0.0
    pred = 2.0 * target + torch.randn(target.shape, generator=generator, dtype=torch.float64) * 0.3 - 1.0
    return pred, target


def numpy_residuals(pred: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per image: the least-squares aligned residual (0 where invalid) and the mask, from np.linalg.lstsq."""
    mask = target > 0
    residual = np.zeros_like(pred)
    for i in range(pred.shape[0]):
        p, g = pred[i][mask[i]], target[i][mask[i]]
        (s, t), *_ = np.linalg.lstsq(np.stack([p, np.ones_like(p)], 1), g, rcond=None)
        residual[i][mask[i]] = s * p + t - g
    return residual, mask


def numpy_ssi(pred: np.ndarray, target: np.ndarray, trim: float) -> float:
    residual, mask = numpy_residuals(pred, target)
    kept = []
    for i in range(pred.shape[0]):
        values = np.sort(residual[i][mask[i]] ** 2)
        kept.append(values[: math.ceil((1 - trim) * values.size)])
    return float(sum(k.sum() for k in kept) / (2 * sum(k.size for k in kept)))


def numpy_gradient_matching(pred: np.ndarray, target: np.ndarray, scales: int) -> float:
    residual, mask = numpy_residuals(pred, target)
    total = 0.0
    for level in range(scales):
        step = 2**level
        r, m = residual[:, ::step, ::step], mask[:, ::step, ::step]
        value = 0.0
        for i in range(r.shape[0]):
            for y in range(r.shape[1]):
                for x in range(r.shape[2]):
                    if x + 1 < r.shape[2] and m[i, y, x] and m[i, y, x + 1]:
                        value += abs(r[i, y, x + 1] - r[i, y, x])
                    if y + 1 < r.shape[1] and m[i, y, x] and m[i, y + 1, x]:
                        value += abs(r[i, y + 1, x] - r[i, y, x])
        total += value / m.sum()
    return total


@pytest.mark.parametrize("trim", [0.0, 0.2])
def test_ssi_matches_numpy(trim: float) -> None:
    pred, target = batch()
    value = ScaleShiftInvariantLoss(trim=trim)(pred, target)
    assert float(value) == pytest.approx(numpy_ssi(pred[:, 0].numpy(), target[:, 0].numpy(), trim), rel=1e-10)
    assert trim == 0 or float(value) < float(ScaleShiftInvariantLoss()(pred, target))


def test_gradient_matching_matches_numpy_at_four_scales() -> None:
    pred, target = batch(1)
    value = GradientMatchingLoss()(pred, target)
    expected = numpy_gradient_matching(pred[:, 0].numpy(), target[:, 0].numpy(), 4)
    assert float(value) == pytest.approx(expected, rel=1e-10)
    one_scale = GradientMatchingLoss(scales=1)(pred, target)
    assert 0 < float(one_scale) < float(value)


@pytest.mark.parametrize("loss", [ScaleShiftInvariantLoss(), ScaleShiftInvariantLoss(trim=0.2), GradientMatchingLoss()])
def test_per_image_scale_and_shift_of_the_prediction_change_nothing(loss: torch.nn.Module) -> None:
    pred, target = batch(2)
    moved = pred * torch.tensor([3.0, 0.25], dtype=torch.float64).view(2, 1, 1, 1) + torch.tensor([-4.0, 7.0]).view(
        2, 1, 1, 1
    )
    assert float(loss(moved, target)) == pytest.approx(float(loss(pred, target)), rel=1e-9)


def test_gradients_flow_through_the_alignment() -> None:
    pred, target = batch(3)
    pred = pred[:, :, :5, :6].clone().requires_grad_()
    target = target[:, :, :5, :6]
    assert torch.autograd.gradcheck(lambda p: ScaleShiftInvariantLoss()(p, target), (pred,))
    assert torch.autograd.gradcheck(lambda p: GradientMatchingLoss(scales=2)(p, target), (pred,))


def test_gradient_matching_without_alignment_is_not_invariant() -> None:
    pred, target = batch(4)
    loss = GradientMatchingLoss(align=False)
    assert not loss.affine_invariant and GradientMatchingLoss().affine_invariant
    assert float(loss(2 * pred, target)) != pytest.approx(float(loss(pred, target)))


@pytest.mark.parametrize(
    "expression", ["ssi+0.5*gradient_matching", " ssi + gradient_matching*0.5 ", "1*ssi+.5*gradient_matching"]
)
def test_weighted_sums_from_an_expression(expression: str) -> None:
    pred, target = batch(5)
    combined = build_loss(expression)
    expected = ScaleShiftInvariantLoss()(pred, target) + 0.5 * GradientMatchingLoss()(pred, target)
    assert float(combined(pred, target)) == pytest.approx(float(expected), rel=1e-12)
    assert combined.affine_invariant and repr(combined) == "WeightedSumLoss(ssi + 0.5*gradient_matching)"


def test_weighted_sums_with_options_per_term_and_from_a_list() -> None:
    pred, target = batch(6)
    expected = 2.0 * ScaleShiftInvariantLoss(trim=0.1)(pred, target) + GradientMatchingLoss(scales=2)(pred, target)
    from_expression = build_loss("2*ssi+gradient_matching", ssi={"trim": 0.1}, gradient_matching={"scales": 2})
    from_list = build_losses(
        [{"name": "ssi", "weight": 2, "trim": 0.1}, {"name": "gradient_matching", "scales": 2}]
    )
    for loss in (from_expression, from_list):
        assert float(loss(pred, target)) == pytest.approx(float(expected), rel=1e-12)
    assert not build_loss("berhu+ssi").affine_invariant


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: build_loss("ssi+-1*gradient_matching"), "cannot read the loss"),
        (lambda: build_loss("ssi+0*gradient_matching"), "positive"),
        (lambda: build_loss("ssi+gradient_matchin"), "Did you mean: gradient_matching"),
        (lambda: build_loss("2*ssi*3"), "cannot read the loss"),
        (lambda: build_loss("ssi+l1", trim=0.2), "given per term"),
        (lambda: build_loss("ssi+l1", ssi={"trimm": 0.2}), "did you mean 'trim'"),
        (lambda: build_losses([{"weight": 1.0}]), "must be a mapping with a 'name'"),
        (lambda: build_losses([{"name": "ssi", "weight": -2}]), "positive"),
        (lambda: ScaleShiftInvariantLoss(trim=1.0), "trim must be a fraction"),
        (lambda: GradientMatchingLoss(scales=0), "scales must be a positive integer"),
    ],
)
def test_bad_loss_specifications_are_clear_errors(call, message: str) -> None:
    with pytest.raises((RegistryError, ValueError), match=message):
        call()
