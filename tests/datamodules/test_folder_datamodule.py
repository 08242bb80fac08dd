"""FolderDataModule: the same rooms through a folder of files and through the built-in synthetic module, the checks
made before training, splits, and the evaluation defaults it gives the task."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import cv2
import fakes
import lightning.pytorch as pl
import numpy as np
import pytest
import torch

from depthzoo.datamodules import CustomDataModule, FolderDataModule, NYUv2DataModule
from depthzoo.datamodules.folder import DepthUnitError
from depthzoo.datasets.errors import ShapeMismatchError
from depthzoo.datasets.nyu import NYUv2Mat
from depthzoo.errors import DataError, InvalidArgumentError
from depthzoo.synthetic import write_synthetic_folder, write_synthetic_nyu
from depthzoo.task import DepthTask

TINY = "test_resnet.r160_in1k"
SIZE = dict(input_size=(48, 64), resize=(48, 64), interpolation="area", scale_range=(1.0, 1.0), rotation_deg=0.0)


@pytest.fixture(scope="module")
def rooms(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same 24 rooms at 48x64 as the synthetic .mat and as a folder of PNGs with 16-bit millimetre depth."""
    root = tmp_path_factory.mktemp("rooms")
    options = dict(num=24, seed=5, height=48, width=64, test_fraction=0.25)
    return write_synthetic_nyu(root / "rooms.mat", **options), write_synthetic_folder(root / "folder", **options)


def folder_module(root: Path, **options) -> FolderDataModule:
    return FolderDataModule(
        str(root), train_list="train.txt", test_list="test.txt", batch_size=4, **{**SIZE, **options}
    )


def test_the_folder_gives_the_batches_of_the_synthetic_module(rooms: tuple[Path, Path]) -> None:
    mat, folder = rooms
    modules = [NYUv2DataModule(str(mat), format="synthetic", batch_size=4, **SIZE), folder_module(folder)]
    batches = []
    for module in modules:
        module.setup(None)
        torch.manual_seed(0)
        batches.append(([b for b in module.train_dataloader()], next(iter(module.test_dataloader()))))
    (nyu_train, nyu_test), (folder_train, folder_test) = batches
    assert len(nyu_train) == len(folder_train) == 4  # 18 training rooms, batches of 4
    for a, b in [*zip(nyu_train, folder_train), (nyu_test, folder_test)]:
        assert torch.equal(a["index"], b["index"]) and torch.equal(a["image"], b["image"])
        assert torch.equal(a["valid"], b["valid"])
        # The .mat keeps 14 mantissa bits (<= 0.25 mm at 8 m), the PNG whole millimetres (<= 0.5 mm).
        assert float((a["depth"] - b["depth"]).abs().max()) < 0.5e-3 + 0.3e-3
    # The list's focal and principal point are the renderer's (the list gives one focal for both axes).
    torch.testing.assert_close(folder_test["intrinsics"][:, [0, 2, 3]], nyu_test["intrinsics"][:, [0, 2, 3]])
    assert modules[1].max_depth == 10.0 and not modules[1].sparse_depth


