"""Throughput of the dataset readers + transforms, per worker (in-process, one thread), as a table.

Writes small datasets in the real formats to a temporary folder:
- NYU labeled .mat at 480x640 with rendered synthetic rooms (realistic compressibility), stored with deflate
  (as MATLAB v7.3 saves) and uncompressed (after ``depthzoo.datasets.nyu.repack_mat``);
- NYU sync folders (JPEG + 16-bit PNG, 480x640) and KITTI raw + annotated PNGs (375x1242), via the test fakes.
Each case reads every sample in random order and reports the best of ``--repeats`` passes.

Usage: python benchmarks/bench_data.py [--num 64] [--repeats 3]
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "data"))

import cv2  # noqa: E402
import fakes  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from machine import best_of, machine_line  # noqa: E402

from depthzoo.datasets import nyu  # noqa: E402
from depthzoo.datasets.kitti import KITTIEigen  # noqa: E402
from depthzoo.datasets.nyu import NYUv2Mat, NYUv2Sync, repack_mat  # noqa: E402
from depthzoo.synthetic.rooms import render_scene  # noqa: E402
from depthzoo.transforms.pipelines import EvalTransform, TrainTransform  # noqa: E402


@contextlib.contextmanager
def _h5py_reads():
    """Read through h5py's own chunk path (zlib, HDF5 chunk cache) instead of depthzoo's libdeflate reader."""
    original = nyu.slab_reader
    nyu.slab_reader = lambda dataset: dataset.__getitem__
    try:
        yield
    finally:
        nyu.slab_reader = original


def _rendered_nyu(num: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    images, depths, raws = zip(*(render_scene(0, i, 480, 640) for i in range(num)))
    return np.stack(images), np.stack(depths), np.stack(raws)


def _throughput(dataset, repeats: int, fill: bool = False) -> float:
    """Best samples/s over ``repeats`` passes over the whole dataset in a random order.

    ``fill``: read everything once first (a sample cache then serves every pass: epochs 2 and later).
    """
    order = np.random.default_rng(0).permutation(len(dataset))
    for i in order if fill else order[:1]:  # open files (and fill a cache)
        dataset[int(i)]

    def one_pass() -> None:
        for i in order:
            dataset[int(i)]

    return len(dataset) / best_of(repeats, one_pass)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num", type=int, default=64,
                        help="images per dataset (default 64: a deflate .mat of ~150 MB, well over h5py's 32 MiB "
                             "chunk cache, so reads are cold as in a real epoch over 795 images)")
    parser.add_argument("--repeats", type=int, default=3, help="passes per case; the best is reported")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)

    nyu_train = TrainTransform((228, 304), resize=(240, 320))
    nyu_eval = EvalTransform(resize=(240, 320), crop=(228, 304))
    kitti_train = TrainTransform((352, 704), interpolation="linear")
    kitti_eval = EvalTransform(interpolation="linear")
    rows: list[tuple[str, str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print(f"rendering {args.num} synthetic 480x640 rooms ...", flush=True)
        images, depths, raws = _rendered_nyu(args.num)
        split = (list(range(1, args.num)), [args.num])
        deflated = fakes.write_nyu_mat(tmp / "nyu_deflate.mat", images, depths, raws, split, "gzip")
        for label, path in (("deflate", deflated), ("repack_mat", repack_mat(deflated, tmp / "nyu_plain.mat"))):
            size = os.path.getsize(path) / args.num / 1e6
            fmt = f".mat {label}, {size:.2f} MB/image"
            if label == "deflate":
                with _h5py_reads():
                    rows.append(
                        (
                            "NYU .mat read only, h5py (zlib)",
                            fmt,
                            _throughput(NYUv2Mat(path, "all", "rawDepths"), args.repeats),
                        )
                    )
            rows.append(("NYU .mat read only", fmt, _throughput(NYUv2Mat(path, "all", "rawDepths"), args.repeats)))
            # As NYUv2DataModule builds it: the deterministic 240x320 resize happens while reading.
            train = NYUv2Mat(path, "all", "rawDepths", nyu_train, resize=(240, 320))
            rows.append(("NYU .mat + train aug -> 228x304", fmt, _throughput(train, args.repeats)))
            if label == "deflate":
                cached = NYUv2Mat(path, "all", "rawDepths", nyu_train, resize=(240, 320), cache=True)
                rows.append(
                    ("NYU .mat + train aug, cached (epoch 2+)", fmt, _throughput(cached, args.repeats, fill=True))
                )
            rows.append(
                (
                    "NYU .mat + eval (228x304 in, 480x640 GT)",
                    fmt,
                    _throughput(NYUv2Mat(path, "all", "depths", nyu_eval), args.repeats),
                )
            )
        sync = fakes.write_nyu_sync(tmp / "sync", num_train=args.num, num_test=1, height=480, width=640)
        fmt = "JPEG + 16-bit PNG 480x640"
        rows.append(
            (
                "NYU sync + train aug -> 228x304",
                fmt,
                _throughput(NYUv2Sync(sync.root / "sync", "train", sync.train_list, nyu_train), args.repeats),
            )
        )
        frames = [("2011_09_26", 5 + i, True) for i in range(args.num)]
        kitti = fakes.write_kitti(tmp / "kitti", frames)
        fmt = "PNG + 16-bit PNG 375x1242"
        rows.append(
            (
                "KITTI + train aug -> 352x704",
                fmt,
                _throughput(
                    KITTIEigen(kitti.raw_root, kitti.gt_root, "train", kitti.list_file, kitti_train), args.repeats
                ),
            )
        )
        rows.append(
            (
                "KITTI + eval (KB crop 352x1216)",
                fmt,
                _throughput(
                    KITTIEigen(kitti.raw_root, kitti.gt_root, "test", kitti.list_file, kitti_eval), args.repeats
                ),
            )
        )

    print(f"\nMachine: {machine_line()}; one worker = in-process, torch and cv2 at 1 thread")
    print(f"{args.num} samples per case, random order, best of {args.repeats} passes\n")
    width = max(len(r[0]) for r in rows)
    fwidth = max(len(r[1]) for r in rows)
    print(f"| {'case':<{width}} | {'stored as':<{fwidth}} | samples/s | ms/sample |")
    print(f"|{'-' * (width + 2)}|{'-' * (fwidth + 2)}|----------:|----------:|")
    for case, fmt, rate in rows:
        print(f"| {case:<{width}} | {fmt:<{fwidth}} | {rate:9.1f} | {1000 / rate:9.2f} |")


if __name__ == "__main__":
    main()
