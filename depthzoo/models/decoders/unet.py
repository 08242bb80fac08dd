"""``unet``: the decoder of DenseDepth, as in its Keras original, for any feature pyramid.

DenseDepth: Alhashim & Wonka 2018, "High Quality Monocular Depth Estimation via Transfer Learning". Structure
(``model.py`` of the official Keras code):

- a 1x1 bottleneck convolution of the deepest feature (``conv2``), to ``bottleneck_channels``;
- per level (``up1``..``up4``): bilinear up-sampling to the size of the encoder level at the next stride
  (half-pixel centres, as ``tf.image.resize``), concatenation of that level, then two 3x3 convolutions
  (``convA``, ``convB``), **each followed by LeakyReLU(0.2)**; the channels halve at every level. (The official
  PyTorch port drops the LeakyReLU after ``convA``.) Levels without an encoder level at their stride (ConvNeXt and
  Swin have none at stride 2) up-sample by 2 and go on without a skip;
- a 3x3 convolution to one channel (``conv3``) at output stride 2, then a ReLU (depthzoo's decoders predict
  metres, never negative; DenseDepth's output is unbounded and means 10 / depth).

All convolutions have biases and no normalisation; they start as Keras does (Glorot-uniform weights, zero biases).

Parameters: DenseDepth reports 42.6M. Its encoder, DenseNet-169 without the classifier, has 12,484,480 trainable
parameters, and its decoder at ``bottleneck_channels`` = 1664 (the encoder's width; the Keras script's
``is_halffeatures`` default would halve it, for 21.4M in all) with skips from ``pool3_pool`` (256 channels),
``pool2_pool`` (128), ``pool1`` (64) and ``conv1/relu`` (64) has 30,173,209: 42,657,689 in all. timm's DenseNet-169
exposes other levels: the dense blocks' outputs before each transition, with 1280, 512 and 256 channels at strides
16, 8 and 4. The same decoder on ``create_model("densenet169", "unet")`` therefore has 39,638,041 parameters (52.1M
with the encoder): the first convolutions of the three deeper levels see 9.46M more input weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from depthzoo.models.decoders.fcrn import halved_widths, upsampling_strides
from depthzoo.models.decoders.pyramid import check_pyramid, skip_levels
from depthzoo.models.decoders.registry import register_decoder


class DenseDepthUp(nn.Module):
    """One level of DenseDepth's decoder: up-sample, concatenate the skip, two 3x3 convs each with a LeakyReLU.

    The map is resized bilinearly to the skip's size (2x without a skip).

    Args:
        in_channels: channels of the map being up-sampled.
        skip_channels: channels of the encoder level joined (0: none).
        out_channels: channels of both convolutions.
        negative_slope: LeakyReLU slope (DenseDepth: 0.2).
    """

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int, negative_slope: float = 0.2) -> None:
        super().__init__()
        self.conv_a = nn.Conv2d(in_channels + skip_channels, out_channels, kernel_size=3, padding=1)
        self.conv_b = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1)
        self.negative_slope = negative_slope

    def forward(self, x: Tensor, skip: Tensor | None = None) -> Tensor:
        """(B, in_channels, h, w) and the (B, skip_channels, H, W) skip -> (B, out_channels, H, W)."""
        if skip is None:
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        else:
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = torch.cat([x, skip], dim=1)
        x = F.leaky_relu(self.conv_a(x), self.negative_slope)
        return F.leaky_relu(self.conv_b(x), self.negative_slope)


@register_decoder("unet")
class UNetDecoder(nn.Module):
    """DenseDepth's decoder: a 1x1 bottleneck, up-sampling levels with skips, a 3x3 convolution to depth.

    Each level up-samples bilinearly, concatenates the encoder level at its stride and applies two 3x3 convolutions
    with LeakyReLU(0.2); the output is at stride 2.

    Args:
        in_channels: channels of each encoder level.
        reductions: stride of each encoder level; must increase (a pyramid: not a plain ViT, see ``dpt``).
        output_stride: input size / output size (DenseDepth: 2).
        bottleneck_channels: width of the 1x1 bottleneck; default the encoder's deepest width (DenseDepth's
            published model); the channels halve at every level from there.
        min_channels: the halving of channels per level stops here.
        negative_slope: slope of the LeakyReLUs.
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        reductions: Sequence[int],
        output_stride: int = 2,
        bottleneck_channels: int | None = None,
        min_channels: int = 8,
        negative_slope: float = 0.2,
    ) -> None:
        super().__init__()
        check_pyramid("unet", reductions)
        self.output_stride = output_stride
        width = bottleneck_channels or in_channels[-1]
        self.bottleneck = nn.Conv2d(in_channels[-1], width, kernel_size=1)
        strides = upsampling_strides(reductions[-1], output_stride)
        self.skip_levels = skip_levels(list(reductions)[:-1], strides)
        widths = [width, *halved_widths(width, len(strides), min_channels)]
        self.blocks = nn.ModuleList(
            DenseDepthUp(a, 0 if level is None else in_channels[level], b, negative_slope)
            for a, b, level in zip(widths, widths[1:], self.skip_levels)
        )
        self.head_conv = nn.Conv2d(widths[-1], 1, kernel_size=3, padding=1)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Keras' defaults: Glorot-uniform weights, zero biases."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, features: Sequence[Tensor]) -> Tensor:
        """The encoder's feature list -> (B, 1, h, w) depth in metres at the output stride."""
        x = self.bottleneck(features[-1])
        for block, level in zip(self.blocks, self.skip_levels):
            x = block(x, None if level is None else features[level])
        return F.relu(self.head_conv(x))


__all__ = ["DenseDepthUp", "UNetDecoder"]