def fit_and_test(module: pl.LightningDataModule) -> dict[str, float]:
    pl.seed_everything(0, verbose=False)
    task = DepthTask(encoder=TINY, decoder="fast_upproj", loss="l1", eval_crop=None, num_val_images=0,
                     optimizer=lambda params: torch.optim.AdamW(params, lr=2e-3))
    trainer = pl.Trainer(max_epochs=4, accelerator="cpu", logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(task, datamodule=module)
        return trainer.test(task, datamodule=module, verbose=False)[0]


def test_training_through_the_folder_reaches_the_synthetic_module_metrics(rooms: tuple[Path, Path],
                                                                          tmp_path: Path) -> None:
    mat, folder = rooms
    reference = fit_and_test(NYUv2DataModule(str(mat), format="synthetic", batch_size=4, **SIZE))
    # The same rooms with the .mat's own depth values (float32 .npy): every batch is equal, so is every metric.
    exact = tmp_path / "exact"
    for split, key, folder_name in (("train", "rawDepths", "raw_depth"), ("test", "depths", "depth")):
        reader = NYUv2Mat(mat, split, key)
        for position, index in enumerate(reader.indices):
            fakes.write_depth_file(exact / folder_name / f"{index:05d}.npy", reader.load(position)["depth"])
    for name in ("train.txt", "test.txt"):
        text = re.sub(r"depth/(\d+)\.png", r"depth/\1.npy", (folder / name).read_text())
        (exact / name).write_text(text)
    (exact / "rgb").symlink_to(folder / "rgb")
    same = fit_and_test(folder_module(exact))
    assert same == pytest.approx(reference, rel=1e-6, abs=1e-9)
    # The 16-bit millimetre PNGs differ by < 0.5 mm: the metrics agree within noise.
    rounded = fit_and_test(folder_module(folder))
    assert reference["test/d1"] > 0.1  # the model learnt something worth comparing
    for key in ("test/abs_rel", "test/rmse", "test/d1"):
        assert rounded[key] == pytest.approx(reference[key], rel=0.02), key


def test_folder_matching_and_seeded_splits(rooms: tuple[Path, Path]) -> None:
    _, folder = rooms
    module = CustomDataModule(str(folder), depth_dir="depth", test_fraction=0.25, val_fraction=0.2, batch_size=2,
                              max_depth=10.0, split_seed=3, **SIZE)
    module.setup("fit")
    assert isinstance(module, FolderDataModule) and module.report["pairs"] == {"train": 18, "val": 0, "test": 6}
    again = FolderDataModule(str(folder), depth_dir="depth", test_fraction=0.25, split_seed=3, max_depth=10.0, **SIZE)
    other = FolderDataModule(str(folder), depth_dir="depth", test_fraction=0.25, split_seed=4, max_depth=10.0, **SIZE)
    names = [{p.name for p in m.pairs()["test"]} for m in (module, again, other)]
    assert names[0] == names[1] != names[2]
    assert names[0].isdisjoint(p.name for p in module.pairs()["train"])
    assert len(module.train_dataset) == 14 and len(module.val_dataset) == 4  # val_fraction of the training pairs


def test_a_validation_list(rooms: tuple[Path, Path]) -> None:
    _, folder = rooms
    lines = (folder / "test.txt").read_text().splitlines()
    (folder / "val.txt").write_text("\n".join(lines[:2]) + "\n")
    module = FolderDataModule(str(folder), train_list="train.txt", val_list="val.txt", test_list="test.txt", **SIZE)
    module.setup("fit")
    assert len(module.val_dataset) == 2 and len(module.train_dataset) == 18
    with pytest.raises(InvalidArgumentError, match="either val_list or val_fraction"):
        FolderDataModule(str(folder), train_list="train.txt", val_list="val.txt", val_fraction=0.1, **SIZE).setup("fit")


def small_folder(root: Path, depth: np.ndarray, count: int = 3, suffix: str = ".png", scale: float = 1000.0) -> Path:
    for i in range(count):
        fakes._write_rgb(root / "rgb" / f"{i}.png", np.full((*depth.shape, 3), 100, np.uint8))
        fakes.write_depth_file(root / "depth" / f"{i}{suffix}", depth, depth_scale=scale)
    return root


def test_depth_in_the_wrong_unit_is_caught_before_training(tmp_path: Path) -> None:
    depth = np.full((48, 64), 2.5)
    millimetres = small_folder(tmp_path / "mm", depth)
    with pytest.raises(DepthUnitError, match=r"median valid depth of 2 checked files is 2500 m .* depth_scale = 1\b"):
        FolderDataModule(str(millimetres), depth_scale=1.0, test_fraction=0.34, **SIZE).setup("fit")
    metres = small_folder(tmp_path / "m", depth, suffix=".npy")
    with pytest.raises(DepthUnitError, match="if the files hold metres: depth_scale 1"):
        FolderDataModule(str(metres), depth_template="{stem}.npy", depth_scale=1000.0, test_fraction=0.34,
                         **SIZE).setup("fit")
    module = FolderDataModule(str(millimetres), depth_scale=1.0, check_data=False, test_fraction=0.34, **SIZE)
    module.setup("fit")  # the reading checks can be turned off; then the range must be given
    with pytest.raises(InvalidArgumentError, match="no max_depth and cannot guess"):
        DepthTask(encoder=TINY, eval_crop="auto").evaluation_protocol.__func__(_with_datamodule(module))


def _with_datamodule(module: FolderDataModule) -> DepthTask:
    task = DepthTask(encoder=TINY)
    task._trainer = type("T", (), {"datamodule": module})()
    return task


def test_size_mismatches_are_listed(tmp_path: Path) -> None:
    root = small_folder(tmp_path, np.full((48, 64), 2.0), count=4)
    fakes.write_depth_file(root / "depth" / "1.png", np.full((24, 32), 2.0))
    fakes.write_depth_file(root / "depth" / "3.png", np.full((48, 63), 2.0))
    with pytest.raises(ShapeMismatchError, match=r"2 of 4 pairs .*1.png 48x64 vs 1.png 24x32, 3.png 48x64 vs 3.png"):
        FolderDataModule(str(root), test_fraction=0.25, **SIZE).setup("fit")


def test_sparse_ground_truth_range_guess_and_empty_files(tmp_path: Path) -> None:
    depth = np.zeros((48, 64))
    depth[::4, ::5] = np.linspace(1.0, 37.0, depth[::4, ::5].size).reshape(depth[::4, ::5].shape)  # 5 % valid
    root = small_folder(tmp_path, depth, count=4)
    fakes.write_depth_file(root / "depth" / "2.png", np.zeros((48, 64)))
    module = FolderDataModule(str(root), test_fraction=0.25, input_size=(48, 64), split_seed=1)
    with pytest.warns(UserWarning) as caught:
        module.setup("fit")
    messages = " ".join(str(w.message) for w in caught)
    assert module.sparse_depth and module.max_depth == 50.0 and "below 50 m" in messages
    assert "checked depth files have no valid pixel" in messages
    cv2.imwrite(str(root / "depth" / "0.png"), np.zeros((48, 64), np.uint16))
    for name in ("1", "3"):
        cv2.imwrite(str(root / "depth" / f"{name}.png"), np.zeros((48, 64), np.uint16))
    with pytest.raises(DataError, match="has a valid pixel"):
        FolderDataModule(str(root), test_fraction=0.25, input_size=(48, 64)).setup("fit")


def test_missing_splits_and_bad_arguments_are_clear(rooms: tuple[Path, Path]) -> None:
    _, folder = rooms
    module = FolderDataModule(str(folder), test_list="test.txt", max_depth=10.0, **SIZE)
    with pytest.raises(InvalidArgumentError, match="no train pairs"):
        module.setup("fit")
    with pytest.raises(InvalidArgumentError, match="depth_template must be a file name with the field"):
        FolderDataModule(str(folder), depth_template="depth.png")
    with pytest.raises(InvalidArgumentError, match="test_fraction"):
        FolderDataModule(str(folder), test_fraction=1.0)
