"""The names of the former ``depthzoo.data`` package, kept so existing code and configs keep working.

``depthzoo.data`` held readers, data modules, transforms and the synthetic renderer together; each now has its own
package: :mod:`depthzoo.datasets`, :mod:`depthzoo.datamodules`, :mod:`depthzoo.transforms` and
:mod:`depthzoo.synthetic`. Every name below resolves to its new home on first use, so
``class_path: depthzoo.data.NYUv2DataModule`` in a config still works.
"""

from __future__ import annotations

from depthzoo.utils.lazy import lazy_exports

_EXPORTS = {
    "depthzoo.datamodules.nyu": ["NYUv2DataModule"],
    "depthzoo.datamodules.kitti": ["KITTIDataModule"],
    "depthzoo.datamodules.images": ["ImageFolderDataModule"],
    "depthzoo.datamodules.samplers": ["DistributedEvalSampler", "make_eval_sampler"],
    "depthzoo.datasets.nyu": ["NYUv2Mat", "NYUv2Sync", "repack_mat"],
    "depthzoo.datasets.kitti": ["KITTIEigen"],
    "depthzoo.datasets.errors": ["DatasetNotFoundError", "CorruptDataError", "SplitListError", "ShapeMismatchError"],
    "depthzoo.transforms.pipelines": ["TrainTransform", "EvalTransform"],
    "depthzoo.synthetic.matfile": ["write_synthetic_nyu"],
    "depthzoo.synthetic.rooms": ["render_scene"],
}

__all__ = sorted(name for names in _EXPORTS.values() for name in names)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
