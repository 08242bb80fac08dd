"""``fcrn_resnet50``: the Caffe/MSRA ResNet-50 of the original FCRN, registered with timm so it works by name.

It differs from torchvision/timm ``resnet50`` in ways that matter when loading the official FCRN weights:
- conv1 (7x7, stride 2, pad 3) has a bias; BatchNorm uses eps 1e-4 (the official TF graph);
- the 3x3 max-pool uses TensorFlow "SAME" padding (for an even input: nothing before, one pixel after), not pad 1;
- the stride-2 of stages 3-5 sits in the first 1x1 conv of block "a" (and in its 1x1 shortcut), not in the 3x3;
- block "a" of every stage, stage 2 included, has a projection shortcut.
Inputs are RGB in 0..255 without mean subtraction: its ``pretrained_cfg`` says mean 0 and std 1/255, so
``DepthModel``'s normalisation turns [0, 1] images into 0..255. No ImageNet weights are offered through timm; the
trained weights come with the official FCRN checkpoint (``depthzoo.from_fcrn_official``).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from timm.layers import create_pool2d
from timm.models import build_model_with_cfg, generate_default_cfgs, register_model
from torch import Tensor, nn
from typing_extensions import override

from depthzoo.models.encoders.pretrained import EncoderWeightsUnavailable

BN_EPS = 1e-4
STAGE_BLOCKS_RESNET50 = (3, 4, 6, 3)
STAGE_WIDTHS = (64, 128, 256, 512)  # bottleneck width per stage; output width is 4x
EXPANSION = 4


class CaffeBottleneck(nn.Module):
    """1x1 (stride s) -> 3x3 -> 1x1 bottleneck with BN after each conv; projection shortcut when asked."""

    def __init__(self, in_channels: int, width: int, stride: int = 1, projection: bool = False) -> None:
        super().__init__()
        out_channels = width * EXPANSION
        self.conv1 = nn.Conv2d(in_channels, width, 1, stride=stride, bias=False)
        self.bn1 = nn.BatchNorm2d(width, eps=BN_EPS)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width, eps=BN_EPS)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels, eps=BN_EPS)
        self.downsample = (
            nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels, eps=BN_EPS),
            )
            if projection
            else None
        )

    @override
    def forward(self, x: Tensor) -> Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + shortcut)


class CaffeResNet(nn.Module):
    """Caffe-style ResNet (bottleneck). ``forward_features`` gives the stride-32 map; the head is optional.

    Args:
        layers: blocks per stage (ResNet-50: 3, 4, 6, 3).
        in_chans: input channels.
        num_classes: classifier outputs after global average pooling; 0 (default) returns pooled features.
        global_pool: "avg" or "" (no pooling; with num_classes=0 ``forward`` returns the feature map).
    """

    def __init__(
        self,
        layers: tuple[int, ...] = STAGE_BLOCKS_RESNET50,
        in_chans: int = 3,
        num_classes: int = 0,
        global_pool: str = "avg",
    ) -> None:
        super().__init__()
        if len(layers) != len(STAGE_WIDTHS) or any(n < 1 for n in layers):
            raise ValueError(f"layers must give 4 positive block counts, got {layers}")
        if global_pool not in ("avg", ""):
            raise ValueError(f"global_pool must be 'avg' or '', got {global_pool!r}")
        self.in_chans = in_chans
        self.num_classes = num_classes
        self.global_pool = global_pool
        self.conv1 = nn.Conv2d(in_chans, 64, 7, stride=2, padding=3, bias=True)
        self.bn1 = nn.BatchNorm2d(64, eps=BN_EPS)
        self.act1 = nn.ReLU(inplace=True)
        self.maxpool = create_pool2d("max", kernel_size=3, stride=2, padding="same")  # TF SAME, pads with -inf
        self.feature_info = [dict(num_chs=64, reduction=2, module="act1")]
        channels, reduction = 64, 4
        for index, (blocks, width) in enumerate(zip(layers, STAGE_WIDTHS, strict=True)):
            stride = 1 if index == 0 else 2
            reduction *= stride
            stage = [CaffeBottleneck(channels, width, stride=stride, projection=True)]
            channels = width * EXPANSION
            stage += [CaffeBottleneck(channels, width) for _ in range(blocks - 1)]
            self.add_module(f"layer{index + 1}", nn.Sequential(*stage))
            self.feature_info.append(dict(num_chs=channels, reduction=reduction, module=f"layer{index + 1}"))
        self.num_features = channels
        self.fc = nn.Linear(channels, num_classes) if num_classes > 0 else nn.Identity()
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """He-normal convolutions (as timm's ResNets); BatchNorm keeps PyTorch's identity initialisation."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        nn.init.zeros_(self.conv1.bias)

    def forward_features(self, x: Tensor) -> Tensor:
        """The stride-32 feature map (timm's ``forward_features``)."""
        x = self.maxpool(self.act1(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def forward_head(self, x: Tensor, pre_logits: bool = False) -> Tensor:
        """Global pooling and the classifier (timm's ``forward_head``); ``pre_logits`` stops before the classifier."""
        if self.global_pool == "avg":
            x = x.mean(dim=(-2, -1))
        return x if pre_logits else self.fc(x)

    @override
    def forward(self, x: Tensor) -> Tensor:
        return self.forward_head(self.forward_features(x))


NO_TIMM_WEIGHTS = (
    "fcrn_resnet50 has no ImageNet weights through timm: its weights come with the official FCRN checkpoint "
    "(NYU_FCRN-checkpoint.zip or NYU_ResNet-UpProj.npy). Load the whole trained network with "
    "depthzoo.from_fcrn_official(path) or depthzoo.load_checkpoint('fcrn_nyu', path), convert it once "
    "with 'depthzoo convert-fcrn SRC OUT', or build it untrained with pretrained=False."
)


def _cfg(**kwargs: Any) -> dict[str, Any]:
    return {
        "url": "",
        "num_classes": 0,
        "input_size": (3, 228, 304),
        "pool_size": (8, 10),
        "crop_pct": 1.0,
        "interpolation": "nearest",
        "mean": (0.0, 0.0, 0.0),  # RGB 0..255, no mean subtraction: (x - 0) / (1/255) = 255 x
        "std": (1 / 255, 1 / 255, 1 / 255),
        "first_conv": "conv1",
        "classifier": "fc",
        "license": "bsd-2-clause",
        "origin_url": "https://github.com/iro-cp/FCRN-DepthPrediction",
        "paper_ids": "arXiv:1606.00373",
        "notes": (NO_TIMM_WEIGHTS,),
        **kwargs,
    }


default_cfgs = generate_default_cfgs({"fcrn_resnet50": _cfg()})


@register_model
def fcrn_resnet50(pretrained: bool = False, **kwargs: Any) -> CaffeResNet:
    """The FCRN encoder: Caffe ResNet-50 with conv1 bias, BN eps 1e-4 and a TF-SAME max-pool."""
    overlay = kwargs.get("pretrained_cfg_overlay") or {}
    if pretrained and not overlay.get("file"):
        raise EncoderWeightsUnavailable(NO_TIMM_WEIGHTS)
    return build_model_with_cfg(
        CaffeResNet,
        "fcrn_resnet50",
        pretrained,
        feature_cfg=dict(out_indices=(0, 1, 2, 3, 4)),
        layers=STAGE_BLOCKS_RESNET50,
        **kwargs,
    )


__all__ = ["CaffeBottleneck", "CaffeResNet", "fcrn_resnet50"]
