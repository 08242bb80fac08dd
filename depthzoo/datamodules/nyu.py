"""``NYUv2DataModule``: NYU Depth v2 from the labeled .mat, the BTS sync folders, or the built-in synthetic rooms."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Literal

import h5py

from depthzoo.datamodules.base import DepthDataModule, Split
from depthzoo.datasets.base import DepthDataset, SampleTransform
from depthzoo.datasets.errors import DatasetNotFoundError
from depthzoo.datasets.nyu import NYU_MAT_LAYOUT, NYUDepthKey, NYUv2Mat, NYUv2Sync
from depthzoo.errors import InvalidArgumentError
from depthzoo.synthetic import write_synthetic_nyu
from depthzoo.transforms.resize import Interpolation


class NYUv2DataModule(DepthDataModule):
    """NYU Depth v2 with the FCRN protocol by default.

    Formats:
        - ``"mat"``: ``root`` is ``nyu_depth_v2_labeled.mat`` or its folder; official 795/654 split. By default
          training uses ``rawDepths`` with holes masked and evaluation uses the filled ``depths``, as the FCRN
          paper (``train_depth``/``eval_depth`` change that; "rawDepths" for eval is the BTS-style GT).
        - ``"sync"``: BTS layout under ``root`` (``sync/`` and ``official_splits/test/``, or ``train_root`` /
          ``test_root``); the shipped lists unless ``train_list`` / ``test_list`` are given. GT = PNG / 1000.
        - ``"synthetic"``: ``root`` is the path of a synthetic file in the .mat layout with its own split; if it
          does not exist, ``prepare_data`` generates it (``synthetic_num`` images of ``synthetic_size``, seeded by
          ``synthetic_seed``). An existing file is used as it is (with a warning if it differs from those args).

    Geometry: training images (and depth) are resized to ``resize`` (default halves 480x640 to 240x320, as
    FCRN), augmented, and cropped to ``input_size`` (default 228x304). Evaluation images are resized to
    ``resize`` and centre-cropped to ``input_size`` (rows 6:234, cols 8:312 by default); evaluation depth stays at
    the file's full resolution. ``interpolation`` is the image resize filter (default "nearest", as the FCRN
    evaluation code); depth is always resized nearest.

    Speed (.mat formats): the training reader resizes while reading and, with ``cache_train`` (default), keeps
    each decoded training sample in memory shared by the DataLoader workers (8 bytes per pixel: 490 MB for
    the 795 images at 240x320), so only the first epoch inflates the file's compressed chunks.

    Validation: with ``val_fraction=0`` (default) the test split is used for validation, as BTS' online
    evaluation does (NYU has no official val split); otherwise a seeded ``val_fraction`` of the train split is
    held out (evaluated with the eval depth and transform).

    Args:
        root: the .mat file (or its folder) for "mat" and "synthetic"; the dataset folder for "sync".
        format: "mat", "sync" or "synthetic" (see above).
        train_list: "sync": a list file of training lines (``rgb depth focal``); default the shipped BTS list.
        test_list: "sync": a list file of test lines; default the shipped BTS list.
        train_root: "sync": the folder the training list is relative to; default ``root/sync``.
        test_root: "sync": the folder the test list is relative to; default ``root/official_splits/test``.
        train_depth: ".mat" formats: the depth trained on, "rawDepths" (default, holes masked) or "depths".
        eval_depth: ".mat" formats: the depth evaluated on, "depths" (default, filled) or "rawDepths".
        synthetic_num: "synthetic": images generated when ``root`` does not exist.
        synthetic_seed: "synthetic": seed of the generated rooms.
        synthetic_size: "synthetic": (height, width) of the generated images.
        cache_train: ".mat" formats: keep decoded training samples in memory shared by the loader workers.
        input_size: (height, width) of the training crop and of the centre-cropped evaluation images.
        resize: (height, width) images are resized to first (FCRN halves 480x640 to 240x320).
        interpolation: image resize filter; FCRN's evaluation code uses "nearest".
        **kwargs: the shared options of :class:`DepthDataModule` (batch sizes, workers, augmentation, validation).
    """

    max_depth = 10.0
    eval_crop = "eigen_nyu"
    crop_eval_image = True

    def __init__(
        self,
        root: str,
        format: Literal["mat", "sync", "synthetic"] = "mat",
        train_list: str | None = None,
        test_list: str | None = None,
        train_root: str | None = None,
        test_root: str | None = None,
        train_depth: NYUDepthKey | None = None,
        eval_depth: NYUDepthKey | None = None,
        synthetic_num: int = 600,
        synthetic_seed: int = 0,
        synthetic_size: tuple[int, int] = (240, 320),
        cache_train: bool = True,
        input_size: tuple[int, int] = (228, 304),
        resize: tuple[int, int] | None = (240, 320),
        interpolation: Interpolation = "nearest",
        **kwargs: Any,
    ) -> None:
        if format not in ("mat", "sync", "synthetic"):
            raise InvalidArgumentError(f"format must be 'mat', 'sync' or 'synthetic', got {format!r}")
        if format == "sync":
            given = [n for n, v in (("train_depth", train_depth), ("eval_depth", eval_depth)) if v is not None]
            if given:
                raise InvalidArgumentError(
                    f"{given} apply to the .mat formats only; sync depth is always the PNG (raw, mm)"
                )
        else:
            given = [
                n
                for n, v in (
                    ("train_list", train_list),
                    ("test_list", test_list),
                    ("train_root", train_root),
                    ("test_root", test_root),
                )
                if v is not None
            ]
            if given:
                raise InvalidArgumentError(f"{given} apply to format='sync' only, not format={format!r}")
        super().__init__(input_size=input_size, resize=resize, interpolation=interpolation, **kwargs)
        self.save_hyperparameters()
        self.root = Path(root).expanduser()
        self.format = format
        self.train_list, self.test_list = train_list, test_list
        self.train_root = Path(train_root) if train_root else self.root / "sync"
        self.test_root = Path(test_root) if test_root else self.root / "official_splits" / "test"
        self.train_depth: NYUDepthKey = train_depth or "rawDepths"
        self.eval_depth: NYUDepthKey = eval_depth or "depths"
        self.synthetic_num = synthetic_num
        self.synthetic_seed = synthetic_seed
        self.synthetic_size = synthetic_size
        self.cache_train = cache_train

    def prepare_data(self) -> None:
        """Generate the synthetic file when ``format="synthetic"`` and it does not exist yet (atomic write)."""
        if self.format != "synthetic":
            return
        height, width = self.synthetic_size
        if self.root.exists():
            self._warn_if_synthetic_differs(height, width)
            return
        self.root.parent.mkdir(parents=True, exist_ok=True)
        write_synthetic_nyu(self.root, num=self.synthetic_num, seed=self.synthetic_seed, height=height, width=width)

    def _warn_if_synthetic_differs(self, height: int, width: int) -> None:
        with h5py.File(self.root, "r") as handle:
            num, _, file_width, file_height = handle["images"].shape
        if (num, file_height, file_width) != (self.synthetic_num, height, width):
            warnings.warn(
                f"{self.root} exists with {num} images of {file_height}x{file_width}; it is used as it is, not "
                f"regenerated for synthetic_num={self.synthetic_num}, synthetic_size={self.synthetic_size} "
                f"(delete it to regenerate)",
                UserWarning,
                stacklevel=2,
            )

    def _reader(
        self, split: Split, transform: SampleTransform | None, training: bool, train_loader: bool = False
    ) -> DepthDataset:
        if self.format == "sync":
            root = self.train_root if split == "train" else self.test_root
            list_file = self.train_list if split == "train" else self.test_list
            return NYUv2Sync(root, split, list_file, transform, self.missing_files)
        if self.format == "synthetic" and not self.root.exists():
            raise DatasetNotFoundError(
                "synthetic NYU-layout file",
                self.root,
                NYU_MAT_LAYOUT,
                "generated by prepare_data() (Lightning calls it before setup); call it first",
            )
        depth = self.train_depth if training else self.eval_depth
        # The .mat reader resizes before transposing MATLAB's column-major arrays: the same samples, 4x less copying.
        resize = self.train_transform.resize if train_loader else None
        cache = train_loader and self.cache_train
        return NYUv2Mat(
            self.root, split, depth, transform, resize=resize, interpolation=self.interpolation, cache=cache
        )
