"""The built-in synthetic indoor dataset: random NYU-like rooms, ray cast, saved in NYU's labelled .mat layout.

- :mod:`~depthzoo.synthetic.scene`: what a room is made of (camera, room, materials, light, sensor, primitives);
- :mod:`~depthzoo.synthetic.render`: the vectorised ray caster (RGB, filled depth, raw depth with Kinect-like holes);
- :mod:`~depthzoo.synthetic.rooms`: the random room of image ``i`` of seed ``s`` (:func:`render_scene`);
- :mod:`~depthzoo.synthetic.matfile`: the dataset as a MATLAB v7.3 file (:func:`write_synthetic_nyu`), which
  ``NYUv2DataModule(format="synthetic")`` generates on first use and ``depthzoo data synth`` writes;
- :mod:`~depthzoo.synthetic.folder`: the same rooms as PNG/depth files with list files
  (:func:`write_synthetic_folder`, ``depthzoo data synth --layout folder``), for ``FolderDataModule``.
"""

from depthzoo.synthetic.folder import write_synthetic_folder
from depthzoo.synthetic.matfile import split_indices, write_synthetic_nyu
from depthzoo.synthetic.rooms import random_scene, render_scene

__all__ = ["random_scene", "render_scene", "split_indices", "write_synthetic_folder", "write_synthetic_nyu"]
