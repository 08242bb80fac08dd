"""``VideoDataModule``: videos to predict on, for ``depthzoo predict --data VideoDataModule --data.inputs clip.mp4``."""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
from torch.utils.data import DataLoader
from typing_extensions import override

from depthzoo.datasets.video import VideoFrames, find_videos
from depthzoo.errors import InvalidArgumentError
from depthzoo.utils.validation import check_int


class VideoDataModule(pl.LightningDataModule):
    """Frames of videos, streamed in batches; the prediction writer turns them into a depth video per input.

    Each input gives ``NAME_depth.mp4`` (the frame and its colourised depth side by side, at the input's frame
    rate) under ``--writer.output_dir``, and with ``--writer.frame_npy true`` one ``NAME/NNNNNN.npy`` per frame.

    Args:
        inputs: a video file (anything OpenCV decodes: .mp4, .avi, .mov, .mkv, ...), a folder of videos, or a list.
        input_size: (height, width) the network sees; None keeps the frame size (depth always comes back at the
            frame size).
        batch_size: frames per batch.
        num_workers: 0 decodes in the main process, 1 in a background process (overlapping decoding with the model).
    """

    def __init__(
        self,
        inputs: str | list[str],
        input_size: tuple[int, int] | None = None,
        batch_size: int = 4,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        self.inputs = inputs
        self.input_size = input_size
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.num_workers = check_int("num_workers", num_workers, minimum=0)
        if self.num_workers > 1:
            raise InvalidArgumentError(
                f"num_workers must be 0 or 1 for videos, got {num_workers}",
                fix="frames are decoded in order by one reader; 1 runs it beside the model",
            )
        self.dataset: VideoFrames | None = None

    def prediction_inputs(self) -> list[tuple[Path, str]]:
        """(video file, output name) pairs, found without decoding: the prediction writer checks its outputs first."""
        return find_videos(self.inputs)

    @override
    def setup(self, stage: str | None = None) -> None:
        trainer = self.trainer
        if trainer is not None and trainer.world_size > 1:
            raise InvalidArgumentError(
                "videos are predicted by one process", fix="use --trainer.devices 1 with VideoDataModule"
            )
        self.dataset = VideoFrames(self.inputs, self.input_size, self.batch_size)

    @override
    def predict_dataloader(self) -> DataLoader:
        assert self.dataset is not None, "call setup('predict') first"
        return DataLoader(self.dataset, batch_size=None, num_workers=self.num_workers)
