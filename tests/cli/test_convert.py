"""``depthzoo convert-fcrn|convert-depth-anything SRC OUT``: a model file or a Lightning checkpoint, by OUT's suffix."""

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
        "output_kind": "metric",
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


def test_depth_anything_release_to_a_model_file_and_a_checkpoint(tmp_path: Path, dav2_files: dict[str, Path],
                                                                  capsys) -> None:
    import depthzoo
    from depthzoo.task import DepthTask

    out = tmp_path / "dav2_metric.safetensors"
    assert main(["convert-depth-anything", str(dav2_files["metric"]), str(out), "--max-depth", "20"]) == 0
    printed = capsys.readouterr().out
    assert "Depth Anything V2 Small (depth_anything_v2_metric_hypersim_vits.pth)" in printed
    assert "licence Apache-2.0" in printed and "metric head (sigmoid x 20 m)" in printed
    metric = load_model(out)
    assert metric.output_kind == "metric" and metric.config["pos_embed_interpolation"] == "dinov2"

    ckpt = tmp_path / "dav2.ckpt"
    assert main(["convert-depth-anything", str(dav2_files["relative"]), str(ckpt)]) == 0
    printed = capsys.readouterr().out
    assert "relative head (ReLU: affine-invariant inverse depth" in printed and "pass --max-depth" in printed
    task = DepthTask.load_from_checkpoint(ckpt, map_location="cpu").eval()
    assert task.model.output_kind == "relative_disparity" and task.hparams.encoder_indices == [2, 5, 8, 11]
    image = torch.rand(1, 3, 42, 56)
    with torch.no_grad():
        torch.testing.assert_close(task(image), depthzoo.from_depth_anything_v2(dav2_files["relative"])(image))


def test_depth_anything_bad_inputs(tmp_path: Path, dav2_files: dict[str, Path], capsys) -> None:
    out = str(tmp_path / "out.safetensors")
    assert main(["convert-depth-anything", str(dav2_files["metric"]), out, "--max-depth", "-20"]) == 2
    assert "max_depth must lie in" in capsys.readouterr().err
    evil = tmp_path / "depth_anything_v2_vits.pth"
    torch.save({"pretrained.x": torch.nn.Identity()}, evil)
    assert main(["convert-depth-anything", str(evil), out]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: not a readable PyTorch checkpoint: it holds objects other than tensors")
    assert str(evil) in err and "download an unmodified release" in err and "never loads pickled code" in err
    assert main(["convert-depth-anything", str(tmp_path / "none.pth"), out]) == 2
    assert "no such Depth Anything V2 file" in capsys.readouterr().err
    assert not (tmp_path / "out.safetensors").exists()
    assert main(["convert-depth-anything", "--help"]) == 0
    assert "--max-depth alone picks the head" in capsys.readouterr().out


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
