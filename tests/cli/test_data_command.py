"""``depthzoo data synth``: the synthetic dataset written from the command line."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from depthzoo.cli import main
from depthzoo.synthetic import render_scene
from depthzoo.synthetic.matfile import round_mantissa


def test_cli_writes_the_file(tmp_path, capsys):
    out = tmp_path / "data" / "synthetic.mat"
    code = main(["data", "synth", "--out", str(out), "--num", "4", "--seed", "3", "--height", "16", "--width", "24",
                          "--test-fraction", "0.5"])
    assert code == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(out)
    assert "2 train, 2 test" in captured.err and "rendering" in captured.err
    with h5py.File(out, "r") as f:
        assert f["images"].shape == (4, 3, 24, 16)
        np.testing.assert_array_equal(f["testNdxs"][0], [3, 4])
        np.testing.assert_array_equal(f["depths"][1].T, round_mantissa(render_scene(3, 1, 16, 24)[1]))


@pytest.mark.parametrize("argv,message", [
    (["--num", "1"], "num must be at least 2"),
    (["--test-fraction", "1.5"], "strictly between 0 and 1"),
    (["--num", "lots"], "invalid int value"),
])
def test_cli_reports_bad_arguments(tmp_path, capsys, argv, message):
    assert main(["data", "synth", "--out", str(tmp_path / "x.mat"), "--quiet", *argv]) == 2
    assert message in capsys.readouterr().err


def test_cli_needs_overwrite_for_an_existing_file(tmp_path, capsys):
    out = tmp_path / "x.mat"
    out.write_bytes(b"old")
    assert main(["data", "synth", "--out", str(out), "--num", "2", "--height", "8", "--width", "8", "--quiet"]) == 2
    assert "pass --overwrite" in capsys.readouterr().err and out.read_bytes() == b"old"
    assert main(["data", "synth", "--out", str(out), "--num", "2", "--height", "8", "--width", "8", "--quiet",
                 "--overwrite"]) == 0


@pytest.mark.parametrize("depth_format", ["png", "npy", "tiff"])
def test_cli_writes_the_rooms_as_a_folder(tmp_path, capsys, depth_format):
    import cv2

    from depthzoo.datasets.imageio import read_depth_raw
    from depthzoo.geometry import NYU_INTRINSICS

    out = tmp_path / "rooms"
    argv = ["data", "synth", "--layout", "folder", "--depth-format", depth_format, "--out", str(out), "--num", "4",
            "--seed", "3", "--height", "16", "--width", "24", "--test-fraction", "0.5", "--quiet"]
    assert main(argv) == 0 and "2 train, 2 test" in capsys.readouterr().err
    rgb, depth, raw = render_scene(3, 3, 16, 24)
    suffix = {"png": ".png", "npy": ".npy", "tiff": ".tiff"}[depth_format]
    np.testing.assert_array_equal(cv2.cvtColor(cv2.imread(str(out / "rgb" / "00003.png")), cv2.COLOR_BGR2RGB), rgb)
    stored = read_depth_raw(out / "depth" / f"00003{suffix}")
    expected = np.rint(depth * 1000).astype(np.uint16) if depth_format == "png" else depth
    np.testing.assert_array_equal(stored, expected)
    k = NYU_INTRINSICS.scaled(16, 24)
    lines = (out / "train.txt").read_text().splitlines()
    assert lines[1] == f"rgb/00001.png raw_depth/00001{suffix} {k.fx:.10g} {k.cx:.10g} {k.cy:.10g}"
    assert (out / "test.txt").read_text().splitlines()[0].startswith(f"rgb/00002.png depth/00002{suffix} ")
    assert main(argv) == 2 and "--overwrite" in capsys.readouterr().err
