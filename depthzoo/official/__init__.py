"""The original FCRN release, loaded exactly and safely: the official NYU weights as a depthzoo model.

- ``from_fcrn_official(path)``: the TF checkpoint (zip, prefix, .index or folder) or the pickled .npy -> DepthModel;
- ``TFCheckpoint``: a TensorFlow V2 checkpoint reader that needs no TensorFlow;
- ``load_npy``: pickled .npy files through an allow-list unpickler (no foreign code runs).
"""

from depthzoo.official.fcrn import (
    OfficialWeightsError,
    convert_official_tensors,
    create_official_model,
    from_fcrn_official,
    official_tensor_map,
    read_official_tensors,
)
from depthzoo.official.safe_pickle import UnsafePickleError, load_npy
from depthzoo.official.tf_checkpoint import CheckpointFormatError, TFCheckpoint

__all__ = [
    "CheckpointFormatError",
    "OfficialWeightsError",
    "TFCheckpoint",
    "UnsafePickleError",
    "convert_official_tensors",
    "create_official_model",
    "from_fcrn_official",
    "load_npy",
    "official_tensor_map",
    "read_official_tensors",
]
