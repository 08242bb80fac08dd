"""The contract every registered loss keeps, checked for each name in ``list_losses()``.

Only valid pixels count: changing the prediction at invalid pixels (target 0, NaN or inf, or masked out with
``valid``) changes neither the loss nor the gradient elsewhere, and gives those pixels no gradient. A batch without
a valid pixel gives a zero loss that still backpropagates (zero gradients), never NaN.
"""

from __future__ import annotations

import pytest
import torch

from depthzoo.losses import build_loss, list_losses

LOSSES_UNDER_TEST = list_losses()


def test_every_loss_is_under_contract() -> None:
    assert {"berhu", "l1", "l2", "silog"} <= set(LOSSES_UNDER_TEST)


def _batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(pred, target, invalid) with a third of the pixels invalid in three different ways."""
    generator = torch.Generator().manual_seed(0)
    target = torch.rand(2, 1, 12, 16, generator=generator) * 4 + 1
    pred = target * (1 + 0.3 * torch.randn(2, 1, 12, 16, generator=generator)).clamp(min=0.2)
    invalid = torch.zeros_like(target, dtype=torch.bool)
    invalid[:, :, ::3] = True
    target = target.clone()
    target[0, 0, 0] = 0.0
    target[0, 0, 3] = float("nan")
    target[1, 0, 0] = float("inf")
    target[1, 0, 3] = 0.0
    target[:, :, 6] = -1.0  # negative depth is invalid too
    target[:, :, 9] = 0.0
    return pred, target, invalid


@pytest.mark.parametrize("name", LOSSES_UNDER_TEST)
def test_invalid_pixels_do_not_count(name: str) -> None:
    loss_fn = build_loss(name)
    pred, target, invalid = _batch()
    first = pred.clone().requires_grad_()
    value = loss_fn(first, target)
    value.backward()
    assert torch.isfinite(value) and float(value) > 0
    assert torch.isfinite(first.grad).all() and torch.equal(first.grad[invalid], torch.zeros_like(first.grad[invalid]))
    changed = pred.clone()
    changed[invalid] = 1000.0
    second = changed.requires_grad_()
    value_changed = loss_fn(second, target)
    value_changed.backward()
    torch.testing.assert_close(value_changed, value)
    torch.testing.assert_close(second.grad, first.grad)


@pytest.mark.parametrize("name", LOSSES_UNDER_TEST)
def test_the_valid_mask_is_the_same_as_invalid_targets(name: str) -> None:
    loss_fn = build_loss(name)
    pred, target, invalid = _batch()
    clean = torch.where(invalid, torch.rand_like(target) + 1, target)  # valid-looking values under the mask
    with_mask = loss_fn(pred, clean, ~invalid)
    torch.testing.assert_close(with_mask, loss_fn(pred, target))


@pytest.mark.parametrize("name", LOSSES_UNDER_TEST)
def test_no_valid_pixel_gives_zero_that_backpropagates(name: str) -> None:
    pred = torch.rand(2, 1, 3, 3, requires_grad=True)
    target = torch.zeros(2, 1, 3, 3)
    target[0, 0, 0, 0] = float("nan")
    loss = build_loss(name)(pred, target)
    loss.backward()
    assert loss.item() == 0.0
    assert pred.grad is not None and torch.equal(pred.grad, torch.zeros_like(pred))
