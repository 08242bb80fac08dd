"""Principle 1: depthzoo never overwrites or destroys a user's file without being asked.

Outputs are checked as a whole before the model loads: nothing that exists is replaced without ``--overwrite``,
an input is never replaced (through any name), a folder, device or pipe is never replaced, and every writer is
atomic (the outputs of one image appear together or not at all).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from cli_checks import digest, one_error_line, predict_args, write_image


def test_predicting_into_the_input_folder_never_replaces_an_input(
    cli, model_file: Path, tmp_path: Path, no_model_load: None
) -> None:
    """Listed: output_dir = the input folder replaced room_depth.png, the user's ground truth, and read it back."""
    photos = tmp_path / "photos"
    write_image(photos / "room.png")
    ground_truth = np.random.default_rng(1).integers(0, 5000, (20, 24)).astype(np.uint16)
    from PIL import Image

    Image.fromarray(ground_truth).save(photos / "room_depth.png")
    before = digest(photos)
    status, err = cli(*predict_args(model_file, photos, photos))
    line = one_error_line(err)
    assert status == 2 and "would replace inputs: room_depth.png" in line and "folder that holds no input" in line
    assert digest(photos) == before  # nothing replaced, nothing added


def test_the_input_folder_can_take_outputs_whose_names_cannot_collide(cli, model_file: Path, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    write_image(photos / "a.png")
    before = digest(photos)
    status, _ = cli(*predict_args(model_file, photos / "a.png", photos))
    assert status == 0
    after = digest(photos)
    assert after["a.png"] == before["a.png"] and {"a.npy", "a_depth.png", "a_color.png"} <= set(after)


def test_existing_outputs_are_replaced_only_with_overwrite(
    cli, model_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listed: existing a.npy and a_depth.png in the output folder were silently replaced."""
    write_image(tmp_path / "in" / "a.png")
    out = tmp_path / "out"
    out.mkdir()
    np.save(out / "a.npy", np.zeros(3))
    (out / "a_depth.png").write_bytes(b"the user's own file")
    before = digest(out)
    status, err = cli(*predict_args(model_file, tmp_path / "in", out))
    line = one_error_line(err)
    assert status == 2 and "2 output(s) exist already: a.npy, a_depth.png" in line and "--writer.overwrite" in line
    assert digest(out) == before
    status, _ = cli(*predict_args(model_file, tmp_path / "in", out, "--writer.overwrite", "true"))
    assert status == 0
    assert np.load(out / "a.npy").shape == (20, 24) and (out / "a_color.png").is_file()


def test_overwrite_never_replaces_a_device_or_a_pipe(cli, tmp_path: Path) -> None:
    """Listed: ``data synth --out /dev/full --overwrite`` run as root replaced a device node with a regular file."""
    specials = [tmp_path / "pipe"]
    os.mkfifo(specials[0])
    try:  # a node like /dev/full (char 1:7); creating one needs root
        os.mknod(tmp_path / "full", stat.S_IFCHR | 0o666, os.makedev(1, 7))
        specials.append(tmp_path / "full")
    except (PermissionError, OSError):
        pass
    for special in specials:
        kind = stat.S_IFMT(os.lstat(special).st_mode)
        status, err = cli("data", "synth", "--out", special, "--overwrite", "--num", "2", "--height", "24",
                          "--width", "32", "--quiet")
        assert status == 2 and "not a regular file" in one_error_line(err)
        assert stat.S_IFMT(os.lstat(special).st_mode) == kind  # still the pipe / the device


def test_an_output_that_is_another_name_of_an_input_is_refused_even_with_overwrite(
    cli, model_file: Path, tmp_path: Path, no_model_load: None
) -> None:
    """Not listed: outputs reached through a symbolic or a hard link would have overwritten the input they name."""
    photo = write_image(tmp_path / "in" / "photo.png")
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(photo, out / "photo_color.png")
    os.link(photo, out / "photo.npy")
    before = photo.read_bytes()
    status, err = cli(*predict_args(model_file, photo, out, "--writer.overwrite", "true"))
    line = one_error_line(err)
    assert status == 2 and "would replace inputs: photo.npy, photo_color.png" in line
    assert photo.read_bytes() == before and (out / "photo_color.png").is_symlink()


def test_a_failed_write_leaves_no_partial_output_set(
    cli, model_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listed with principle 6: a full disk left a partial output set behind, with a raw traceback."""
    import depthzoo.callbacks

    write_image(tmp_path / "in" / "a.png")
    out = tmp_path / "out"

    def disk_full(rgb: object, path: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(depthzoo.callbacks, "write_png", disk_full)
    status, err = cli(*predict_args(model_file, tmp_path / "in", out))
    line = one_error_line(err)
    assert status == 2 and "No space left on device" in line and f"({out})" in line and "free some disk space" in line
    assert list(out.iterdir()) == []  # neither a.npy nor a_depth.png (written before the failure) nor temporaries


def save_then_fail_halfway(path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException | None) -> bytes:
    """Save a checkpoint at ``path`` (returned as bytes), then make the next save write half of it and raise
    ``failure`` (None: return as if it had succeeded, as torch's writer does on some failed writes)."""
    import lightning.fabric.plugins.io.torch_io as torch_io
    import torch

    from depthzoo.checkpointing import CheckedCheckpointIO

    CheckedCheckpointIO().save_checkpoint({"global_step": 6, "w": torch.ones(1000)}, path)
    saved = path.read_bytes()

    def halfway(checkpoint: dict, filepath: object) -> None:
        with open(filepath, "wb") as handle:
            handle.write(saved[: len(saved) // 2])
        if failure is not None:
            raise failure

    monkeypatch.setattr(torch_io, "_atomic_save", halfway)
    return saved


def test_an_interrupted_checkpoint_save_keeps_the_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not listed: Lightning wrote checkpoints in place, so a kill during a save left a truncated last.ckpt and
    nothing to resume from."""
    import torch

    from depthzoo.checkpointing import CheckedCheckpointIO

    path = tmp_path / "last.ckpt"
    saved = save_then_fail_halfway(path, monkeypatch, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        CheckedCheckpointIO().save_checkpoint({"global_step": 9, "w": torch.zeros(1000)}, path)
    assert path.read_bytes() == saved and [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]
    assert CheckedCheckpointIO().load_checkpoint(path)["global_step"] == 6


@pytest.mark.parametrize("failure", ["silent", "reported"])
def test_a_checkpoint_save_that_runs_out_of_disk_is_an_error_and_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    """Listed as left alone before: on a full disk torch.save either raised an unclear RuntimeError or (its
    stream writer does not always check) returned having written part of the file."""
    import torch

    from depthzoo.checkpointing import CheckedCheckpointIO
    from depthzoo.errors import OutputWriteError

    path = tmp_path / "last.ckpt"
    reported = RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 4160 vs 4054\n"
                            "PytorchStreamWriter failed writing file data/0: file write failed")
    saved = save_then_fail_halfway(path, monkeypatch, reported if failure == "reported" else None)
    with pytest.raises(OutputWriteError, match="the checkpoint was not written completely") as info:
        CheckedCheckpointIO().save_checkpoint({"global_step": 9, "w": torch.zeros(1000)}, path)
    message = str(info.value)
    assert str(path) in message and "MiB free on its disk" in message and "free some disk space" in message
    if failure == "reported":
        assert "file write failed" in message
    assert path.read_bytes() == saved and [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]
