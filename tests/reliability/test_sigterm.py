"""Principle 8: a stopped run says so.

A run that receives SIGTERM exits with status 143 (never 0), a ``fit`` first saves a resumable checkpoint where
``--ckpt_path last`` finds it, and the command prints one line saying what happened.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from cli_checks import TINY_ENCODER, one_error_line

from depthzoo.cli import lightning_main
from depthzoo.synthetic import write_synthetic_nyu
from depthzoo.weights.model_file import save_model

REPO_ROOT = Path(__file__).resolve().parents[2]
STEPS_PER_EPOCH = 3  # 9 training rooms, batches of 3


@pytest.fixture(scope="module")
def rooms(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 synthetic rooms at 32x48: 9 train, 3 test."""
    return write_synthetic_nyu(tmp_path_factory.mktemp("rooms") / "rooms.mat", num=12, seed=3, height=32, width=48,
                               test_fraction=0.25)


def fit_args(rooms: Path, out: Path, epochs: int, *extra: str) -> list[str]:
    return [
        "--model.encoder", TINY_ENCODER, "--model.num_val_images", "0",
        "--data", "NYUv2DataModule", "--data.root", str(rooms), "--data.format", "synthetic",
        "--data.resize", "[32, 48]", "--data.input_size", "[32, 48]", "--data.batch_size", "3",
        "--trainer.accelerator", "cpu", "--trainer.devices", "1", "--trainer.max_epochs", str(epochs),
        "--trainer.log_every_n_steps", "1", "--trainer.enable_progress_bar", "false",
        "--trainer.enable_model_summary", "false", "--trainer.default_root_dir", str(out),
        "--trainer.logger", "CSVLogger", "--trainer.logger.save_dir", str(out),
        *extra,
    ]


def test_a_sigtermed_fit_exits_non_zero_after_a_resumable_checkpoint(rooms: Path, tmp_path: Path) -> None:
    """Listed: a fit that received SIGTERM could exit 0, and the next command ran as if training had finished."""
    checkpoints = tmp_path / "checkpoints"
    args = fit_args(rooms, tmp_path, 100, "--trainer.callbacks", "ModelCheckpoint",
                    "--trainer.callbacks.dirpath", str(checkpoints), "--trainer.callbacks.save_last", "true",
                    "--trainer.callbacks.every_n_train_steps", "1")
    pythonpath = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = dict(os.environ, HF_HUB_OFFLINE="1", NO_ALBUMENTATIONS_UPDATE="1", PYTHONUNBUFFERED="1",
               PYTHONPATH=pythonpath)
    proc = subprocess.Popen([sys.executable, "-m", "depthzoo", "fit", *args], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    signalled_at = None
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        try:
            step = torch.load(checkpoints / "last.ckpt", map_location="cpu", weights_only=True)["global_step"]
        except Exception:  # not written yet, or being written
            step = 0
        if step >= 2 and step % STEPS_PER_EPOCH:  # mid-epoch, training under way
            proc.send_signal(signal.SIGTERM)
            signalled_at = step
            break
        time.sleep(0.05)
    output, _ = proc.communicate(timeout=240)
    assert signalled_at is not None, "the run ended before it could be signalled:\n" + output[-3000:]
    assert proc.returncode == 143, output[-3000:]
    assert f"error: fit stopped by SIGTERM; saved a resumable checkpoint ({checkpoints / 'last.ckpt'})" in output
    saved = torch.load(checkpoints / "last.ckpt", map_location="cpu", weights_only=True)["global_step"]
    assert signalled_at <= saved < 100 * STEPS_PER_EPOCH  # the state at the stop, long before the planned end

    epochs = saved // STEPS_PER_EPOCH + 2
    cli = lightning_main(["fit", *args[:args.index("--trainer.max_epochs") + 1], str(epochs),
                          *args[args.index("--trainer.max_epochs") + 2:], "--ckpt_path", "last"])
    assert cli.trainer.global_step == epochs * STEPS_PER_EPOCH  # resumed, then completed: nothing repeated
    rows = list(csv.DictReader(open(sorted(tmp_path.rglob("metrics.csv"))[-1])))
    assert min(int(r["step"]) for r in rows if r.get("train/loss")) >= saved  # it started where the stop left it


def test_other_stopped_runs_exit_143_and_say_what_was_kept(cli, rooms: Path, tmp_path: Path) -> None:
    """Not listed: a fit without a checkpoint callback, and a test, stopped by SIGTERM (sent in-process)."""
    handler = signal.getsignal(signal.SIGTERM)
    status, err = cli("fit", *fit_args(rooms, tmp_path / "fit", 50, "--trainer.enable_checkpointing", "false",
                                       "--trainer.callbacks", "signals.SigtermAt"))
    assert status == 143
    assert one_error_line(err) == (
        "error: fit stopped by SIGTERM; no checkpoint callback is configured, so nothing was saved to resume from"
    )
    from depthzoo.models import create_model

    weights = save_model(create_model(TINY_ENCODER, "fast_upproj"), tmp_path / "model.safetensors")
    args = fit_args(rooms, tmp_path / "test", 1, "--model.weights", str(weights),
                    "--trainer.callbacks", "signals.SigtermAt", "--trainer.callbacks.step", "1")
    args[args.index("--data.batch_size") + 1] = "1"  # three test batches: the signal comes after the first
    status, err = cli("test", *args)
    assert status == 143
    assert one_error_line(err) == "error: test stopped by SIGTERM before it finished; its results are incomplete"
    assert signal.getsignal(signal.SIGTERM) == handler  # this process answers SIGTERM as before
