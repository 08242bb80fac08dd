"""Score the fixed protocol test arrays with the authors' own evaluation code, once, and store the numbers.

The presets of ``depthzoo.metrics.protocols`` are tested against these numbers (``tests/metrics/test_protocols.py``).
This script imports the official code from local checkouts; nothing of it is copied into depthzoo:

    python3 benchmarks/protocol_reference.py --marigold PATH/Marigold --moge PATH/MoGe --utils3d PATH/utils3d \
        --zoedepth PATH/ZoeDepth [--out tests/helpers/data/protocol_reference.json]

Marigold (``script/depth/eval.py``) is a script: its per-image steps (valid mask of the dataset class, alignment,
clip to the range, clip to 1e-6, the ten metric functions, the mean over images) are called here in its order, each
through the official function. MoGe's ``compute_metrics`` and ZoeDepth's ``compute_metrics`` are called as they are.
Modules the scoring never uses (pandas for Marigold's tracker, matplotlib and requests for ZoeDepth's helpers) are
stubbed when they are not installed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.helpers.protocol_cases import CASES, Case, case_arrays  # noqa: E402

MARIGOLD_METRICS = {
    "abs_rel": "abs_relative_difference", "sq_rel": "squared_relative_difference", "rmse": "rmse_linear",
    "rmse_log": "rmse_log", "log10": "log10", "d1": "delta1_acc", "d2": "delta2_acc", "d3": "delta3_acc",
    "i_rmse": "i_rmse", "silog": "silog_rmse",
}
ZOE_METRICS = {"abs_rel": "abs_rel", "sq_rel": "sq_rel", "rmse": "rmse", "rmse_log": "rmse_log", "log10": "log_10",
               "silog": "silog", "d1": "a1", "d2": "a2", "d3": "a3"}


def stub(*names: str) -> None:
    """Empty modules for imports the scoring code never calls (after torch has looked for the real ones)."""
    import importlib.machinery

    import torchvision.ops  # noqa: F401  (torch's dynamo rules probe for these modules once, on import)

    for name in names:
        try:
            __import__(name)
        except ImportError:
            module = types.ModuleType(name)
            module.__path__ = []  # type: ignore[attr-defined]
            module.__spec__ = importlib.machinery.ModuleSpec(name, None)
            sys.modules[name] = module
    if isinstance(sys.modules.get("matplotlib"), types.ModuleType) and not hasattr(sys.modules["matplotlib"], "cm"):
        sys.modules["matplotlib.cm"] = sys.modules["matplotlib"].cm = types.ModuleType("matplotlib.cm")


def commit(path: Path) -> str:
    try:
        return subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# ------------------------------------------------------------------------------------------------ Marigold
def marigold_valid_masks(case: Case, arrays: dict) -> tuple[list[np.ndarray], float, float]:
    from src.dataset.base_depth_dataset import BaseDepthDataset
    from src.dataset.diode_dataset import DIODEDepthDataset  # noqa: F401  (its mask is the file's mask)
    from src.dataset.kitti_dataset import KITTIDepthDataset
    from src.dataset.nyu_dataset import NYUDepthDataset

    ranges = {"nyu": (1e-3, 10.0), "kitti": (1e-5, 80.0), "eth3d": (1e-5, torch.inf), "scannet": (1e-3, 10.0),
              "diode": (0.6, 350.0)}
    low, high = ranges[case.dataset]
    cls = {"nyu": NYUDepthDataset, "kitti": KITTIDepthDataset}.get(case.dataset, BaseDepthDataset)
    reader = cls.__new__(cls)  # the dataset's own mask method, without a dataset on disk
    reader.__dict__.update(min_depth=low, max_depth=high, eigen_valid_mask=True, valid_mask_crop="eigen")
    masks = []
    for target, mask in zip(arrays["target"], arrays["mask"]):
        if case.dataset == "diode":
            masks.append(mask)
        else:
            masks.append(reader._get_valid_mask(torch.from_numpy(target)[None]).squeeze().numpy())
    return masks, low, high


def marigold_scores(case: Case, arrays: dict) -> dict[str, dict[str, float]]:
    from src.util import metric
    from src.util.alignment import align_depth_least_square, depth2disparity, disparity2depth

    masks, low, high = marigold_valid_masks(case, arrays)
    max_res = 1024 if case.dataset == "eth3d" else None
    results = {}
    for kind, alignment in (("metric", None), ("relative_depth", "least_square"),
                            ("relative_disparity", "least_square_disparity")):
        values: dict[str, list[float]] = {k: [] for k in MARIGOLD_METRICS}
        source = arrays["disparity" if kind == "relative_disparity" else "depth"]
        for target, valid, pred in zip(arrays["target"], masks, source):
            pred = pred.copy()
            if alignment == "least_square":
                pred, _, _ = align_depth_least_square(target, pred, valid, True, max_res)
            elif alignment == "least_square_disparity":
                gt_disparity, gt_positive = depth2disparity(target, return_mask=True)
                fit_mask = valid & gt_positive & (pred > 0)
                disparity, _, _ = align_depth_least_square(gt_disparity, pred, fit_mask, True, max_res)
                pred = disparity2depth(np.clip(disparity, a_min=1e-3, a_max=None))
            pred = np.clip(np.clip(pred, a_min=low, a_max=high), a_min=1e-6, a_max=None)
            for name, function in MARIGOLD_METRICS.items():
                values[name].append(
                    getattr(metric, function)(torch.from_numpy(pred), torch.from_numpy(target),
                                              torch.from_numpy(valid)).item()
                )
        results[kind] = {name: float(np.mean(v)) for name, v in values.items()}
    return results


# ------------------------------------------------------------------------------------------------ MoGe
def moge_scores(case: Case, arrays: dict) -> dict[str, dict[str, float]]:
    from moge.test.metrics import compute_metrics

    collected: dict[str, list[dict]] = {}
    for target, depth, disparity in zip(arrays["target"], arrays["depth"], arrays["disparity"]):
        mask = target > 0
        far = np.nanquantile(np.where(mask, target, np.nan), 0.01) * 1000.0  # the evaluation loader's far cut
        mask &= target <= far
        gt = {"depth": torch.from_numpy(target), "depth_mask": torch.from_numpy(mask),
              "points": torch.zeros(*target.shape, 3), "is_metric": True, "has_sharp_boundary": False}
        runs = {
            "metric": ({"depth_metric": torch.from_numpy(depth)}, ("depth_metric", "depth_scale_invariant")),
            "relative_depth": ({"depth_affine_invariant": torch.from_numpy(depth)}, ("depth_affine_invariant",)),
            "relative_disparity": ({"disparity_affine_invariant": torch.from_numpy(disparity)},
                                   ("disparity_affine_invariant",)),
        }
        for kind, (pred, keys) in runs.items():
            metrics, _ = compute_metrics(pred, gt)
            row = {"abs_rel": metrics[keys[0]]["rel"], "d1": metrics[keys[0]]["delta1"]}
            if len(keys) > 1:
                row.update(aligned_abs_rel=metrics[keys[1]]["rel"], aligned_d1=metrics[keys[1]]["delta1"])
            collected.setdefault(kind, []).append(row)
    return {kind: {k: float(np.mean([r[k] for r in rows])) for k in rows[0]} for kind, rows in collected.items()}


# ------------------------------------------------------------------------------------------------ ZoeDepth
def zoedepth_scores(case: Case, arrays: dict) -> dict[str, dict[str, float]]:
    from zoedepth.utils.config import DATASETS_CONFIG
    from zoedepth.utils.misc import compute_metrics

    config = DATASETS_CONFIG[case.dataset]
    rows = []
    for target, depth in zip(arrays["target"], arrays["depth"]):
        row = compute_metrics(
            torch.from_numpy(target.copy())[None, None], torch.from_numpy(depth.copy())[None, None],
            garg_crop=config["garg_crop"], eigen_crop=config["eigen_crop"], dataset=config["dataset"],
            min_depth_eval=config["min_depth_eval"], max_depth_eval=config["max_depth_eval"],
        )
        rows.append({ours: float(row[theirs]) for ours, theirs in ZOE_METRICS.items()})
    return {"metric": {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name in ("marigold", "moge", "utils3d", "zoedepth"):
        parser.add_argument(f"--{name}", type=Path, required=True, help=f"a checkout of {name}'s repository")
    parser.add_argument("--out", type=Path, default=Path("tests/helpers/data/protocol_reference.json"))
    parser.add_argument("--commits", nargs="*", default=[], metavar="NAME=SHA",
                        help="the commits of checkouts without a .git folder (exported archives)")
    args = parser.parse_args()
    stub("pandas", "matplotlib", "requests")
    sys.path[:0] = [str(args.marigold), str(args.moge), str(args.utils3d), str(args.zoedepth)]
    scorers = {"marigold": marigold_scores, "moge": moge_scores, "zoedepth-metric": zoedepth_scores}
    stored = {
        "description": "Scores of the fixed arrays of tests/helpers/protocol_cases.py by the authors' evaluation "
        "code, written by benchmarks/protocol_reference.py",
        "sources": {name: commit(getattr(args, name)) for name in ("marigold", "moge", "utils3d", "zoedepth")}
        | dict(item.split("=", 1) for item in args.commits),
        "torch": torch.__version__, "numpy": np.__version__,
        "cases": {},
    }
    for case in CASES:
        stored["cases"][case.key] = scorers[case.protocol](case, case_arrays(case))
        print(case.key, json.dumps(stored["cases"][case.key]))
    args.out.write_text(json.dumps(stored, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
