"""Pictures reach each experiment logger through its own API (TensorBoard, W&B, MLflow, Comet); CSV takes none."""

from __future__ import annotations

import numpy as np
import pytest
from lightning.pytorch.loggers import CometLogger, CSVLogger, MLFlowLogger, TensorBoardLogger, WandbLogger

from depthzoo.utils.loggers import log_image

PICTURE = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)


class Recorder:
    """Stands in for a logger's client object (``logger.experiment``) and records each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple, dict]] = []

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: self.calls.append((name, args, kwargs))


def without_package(cls, monkeypatch, **properties):
    """A logger of class ``cls`` built without its package or a server: its client is a :class:`Recorder`."""
    recorder = Recorder()
    monkeypatch.setattr(cls, "experiment", property(lambda self: recorder))
    for name, value in properties.items():
        monkeypatch.setattr(cls, name, property(lambda self, value=value: value))
    return cls.__new__(cls), recorder


def test_tensorboard_gets_an_hwc_image_at_the_step(monkeypatch) -> None:
    logger, client = without_package(TensorBoardLogger, monkeypatch)
    assert log_image(logger, "val/depth", PICTURE, 7, "val_images/epoch=001.png")
    ((name, args, kwargs),) = client.calls
    assert name == "add_image" and args[0] == "val/depth" and args[1] is PICTURE and args[2] == 7
    assert kwargs == {"dataformats": "HWC"}


def test_mlflow_stores_the_picture_as_an_artifact_of_its_run(monkeypatch) -> None:
    logger, client = without_package(MLFlowLogger, monkeypatch, run_id="run-1")
    assert log_image(logger, "val/depth", PICTURE, 7, "val_images/epoch=001.png")
    assert client.calls == [("log_image", ("run-1", PICTURE, "val_images/epoch=001.png"), {})]


def test_comet_and_wandb_get_their_own_calls(monkeypatch) -> None:
    comet, client = without_package(CometLogger, monkeypatch)
    assert log_image(comet, "val/depth", PICTURE, 3, "x.png")
    assert client.calls == [("log_image", (PICTURE,), {"name": "val/depth", "step": 3})]
    calls = []
    monkeypatch.setattr(WandbLogger, "log_image", lambda self, **kwargs: calls.append(kwargs))
    assert log_image(WandbLogger.__new__(WandbLogger), "val/depth", PICTURE, 3, "x.png")
    assert calls == [{"key": "val/depth", "images": [PICTURE], "step": 3}]


def test_csv_takes_no_picture(tmp_path) -> None:
    assert not log_image(CSVLogger(tmp_path), "val/depth", PICTURE, 0, "x.png")


def test_tensorboard_event_file_holds_the_picture(tmp_path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logger = TensorBoardLogger(tmp_path, name="run")
    assert log_image(logger, "val/depth", PICTURE, 5, "x.png")
    logger.experiment.flush()
    events = EventAccumulator(logger.log_dir, size_guidance={"images": 0})
    events.Reload()
    (event,) = events.Images("val/depth")
    assert event.step == 5 and (event.width, event.height) == (6, 4)
    from io import BytesIO

    from PIL import Image

    assert np.array_equal(np.asarray(Image.open(BytesIO(event.encoded_image_string))), PICTURE)
