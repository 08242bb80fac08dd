"""depthzoo compare: table, picture and run-to-run equality of a tiny comparison; bad input refused before training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from depthzoo.cli import main
from depthzoo.cli.commands import CommandLineError
from depthzoo.cli.compare import compare_parser, default_decoders, make_plan, resolve_decoders
from depthzoo.datamodules import NYUv2DataModule

TINY_ENCODER = "test_resnet.r160_in1k"


def tiny_args(root: Path, out: Path, *extra: str) -> list[str]:
    """The default compare config, shrunk: the tiny rooms at 48x64, a tiny encoder, float32, 1 epoch."""
    return [
        "compare",
        "--out", str(out),
        "--epochs", "1",
        "--images", "2",
        "--model.encoder", TINY_ENCODER,
        "--model.encoder_depth", "null",
        "--data.init_args.root", str(root),
        "--data.init_args.synthetic_num", "12",
        "--data.init_args.synthetic_size", "[48, 64]",
        "--data.init_args.resize", "[48, 64]",
        "--data.init_args.input_size", "[48, 64]",
        "--data.init_args.batch_size", "3",
        "--trainer.precision", "32",
        "--trainer.enable_progress_bar", "false",
        *extra,
    ]


def table_rows(text: str) -> dict[str, list[str]]:
    rows = [line.strip("|").split("|") for line in text.splitlines() if line.startswith("| ")]
    return {cells[0].strip().strip("`"): [c.strip().strip("*") for c in cells[1:]] for cells in rows}


def test_compare_writes_the_table_and_picture_and_repeats_exactly(
    tiny_nyu: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    args = tiny_args(tiny_nyu, tmp_path, "--decoders", "fast_upproj,fcrn_skip,unet")
    assert main(args) == 0
    printed = capsys.readouterr().out
    table = (tmp_path / "compare.md").read_text()
    assert table in printed
    rows = table_rows(table)
    header = rows.pop("decoder")
    assert header[:3] == ["params (M)", "decoder params (M)", "train time (s)"]
    assert header[3:] == ["abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "silog", "d1", "d2", "d3", "dbe_acc",
                          "dbe_comp"]
    constant = [name for name in rows if name.startswith("constant")]
    assert len(constant) == 1 and rows[constant[0]][header.index("dbe_acc")] == "10.000"  # no edge in a constant
    assert [name for name in rows if not name.startswith("constant")] == ["fast_upproj", "fcrn_skip", "unet"]
    for name in ("fast_upproj", "fcrn_skip", "unet"):
        values = [float(v) for v in rows[name][3:]]
        assert all(np.isfinite(values)) and 0 < values[header.index("abs_rel") - 3]
    assert float(rows["fcrn_skip"][1]) > float(rows["fast_upproj"][1])  # the fusion convolutions
    for name in ("fast_upproj", "fcrn_skip", "unet"):  # one CSV log per decoder
        assert next((tmp_path / name).rglob("metrics.csv")).is_file()

    picture = np.asarray(Image.open(tmp_path / "compare.png"))
    # a label row, then 2 test images: input | ground truth | 3 decoders, each tile at the ground truth's 48x64
    assert picture.shape[1] == 5 * 64 and (picture.shape[0] - 2 * 48) in range(10, 20)

    # Outputs exist: refused before anything runs; with --overwrite, the same seed gives the same metrics.
    assert main(args) == 2
    assert "exists already" in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0
    again = table_rows((tmp_path / "compare.md").read_text())
    for name in ("fast_upproj", "fcrn_skip", "unet"):
        assert again[name][:2] + again[name][3:] == rows[name][:2] + rows[name][3:]  # all but the training time


def bad_run(args: list[str], capsys: pytest.CaptureFixture, out: Path) -> str:
    assert main(args) == 2
    assert not any(out.glob("*/**/metrics.csv"))  # nothing was trained
    return capsys.readouterr().err


def test_an_unknown_decoder_is_refused_with_suggestions(tiny_nyu: Path, tmp_path: Path, capsys) -> None:
    err = bad_run(tiny_args(tiny_nyu, tmp_path, "--decoders", "fast_upproj,fcrn_skp"), capsys, tmp_path)
    assert "unknown decoder 'fcrn_skp'. Did you mean: fcrn_skip" in err
    with pytest.raises(CommandLineError, match="more than once"):
        resolve_decoders("unet,unet")


def test_a_decoder_that_cannot_pair_with_the_encoder_is_refused(tiny_nyu: Path, tmp_path: Path, capsys) -> None:
    args = tiny_args(tiny_nyu, tmp_path, "--decoders", "fast_upproj,unet", "--model.encoder", "test_vit.r160_in1k")
    err = bad_run(args, capsys, tmp_path)
    assert "decoder 'unet' cannot pair with encoder 'test_vit.r160_in1k'" in err and "plain ViT" in err


def test_a_budget_short_of_an_epoch_is_refused(tiny_nyu: Path, tmp_path: Path, capsys) -> None:
    args = [a for a in tiny_args(tiny_nyu, tmp_path, "--decoders", "fast_upproj") if a not in ("--epochs", "1")]
    err = bad_run([*args, "--steps", "2"], capsys, tmp_path)
    assert "--steps 2 does not finish an epoch (3 steps of 3 from 9 training samples)" in err


def test_an_existing_picture_is_refused_before_training(tiny_nyu: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "compare.png").write_bytes(b"mine")
    err = bad_run(tiny_args(tiny_nyu, tmp_path, "--decoders", "fast_upproj"), capsys, tmp_path)
    assert "exists already" in err and "compare.png" in err
    assert (tmp_path / "compare.png").read_bytes() == b"mine"


def test_sparse_ground_truth_leaves_out_the_boundary_errors_or_refuses_them(
    tiny_nyu: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(NYUv2DataModule, "dense_ground_truth", False)  # as KITTI's
    err = bad_run([*tiny_args(tiny_nyu, tmp_path, "--decoders", "fast_upproj"), "--boundary"], capsys, tmp_path)
    assert "sparse ground truth" in err and "--no-boundary" in err
    options, rest = compare_parser().parse_known_args(tiny_args(tiny_nyu, tmp_path)[1:])
    plan = make_plan(options, ["fast_upproj"], rest)
    assert plan.boundary is False and plan.steps_per_epoch == 3 and plan.max_epochs == 1


def test_default_decoders_are_the_papers_and_dpt_when_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    from depthzoo.models.decoders import DECODERS

    DECODERS.names()
    monkeypatch.delitem(DECODERS._entries, "dpt", raising=False)
    assert default_decoders() == ["upconv", "upproj", "fast_upconv", "fast_upproj", "deconv", "fcrn_skip", "unet"]
    monkeypatch.setitem(DECODERS._entries, "dpt", object)
    assert default_decoders()[-1] == "dpt"


def test_a_default_decoder_that_does_not_fit_is_left_out_with_a_note(
    tiny_nyu: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from depthzoo.models.decoders import DECODERS

    class ViTOnly:
        def __init__(self, in_channels: list[int], reductions: list[int]) -> None:
            raise ValueError("needs a plain ViT")

    DECODERS.names()
    monkeypatch.setitem(DECODERS._entries, "dpt", ViTOnly)
    options, rest = compare_parser().parse_known_args(tiny_args(tiny_nyu, tmp_path)[1:])
    plan = make_plan(options, ["fast_upproj", "dpt"], rest, optional=("dpt",))
    assert plan.decoders == ["fast_upproj"]
    assert "left out of the default list: decoder 'dpt' cannot pair" in capsys.readouterr().out
    with pytest.raises(CommandLineError, match="decoder 'dpt' cannot pair .* needs a plain ViT"):
        make_plan(options, ["fast_upproj", "dpt"], rest)  # named on the command line: an error
