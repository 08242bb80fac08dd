"""Decoders: one file per decoder family, each registering its variants with ``@register_decoder``.

Every module of this folder is imported here (:func:`depthzoo.registry.import_submodules`), so a new decoder file is
found without editing a list. Decoders of other packages register through the ``depthzoo.decoders`` entry points.

- :mod:`~depthzoo.models.decoders.fcrn`: the FCRN paper's ``upconv``, ``upproj``, ``fast_upconv``, ``fast_upproj``
  and ``deconv``;
- :mod:`~depthzoo.models.decoders.fcrn_skip`: ``fcrn_skip``, FCRN's blocks with skip connections from the encoder;
- :mod:`~depthzoo.models.decoders.unet`: ``unet``, DenseDepth's decoder;
- :mod:`~depthzoo.models.decoders.pyramid`: the planning the skip-connection decoders share.
"""

from depthzoo.models.decoders.registry import (
    DECODERS,
    build_decoder,
    check_decoder_kwargs,
    list_decoders,
    register_decoder,
)
from depthzoo.registry import import_submodules

import_submodules(__name__)

__all__ = ["DECODERS", "build_decoder", "check_decoder_kwargs", "list_decoders", "register_decoder"]
