"""Time ``depthzoo benchmark``'s evaluation at NYU size: images/s, and the share spent outside the model.

NYU-size images (480x640 RGB-D in the NYU .mat layout, rendered synthetic rooms) go through the benchmark's own
steps: read the sample and resize the input (the DataLoader's part), predict (the model: the fast inference path),
resize the prediction to the ground truth and score it under the ``marigold`` protocol's NYU rule (alignment,
clipping, metrics). Two models: FCRN-ResNet-50 (fast_upproj, 228x304 in) and Depth Anything V2 Small (ViT-S/14 + DPT,
518x686 in), random weights (the timing does not depend on them). Models and images are interleaved, medians over
rounds are reported.

    python3 benchmarks/bench_benchmark.py [--images 6] [--rounds 2] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

import depthzoo
from depthzoo.cli.benchmark import _at_target, _Inputs
from depthzoo.datasets.nyu import NYUv2Mat
from depthzoo.metrics.protocols import get_protocol
from depthzoo.synthetic import write_synthetic_nyu

MODELS = {
    "FCRN-ResNet-50": (lambda: depthzoo.create_model("fcrn_resnet50", "fast_upproj", padding="tf"), (228, 304)),
    "DA-V2 Small": (lambda: depthzoo.create_model("vit_small_patch14_dinov2", "dpt", activation="relu"), (518, 686)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    folder = Path(tempfile.mkdtemp())
    path = write_synthetic_nyu(folder / "nyu_size.mat", num=args.images * 2, seed=0, height=480, width=640,
                               test_fraction=0.5)
    reader = NYUv2Mat(path, "test", "depths")
    protocol = get_protocol("marigold")
    models = {name: (build(), size) for name, (build, size) in MODELS.items()}
    kinds = {name: model.output_kind for name, (model, _) in models.items()}
    timings: dict[str, dict[str, list[float]]] = {name: {"load": [], "model": [], "score": []} for name in models}
    for _ in range(args.rounds):
        for position in range(len(reader)):
            for name, (model, size) in models.items():
                start = time.perf_counter()
                item = _Inputs(reader, size)[position]
                image = torch.from_numpy(item["input"]).float().div_(255.0)[None]
                loaded = time.perf_counter()
                with torch.inference_mode():
                    prediction = model.predict(image)[0, 0].float().numpy()
                predicted = time.perf_counter()
                at_target = _at_target(prediction, item["depth"].shape, False)
                protocol.score([at_target], [item["depth"]], "nyu", kinds[name], masks=[item["valid"]])
                done = time.perf_counter()
                timings[name]["load"].append(loaded - start)
                timings[name]["model"].append(predicted - loaded)
                timings[name]["score"].append(done - predicted)
    print(f"{len(reader)} NYU-size images x {args.rounds} rounds, {args.threads} threads, medians per image")
    print("| model | input | load + resize (ms) | model (ms) | resize + align + metrics (ms) | images/s serial | "
          "outside the model | images/s with a loader worker |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, parts in timings.items():
        load, model, score = (statistics.median(parts[k]) * 1000 for k in ("load", "model", "score"))
        total = load + model + score
        overlapped = max(model + score, load)  # a DataLoader worker reads the next image meanwhile
        size = "x".join(map(str, models[name][1]))
        print(f"| {name} | {size} | {load:.0f} | {model:.0f} | {score:.0f} | {1000 / total:.2f} | "
              f"{(load + score) / total:.0%} | {1000 / overlapped:.2f} (outside {score / overlapped:.0%}) |")


if __name__ == "__main__":
    main()
