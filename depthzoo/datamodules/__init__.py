"""LightningDataModules: one module per data source, all built on :class:`~depthzoo.datamodules.base.DepthDataModule`.

- :class:`NYUv2DataModule` (:mod:`~depthzoo.datamodules.nyu`): NYU Depth v2 (.mat, sync folders, synthetic rooms);
- :class:`KITTIDataModule` (:mod:`~depthzoo.datamodules.kitti`): KITTI, Eigen split;
- :class:`FolderDataModule` (alias :class:`CustomDataModule`, :mod:`~depthzoo.datamodules.folder`): your own RGB-D
  files, from list files or two matched folders;
- :class:`ImageFolderDataModule` (:mod:`~depthzoo.datamodules.images`): plain images to predict on;
- :class:`ETH3DDataModule`, :class:`DIODEDataModule`, :class:`IBimsDataModule`, :class:`SintelDataModule`,
  :class:`ScanNetDataModule` (:mod:`~depthzoo.datamodules.zero_shot`): the zero-shot benchmark sets, test only;
- :class:`VideoDataModule` (:mod:`~depthzoo.datamodules.video`): videos to predict on, streamed frame batches.

The ``depthzoo`` command imports every module of this folder, so a new data module is usable by its short name
(``--data MyDataModule``) without editing a list. Names are imported on first use, so ``import depthzoo`` stays light.
"""

from __future__ import annotations

from depthzoo.utils.lazy import lazy_exports

_EXPORTS = {
    "depthzoo.datamodules.base": ["DepthDataModule"],
    "depthzoo.datamodules.nyu": ["NYUv2DataModule"],
    "depthzoo.datamodules.kitti": ["KITTIDataModule"],
    "depthzoo.datamodules.folder": ["FolderDataModule", "CustomDataModule"],
    "depthzoo.datamodules.images": ["ImageFolderDataModule"],
    "depthzoo.datamodules.video": ["VideoDataModule"],
    "depthzoo.datamodules.zero_shot": [
        "DIODEDataModule", "ETH3DDataModule", "IBimsDataModule", "ScanNetDataModule", "SintelDataModule",
    ],
    "depthzoo.datamodules.samplers": ["DistributedEvalSampler", "make_eval_sampler"],
}

__all__ = sorted(name for names in _EXPORTS.values() for name in names)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
