"""Weights: every way a trained depth model is saved, found and loaded.

- :mod:`~depthzoo.weights.loader`: ``depthzoo.load(source)``, the one loader over every source below (and
  ``save_pretrained`` folders and Hugging Face repositories, :mod:`depthzoo.hub`), built on these modules;
- :mod:`~depthzoo.weights.model_file`: depthzoo model files (``.safetensors`` + the build config as metadata);
- :mod:`~depthzoo.weights.lightning`: Lightning ``.ckpt`` files of a :class:`~depthzoo.task.DepthTask`;
- :mod:`~depthzoo.weights.manifest`: the known checkpoints by name (``checkpoints/manifest.json``): where to get
  them, how to verify them;
- :mod:`~depthzoo.weights.fcrn`: the official FCRN release (TF checkpoint or pickled ``.npy``) mapped onto depthzoo's
  FCRN;
- :mod:`~depthzoo.weights.depth_anything`: the Depth Anything V2 releases (``.pth``) mapped onto a DINOv2 ViT +
  ``dpt``.

Every loader checks that each expected tensor is present with its shape and each given tensor is used; failures are
:class:`depthzoo.errors.WeightsError` naming the file, the tensors and the fix.
"""

# The loader registers the formats above, in the order sources are tried; importing it with the package means the
# table is complete whichever module is used first (a known checkpoint is read by the format its entry names).
from depthzoo.weights import loader as loader  # noqa: E402
