"""Principle 7: depthzoo never gives unsafe advice, and says clearly what is wrong.

torch's message for an unreadable checkpoint advises ``weights_only=False``, which would run any code the file
holds; every path that reads a ``.ckpt`` or ``.pth`` answers with depthzoo's own message instead.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from cli_checks import TINY_ENCODER, one_error_line, predict_args, write_image

from depthzoo.errors import OutputExistsError, WeightsError
from depthzoo.metrics import DepthMetrics
from depthzoo.synthetic import write_synthetic_nyu
from depthzoo.task import DepthTask
from depthzoo.utils.files import unpack_zip


class Code:
    """An object whose pickle calls a function: what a weight file must never hold."""

    def __reduce__(self) -> tuple:
        return (os.getcwd, ())


def _broken(folder: Path, kind: str, name: str) -> Path:
    path = folder / name
    if kind == "random":
        path.write_bytes(os.urandom(3000))
    elif kind == "truncated":
        torch.save({"state_dict": {"w": torch.zeros(1000)}}, path)
        path.write_bytes(path.read_bytes()[:2000])
    else:  # "code": a pickle that would run a function
        torch.save({"state_dict": {"w": torch.zeros(3)}, "trap": Code()}, path)
    return path


@pytest.fixture(scope="module")
def rooms(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_nyu(tmp_path_factory.mktemp("rooms") / "rooms.mat", num=6, seed=1, height=32, width=48,
                               test_fraction=0.5)


def _fit_args(rooms: Path, out: Path) -> list[str]:
    return ["fit", "--model.encoder", TINY_ENCODER, "--data", "NYUv2DataModule", "--data.root", str(rooms),
            "--data.format", "synthetic", "--data.resize", "[32, 48]", "--data.input_size", "[32, 48]",
            "--data.batch_size", "2", "--trainer.accelerator", "cpu", "--trainer.max_epochs", "1",
            "--trainer.logger", "false", "--trainer.enable_progress_bar", "false",
            "--trainer.enable_model_summary", "false", "--trainer.default_root_dir", str(out),
            "--trainer.callbacks", "ModelCheckpoint", "--trainer.callbacks.dirpath", str(out / "checkpoints")]


def _every_reader(cli, model_file: Path, rooms: Path, tmp_path: Path) -> dict[str, Callable[[Path], str]]:
    """Each way a .ckpt/.pth reaches torch.load: returns the message a broken file gives."""
    write_image(tmp_path / "in" / "a.png")

    def command(*args: str) -> str:
        status, err = cli(*args)
        assert status == 2
        return one_error_line(err)

    def predict_with(flag: str) -> Callable[[Path], str]:
        def run(path: Path) -> str:
            args = predict_args(model_file, tmp_path / "in", tmp_path / "out")
            return command(*args, "--model.weights" if flag == "weights" else flag, str(path))
        return run

    def load_from_checkpoint(path: Path) -> str:
        with pytest.raises(WeightsError) as info:
            DepthTask.load_from_checkpoint(path)
        return str(info.value)

    def resume_last(path: Path) -> str:
        (tmp_path / "run" / "checkpoints").mkdir(parents=True, exist_ok=True)
        os.replace(path, tmp_path / "run" / "checkpoints" / "last.ckpt")
        message = command(*_fit_args(rooms, tmp_path / "run"), "--ckpt_path", "last")
        assert "last.ckpt" in message
        return message.replace("last.ckpt", path.name)

    return {
        "--ckpt_path": predict_with("--ckpt_path"),
        "--model.weights": predict_with("weights"),
        "--model.encoder_weights": predict_with("--model.encoder_weights"),
        "DepthTask.load_from_checkpoint": load_from_checkpoint,
        "fit --ckpt_path last": resume_last,
    }


READERS = ["--ckpt_path", "--model.weights", "--model.encoder_weights", "DepthTask.load_from_checkpoint",
           "fit --ckpt_path last"]


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("kind", ["random", "truncated"])
def test_unreadable_checkpoints_never_advise_weights_only_false(
    cli, model_file: Path, rooms: Path, tmp_path: Path, reader: str, kind: str
) -> None:
    """Listed: for a random or truncated .ckpt or .pth, torch's message said "weights_only=False will likely
    succeed"."""
    path = _broken(tmp_path, kind, "broken.pth" if "weights" in reader else "broken.ckpt")
    message = _every_reader(cli, model_file, rooms, tmp_path)[reader](path)
    assert "not a readable PyTorch checkpoint" in message and path.name in message
    assert "never loads pickled code" in message and "weights_only" not in message


@pytest.mark.parametrize("reader", ["--model.weights", "--model.encoder_weights", "DepthTask.load_from_checkpoint"])
def test_a_checkpoint_holding_code_is_refused_without_advice(
    cli, model_file: Path, rooms: Path, tmp_path: Path, reader: str
) -> None:
    """Not listed: a well-formed checkpoint whose pickle would call a function."""
    path = _broken(tmp_path, "code", "code.pth")
    message = _every_reader(cli, model_file, rooms, tmp_path)[reader](path)
    assert "holds objects other than tensors" in message and "code.pth" in message and "weights_only" not in message


def test_metrics_after_only_empty_batches_say_so() -> None:
    """Listed: compute() after an update with zero images said to call update() first."""
    metrics = DepthMetrics()
    metrics.update(torch.rand(0, 1, 8, 8), torch.rand(0, 1, 8, 8))
    with pytest.raises(ValueError, match=r"update\(\) was called 1 time\(s\), each with a batch of 0 images"):
        metrics.compute()
    metrics.reset()
    with pytest.raises(ValueError, match=r"call update\(pred, target\) before compute\(\)"):
        metrics.compute()


def test_an_unpack_target_that_exists_is_left_alone_and_the_fix_is_another_target(tmp_path: Path) -> None:
    """Listed: the stem clash in zip unpacking told the user to delete an unrelated folder of theirs."""
    archive = tmp_path / "weights.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("w.bin", b"123")
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "thesis.tex").write_text("the user's own work")
    with pytest.raises(OutputExistsError) as info:
        unpack_zip(archive)
    message = str(info.value)
    assert "pass another target folder" in message and "move" not in message and "delete" not in message
    assert (tmp_path / "weights" / "thesis.tex").read_text() == "the user's own work"
    assert (unpack_zip(archive, tmp_path / "elsewhere") / "w.bin").read_bytes() == b"123"


def test_a_broken_cached_imagenet_file_is_named_without_advice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not listed: ``pretrained=True`` reads a cached ImageNet file through timm's own ``torch.load``."""
    from depthzoo.models import create_model
    from depthzoo.models.encoders import timm_encoder

    cached = _broken(tmp_path, "truncated", "pytorch_model.pth")
    monkeypatch.setattr(timm_encoder, "resolve_weight_file", lambda name, cfg: cached)
    with pytest.raises(WeightsError, match=r"not a readable PyTorch checkpoint.*pytorch_model\.pth") as info:
        create_model("resnet18", pretrained=True)
    assert "weights_only" not in str(info.value)
