"""Time for loading the official FCRN weights, step by step, as a table (best of ``--repeats``).

Writes random weights of the official names and shapes (254 MB of float32) to a temporary folder twice: as a
TensorFlow checkpoint and as the pickled Python-2 ``.npy``, both in the official layout (the test helpers'
writers). Then it times CRC-32C, checkpoint reading, the restricted unpickler, ``from_fcrn_official``,
depthzoo model files, and one FCRN forward pass.

Usage: python benchmarks/bench_official.py [--repeats 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "official"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from fcrn_fixtures import nested, random_official_tensors, write_npy_python2  # noqa: E402
from machine import best_of, machine_line  # noqa: E402
from tf_bundle_writer import write_tf_checkpoint  # noqa: E402

from depthzoo.formats.crc32c import crc32c  # noqa: E402
from depthzoo.formats.safe_pickle import load_npy  # noqa: E402
from depthzoo.formats.tf_checkpoint import TFCheckpoint  # noqa: E402
from depthzoo.weights.fcrn import (
    create_official_model,  # noqa: E402
    from_fcrn_official,  # noqa: E402
)
from depthzoo.weights.model_file import load_model, save_model  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tensors = random_official_tensors()
    megabytes = sum(t.nbytes for t in tensors.values()) / 1e6
    rows: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory() as folder:
        prefix = write_tf_checkpoint(Path(folder) / "NYU_FCRN.ckpt", tensors)
        npy = write_npy_python2(Path(folder) / "NYU_ResNet-UpProj.npy", nested(tensors))
        blob = np.concatenate([t.ravel() for t in tensors.values()]).view(np.uint8)
        seconds = best_of(args.repeats, lambda: crc32c(blob))
        rows.append(("CRC-32C of all weights, one buffer", seconds, f"{megabytes / seconds:,.0f} MB/s"))
        checkpoint = TFCheckpoint(prefix)
        seconds = best_of(args.repeats, lambda: TFCheckpoint(prefix).read(checkpoint.entries))
        rows.append(("TF checkpoint: read 394 tensors + checksums", seconds, f"{megabytes / seconds:,.0f} MB/s"))
        quick = TFCheckpoint(prefix, verify_checksums=False)
        seconds = best_of(args.repeats, lambda: quick.read(checkpoint.entries))
        rows.append(("TF checkpoint: read, no checksums", seconds, f"{megabytes / seconds:,.0f} MB/s"))
        seconds = best_of(args.repeats, lambda: load_npy(npy))
        rows.append((".npy: restricted unpickler", seconds, f"{megabytes / seconds:,.0f} MB/s"))
        seconds = best_of(args.repeats, lambda: np.load(npy, allow_pickle=True, encoding="latin1"))
        rows.append(
            (".npy: np.load(allow_pickle=True), unsafe, for reference", seconds, f"{megabytes / seconds:,.0f} MB/s")
        )
        seconds = best_of(args.repeats, create_official_model)
        rows.append(("build the untrained architecture", seconds, ""))
        seconds = best_of(args.repeats, lambda: from_fcrn_official(prefix))
        rows.append(("from_fcrn_official(TF checkpoint), end to end", seconds, ""))
        seconds = best_of(args.repeats, lambda: from_fcrn_official(npy))
        rows.append(("from_fcrn_official(.npy), end to end", seconds, ""))
        model = from_fcrn_official(prefix)
        target = Path(folder) / "fcrn_nyu.safetensors"
        seconds = best_of(args.repeats, lambda: save_model(model, target))
        rows.append(("save_model (.safetensors)", seconds, f"{target.stat().st_size / 1e6:,.0f} MB"))
        seconds = best_of(args.repeats, lambda: load_model(target))
        rows.append(("load_model (.safetensors)", seconds, ""))
        image = torch.rand(1, 3, 228, 304)
        with torch.inference_mode():
            model(image)
            seconds = best_of(args.repeats, lambda: model(image))
        rows.append(("forward, batch 1, 228x304 -> 128x160", seconds, f"{1 / seconds:.1f} img/s"))
    print(
        f"{machine_line()}; torch {torch.__version__}, {args.threads} threads; {megabytes:.0f} MB of weights, "
        f"best of {args.repeats}\n"
    )
    print("| step | seconds | rate |\n|---|---:|---:|")
    for name, seconds, rate in rows:
        print(f"| {name} | {seconds:.3f} | {rate} |")


if __name__ == "__main__":
    main()
