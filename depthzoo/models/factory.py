"""``create_model``: any timm encoder by name plus a registry-selected decoder."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch  # noqa: F401  (used by the docstring example)

from depthzoo.errors import InvalidArgumentError
from depthzoo.models.decoders import DECODERS, build_decoder, check_decoder_kwargs
from depthzoo.models.depth_model import OUTPUT_KINDS, DepthModel, OutputKind
from depthzoo.models.encoders import TimmEncoder, check_encoder_name
from depthzoo.models.encoders.position import PosEmbedInterpolation
from depthzoo.utils.validation import check_bool, check_name


def create_model(
    encoder: str = "resnet50",
    decoder: str = "fast_upproj",
    pretrained: bool = False,
    encoder_weights: str | os.PathLike[str] | None = None,
    encoder_depth: int | None = None,
    encoder_indices: Sequence[int] | None = None,
    pos_embed_interpolation: PosEmbedInterpolation = "timm",
    output_kind: OutputKind | None = None,
    encoder_weights_strict: bool = True,
    **decoder_kwargs: Any,
) -> DepthModel:
    """Build a depth model, e.g. FCRN: ``create_model("resnet50", "upproj", pretrained=True)``.

    >>> model = create_model("resnet18", "fast_upproj")
    >>> model(torch.rand(1, 3, 64, 96)).shape, model.output_stride, model.output_kind
    (torch.Size([1, 1, 32, 48]), 2, 'metric')

    Args:
        encoder: any timm model name (see ``list_encoders``), with an optional weight tag.
        decoder: a registered decoder name (see ``list_decoders``).
        pretrained: load the encoder's ImageNet weights; fails within seconds, naming both fixes, when offline.
        encoder_weights: a local ``.safetensors``/``.pth`` timm state dict for the encoder; no network involved.
            Loaded strictly: a missing, unexpected or misshaped tensor is an error that names it.
        encoder_depth: use only the encoder's first n feature levels (default: all); e.g. 4 ends a ResNet at
            stride 16, so the decoder starts from a 2x finer map with one up-sampling block fewer.
        encoder_indices: which transformer blocks (ViTs) or feature levels (hierarchical encoders) the encoder
            returns, counted from 0, shallow to deep; default: what the decoder asks for (``dpt`` on a ViT: four
            evenly spaced blocks, 2, 5, 8, 11 of 12; FCRN: the last four blocks or all levels).
        pos_embed_interpolation: ViTs: how the position embedding is fitted to other token grids: "timm"
            (timm's rule, the default) or "dinov2" (the rule of the DINOv2 and Depth Anything V2 releases).
        output_kind: what the output means, "metric" (metres) or "relative_disparity" (inverse depth up to scale
            and shift); default: the decoder's own (FCRN's is metric).
        encoder_weights_strict: False loads only the ``encoder_weights`` tensors that fit (partial transfer,
            e.g. from a related architecture) and logs the tensors left out, instead of refusing the file.
        **decoder_kwargs: decoder options, validated before anything is built (``None`` values are dropped, so YAML
            nulls mean "default").
    """
    decoder_kwargs = {k: v for k, v in decoder_kwargs.items() if v is not None}
    check_encoder_name(encoder)
    check_name("decoder", decoder)
    check_bool("pretrained", pretrained)
    check_bool("encoder_weights_strict", encoder_weights_strict)
    if output_kind is not None and output_kind not in OUTPUT_KINDS:
        raise InvalidArgumentError(f"output_kind must be one of {OUTPUT_KINDS}, got {output_kind!r}")
    check_decoder_kwargs(decoder, decoder_kwargs)  # typos fail here, before a large encoder is built
    # A decoder may ask the encoder for particular features (dpt: normed ViT blocks, spread out, class tokens).
    encoder_options = getattr(DECODERS.get(decoder), "encoder_options", None)
    requested = dict(encoder_options(decoder_kwargs)) if encoder_options is not None else {}
    enc = TimmEncoder(
        encoder,
        pretrained=pretrained,
        weights=encoder_weights,
        out_indices=encoder_indices,
        depth=encoder_depth,
        strict=encoder_weights_strict,
        pos_embed_interpolation=pos_embed_interpolation,
        **requested,
    )
    dec = build_decoder(decoder, enc.channels, enc.reductions, **decoder_kwargs)
    config: dict[str, Any] = {"encoder": encoder, "decoder": decoder, "decoder_kwargs": decoder_kwargs}
    if encoder_depth is not None:
        config["encoder_depth"] = encoder_depth
    if encoder_indices is not None:
        config["encoder_indices"] = [int(i) for i in encoder_indices]
    if pos_embed_interpolation != "timm":
        config["pos_embed_interpolation"] = pos_embed_interpolation
    if output_kind is not None:
        config["output_kind"] = output_kind
    return DepthModel(enc, dec, config=config)
