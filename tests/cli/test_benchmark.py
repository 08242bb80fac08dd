"""``depthzoo benchmark`` end to end on tiny synthetic rooms and a tiny model, and every bad input of the issue."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch

import depthzoo
from depthzoo.cli.main import main
from tests.helpers.cli_checks import TINY_ENCODER


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    metric = depthzoo.save_model(depthzoo.create_model(TINY_ENCODER, "fast_upconv"), folder / "metric.safetensors")
    relative = depthzoo.create_model(TINY_ENCODER, "fast_upconv", output_kind="relative_disparity")
    return metric, depthzoo.save_model(relative, folder / "relative.safetensors")


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(["benchmark", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    return lines[0]


def test_benchmark_writes_table_csv_picture_and_resumes_from_its_cache(tiny_nyu, models, tmp_path, capsys) -> None:
    out = tmp_path / "bench"
    argv = ["--models", f"{models[0]},{models[1]}", "--datasets", f"synthetic={tiny_nyu}", "--out", str(out),
            "--precision", "fp32", "--workers", "0"]
    code, table, err = run(capsys, *argv)
    assert code == 0, err
    assert (out / "benchmark.md").read_text().strip() == table.strip()
    assert "(aligned)" in table and "mean rank" in table and "3 images" in table
    rows = list(csv.DictReader((out / "benchmark.csv").open()))
    scores = {(r["model"], r["metric"]): float(r["value"]) for r in rows}
    # The cached predictions, scored again by the protocol, give the table's numbers.
    from depthzoo.cli.benchmark import cache_folder
    from depthzoo.datasets.nyu import NYUv2Mat
    from depthzoo.metrics.protocols import get_protocol

    reader = NYUv2Mat(tiny_nyu, "test", "depths")
    cached = sorted((cache_folder(out, str(models[1])) / "synthetic" / "64x96-fp32").glob("*.npy"))
    assert len(cached) == 3
    targets = [reader[i]["depth"] for i in range(3)]
    preds = [torch.nn.functional.interpolate(torch.from_numpy(np.load(p))[None, None].double(), size=t.shape,
                                             mode="bilinear")[0, 0].numpy() for p, t in zip(cached, targets)]
    expected = get_protocol("synthetic").score(preds, targets, "synthetic", "relative_disparity",
                                               masks=[reader[i]["valid"] for i in range(3)])
    assert scores[(str(models[1]), "abs_rel")] == pytest.approx(expected["abs_rel"], rel=1e-12)
    assert f"{expected['abs_rel']:.4f}" in table
    assert (out / "benchmark.png").stat().st_size > 0
    code, again, err = run(capsys, *argv)  # a second run: everything from the cache, the same table
    assert code == 0 and again == table and "3 from the cache" in err


def test_a_cache_of_another_model_version_is_refused(tiny_nyu, tmp_path, capsys) -> None:
    model = tmp_path / "m.safetensors"
    depthzoo.save_model(depthzoo.create_model(TINY_ENCODER, "fast_upconv"), model)
    argv = ["--models", str(model), "--datasets", f"synthetic={tiny_nyu}", "--out", str(tmp_path / "b"),
            "--workers", "0", "--images", "0"]
    assert run(capsys, *argv)[0] == 0
    torch.manual_seed(1)
    depthzoo.save_model(depthzoo.create_model(TINY_ENCODER, "fast_upconv"), model, overwrite=True)  # retrained
    code, _, err = run(capsys, *argv)
    assert code == 2 and "made by another version of the model" in error_line(err)
    assert run(capsys, *argv, "--overwrite")[0] == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--protocol", "marigold"], "protocol 'marigold' does not define dataset 'synthetic'"),
        (["--protocol", "marigld"], "unknown protocol 'marigld'"),
        (["--datasets", "ibims=/no/such/folder", "--protocol", "moge"], "iBims-1: not found: /no/such/folder; where"),
        (["--datasets", "ibims=/x"], "--protocol names no protocol"),
        (["--datasets", "nyuv2=/x"], "unknown dataset 'nyuv2'"),
        (["--input-size", "0,5"], "--input-size must be positive"),
        (["--models", "no_such_model.safetensors"], "no such file or folder"),
    ],
)
def test_bad_input_is_one_error_line(tiny_nyu, models, tmp_path, capsys, extra, message) -> None:
    argv = ["--models", str(models[0]), "--datasets", f"synthetic={tiny_nyu}", "--out", str(tmp_path / "b"),
            "--workers", "0"]
    for index in range(0, len(extra), 2):
        flag = extra[index]
        if flag in argv:
            argv[argv.index(flag) + 1] = extra[index + 1]
        else:
            argv += extra[index : index + 2]
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in error_line(err)


def test_an_existing_folder_is_refused_unless_it_is_a_benchmarks_own(tiny_nyu, models, tmp_path, capsys) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    argv = ["--models", str(models[0]), "--datasets", f"synthetic={tiny_nyu}", "--out", str(out), "--workers", "0",
            "--images", "0"]
    code, _, err = run(capsys, *argv)
    assert code == 2 and "exists and holds files of something other than a benchmark" in error_line(err)
    assert (out / "notes.txt").read_text() == "mine" and len(list(out.iterdir())) == 1


def test_listing_protocols_and_readers(capsys) -> None:
    code, out, _ = run(capsys, "--protocol")
    assert code == 0 and all(name in out for name in ("depth-anything", "marigold", "moge", "zoedepth-metric"))
    code, out, _ = run(capsys, "--datasets", "list")
    assert code == 0 and all(name in out for name in ("nyu", "kitti", "eth3d", "diode", "ibims", "sintel", "scannet"))


def test_a_model_that_cannot_run_at_the_input_size_is_named_before_any_prediction(
    tiny_nyu, models, tmp_path, capsys, monkeypatch
) -> None:
    from depthzoo.models.depth_model import DepthModel

    predict = DepthModel.predict

    def fixed_size(self, x, **kwargs):  # a model that, like a fixed-shape export, takes one size only
        if tuple(x.shape[-2:]) != (64, 96):
            raise RuntimeError(f"expected input of size 64x96, got {tuple(x.shape[-2:])}")
        return predict(self, x, **kwargs)

    monkeypatch.setattr(DepthModel, "predict", fixed_size)
    out = tmp_path / "b"
    argv = ["--models", str(models[0]), "--datasets", f"synthetic={tiny_nyu}", "--out", str(out), "--workers", "0",
            "--input-size", "48,64"]
    code, _, err = run(capsys, *argv)
    assert code == 2 and "cannot run at 48x64, the input size of synthetic" in error_line(err)
    assert not list(out.glob("cache/*/synthetic"))  # nothing was predicted
