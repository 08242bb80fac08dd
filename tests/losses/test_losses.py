"""Masked depth losses: berHu against its piecewise definition, masks, the no-valid-pixel case."""

import math

import pytest
import torch

from depthzoo.losses import BerHuLoss, build_loss


def berhu_reference(residuals: list[float]) -> tuple[float, list[float]]:
    """Piecewise berHu and its gradient written out by hand (c = 0.2 max|x|, c constant)."""
    c = 0.2 * max(abs(r) for r in residuals)
    values, grads = [], []
    for r in residuals:
        if abs(r) <= c:
            values.append(abs(r))
            grads.append(math.copysign(1.0, r) if r != 0 else 0.0)
        else:
            values.append((r * r + c * c) / (2 * c))
            grads.append(r / c)
    n = len(residuals)
    return sum(values) / n, [g / n for g in grads]


def test_berhu_value_and_gradient_match_piecewise_definition() -> None:
    target = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    residuals = [0.1, -0.3, 2.0, -5.0, 0.9, 1.0]  # c = 1.0: |x| <= 1 linear (1.0 on the boundary), else quadratic
    pred = (target + torch.tensor(residuals)).requires_grad_()
    loss = BerHuLoss()(pred.view(1, 1, 2, 3), target.view(1, 1, 2, 3))
    loss.backward()
    expected, expected_grad = berhu_reference(residuals)
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    # by hand: (0.1 + 0.3 + (4+1)/2 + (25+1)/2 + 0.9 + 1.0) / 6
    assert expected == pytest.approx((0.1 + 0.3 + 2.5 + 13.0 + 0.9 + 1.0) / 6)
    torch.testing.assert_close(pred.grad, torch.tensor(expected_grad))


def test_berhu_threshold_uses_valid_pixels_of_the_whole_batch_only() -> None:
    target = torch.tensor([[[[1.0, 0.0]]], [[[2.0, 3.0]]]])  # one invalid pixel (0)
    pred = torch.tensor([[[[1.5, 100.0]]], [[[2.0, 7.0]]]])  # the huge error sits on the invalid pixel
    loss = BerHuLoss()(pred, target)
    expected, _ = berhu_reference([0.5, 0.0, 4.0])  # c = 0.8 from the valid residuals only
    assert loss.item() == pytest.approx(expected)


def test_berhu_zero_residual_is_zero_not_nan() -> None:
    target = torch.rand(2, 1, 4, 4) + 1
    pred = target.clone().requires_grad_()
    loss = BerHuLoss()(pred, target)
    loss.backward()
    assert loss.item() == 0.0 and torch.isfinite(pred.grad).all()


def test_l1_l2_masked_means() -> None:
    target = torch.tensor([[[[1.0, 2.0, 0.0, 4.0]]]])
    pred = torch.tensor([[[[2.0, 2.0, 9.0, 1.0]]]])
    valid = torch.tensor([[[[True, True, True, False]]]])
    assert build_loss("l1")(pred, target).item() == pytest.approx((1 + 0 + 3) / 3)
    assert build_loss("l2")(pred, target).item() == pytest.approx((1 + 0 + 9) / 3)
    assert build_loss("l1")(pred, target, valid).item() == pytest.approx(0.5)


def test_silog_matches_formula_and_survives_zero_predictions() -> None:
    target = torch.tensor([[[[1.0, 2.0, 4.0]]]])
    pred = torch.tensor([[[[2.0, 2.0, 2.0]]]])
    e = torch.log(pred) - torch.log(target)
    lambd = 0.5
    expected = 10 * torch.sqrt((e**2).mean() - lambd * e.mean() ** 2)
    assert build_loss("silog", lambd=lambd)(pred, target).item() == pytest.approx(expected.item())
    zero_pred = torch.zeros(1, 1, 1, 3, requires_grad=True)  # a ReLU head can output exactly 0
    loss = build_loss("silog")(zero_pred, target)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(zero_pred.grad).all()


def test_shape_mismatch_and_bad_arguments_are_clear() -> None:
    with pytest.raises(ValueError, match="resize the target"):
        build_loss("l1")(torch.rand(1, 1, 4, 4), torch.rand(1, 1, 8, 8))
    with pytest.raises(KeyError, match="did you mean 'threshold'"):
        build_loss("berhu", treshold=0.3)
    with pytest.raises(KeyError, match="Did you mean: berhu"):
        build_loss("berhuu")
