"""``ImageFolderDataModule``: images to predict on, for ``depthzoo predict --data ImageFolderDataModule``."""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
from torch.utils.data import DataLoader
from typing_extensions import override

from depthzoo.datamodules.samplers import make_eval_sampler
from depthzoo.datasets.images import ImageFiles, find_images


class ImageFolderDataModule(pl.LightningDataModule):
    """Prediction inputs for ``depthzoo predict --data ImageFolderDataModule --data.inputs PATH``.

    Args:
        inputs: an image, a folder (searched recursively) or a ``.txt`` list of paths; or a list of those.
        input_size: (height, width) the network sees; None keeps each image's size (then use batch_size 1 unless
            all images share one size).
        batch_size: images per batch.
        num_workers: DataLoader worker processes (0 reads in the main process).
    """

    def __init__(
        self,
        inputs: str | list[str],
        input_size: tuple[int, int] | None = None,
        batch_size: int = 1,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        self.inputs = inputs
        self.input_size = input_size
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.dataset: ImageFiles | None = None

    def prediction_inputs(self) -> list[tuple[Path, str]]:
        """(image file, output name) pairs, found without reading any image: writers check their outputs with it."""
        return find_images(self.inputs)

    @override
    def setup(self, stage: str | None = None) -> None:
        self.dataset = ImageFiles(self.inputs, self.input_size)

    @override
    def predict_dataloader(self) -> DataLoader:
        assert self.dataset is not None, "call setup('predict') first"
        return DataLoader(
            self.dataset,
            batch_size=self.batch_size,
            shuffle=False,
            sampler=make_eval_sampler(self.dataset),
            num_workers=self.num_workers,
        )
