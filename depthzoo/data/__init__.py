"""The names of the former ``depthzoo.data`` package, kept so existing code and configs keep working.

``depthzoo.data`` held readers, data modules, transforms and the synthetic renderer together; each now has its own
package: :mod:`depthzoo.datasets`, :mod:`depthzoo.datamodules`, :mod:`depthzoo.transforms` and
:mod:`depthzoo.synthetic`. Every name below resolves to its new home on first use, so
``class_path: depthzoo.data.NYUv2DataModule`` in a config still works.
"""

from __future__ import annotations

from depthzoo.utils.lazy import lazy_exports

_EXPORTS = {
    "NYUv2DataModule": "depthzoo.datamodules.nyu",
    "KITTIDataModule": "depthzoo.datamodules.kitti",
    "ImageFolderDataModule": "depthzoo.datamodules.images",
    "DistributedEvalSampler": "depthzoo.datamodules.samplers",
    "make_eval_sampler": "depthzoo.datamodules.samplers",
    "NYUv2Mat": "depthzoo.datasets.nyu",
    "NYUv2Sync": "depthzoo.datasets.nyu",
    "KITTIEigen": "depthzoo.datasets.kitti",
    "repack_mat": "depthzoo.datasets.nyu",
    "DatasetNotFoundError": "depthzoo.datasets.errors",
    "CorruptDataError": "depthzoo.datasets.errors",
    "SplitListError": "depthzoo.datasets.errors",
    "ShapeMismatchError": "depthzoo.datasets.errors",
    "TrainTransform": "depthzoo.transforms.pipelines",
    "EvalTransform": "depthzoo.transforms.pipelines",
    "write_synthetic_nyu": "depthzoo.synthetic.matfile",
    "render_scene": "depthzoo.synthetic.rooms",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
