"""The model zoo: encoders, decoders, and the DepthModel that joins them."""

from depthzoo.models.decoders import list_decoders, register_decoder
from depthzoo.models.depth_model import DepthModel
from depthzoo.models.encoders import list_encoders
from depthzoo.models.factory import create_model

__all__ = ["DepthModel", "create_model", "list_decoders", "list_encoders", "register_decoder"]
