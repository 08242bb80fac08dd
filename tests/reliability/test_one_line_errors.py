"""Principle 6: every error a user can cause ends as one clear line on the command line.

``error: <what> (<file>): <fix>``, exit status 2, no traceback (``--debug`` shows it); output problems are found
before the model loads.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from cli_checks import one_error_line, predict_args, write_image


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    write_image(tmp_path / "photos" / "a.png")
    return tmp_path / "photos"


@pytest.mark.parametrize("flag", ["--model.weights", "--model.encoder_weights"])
@pytest.mark.parametrize("damage", ["truncated", "random"])
def test_a_broken_safetensors_file_is_one_line_naming_it(
    cli, model_file: Path, photos: Path, tmp_path: Path, flag: str, damage: str
) -> None:
    """Listed: a truncated or random .safetensors gave a SafetensorError with no file name."""
    broken = tmp_path / f"{damage}.safetensors"
    data = model_file.read_bytes()
    broken.write_bytes(data[: len(data) // 2] if damage == "truncated" else os.urandom(4096))
    args = predict_args(model_file, photos, tmp_path / "out")
    args[args.index("--model.weights")] = flag
    args[args.index(str(model_file))] = str(broken)
    status, err = cli(*args)
    line = one_error_line(err)
    assert status == 2 and "not a readable safetensors file" in line and f"({broken})" in line


def test_a_malicious_npy_is_refused_in_one_line_naming_it(cli, tmp_path: Path) -> None:
    """Listed: the refusal of a malicious .npy was right, but printed as a traceback."""

    class Payload:
        def __reduce__(self) -> tuple:
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    np.save(tmp_path / "NYU_ResNet-UpProj.npy", np.array([Payload()], dtype=object), allow_pickle=True)
    status, err = cli("convert-fcrn", tmp_path / "NYU_ResNet-UpProj.npy", tmp_path / "out.safetensors")
    line = one_error_line(err)
    assert status == 2 and "refused to load global" in line and "system" in line
    assert f"{tmp_path / 'NYU_ResNet-UpProj.npy'}" in line and not (tmp_path / "pwned").exists()


def test_output_folders_that_cannot_be_used_fail_before_the_model_loads(
    cli, model_file: Path, photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_model_load: None
) -> None:
    """Listed: a read-only output folder, an output path that is a file (reported only after the model had
    loaded) and a parent folder that cannot be created gave raw tracebacks."""
    (tmp_path / "a_file").write_text("not a folder")
    for output_dir, message in ((tmp_path / "a_file", "a_file is a file"),
                                (tmp_path / "a_file" / "sub", "a_file is a file")):
        status, err = cli(*predict_args(model_file, photos, output_dir))
        assert status == 2 and message in one_error_line(err)
    read_only = tmp_path / "read_only"
    read_only.mkdir(mode=0o555)
    if os.geteuid() == 0:  # root writes anywhere; make the system answer as it does for everyone else
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == read_only else real_access(p, mode))
    for output_dir in (read_only, read_only / "new" / "folder"):
        status, err = cli(*predict_args(model_file, photos, output_dir))
        line = one_error_line(err)
        assert status == 2 and "not writable" in line and "choose a folder you can write to" in line
    assert list(read_only.iterdir()) == []


def test_a_list_that_includes_itself_is_one_line(cli, model_file: Path, photos: Path, tmp_path: Path) -> None:
    """Listed: a .txt input list that lists itself gave a RecursionError."""
    (tmp_path / "self.txt").write_text("photos/a.png\nself.txt\n")
    (tmp_path / "first.txt").write_text("second.txt\n")
    (tmp_path / "second.txt").write_text("photos/a.png\nfirst.txt\n")
    for name in ("self.txt", "first.txt"):
        status, err = cli(*predict_args(model_file, tmp_path / name, tmp_path / "out"))
        line = one_error_line(err)
        assert status == 2 and "the input list includes itself" in line and name in line
    assert not (tmp_path / "out").exists()


def test_empty_inputs_are_refused_instead_of_taking_the_current_folder(
    cli, model_file: Path, photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listed: ``--data.inputs ""`` silently collected every image under the current folder."""
    monkeypatch.chdir(photos)
    status, err = cli(*predict_args(model_file, "", tmp_path / "out"))
    assert status == 2 and "an empty input would mean the current folder" in one_error_line(err)
    assert not (tmp_path / "out").exists()


def _list_with_a_missing_file(tmp_path: Path) -> list[str]:
    (tmp_path / "list.txt").write_text("nowhere.png\n")
    return ["--data.inputs", str(tmp_path / "list.txt")]


def _corrupt_image(tmp_path: Path) -> list[str]:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    return ["--data.inputs", str(tmp_path / "bad")]


@pytest.mark.parametrize(("mistake", "message"), [
    (lambda t: ["--data.inputs", str(t / "missing.png")], "the input does not exist"),
    (_list_with_a_missing_file, "named in"),
    (_corrupt_image, "cannot decode image"),
    (lambda t: ["--model.encoder_weights", str(t / "missing.pth")], "the encoder_weights file does not exist"),
    (lambda t: ["--model.loss_kwargs", "{threshold: -1}"], "threshold must be > 0"),
    (lambda t: ["--model.encoder_depth", "9"], "depth=9 asks for more"),
])
def test_other_user_mistakes_are_one_line_too(
    cli, model_file: Path, photos: Path, tmp_path: Path, mistake, message: str
) -> None:
    """Not listed: more mistakes, found before, while and after the model is built, all end the same way."""
    status, err = cli(*predict_args(model_file, photos, tmp_path / "out"), *mistake(tmp_path))
    assert status == 2 and message in one_error_line(err)


def test_a_folder_without_a_checkpoint_is_one_line(cli, tmp_path: Path) -> None:
    """Not listed: convert-fcrn on a folder holding no checkpoint raised a raw FileNotFoundError."""
    (tmp_path / "empty").mkdir()
    status, err = cli("convert-fcrn", tmp_path / "empty", tmp_path / "out.safetensors")
    assert status == 2 and "expected exactly one TensorFlow checkpoint" in one_error_line(err)


def test_debug_shows_the_traceback(cli, tmp_path: Path) -> None:
    status, err = cli("--debug", "convert-fcrn", tmp_path / "nothing", tmp_path / "out.safetensors")
    assert status == 2 and "Traceback (most recent call last)" in err
    assert err.rstrip().splitlines()[-1].startswith("error: ")


def test_a_missing_dataset_prints_its_layout_above_one_error_line(cli, tmp_path: Path) -> None:
    """The expected folder layout is context above the one ``error:`` line, which names the file and its source."""
    missing = tmp_path / "nowhere" / "nyu.mat"
    status, err = cli("fit", "--model.encoder", "test_resnet.r160_in1k", "--model.decoder", "fast_upproj",
                      "--data", "NYUv2DataModule", "--data.root", missing, "--trainer.fast_dev_run", "1",
                      "--trainer.accelerator", "cpu")
    line = one_error_line(err)
    assert status == 2 and f"not found: {missing}; where to get it: http://horatio.cs.nyu.edu" in line
    context = err[: err.index(line)]
    assert "Expected layout:\n<root>" in context and "rawDepths  (N, W, H)    float32" in context
