"""Encoders: any timm model by name (feature pyramid from ``feature_info``), with offline-safe weights."""

from depthzoo.models.encoders import fcrn_resnet as fcrn_resnet  # registers the timm model "fcrn_resnet50"
from depthzoo.models.encoders.pretrained import EncoderWeightsUnavailable
from depthzoo.models.encoders.timm_encoder import TimmEncoder, check_encoder_name, list_encoders

__all__ = ["EncoderWeightsUnavailable", "TimmEncoder", "check_encoder_name", "list_encoders"]
