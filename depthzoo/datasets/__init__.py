"""Dataset readers, one module per on-disk format; each returns raw numpy samples (see :mod:`.base`).

- :mod:`~depthzoo.datasets.nyu`: NYU Depth v2, the labeled ``.mat`` (:class:`NYUv2Mat`) and BTS sync folders
  (:class:`NYUv2Sync`);
- :mod:`~depthzoo.datasets.kitti`: KITTI raw + annotated depth, Eigen split (:class:`KITTIEigen`);
- zero-shot benchmark sets, read in their published layouts: :mod:`~depthzoo.datasets.eth3d` (ETH3D high-res),
  :mod:`~depthzoo.datasets.diode` (DIODE val), :mod:`~depthzoo.datasets.ibims` (iBims-1 .mat, with edges and masks),
  :mod:`~depthzoo.datasets.sintel` (Sintel .dpt), :mod:`~depthzoo.datasets.scannet` (Marigold's 800 ScanNet frames),
  sharing :mod:`~depthzoo.datasets.evaluation`;
- :mod:`~depthzoo.datasets.folder`: your own RGB-D files, paired by list or by folder (:class:`FolderDataset`);
- :mod:`~depthzoo.datasets.images`: plain image files to predict on (:class:`ImageFiles`);
- :mod:`~depthzoo.datasets.video`: videos to predict on, streamed in frame batches (:class:`VideoFrames`);
- :mod:`~depthzoo.datasets.splits`: the shipped split lists and the ``rgb depth focal`` list reader;
- :mod:`~depthzoo.datasets.imageio`: image, depth (16-bit PNG, .npy, TIFF, OpenEXR) and mask decoding;
- :mod:`~depthzoo.datasets.sample_cache`: decoded samples shared between DataLoader workers;
- :mod:`~depthzoo.datasets.errors`: what a reader raises, each with the fix in its message.

Names are imported on first use, so importing one reader does not import the others' dependencies.
"""

from __future__ import annotations

from depthzoo.utils.lazy import lazy_exports

_EXPORTS = {
    "depthzoo.datasets.base": ["DepthDataset"],
    "depthzoo.datasets.nyu": ["NYUv2Mat", "NYUv2Sync", "repack_mat"],
    "depthzoo.datasets.kitti": ["KITTIEigen"],
    "depthzoo.datasets.eth3d": ["ETH3DDepth"],
    "depthzoo.datasets.diode": ["DIODEDepth"],
    "depthzoo.datasets.ibims": ["IBims1"],
    "depthzoo.datasets.sintel": ["SintelDepth"],
    "depthzoo.datasets.scannet": ["ScanNetDepth"],
    "depthzoo.datasets.folder": ["FolderDataset", "PairEntry", "pairs_from_folders", "pairs_from_list"],
    "depthzoo.datasets.images": ["ImageFiles"],
    "depthzoo.datasets.video": ["VideoFrames", "VideoError", "probe_video"],
    "depthzoo.datasets.errors": ["DatasetNotFoundError", "CorruptDataError", "SplitListError", "ShapeMismatchError"],
}

__all__ = sorted(name for names in _EXPORTS.values() for name in names)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
