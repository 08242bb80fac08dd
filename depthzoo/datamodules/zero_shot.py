"""Test-only data modules of the zero-shot benchmark sets: ETH3D, DIODE, iBims-1, Sintel and ScanNet.

``depthzoo test --data ETH3DDataModule --data.root PATH --model.weights ...`` evaluates any model on one of them;
``depthzoo benchmark`` reads the same readers (:mod:`depthzoo.datasets`) under a named protocol. These sets have no
training split: ``fit`` on them is refused. Evaluation images keep their size unless ``resize`` is given; the ground
truth always keeps its own. The evaluation defaults (``max_depth``, no crop) are the datasets' customary caps; the
protocols of :mod:`depthzoo.metrics.protocols` fix each paper's own.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from depthzoo.datamodules.base import DepthDataModule, Split
from depthzoo.datasets.base import DepthDataset, SampleTransform
from depthzoo.errors import InvalidArgumentError


class ZeroShotDataModule(DepthDataModule):
    """A benchmark set as a test-only data module.

    Args:
        root: the folder the set was extracted to (see the reader's documentation for the layout).
        limit: evaluate only the first ``limit`` images.
        resize: (height, width) evaluation images are resized to; None keeps each image's size.
        **kwargs: the shared options of :class:`DepthDataModule` (``eval_batch_size``, ``num_workers``, ...).
    """

    reader: ClassVar[type]
    eval_crop = None
    crop_eval_image = False

    def __init__(self, root: str, limit: int | None = None, resize: tuple[int, int] | None = None,
                 **kwargs: Any) -> None:
        kwargs.setdefault("eval_batch_size", 1)  # images of a set may differ in size
        super().__init__(resize=resize, **kwargs)
        self.save_hyperparameters()
        self.root = root
        self.limit = limit

    def _options(self) -> dict[str, Any]:
        return {}

    def _reader(
        self, split: Split, transform: SampleTransform | None, training: bool, train_loader: bool = False
    ) -> DepthDataset:
        if split == "train":
            raise InvalidArgumentError(
                f"{type(self).__name__} is an evaluation set and has no training split",
                fix="use it with 'depthzoo test' or 'depthzoo benchmark'; train on another data module",
            )
        return self.reader(self.root, transform=transform, limit=self.limit, **self._options())

    def setup(self, stage: str | None = None) -> None:
        """Only ``test`` and ``predict`` exist (``validate`` uses the test images)."""
        if stage == "fit":
            self._reader("train", None, training=True)
        if stage == "validate":
            self.val_dataset = self._reader("test", self.eval_transform, training=False)
            return
        super().setup(stage)


_SHARED_ARGS = """

    Args:
        root: the folder the set was extracted to.
        limit: evaluate only the first ``limit`` images.
        resize: (height, width) evaluation images are resized to; None keeps each image's size.
        **kwargs: the shared options of :class:`DepthDataModule`.
    """


def _shared_arguments(cls: type) -> type:
    """Append the arguments every zero-shot module shares to a subclass's one-line docstring."""
    cls.__doc__ = (cls.__doc__ or "") + _SHARED_ARGS
    return cls


def _reader(module: str, name: str) -> type:
    import importlib

    return getattr(importlib.import_module(module), name)


@_shared_arguments
class ETH3DDataModule(ZeroShotDataModule):
    """ETH3D high-res multi-view (:class:`depthzoo.datasets.eth3d.ETH3DDepth`)."""

    max_depth = 80.0
    reader = property(lambda self: _reader("depthzoo.datasets.eth3d", "ETH3DDepth"))  # type: ignore[assignment]


class DIODEDataModule(ZeroShotDataModule):
    """DIODE val (:class:`depthzoo.datasets.diode.DIODEDepth`).

    Args:
        root: the folder holding ``val/``.
        subset: "indoors", "outdoor" or None (both).
        **kwargs: the options of :class:`ZeroShotDataModule` (``limit``, ``resize``, ...).
    """

    max_depth = 300.0
    reader = property(lambda self: _reader("depthzoo.datasets.diode", "DIODEDepth"))  # type: ignore[assignment]

    def __init__(self, root: str, subset: Literal["indoors", "outdoor"] | None = None, **kwargs: Any) -> None:
        super().__init__(root, **kwargs)
        self.subset = subset

    def _options(self) -> dict[str, Any]:
        return {"subset": self.subset}


@_shared_arguments
class IBimsDataModule(ZeroShotDataModule):
    """iBims-1 (:class:`depthzoo.datasets.ibims.IBims1`): samples carry the annotated ``edges``."""

    max_depth = 10.0
    reader = property(lambda self: _reader("depthzoo.datasets.ibims", "IBims1"))  # type: ignore[assignment]


@_shared_arguments
class SintelDataModule(ZeroShotDataModule):
    """MPI Sintel depth, final pass (:class:`depthzoo.datasets.sintel.SintelDepth`)."""

    max_depth = 72.0
    reader = property(lambda self: _reader("depthzoo.datasets.sintel", "SintelDepth"))  # type: ignore[assignment]


@_shared_arguments
class ScanNetDataModule(ZeroShotDataModule):
    """ScanNet, Marigold's 800 listed frames (:class:`depthzoo.datasets.scannet.ScanNetDepth`)."""

    max_depth = 10.0
    reader = property(lambda self: _reader("depthzoo.datasets.scannet", "ScanNetDepth"))  # type: ignore[assignment]
