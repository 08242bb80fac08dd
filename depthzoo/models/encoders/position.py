"""How a ViT's learned position embedding is fitted to a token grid other than the one it was trained at.

Two rules exist for the same weights, and they give different numbers:

- ``"timm"`` (timm's default for every ViT it builds with ``dynamic_img_size``): bicubic interpolation *to the
  target size*, anti-aliased.
- ``"dinov2"`` (DINOv2 and Depth Anything V2 as released): bicubic interpolation with a *scale factor*
  ``(grid + 0.1) / old_grid`` per axis, no anti-aliasing, in float32; the class token's embedding is kept. With a
  scale factor, PyTorch maps output pixel ``i`` to input coordinate ``(i + 0.5) / scale - 0.5``, not
  ``(i + 0.5) * old / new - 0.5``, so the two rules differ even when upsampling. At the trained grid (37x37 for a
  518x518 input) nothing is interpolated.

A model that must reproduce a release's output uses that release's rule: :func:`depthzoo.from_depth_anything_v2`
builds its encoder with ``pos_embed_interpolation="dinov2"``. Models built by name keep timm's rule unless asked.
"""

from __future__ import annotations

import math
import types
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from depthzoo.errors import InvalidArgumentError

PosEmbedInterpolation = Literal["timm", "dinov2"]
POS_EMBED_INTERPOLATIONS: tuple[str, ...] = ("timm", "dinov2")
DINOV2_OFFSET = 0.1


def dinov2_pos_embed(pos_embed: Tensor, grid: tuple[int, int], num_prefix_tokens: int = 1) -> Tensor:
    """The position embedding for a ``grid`` of patch tokens by the DINOv2 rule (see the module docstring).

    Args:
        pos_embed: (1, num_prefix_tokens + S * S, C), trained for an S x S grid.
        grid: (rows, columns) of patch tokens of the input.
        num_prefix_tokens: leading tokens (the class token) whose embeddings are kept as they are.

    Returns:
        (1, num_prefix_tokens + rows * columns, C) in float32 (cast it to the tokens' dtype before adding).

    >>> pe = torch.arange((1 + 4 * 4) * 2, dtype=torch.float32).reshape(1, -1, 2)
    >>> tuple(dinov2_pos_embed(pe, (3, 5)).shape)
    (1, 16, 2)
    >>> torch.equal(dinov2_pos_embed(pe, (4, 4)), pe)
    True
    """
    patch_tokens = pos_embed.shape[1] - num_prefix_tokens
    side = math.isqrt(patch_tokens)
    if side * side != patch_tokens:
        raise InvalidArgumentError(
            f"the position embedding has {patch_tokens} patch tokens, not a square grid; the dinov2 rule needs one"
        )
    rows, cols = int(grid[0]), int(grid[1])
    pos_embed = pos_embed.float()
    if (rows, cols) == (side, side):
        return pos_embed
    dim = pos_embed.shape[-1]
    prefix, patches = pos_embed[:, :num_prefix_tokens], pos_embed[:, num_prefix_tokens:]
    patches = patches.reshape(1, side, side, dim).permute(0, 3, 1, 2)
    scale = ((rows + DINOV2_OFFSET) / side, (cols + DINOV2_OFFSET) / side)
    patches = F.interpolate(patches, scale_factor=scale, mode="bicubic", antialias=False)
    if patches.shape[-2:] != (rows, cols):  # the 0.1 offset exists to make floor(side * scale) land on the grid
        raise AssertionError(f"scale factors {scale} gave a {tuple(patches.shape[-2:])} grid, not {(rows, cols)}")
    patches = patches.permute(0, 2, 3, 1).reshape(1, rows * cols, dim)
    return torch.cat([prefix, patches], dim=1)


def _dinov2_token_embedding(self: nn.Module, x: Tensor) -> Tensor:
    """Replacement of timm's ``VisionTransformer._pos_embed`` that fits the embedding by the DINOv2 rule.

    ``x`` is the patch embedding as timm's dynamic-size ViTs produce it, (B, rows, cols, C).
    """
    batch, rows, cols, dim = x.shape
    tokens = torch.cat([self.cls_token.expand(batch, -1, -1), x.reshape(batch, rows * cols, dim)], dim=1)
    tokens = tokens + dinov2_pos_embed(self.pos_embed, (rows, cols), num_prefix_tokens=1).to(tokens.dtype)
    return self.pos_drop(tokens)


def use_pos_embed_interpolation(vit: nn.Module, rule: PosEmbedInterpolation, name: str) -> None:
    """Make the timm ViT ``vit`` fit its position embedding by ``rule`` ("timm" leaves it as timm built it).

    The "dinov2" rule replaces the bound ``_pos_embed`` method of this one instance (nothing global changes); it
    needs a ViT whose embedding covers a class token and a square patch grid, without register tokens.

    Raises:
        InvalidArgumentError: an unknown rule, or a model the "dinov2" rule does not apply to.
    """
    if rule not in POS_EMBED_INTERPOLATIONS:
        raise InvalidArgumentError(f"pos_embed_interpolation must be one of {POS_EMBED_INTERPOLATIONS}, got {rule!r}")
    if rule == "timm":
        return
    fits = (
        getattr(vit, "dynamic_img_size", False)
        and isinstance(getattr(vit, "pos_embed", None), Tensor)
        and isinstance(getattr(vit, "cls_token", None), Tensor)
        and getattr(vit, "reg_token", None) is None
        and not getattr(vit, "no_embed_class", True)
        and getattr(vit, "num_prefix_tokens", 0) == 1
    )
    if not fits:
        raise InvalidArgumentError(
            f"pos_embed_interpolation='dinov2' applies to ViTs with a class token, one position embedding over "
            f"it and the patches, and no register tokens (DINOv2 as released); encoder {name!r} is not one",
            fix="use pos_embed_interpolation='timm'",
        )
    vit._pos_embed = types.MethodType(_dinov2_token_embedding, vit)


__all__ = [
    "DINOV2_OFFSET",
    "POS_EMBED_INTERPOLATIONS",
    "PosEmbedInterpolation",
    "dinov2_pos_embed",
    "use_pos_embed_interpolation",
]
