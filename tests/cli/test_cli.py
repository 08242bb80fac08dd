"""The depthzoo command end to end on generated data: fit -> test/predict, configs, DDP, resume, offline reloads."""

from __future__ import annotations

import csv
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import fakes
import numpy as np
import pytest
import torch
from PIL import Image

import depthzoo
from depthzoo.cli import lightning_main, list_configs, main
from depthzoo.errors import OutputExistsError
from depthzoo.resources import bundled_dir
from depthzoo.synthetic import write_synthetic_folder
from depthzoo.task import DepthTask, UntrainedModelError
from depthzoo.visualize import HEADER_HEIGHT as HEADER
from depthzoo.visualize import ROW_GAP

TINY_ENCODER = "test_resnet.r160_in1k"


def tiny_args(root: Path, out: Path, *extra: str) -> list[str]:
    return [
        "--model.encoder", TINY_ENCODER,
        "--model.decoder", "fast_upproj",
        "--model.num_val_images", "2",
        "--data", "NYUv2DataModule",
        "--data.root", str(root),
        "--data.format", "synthetic",
        "--data.resize", "[48, 64]",
        "--data.input_size", "[48, 64]",
        "--data.batch_size", "3",
        "--trainer.accelerator", "cpu",
        "--trainer.devices", "1",
        "--trainer.max_epochs", "1",
        "--trainer.enable_model_summary", "false",
        "--trainer.enable_progress_bar", "false",
        "--trainer.default_root_dir", str(out),
        "--trainer.logger", "CSVLogger",
        "--trainer.logger.save_dir", str(out),
        *extra,
    ]


