"""Helpers of the reliability tests: images, folder digests, ``depthzoo predict`` arguments, the one error line."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image

TINY_ENCODER = "test_resnet.r160_in1k"


def write_image(path: Path, size: tuple[int, int] = (20, 24), seed: int = 0) -> Path:
    """A random RGB PNG (or any format the suffix names)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)).save(path)
    return path


def digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative name -> sha256), to show that nothing was changed or added."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def predict_args(model: Path, inputs: Path | str, output_dir: Path | str, *extra: str) -> list[str]:
    """``depthzoo predict`` with the tiny model on CPU, quietly."""
    return [
        "predict",
        "--model.encoder", TINY_ENCODER,
        "--model.weights", str(model),
        "--data", "ImageFolderDataModule",
        "--data.inputs", str(inputs),
        "--writer.output_dir", str(output_dir),
        "--trainer.accelerator", "cpu",
        "--trainer.devices", "1",
        "--trainer.logger", "false",
        "--trainer.enable_progress_bar", "false",
        "--trainer.enable_model_summary", "false",
        *extra,
    ]


def one_error_line(err: str) -> str:
    """The single ``error:`` line of a failed command (asserting there is exactly one and no traceback)."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err, err
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0] == lines[-1], err
    return errors[0]
