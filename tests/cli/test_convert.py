"""``depthzoo convert-fcrn SRC OUT``: a depthzoo model file or a Lightning-style checkpoint, chosen by OUT's suffix."""

from __future__ import annotations

from pathlib import Path

import lightning
import pytest
import torch

from depthzoo.cli import main
from depthzoo.weights.model_file import load_model


def convert_command(argv: list[str]) -> int:
    return main(["convert-fcrn", *argv])


def test_npy_to_safetensors_end_to_end(tmp_path: Path, official_files: dict[str, Path], official_model, capsys) -> None:
    """The .npy release converted by the command equals the model read from the TF checkpoint, tensor for tensor."""
    out = tmp_path / "fcrn_nyu.safetensors"
    assert convert_command([str(official_files["npy"]), str(out)]) == 0
    assert "63,572,737 params" in capsys.readouterr().out
    loaded = load_model(out)
    assert loaded.config == official_model.config and not loaded.training
    for (key, a), (_, b) in zip(loaded.state_dict().items(), official_model.state_dict().items(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=key)
    assert convert_command([str(official_files["npy"]), str(out)]) == 2  # no silent overwrite
    assert "exists already" in capsys.readouterr().err
    assert convert_command([str(official_files["npy"]), str(out), "--overwrite"]) == 0


def test_lightning_checkpoint_layout(tmp_path: Path, official_files: dict[str, Path], official_model) -> None:
    out = tmp_path / "fcrn_nyu.ckpt"
    assert convert_command([str(official_files["ckpt"]), str(out), "--no-verify-checksums"]) == 0
    checkpoint = torch.load(out, map_location="cpu", weights_only=True)
    assert checkpoint["hyper_parameters"] == {
        "encoder": "fcrn_resnet50",
        "decoder": "fast_upproj",
        "decoder_kwargs": {"padding": "tf", "bn_eps": 0.0001},
        "pretrained": False,
    }
    assert checkpoint["pytorch-lightning_version"] == lightning.__version__
    assert (checkpoint["epoch"], checkpoint["global_step"]) == (0, 0)
    state = official_model.state_dict()
    assert set(checkpoint["state_dict"]) == {f"model.{k}" for k in state}
    torch.testing.assert_close(
        checkpoint["state_dict"]["model.decoder.head_conv.weight"], state["decoder.head_conv.weight"]
    )


def test_bad_arguments_and_inputs(tmp_path: Path, capsys) -> None:
    assert convert_command(["src.npy", str(tmp_path / "out.pt")]) == 2
    assert "OUT must end in .safetensors or .ckpt" in capsys.readouterr().err
    assert convert_command([str(tmp_path / "missing.npy"), str(tmp_path / "out.safetensors")]) == 2
    assert "missing.npy does not exist" in capsys.readouterr().err
    assert not (tmp_path / "out.safetensors").exists()
    assert convert_command([]) == 2  # argparse usage error, returned instead of exiting
    assert convert_command(["--help"]) == 0
    assert "NYU_FCRN-checkpoint.zip" in capsys.readouterr().out


def test_lightning_checkpoint_reloads_as_a_depth_task(tmp_path: Path, official_model) -> None:
    task_module = pytest.importorskip("depthzoo.task")
    from depthzoo.weights.lightning import save_lightning_checkpoint

    path = save_lightning_checkpoint(official_model, tmp_path / "fcrn_nyu.ckpt")
    task = task_module.DepthTask.load_from_checkpoint(path, map_location="cpu")
    architecture = ("encoder", "decoder", "decoder_kwargs", "output_kind")
    assert {k: task.model.config[k] for k in architecture} == {k: official_model.config[k] for k in architecture}
    for (key, a), (_, b) in zip(task.model.state_dict().items(), official_model.state_dict().items(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=key)


def test_convert_any_source_to_a_hub_folder(tmp_path: Path, capsys) -> None:
    import depthzoo

    model = depthzoo.create_model("test_resnet.r160_in1k", "deconv")
    source = depthzoo.save_model(model, tmp_path / "m.safetensors")
    assert main(["convert", str(source), str(tmp_path / "hub"), "--license", "mit"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "hub").iterdir()) == ["README.md", "config.json", "model.safetensors"]
    assert main(["convert", str(tmp_path / "hub"), str(tmp_path / "again.ckpt")]) == 0
    loaded = depthzoo.load(tmp_path / "again.ckpt")
    assert loaded.config["decoder"] == "deconv"
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    assert main(["convert", str(source), str(tmp_path / "hub")]) == 2  # the folder's files exist: refused
    assert "exists already" in capsys.readouterr().err
    assert main(["convert", str(tmp_path / "nothing.safetensors"), str(tmp_path / "x.ckpt")]) == 2
    assert "no such file or folder, and not a known checkpoint name" in capsys.readouterr().err
