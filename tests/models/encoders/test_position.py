"""The DINOv2 / Depth Anything V2 position-embedding rule against an independent numpy resampler, and its use."""

import dav2_reference as ref
import numpy as np
import pytest
import timm
import torch
from timm.layers import resample_abs_pos_embed

from depthzoo.errors import InvalidArgumentError
from depthzoo.models.encoders import TimmEncoder
from depthzoo.models.encoders.position import dinov2_pos_embed, use_pos_embed_interpolation


@pytest.fixture(scope="module")
def pos_embed() -> torch.Tensor:
    return torch.randn(1, 1 + 37 * 37, 8, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("grid", [(26, 35), (19, 25), (50, 66), (37, 38), (1, 1), (74, 37)])
def test_matches_the_scale_factor_rule_written_in_numpy(pos_embed: torch.Tensor, grid: tuple[int, int]) -> None:
    ours = dinov2_pos_embed(pos_embed, grid)
    expected = ref.position_embedding(pos_embed.double().numpy(), *grid)
    assert ours.shape == (1, 1 + grid[0] * grid[1], 8) and ours.dtype == torch.float32
    np.testing.assert_allclose(ours[0].double().numpy(), expected, rtol=0, atol=2e-5)
    torch.testing.assert_close(ours[:, 0], pos_embed[:, 0], rtol=0, atol=0)  # the class token's is kept


def test_the_trained_grid_is_not_interpolated(pos_embed: torch.Tensor) -> None:
    assert torch.equal(dinov2_pos_embed(pos_embed, (37, 37)), pos_embed)


@pytest.mark.parametrize("grid", [(26, 35), (50, 66)])
def test_timms_size_rule_gives_other_numbers(pos_embed: torch.Tensor, grid: tuple[int, int]) -> None:
    """Why the release needs its own rule: a target size (and timm's anti-aliasing) moves every sample."""
    timm_rule = resample_abs_pos_embed(pos_embed, new_size=list(grid), old_size=[37, 37], num_prefix_tokens=1)
    plain_size = torch.cat([pos_embed[:, :1], torch.nn.functional.interpolate(
        pos_embed[:, 1:].reshape(1, 37, 37, 8).permute(0, 3, 1, 2), size=grid, mode="bicubic"
    ).permute(0, 2, 3, 1).reshape(1, -1, 8)], dim=1)
    ours = dinov2_pos_embed(pos_embed, grid)
    assert (ours - timm_rule).abs().max() > 0.05
    assert (ours - plain_size).abs().max() > 0.01


def test_encoder_with_the_dinov2_rule_uses_it_and_timm_models_keep_theirs() -> None:
    x = torch.rand(1, 3, 14 * 5, 14 * 7)
    dinov2 = TimmEncoder("vit_small_patch14_dinov2", out_indices=[0], pos_embed_interpolation="dinov2")
    default = TimmEncoder("vit_small_patch14_dinov2", out_indices=[0])
    default.load_state_dict(dinov2.state_dict())
    vit = dinov2.model.model
    tokens = vit.patch_embed(x)
    expected = torch.cat([vit.cls_token, tokens.reshape(1, 35, -1)], 1) + dinov2_pos_embed(vit.pos_embed, (5, 7))
    torch.testing.assert_close(vit._pos_embed(tokens), expected)
    with torch.no_grad():
        assert (dinov2(x)[0] - default(x)[0]).abs().max() > 1e-3
    assert "_pos_embed" not in vars(default.model.model)  # timm's own method, untouched


def test_rule_refuses_models_it_does_not_describe() -> None:
    registers = timm.create_model("vit_small_patch14_reg4_dinov2", pretrained=False, num_classes=0,
                                  dynamic_img_size=True)
    with pytest.raises(InvalidArgumentError, match="no register tokens.*'vit_small_patch14_reg4_dinov2'"):
        use_pos_embed_interpolation(registers, "dinov2", "vit_small_patch14_reg4_dinov2")
    with pytest.raises(InvalidArgumentError, match="must be one of"):
        use_pos_embed_interpolation(registers, "nearest", "x")  # type: ignore[arg-type]
