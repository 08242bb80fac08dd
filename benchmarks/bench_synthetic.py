"""Throughput of the synthetic dataset on one thread: rendering alone and rendering + writing the .mat file.

Prints images/s (from wall time and from process CPU time, which is steadier on a shared machine; best of
``--repeats`` runs) at 240x320 and 480x640, and the file size per image. ``--sheet PATH`` also saves a contact sheet
of RGB / depth / raw-depth triples (depth colour-coded 0-10 m, holes black) for a visual check.

    python benchmarks/bench_synthetic.py [--num 60] [--repeats 3] [--sheet /tmp/synthetic_sheet.png]
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy is imported

import argparse  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from depthzoo.synthetic import render_scene, write_synthetic_nyu  # noqa: E402


def _best_rate(run, num: int, repeats: int) -> tuple[float, float]:
    """Best images/s over ``repeats`` runs of ``run()`` (which handles ``num`` images), by wall and CPU time."""
    wall, cpu = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return num / min(wall), num / min(cpu)


def _depth_colours(depth: np.ndarray) -> np.ndarray:
    """Blue (near) to red (10 m) colour map, black where depth is 0."""
    x = np.clip(depth / 10.0, 0.0, 1.0)
    rgb = np.stack([x, 1.0 - 2.0 * np.abs(x - 0.5), 1.0 - x], axis=-1)
    return (rgb * 255 * (depth > 0)[..., None]).astype(np.uint8)


def save_contact_sheet(path: Path, seed: int, indices: range, height: int, width: int) -> None:
    from PIL import Image

    rows = []
    for i in indices:
        rgb, depth, raw = render_scene(seed, i, height, width)
        rows.append(np.concatenate([rgb, _depth_colours(depth), _depth_colours(raw)], axis=1))
    Image.fromarray(np.concatenate(rows, axis=0)).save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num", type=int, default=60, help="images per measurement at 240x320 (a quarter at 480x640)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sheet", type=Path, default=None, help="save a contact sheet PNG here")
    args = parser.parse_args()

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, "
          f"python {platform.python_version()}, numpy {np.__version__}; one thread")
    print("| size | render img/s (wall / cpu) | render + write img/s (wall / cpu) | file KB per image |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for height, width, num in ((240, 320, args.num), (480, 640, max(4, args.num // 4))):
            render_scene(0, 0, height, width)  # warm caches (ray grids)
            render_wall, render_cpu = _best_rate(
                lambda h=height, w=width, n=num: [render_scene(0, i, h, w) for i in range(n)], num, args.repeats
            )
            target = Path(folder) / f"bench_{height}x{width}.mat"
            write_wall, write_cpu = _best_rate(
                lambda t=target, h=height, w=width, n=num: write_synthetic_nyu(
                    t, num=n, height=h, width=w, overwrite=True
                ),
                num,
                args.repeats,
            )
            size_kb = target.stat().st_size / num / 1024
            print(f"| {height}x{width} | {render_wall:.1f} / {render_cpu:.1f} | {write_wall:.1f} / {write_cpu:.1f} "
                  f"| {size_kb:.0f} |")
    if args.sheet is not None:
        save_contact_sheet(args.sheet, seed=0, indices=range(8), height=240, width=320)
        print(f"contact sheet: {args.sheet}")


if __name__ == "__main__":
    main()