@pytest.fixture(scope="module")
def trained(tiny_nyu: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One epoch of fit through the CLI; returns (checkpoint, output folder)."""
    out = tmp_path_factory.mktemp("fit")
    cli = lightning_main(["fit", *tiny_args(tiny_nyu, out, "--trainer.log_every_n_steps", "1",
                                            "--model.eval_boundary", "true"),
                          "--save_pretrained", str(out / "hub")])
    ckpt = Path(cli.trainer.checkpoint_callback.best_model_path or cli.trainer.checkpoint_callback.last_model_path)
    assert ckpt.is_file()
    return ckpt, out


def per_image_reference(task: DepthTask, root: Path) -> dict[str, float]:
    """abs_rel, rmse, d1 and the boundary errors of the test split written out with numpy (float64)."""
    from depthzoo.datasets.nyu import NYUv2Mat
    from depthzoo.metrics.boundary import boundary_errors

    reader = NYUv2Mat(root, "test", "depths")
    task.eval()
    abs_rel, rmse, d1, dbe = [], [], [], []
    for i in range(len(reader)):
        sample = reader.load(i)
        image = torch.from_numpy(sample["image"]).permute(2, 0, 1).float().div(255)[None]
        with torch.no_grad():
            pred = torch.nn.functional.interpolate(task(image), size=sample["depth"].shape, mode="bilinear",
                                                   align_corners=False)[0, 0].double().numpy()
        gt = sample["depth"].astype(np.float64)
        valid = (gt > 1e-3) & (gt < 10.0)
        p, g = np.clip(pred[valid], 1e-3, 10.0), gt[valid]
        abs_rel.append(np.mean(np.abs(g - p) / g))
        rmse.append(np.sqrt(np.mean((g - p) ** 2)))
        d1.append(np.mean(np.maximum(g / p, p / g) < 1.25))
        dbe.append(boundary_errors(np.clip(pred, 1e-3, 10.0), gt, valid))
    acc, comp = np.nanmean(np.array(dbe), axis=0)
    return {"abs_rel": float(np.mean(abs_rel)), "rmse": float(np.mean(rmse)), "d1": float(np.mean(d1)),
            "dbe_acc": float(acc), "dbe_comp": float(comp)}


def test_fit_writes_checkpoints_logs_and_depth_pictures(trained: tuple[Path, Path]) -> None:
    ckpt, out = trained
    metrics = list(csv.DictReader(open(next(out.rglob("metrics.csv")))))
    assert any(row.get("train/loss") for row in metrics)
    assert any(row.get("val/abs_rel") for row in metrics)
    assert any(row.get("val/dbe_comp") for row in metrics)  # eval_boundary
    picture = next(out.rglob("val_images/epoch=000.png"))
    rgb = np.asarray(Image.open(picture))
    # a title strip, then 2 rows of input | ground truth | prediction | metres bar | error | per-cent bar, the tiles
    # at the ground-truth size (48x64), the rows 6 pixels apart
    assert rgb.shape[0] == HEADER + 2 * 48 + ROW_GAP and rgb.shape[1] > 4 * 64
    depth_tiles = rgb[HEADER : HEADER + 48, 64:192]
    assert (depth_tiles == 255).all(axis=-1).any()  # depth edges drawn on the depth tiles
    assert (rgb[:HEADER] < 128).any() and (rgb[HEADER + 48 : HEADER + 48 + ROW_GAP] == 255).all()  # titles; a gap


def test_test_with_checkpoint_matches_an_independent_evaluation(trained: tuple[Path, Path], tiny_nyu: Path,
                                                                tmp_path: Path) -> None:
    ckpt, _ = trained
    args = tiny_args(tiny_nyu, tmp_path, "--model.eval_crop", "null", "--model.eval_boundary", "true")
    cli = lightning_main(["test", *args, "--ckpt_path", str(ckpt)])
    logged = {k: float(v) for k, v in cli.trainer.callback_metrics.items()}
    assert logged["test/images"] == 3
    reference = per_image_reference(DepthTask.load_from_checkpoint(ckpt), tiny_nyu)
    for key, value in reference.items():
        assert logged[f"test/{key}"] == pytest.approx(value, rel=1e-5), key


def test_test_saves_a_hub_folder_whose_card_has_the_protocol_and_metrics(trained: tuple[Path, Path], tiny_nyu: Path,
                                                                         tmp_path: Path) -> None:
    ckpt, out = trained
    trained_card = (out / "hub" / "README.md").read_text()  # saved after fit: the training data and recipe
    assert "| data module | NYUv2DataModule |" in trained_card and "| epochs | 1 |" in trained_card
    assert "| loss | berhu |" in trained_card and "No evaluation was recorded" in trained_card
    folder = tmp_path / "hub"
    cli = lightning_main(["test", *tiny_args(tiny_nyu, tmp_path), "--ckpt_path", str(ckpt),
                          "--save_pretrained", str(folder)])
    card = (folder / "README.md").read_text()
    logged = {k: float(v) for k, v in cli.trainer.callback_metrics.items()}
    assert f"| {logged['test/abs_rel']:.4f} | {logged['test/sq_rel']:.4f} |" in card
    assert "| data module | NYUv2DataModule |" in card and "| max_depth | 10.0 |" in card and "tiny.mat" in card
    reloaded = depthzoo.load(folder)
    expected = DepthTask.load_from_checkpoint(ckpt).model.state_dict()
    assert all(torch.equal(reloaded.state_dict()[k], v) for k, v in expected.items())
    with pytest.raises(OutputExistsError):  # checked before anything runs
        lightning_main(["test", *tiny_args(tiny_nyu, tmp_path), "--ckpt_path", str(ckpt), "--save_pretrained",
                        str(folder)])


def test_test_on_a_random_model_is_refused(tiny_nyu: Path, tmp_path: Path) -> None:
    with pytest.raises(UntrainedModelError, match="--ckpt_path"):
        lightning_main(["test", *tiny_args(tiny_nyu, tmp_path)])


def test_load_from_checkpoint_needs_no_weight_source(trained: tuple[Path, Path], tiny_nyu: Path,
                                                     tmp_path: Path) -> None:
    ckpt, _ = trained
    task = DepthTask.load_from_checkpoint(ckpt)
    assert task.hparams.pretrained is False and task.hparams.encoder_weights is None
    # `test --ckpt_path` never fetches ImageNet weights, even when the config asks for them (offline here).
    cli = lightning_main(
        ["test", *tiny_args(tiny_nyu, tmp_path, "--model.pretrained", "true"), "--ckpt_path", str(ckpt)]
    )
    assert "test/abs_rel" in cli.trainer.callback_metrics


def test_encoder_depth_comes_back_from_the_checkpoint(tiny_nyu: Path, tmp_path: Path) -> None:
    cli = lightning_main(["fit", *tiny_args(tiny_nyu, tmp_path / "fit", "--model.encoder_depth", "3",
                                            "--trainer.max_steps", "1")])
    ckpt = cli.trainer.checkpoint_callback.last_model_path or cli.trainer.checkpoint_callback.best_model_path
    assert DepthTask.load_from_checkpoint(ckpt).model.encoder.reductions == [2, 4, 8]
    # The command line does not say encoder_depth: the checkpoint's architecture is used, so its weights fit.
    tested = lightning_main(["test", *tiny_args(tiny_nyu, tmp_path / "test"), "--ckpt_path", str(ckpt)])
    assert tested.model.hparams.encoder_depth == 3 and "test/abs_rel" in tested.trainer.callback_metrics


def test_vit_with_dpt_trains_from_scratch_and_its_architecture_comes_back(tiny_nyu: Path, tmp_path: Path) -> None:
    chosen = ["--model.encoder", "vit_small_patch14_dinov2", "--model.decoder", "dpt",
              "--model.encoder_indices", "[1, 3, 4, 5]", "--model.pos_embed_interpolation", "dinov2"]
    cli = lightning_main(["fit", *tiny_args(tiny_nyu, tmp_path / "fit"), *chosen])
    ckpt = cli.trainer.checkpoint_callback.last_model_path or cli.trainer.checkpoint_callback.best_model_path
    assert cli.trainer.global_step == 3 and torch.isfinite(cli.trainer.callback_metrics["val/abs_rel"])
    assert cli.model.model.encoder.model.out_indices == [1, 3, 4, 5]
    # Only the checkpoint says which blocks, which position rule and what the output means.
    tested = lightning_main(["test", *tiny_args(tiny_nyu, tmp_path / "test"), "--ckpt_path", str(ckpt)])
    config = tested.model.model.config
    assert config["encoder_indices"] == [1, 3, 4, 5] and config["pos_embed_interpolation"] == "dinov2"
    assert config["output_kind"] == "metric" and "test/abs_rel" in tested.trainer.callback_metrics


def test_test_on_a_relative_model_aligns_it_and_says_so(tiny_nyu: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    from depthzoo.models import create_model
    from depthzoo.weights.model_file import save_model

    path = save_model(create_model(TINY_ENCODER, "dpt", activation="relu"), tmp_path / "relative.safetensors")
    args = [a if a != "fast_upproj" else "dpt" for a in tiny_args(tiny_nyu, tmp_path)]
    status = main(["test", *args, "--model.decoder_kwargs.activation", "relu", "--model.weights", str(path)])
    out = capsys.readouterr().out
    assert status == 0 and "alignment scale_shift_disparity: a relative model" in out


def test_swapping_parts_on_the_command_line(tiny_nyu: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        lightning_main(["fit", *tiny_args(tiny_nyu, tmp_path), "--model.encoder", "convnext_tiny",
                        "--model.decoder", "fast_upconv", "--print_config"])
    assert info.value.code == 0
    printed = capsys.readouterr().out
    assert "encoder: convnext_tiny" in printed and "decoder: fast_upconv" in printed


def test_predict_writes_png16_npy_and_colour_at_input_size(trained: tuple[Path, Path], tiny_nyu: Path,
                                                           tmp_path: Path) -> None:
    ckpt, _ = trained
    folder = tmp_path / "photos"
    rng = np.random.default_rng(0)
    sizes = {"a": (40, 50), "sub/b": (30, 70)}
    for name, (h, w) in sizes.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(folder / f"{name}.png")
    out = tmp_path / "pred"
    base = [a for a in tiny_args(tiny_nyu, tmp_path) if not a.startswith("--data")]
    args = [a for a in base if a not in {"NYUv2DataModule", str(tiny_nyu), "synthetic", "[48, 64]", "3"}]
    lightning_main(["predict", *args, "--data", "ImageFolderDataModule", "--data.inputs", str(folder),
                    "--writer.output_dir", str(out), "--ckpt_path", str(ckpt)])
    for name, (h, w) in sizes.items():
        metres = np.load(out / f"{name}.npy")
        assert metres.shape == (h, w) and metres.dtype == np.float32 and (metres >= 0).all()
        png16 = np.asarray(Image.open(out / f"{name}_depth.png"))
        assert png16.dtype == np.uint16
        np.testing.assert_array_equal(png16, np.clip(np.round(metres.astype(np.float64) * 1000), 0, 65535))
        assert np.asarray(Image.open(out / f"{name}_color.png")).shape == (h, w, 3)


def _constant_depth_model(folder: Path, config: str) -> str:
    """A depthzoo model file with the config's architecture that predicts 2 m everywhere (valid for any protocol)."""
    import yaml

    from depthzoo.models import create_model
    from depthzoo.weights.model_file import save_model

    model_args = yaml.safe_load((bundled_dir("configs") / f"{config}.yaml").read_text())["model"]
    model = create_model(
        model_args["encoder"],
        model_args["decoder"],
        encoder_indices=model_args.get("encoder_indices"),
        pos_embed_interpolation=model_args.get("pos_embed_interpolation", "timm"),
        **(model_args.get("decoder_kwargs") or {}),
    )
    last_conv = [m for m in model.decoder.modules() if isinstance(m, torch.nn.Conv2d)][-1]
    head_max = getattr(model.decoder, "max_depth", None)  # a sigmoid head: sigmoid(b) * max_depth = 2
    with torch.no_grad():
        last_conv.weight.zero_()
        last_conv.bias.fill_(2.0 if head_max is None else math.log(2.0 / (head_max - 2.0)))
    path = folder / "constant.safetensors"
    save_model(model, path)
    return str(path)


def _kitti_fixture(root: Path) -> list[str]:
    frames = [("2011_09_26", 5, True), ("2011_09_28", 7, True), ("2011_09_30", 9, True)]
    fake = fakes.write_kitti(root, frames)
    return ["--data.raw_root", str(fake.raw_root), "--data.gt_root", str(fake.gt_root),
            "--data.train_list", str(fake.list_file), "--data.test_list", str(fake.list_file),
            "--data.batch_size", "2", "--data.num_workers", "0"]


@pytest.mark.parametrize("config", list_configs())
def test_every_shipped_config_parses_and_runs_one_batch(config: str, tiny_nyu: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        dav2_files: dict[str, Path]) -> None:
    monkeypatch.chdir(tmp_path)  # configs write under outputs/
    with pytest.raises(SystemExit) as info:
        lightning_main(["fit", "--config", config, "--print_config"])
    assert info.value.code == 0
    text = (bundled_dir("configs") / f"{config}.yaml").read_text()
    evaluation_only = "optimizer:" not in text
    if "kitti" in config:
        data = _kitti_fixture(tmp_path / "kitti")
    elif "format: sync" in (bundled_dir("configs") / f"{config}.yaml").read_text():
        fake = fakes.write_nyu_sync(tmp_path / "sync")
        data = ["--data.root", str(fake.root), "--data.train_list", str(fake.train_list),
                "--data.test_list", str(fake.test_list), "--data.batch_size", "2", "--data.num_workers", "0"]
    elif "FolderDataModule" in (bundled_dir("configs") / f"{config}.yaml").read_text():
        folder = write_synthetic_folder(tmp_path / "rooms", num=12, seed=3, height=48, width=64)
        data = ["--data.root", str(folder), "--data.batch_size", "2", "--data.num_workers", "0"]
    elif config.startswith("quickstart"):
        data = ["--data.root", str(tiny_nyu), "--data.batch_size", "3", "--data.num_workers", "0"]
    else:  # the labeled-.mat configs read the synthetic file like the real one (its split is embedded)
        data = ["--data.root", str(tiny_nyu), "--data.batch_size", "2", "--data.num_workers", "0"]
    if config.startswith("dav2"):  # ViT-S at 518: one batch at a small size is enough to check the config
        data += ["--data.resize", "[56, 70]", "--data.input_size", "[56, 70]" if evaluation_only else "[56, 56]"]
        if "weights:" in text:  # the release file the config names, in its released layout
            data += ["--model.weights", str(dav2_files["metric"])]
    if evaluation_only:
        cli = lightning_main(["test", "--config", config, "--model.weights", _constant_depth_model(tmp_path, config),
                              "--trainer.limit_test_batches", "1", "--trainer.enable_progress_bar", "false", *data])
        assert torch.isfinite(cli.trainer.callback_metrics["test/abs_rel"])
        return
    cli = lightning_main(["fit", "--config", config, "--trainer.fast_dev_run", "1", "--model.pretrained", "false",
                          "--trainer.enable_progress_bar", "false", *data])
    started_from = str(dav2_files["metric"]) if "weights:" in text else "training"
    assert cli.trainer.global_step == 1 and cli.model.weights_source == started_from
    if "test/abs_rel" in cli.trainer.callback_metrics:  # configs with test_after_fit
        assert torch.isfinite(cli.trainer.callback_metrics["test/abs_rel"])


def test_configs_naming_the_former_data_package_still_work(tiny_nyu: Path, tmp_path: Path, capsys) -> None:
    """``class_path: depthzoo.data.NYUv2DataModule`` (the layout before datamodules/) resolves to the same class."""
    config = tmp_path / "old.yaml"
    config.write_text(
        "data:\n  class_path: depthzoo.data.NYUv2DataModule\n  init_args:\n"
        f"    root: {tiny_nyu}\n    format: synthetic\n"
    )
    with pytest.raises(SystemExit) as info:
        lightning_main(["fit", "--config", str(config), "--print_config"])
    assert info.value.code == 0
    printed = capsys.readouterr().out
    # Resolved and validated against NYUv2DataModule's signature: its defaults appear beside the given arguments.
    assert "class_path: depthzoo.data.NYUv2DataModule" in printed and "synthetic_num: 600" in printed
    assert f"root: {tiny_nyu}" in printed


REPO_ROOT = Path(__file__).resolve().parents[2]


def _run_cli_subprocess(args: list[str], cwd: Path, **kwargs: object) -> subprocess.Popen:
    # The child imports depthzoo from this checkout, whatever is installed.
    pythonpath = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = dict(
        os.environ, HF_HUB_OFFLINE="1", NO_ALBUMENTATIONS_UPDATE="1", PYTHONUNBUFFERED="1", PYTHONPATH=pythonpath
    )
    return subprocess.Popen([sys.executable, "-m", "depthzoo", *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kwargs)


def test_ddp_two_processes_give_the_single_process_metrics(trained: tuple[Path, Path], tiny_nyu: Path,
                                                           tmp_path: Path) -> None:
    ckpt, _ = trained
    single = lightning_main(["test", *tiny_args(tiny_nyu, tmp_path / "one"), "--ckpt_path", str(ckpt)])
    expected = {k: float(v) for k, v in single.trainer.callback_metrics.items()}
    args = ["test", *tiny_args(tiny_nyu, tmp_path / "two", "--trainer.strategy", "ddp", "--trainer.devices", "2"),
            "--ckpt_path", str(ckpt)]
    proc = _run_cli_subprocess(args, tmp_path)
    output, _ = proc.communicate(timeout=240)
    assert proc.returncode == 0, output[-3000:]
    rows = list(csv.DictReader(open(next((tmp_path / "two").rglob("metrics.csv")))))
    logged = {k: float(v) for row in rows for k, v in row.items() if v not in ("", None) and k.startswith("test/")}
    assert logged["test/images"] == 3  # 3 test images over 2 ranks: none padded or duplicated
    for key in ("abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "silog", "d1", "d2", "d3"):
        assert logged[f"test/{key}"] == pytest.approx(expected[f"test/{key}"], rel=1e-6), key


def test_killed_run_resumes_from_last_checkpoint(tiny_nyu: Path, tmp_path: Path) -> None:
    ckpt_dir = tmp_path / "checkpoints"
    resume_args = tiny_args(
        tiny_nyu, tmp_path, "--trainer.max_epochs", "8", "--trainer.log_every_n_steps", "1",
        "--model.num_val_images", "0",
        "--trainer.callbacks", "ModelCheckpoint", "--trainer.callbacks.dirpath", str(ckpt_dir),
        "--trainer.callbacks.every_n_train_steps", "1", "--trainer.callbacks.save_last", "true",
    )
    proc = _run_cli_subprocess(["fit", *resume_args], tmp_path, start_new_session=True)
    killed_at = None
    deadline = time.time() + 180
    while time.time() < deadline and proc.poll() is None:
        last = ckpt_dir / "last.ckpt"
        if last.is_file():
            try:
                step = torch.load(last, map_location="cpu", weights_only=True)["global_step"]
            except Exception:  # being written; read again
                step = 0
            if step >= 4 and step % 3:  # mid-epoch: 3 batches per epoch
                os.killpg(proc.pid, signal.SIGKILL)
                killed_at = step
                break
        time.sleep(0.05)
    proc.communicate()
    assert killed_at is not None, "the run ended before it could be killed mid-epoch"
    saved_step = torch.load(ckpt_dir / "last.ckpt", map_location="cpu", weights_only=True)["global_step"]
    cli = lightning_main(["fit", *resume_args, "--ckpt_path", "last"])
    assert cli.trainer.global_step == 8 * 3  # exactly the planned steps: nothing repeated, nothing skipped
    assert cli.trainer.current_epoch == 8
    rows = list(csv.DictReader(open(sorted(tmp_path.rglob("metrics.csv"))[-1])))
    first_step = min(int(r["step"]) for r in rows if r.get("train/loss"))
    assert first_step >= saved_step  # the resumed run starts where the killed one stopped


def test_main_dispatches_helpers(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    assert main(["--version"]) == 0 and "depthzoo" in capsys.readouterr().out
    assert main(["configs"]) == 0 and "quickstart" in capsys.readouterr().out
    out = tmp_path / "syn.mat"
    assert main(["data", "synth", "--out", str(out), "--num", "2", "--height", "24", "--width", "32", "--quiet"]) == 0
    assert out.is_file()


def test_console_script_runs_as_a_module(tmp_path: Path) -> None:
    proc = _run_cli_subprocess(["--help"], tmp_path)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "depthzoo fit|validate|test|predict" in output
