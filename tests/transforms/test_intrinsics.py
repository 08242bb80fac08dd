"""Intrinsics travel with the image: through the readers, the evaluation resize and crop, and into predictions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from depthzoo.datamodules import NYUv2DataModule
from depthzoo.datamodules.base import PredictionSamples
from depthzoo.datasets.nyu import NYUv2Mat
from depthzoo.geometry import NYU_INTRINSICS, Intrinsics
from depthzoo.synthetic import write_synthetic_nyu
from depthzoo.transforms.pipelines import EvalTransform, TrainTransform


def sample(intrinsics: Intrinsics | None, focal: float = 500.0) -> dict:
    rng = np.random.default_rng(0)
    out = {
        "image": rng.integers(0, 255, (60, 80, 3), dtype=np.uint8),
        "depth": rng.uniform(1, 5, (60, 80)).astype(np.float32),
        "valid": np.ones((60, 80), bool), "index": 0, "focal": focal,
    }
    if intrinsics is not None:
        out["intrinsics"] = intrinsics.as_array()
    return out


def test_evaluation_resize_and_crop_move_the_camera() -> None:
    camera = Intrinsics(500.0, 480.0, 41.2, 28.9, 60, 80)
    out = EvalTransform(resize=(30, 40), crop=(24, 32), interpolation="linear")(sample(camera))
    expected = camera.resized(30, 40).cropped(3, 4, 24, 32)
    assert out["intrinsics"].dtype == torch.float64
    assert out["intrinsics"].tolist() == pytest.approx(list(expected.as_tuple()))
    assert out["focal"] == pytest.approx(250.0)  # the focal length follows the width, as before


def test_a_focal_alone_gets_the_image_centre_and_unknown_focal_gets_nothing() -> None:
    out = EvalTransform(resize=(30, 40))(sample(None))
    assert out["intrinsics"].tolist() == pytest.approx(list(Intrinsics.from_focal(500.0, 60, 80).resized(30, 40)
                                                            .as_tuple()))
    assert "intrinsics" not in EvalTransform()(sample(None, focal=float("nan")))


def test_training_drops_the_camera_of_augmented_images() -> None:
    out = TrainTransform((48, 64), augment=True)(sample(Intrinsics.from_focal(500.0, 60, 80)))
    assert "intrinsics" not in out and out["image"].shape == (3, 48, 64)


def test_nyu_readers_carry_their_camera(tmp_path: Path) -> None:
    path = write_synthetic_nyu(tmp_path / "s.mat", num=4, seed=1, height=48, width=64)
    raw = NYUv2Mat(path, "test").load(0)["intrinsics"]
    assert raw.tolist() == pytest.approx(list(NYU_INTRINSICS.scaled(48, 64).as_tuple()))  # the renderer's camera
    resized = NYUv2Mat(path, "test", resize=(24, 32)).load(0)["intrinsics"]
    assert resized.tolist() == pytest.approx(list(NYU_INTRINSICS.scaled(48, 64).resized(24, 32).as_tuple()))


def test_prediction_samples_name_the_outputs_and_give_the_camera_at_their_size(tmp_path: Path) -> None:
    path = write_synthetic_nyu(tmp_path / "s.mat", num=4, seed=1, height=48, width=64)
    module = NYUv2DataModule(str(path), format="synthetic", input_size=(24, 32), resize=(24, 32))
    module.setup("predict")
    assert isinstance(module.predict_dataset, PredictionSamples)
    batch = next(iter(module.predict_dataloader()))
    assert batch["name"] == ["000000"] and batch["height"].tolist() == [48] and batch["width"].tolist() == [64]
    assert set(batch) == {"image", "index", "name", "height", "width", "intrinsics"}  # no ground truth
    camera = NYU_INTRINSICS.scaled(48, 64).resized(24, 32).resized(48, 64)  # network input -> written map
    assert batch["intrinsics"][0].tolist() == pytest.approx(list(camera.as_tuple()))
