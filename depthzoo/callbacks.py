"""Callbacks: writing predicted depth maps (or relative disparity maps, and on request coloured point clouds)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import BasePredictionWriter
from lightning.pytorch.utilities import rank_zero_info
from typing_extensions import override

from depthzoo.errors import InvalidArgumentError
from depthzoo.formats.ply import ply_bytes
from depthzoo.geometry import Intrinsics, depth_to_points
from depthzoo.utils.files import OutputFolder
from depthzoo.utils.validation import check_number
from depthzoo.visualize import DEFAULT_CMAP, colorize, colormap, to_uint8_rgb, write_depth_png16, write_png
from depthzoo.writers.video import VideoDepthWriter, is_video

OVERWRITE_FLAG = "--writer.overwrite true (overwrite=True)"
NO_INTRINSICS_FIX = (
    "pass --writer.focal F (the focal length in pixels of the images at their own size; --writer.cx and "
    "--writer.cy default to the image centre), or predict through a data module that knows its camera "
    "(NYUv2DataModule, KITTIDataModule, or FolderDataModule with focal or per-line focal lengths)"
)

# One output file of an input: (the prediction (H, W) float32: metres, or relative disparity; the path) -> None.
Product = Callable[[np.ndarray, Path], None]


def _write_npy(metres: np.ndarray, path: Path) -> None:
    with open(path, "wb") as handle:  # np.save(path) would append ".npy" to a temporary name
        np.save(handle, metres)


def prediction_inputs(datamodule: Any) -> list[tuple[Path, str]] | None:
    """(input file, output name) pairs of a data module that can list them before predicting, else None.

    A data module offers this by a ``prediction_inputs()`` method (``ImageFolderDataModule`` and
    ``VideoDataModule`` do); prediction writers use it to check every output before the model runs.
    """
    method = getattr(datamodule, "prediction_inputs", None)
    return list(method()) if callable(method) else None


class DepthMapWriter(BasePredictionWriter):
    """Writes each prediction at its input image's size, under ``output_dir``.

    Per image of a metric model: ``NAME_depth.png`` (16-bit, millimetres), ``NAME.npy`` (float32 metres) and
    ``NAME_color.png``. A relative model (``output_kind == "relative_disparity"``: inverse depth up to an unknown scale
    and shift) is never written as metres: it gives ``NAME_disparity.npy`` (float32, the raw output, no unit) and
    ``NAME_color.png`` (near and far coloured as in depth maps).

    Per video (``VideoDataModule``): ``NAME_depth.mp4``, each frame beside its colourised depth at the input's frame
    rate (:mod:`depthzoo.writers.video`), and with ``frame_npy`` one ``NAME/NNNNNN.npy`` per frame.

    With ``point_cloud``, a metric model's images also get ``NAME.ply``: one point per pixel with a valid depth,
    back-projected with :func:`depthzoo.geometry.depth_to_points` (x right, y down, z forward, metres) and coloured
    by the input image, as a binary PLY. The camera is ``focal`` (with ``cx``, ``cy``) when given, else the
    intrinsics the data module puts in its batches; without either the writer stops before writing anything.
    Before the model runs, every output is checked (:class:`~depthzoo.utils.files.OutputFolder`): none may exist
    unless ``overwrite``, none may be an input (so ``output_dir`` may hold the inputs only where the names cannot
    collide), and the folder must be writable. Each image's files appear together, atomically; a video appears when
    its last frame is written.

    Args:
        output_dir: the folder to write into (created if needed).
        overwrite: replace existing outputs (regular files only; an input is never replaced).
        cmap: colour map of the pictures and videos (``viridis``, ``magma``, ``inferno``, ``plasma``, ``turbo``,
            ``gray``, ... any of :func:`depthzoo.visualize.list_colormaps`; ``_r`` reverses it).
        frame_npy: for videos, also write each frame's depth as ``.npy``.
        point_cloud: also write a coloured point cloud ``NAME.ply`` per image.
        focal: focal length in pixels of the written maps (the images' own size), for the point clouds;
            overrides the data module's.
        cx: principal point column for the point clouds (with ``focal``); default the image centre.
        cy: principal point row for the point clouds (with ``focal``); default the image centre.
    """

    def __init__(
        self,
        output_dir: str = "predictions",
        overwrite: bool = False,
        cmap: str = DEFAULT_CMAP,
        frame_npy: bool = False,
        point_cloud: bool = False,
        focal: float | None = None,
        cx: float | None = None,
        cy: float | None = None,
    ) -> None:
        super().__init__(write_interval="batch")
        colormap(cmap)  # an unknown name fails before any prediction
        self.output_dir = Path(output_dir)
        self.overwrite = overwrite
        self.cmap = cmap
        self.outputs = OutputFolder(output_dir, overwrite, flag=OVERWRITE_FLAG)
        self.video = VideoDepthWriter(self.outputs, cmap=cmap, frame_npy=frame_npy)
        if focal is not None:
            check_number("focal", focal, low=0.0)
            if focal == 0:
                raise InvalidArgumentError("focal must be a positive focal length in pixels, got 0")
        if (cx is not None or cy is not None) and focal is None:
            raise InvalidArgumentError("cx and cy need focal", fix="pass --writer.focal too")
        self.point_cloud, self.focal, self.cx, self.cy = point_cloud, focal, cx, cy

    def products(self, output_kind: str = "metric") -> dict[str, Product]:
        """What is written for each input: file-name suffix -> function writing it from the model's output.

        With ``point_cloud`` the list also holds ``.ply``, whose writer needs the image and camera of each input:
        :meth:`write_on_batch_end` supplies it per image.

        Args:
            output_kind: the model's (``DepthModel.output_kind``); a relative output is never written as metres.
        """
        if output_kind != "metric":
            return {
                "_disparity.npy": _write_npy,
                "_color.png": lambda values, path: write_png(colorize(values, disparity=True, cmap=self.cmap), path),
            }
        products: dict[str, Product] = {
            ".npy": _write_npy,
            "_depth.png": write_depth_png16,
            "_color.png": lambda metres, path: write_png(colorize(metres, cmap=self.cmap), path),
        }
        if self.point_cloud:
            products[".ply"] = _needs_camera
        return products

    def check(self, inputs: Sequence[tuple[Path, str]] | None, output_kind: str = "metric") -> None:
        """Check every output of ``inputs`` ((file, name) pairs; None: only the folder) before any work."""
        if inputs is None:
            self.outputs.check([], [])
            return
        files = [path for path, _ in inputs]
        images = [name for path, name in inputs if not is_video(path)]
        videos = [name for path, name in inputs if is_video(path)]
        if images or not videos:
            self.outputs.check(images, list(self.products(output_kind)), inputs=files)
        if videos:
            self.video.check(videos, inputs=files)

    @override
    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if stage == "predict":
            kind = _output_kind(pl_module)
            if self.point_cloud and kind != "metric":
                raise InvalidArgumentError(
                    f"point clouds need metric depth, but this model predicts {kind}",
                    fix="use a metric model, or drop --writer.point_cloud",
                )
            self.check(prediction_inputs(getattr(trainer, "datamodule", None)), kind)
            what = (
                "NAME_depth.png (16-bit millimetres), NAME.npy (float32 metres) and NAME_color.png"
                + (" and NAME.ply (coloured points)" if self.point_cloud else "")
                if kind == "metric"
                else "NAME_disparity.npy (float32 relative disparity: inverse depth up to scale and shift, no unit) "
                "and NAME_color.png; the model's output is relative, so no metric depth is written"
            )
            rank_zero_info(f"predict: writing {what} under {self.output_dir}")

    @override
    def on_predict_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.video.finish()

    @override
    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        self.video.abort()

    @override
    def write_on_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        prediction: dict[str, Any],
        batch_indices: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        depth = prediction["depth"]
        if isinstance(batch, dict) and "frame" in batch:  # a video: streamed into one file per input
            self.video.write(depth, batch)
            return
        products = self.products(_output_kind(pl_module))
        for i, name in enumerate(prediction["name"]):
            size = (int(prediction["height"][i]), int(prediction["width"][i]))
            full = F.interpolate(depth[i : i + 1].float(), size=size, mode="bilinear", align_corners=False)
            values = full[0, 0].cpu().numpy().astype(np.float32)
            if self.point_cloud and ".ply" in products:  # the camera first: a missing one stops before any file
                camera = self._camera(prediction, i, *size)
                products[".ply"] = partial(_write_point_cloud, image=batch["image"][i], camera=camera)
            with self.outputs.write(name, list(products)) as files:
                for suffix, write in products.items():
                    write(values, files[suffix])

    def _camera(self, prediction: dict[str, Any], i: int, height: int, width: int) -> Intrinsics:
        if self.focal is not None:
            return Intrinsics.from_focal(self.focal, height, width, self.cx, self.cy)
        intrinsics = prediction.get("intrinsics")
        if intrinsics is None:
            raise InvalidArgumentError(
                f"a point cloud needs the camera's intrinsics, and neither --writer.focal nor the data gives them "
                f"(image {prediction['name'][i]!r})",
                fix=NO_INTRINSICS_FIX,
            )
        fx, fy, cx, cy = (float(v) for v in intrinsics[i])
        return Intrinsics(fx, fy, cx, cy, height, width)


def _output_kind(pl_module: pl.LightningModule) -> str:
    """The output kind of the task's model (or of the module itself), "metric" when it does not say."""
    model = getattr(pl_module, "model", pl_module)
    return str(getattr(model, "output_kind", "metric"))


def _needs_camera(metres: np.ndarray, path: Path) -> None:
    raise RuntimeError("the point cloud of an image is written with its camera (DepthMapWriter.write_on_batch_end)")


def _write_point_cloud(metres: np.ndarray, path: Path, image: torch.Tensor, camera: Intrinsics) -> None:
    """Back-project ``metres`` with ``camera``; write the valid points, coloured by ``image`` (3, h, w), as PLY."""
    height, width = metres.shape
    rgb = F.interpolate(image[None].float(), size=(height, width), mode="bilinear", align_corners=False)[0]
    colours = to_uint8_rgb(rgb.cpu().numpy())
    points = depth_to_points(metres.astype(np.float64), camera.fx, camera.cx, camera.cy, fy=camera.fy)
    valid = np.isfinite(metres) & (metres > 0)
    path.write_bytes(ply_bytes(points[valid], colours[valid]))
