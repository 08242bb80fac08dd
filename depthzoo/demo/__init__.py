"""The web demo, ``depthzoo demo``: Gradio around depthzoo's models (the ``demo`` extra).

- :mod:`~depthzoo.demo.catalogue`: the models available on this machine, each loaded on first use;
- :mod:`~depthzoo.demo.pipeline`: decoding, sizing, prediction, camera, distances and video, without a page;
- :mod:`~depthzoo.demo.outputs`: the coloured depth, its colour bar, the 3-D mesh and the downloads;
- :mod:`~depthzoo.demo.glb`: a depth map as a binary glTF mesh;
- :mod:`~depthzoo.demo.examples`: the shipped example images (rendered synthetic rooms);
- :mod:`~depthzoo.demo.app`: the page (the only module that imports Gradio).
"""

from depthzoo.demo.app import DemoApp, DemoOptions
from depthzoo.demo.catalogue import Entry, ModelCatalogue, ModelLoadError, discover

__all__ = ["DemoApp", "DemoOptions", "Entry", "ModelCatalogue", "ModelLoadError", "discover"]
