"""``depthzoo benchmark``: score models on the zero-shot datasets under a published protocol, in one command.

For every model (any ``depthzoo.load`` source) and dataset it predicts each image once, caches the prediction
(``OUT/cache/<model>/``, keyed by the model's hash and the input size), scores the cached predictions with the
protocol (:mod:`depthzoo.metrics.protocols`) and writes ``benchmark.md`` (also printed), ``benchmark.csv`` and
``benchmark.png`` (the same images of each dataset, a column per model, one colour scale per image).

Everything that can be checked is checked before the first prediction: protocol and dataset names, that the
protocol defines every dataset, that every dataset is where it is said to be, the output folder, every model, its
cache, and that every model runs at every dataset's input size.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from depthzoo.cli.commands import CommandLineError, command
from depthzoo.registry import unknown_name_message
from depthzoo.utils.files import atomic_path, atomic_write

LIST = "list"
MARKER = ".depthzoo-benchmark"
DEFAULT_SYNTHETIC = Path("outputs/synthetic_nyu_4000_120x160.mat")  # the quickstart's rooms (its test split)
HIGHER_IS_BETTER = ("d1", "d2", "d3")


@dataclass(frozen=True)
class Reader:
    """A dataset ``depthzoo benchmark`` reads: how to open it from a path, its default input size, what it is."""

    open: Callable[[Path, int | None], Any]
    description: str
    input_size: tuple[int, int] | None = None  # None: the image's own size, rounded to a multiple of 32


def _limited(dataset: Any, limit: int | None) -> Any:
    from torch.utils.data import Subset

    return dataset if limit is None else Subset(dataset, range(min(limit, len(dataset))))


def _nyu(path: Path, limit: int | None) -> Any:
    # deferred: torch, the readers and the models load only when the command runs
    from depthzoo.datasets.nyu import NYU_MAT_NAME, NYUv2Mat, NYUv2Sync

    if path.suffix == ".mat" or (path / NYU_MAT_NAME).is_file():
        return _limited(NYUv2Mat(path, "test", "rawDepths"), limit)
    test = path / "official_splits" / "test"
    return _limited(NYUv2Sync(test if test.is_dir() else path, "test"), limit)


def _kitti(path: Path, limit: int | None) -> Any:
    # deferred: torch, the readers and the models load only when the command runs
    from depthzoo.datasets.kitti import KITTIEigen

    raw, _, gt = str(path).partition(":")
    if not gt:
        raise CommandLineError(f"kitti needs the raw data and the annotated depth folders: kitti=RAW:GT, got {path}")
    return _limited(KITTIEigen(raw, gt, "test"), limit)


def _synthetic(path: Path, limit: int | None) -> Any:
    # deferred: torch, the readers and the models load only when the command runs
    from depthzoo.datasets.nyu import NYUv2Mat

    if not path.exists() and path == DEFAULT_SYNTHETIC:
        # deferred: torch, the readers and the models load only when the command runs
        from depthzoo.synthetic import write_synthetic_nyu

        print(f"depthzoo benchmark: rendering the built-in synthetic rooms to {path} (once)", file=sys.stderr)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_synthetic_nyu(path, num=4000, seed=0, height=120, width=160)
    return _limited(NYUv2Mat(path, "test", "depths"), limit)


def _reader(module: str, name: str, **options: Any) -> Callable[[Path, int | None], Any]:
    def open_reader(path: Path, limit: int | None) -> Any:
        import importlib

        return getattr(importlib.import_module(module), name)(path, limit=limit, **options)

    return open_reader


READERS: dict[str, Reader] = {
    "synthetic": Reader(_synthetic, "the built-in synthetic rooms (the quickstart's 400 test rooms)", (64, 96)),
    "nyu": Reader(_nyu, "NYU Depth v2, 654 test images: the labeled .mat (raw depth) or the BTS sync folder"),
    "kitti": Reader(_kitti, "KITTI Eigen test, 652 images with ground truth, KB crop: kitti=RAW_ROOT:GT_ROOT"),
    "eth3d": Reader(_reader("depthzoo.datasets.eth3d", "ETH3DDepth"), "ETH3D high-res, 454 DSLR images",
                    (768, 1152)),
    "diode": Reader(_reader("depthzoo.datasets.diode", "DIODEDepth"), "DIODE val, 771 scans"),
    "diode_indoor": Reader(_reader("depthzoo.datasets.diode", "DIODEDepth", subset="indoors"), "DIODE val indoors"),
    "diode_outdoor": Reader(_reader("depthzoo.datasets.diode", "DIODEDepth", subset="outdoor"), "DIODE val outdoor"),
    "ibims": Reader(_reader("depthzoo.datasets.ibims", "IBims1"), "iBims-1, 100 images with annotated edges"),
    "sintel": Reader(_reader("depthzoo.datasets.sintel", "SintelDepth"), "MPI Sintel depth, final pass"),
    "scannet": Reader(_reader("depthzoo.datasets.scannet", "ScanNetDepth"), "ScanNet, Marigold's 800 frames"),
}


def benchmark_parser() -> argparse.ArgumentParser:
    """The options of ``depthzoo benchmark``."""
    parser = argparse.ArgumentParser(
        prog="depthzoo benchmark",
        description="Score models on the standard zero-shot datasets under a published protocol: a Markdown table "
        "(stdout and OUT/benchmark.md), OUT/benchmark.csv and OUT/benchmark.png. Predictions are cached per model "
        "and image in OUT/cache, so another protocol or an added model re-scores without re-running inference.",
    )
    parser.add_argument("--models", help="comma-separated depthzoo.load sources: names, files, checkpoints, folders, "
                        "Hub ids")
    parser.add_argument("--datasets", nargs="?", const=LIST,
                        help="NAME=PATH,... (no value or 'list': the readers); default: the built-in synthetic rooms")
    parser.add_argument("--protocol", nargs="?", const=LIST,
                        help="a preset (no value or 'list': the presets); default 'synthetic' on the rooms")
    parser.add_argument("--out", type=Path, default=Path("outputs/benchmark"), help="output folder (%(default)s)")
    parser.add_argument("--limit", type=int, help="score only the first N images of each dataset")
    parser.add_argument("--input-size", help="H,W every image is resized to for the model (default: per dataset)")
    parser.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto",
                        help="inference precision (default auto: the fast path, bf16 where the CPU has it)")
    parser.add_argument("--workers", type=int, default=1, help="DataLoader workers reading ahead (default 1)")
    parser.add_argument("--images", type=int, default=2, help="images per dataset in benchmark.png (default 2)")
    parser.add_argument("--overwrite", action="store_true", help="use an existing folder that is not a benchmark's, "
                        "or discard a cache written by another version of a model")
    return parser


@command(
    "benchmark",
    "benchmark --models A,B [--datasets nyu=PATH,...] [--protocol NAME] [--out DIR] [--limit N]",
    "score models on the zero-shot datasets under a published protocol: table, CSV and picture",
    order=6,
)
def benchmark_command(argv: list[str]) -> int:
    """``depthzoo benchmark``; returns the exit status."""
    parser = benchmark_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    # deferred: torch, the readers and the models load only when the command runs
    from depthzoo.metrics.protocols import get_protocol, list_protocols

    if args.protocol == LIST:
        for name, description in list_protocols().items():
            datasets = ", ".join(get_protocol(name).datasets)
            print(f"{name:16s} {description}\n{'':16s} datasets: {datasets}")
        return 0
    if args.datasets == LIST:
        for name, reader in READERS.items():
            print(f"{name:14s} {reader.description}")
        return 0
    plan = make_plan(args)
    results, pictures = {}, {}
    for model_number, source in enumerate(plan.models, start=1):
        model, key = plan.loaded[source]
        for dataset in plan.datasets:
            label = f"[{model_number}/{len(plan.models)}] {source} on {dataset}"
            predictions = predict(plan, model, key, source, dataset, label)
            results[(source, dataset)] = score(plan, model, dataset, predictions)
            pictures[(source, dataset)] = predictions
    write_outputs(plan, results, pictures)
    return 0


@dataclass
class Plan:
    """Everything settled before the first prediction."""

    args: argparse.Namespace
    protocol: Any
    models: list[str]
    datasets: dict[str, Any]  # name -> reader
    input_sizes: dict[str, tuple[int, int]]
    loaded: dict[str, tuple[Any, str]]  # source -> (model, cache key)
    out: Path


def _parse_size(text: str) -> tuple[int, int]:
    try:
        height, width = (int(v) for v in text.replace("x", ",").split(","))
    except ValueError:
        raise CommandLineError(f"--input-size takes H,W in pixels, e.g. 480,640; got {text!r}") from None
    if height < 1 or width < 1:
        raise CommandLineError(f"--input-size must be positive, got {text!r}")
    return height, width


def _dataset_paths(text: str | None) -> dict[str, Path]:
    if text is None:
        return {"synthetic": DEFAULT_SYNTHETIC}
    paths = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, path = item.partition("=")
        if name not in READERS:

            raise CommandLineError(unknown_name_message("dataset", name, READERS) + " ('--datasets' lists them)")
        if not sep or not path:
            raise CommandLineError(f"--datasets needs NAME=PATH, got {item!r}",
                                   fix=f"e.g. --datasets {name}=data/{name}")
        if name in paths:
            raise CommandLineError(f"--datasets names {name!r} twice")
        paths[name] = Path(path).expanduser()
    if not paths:
        raise CommandLineError("--datasets names no dataset", fix="e.g. --datasets nyu=data/nyu,ibims=data/ibims")
    return paths


def check_out(out: Path, overwrite: bool) -> None:
    """An existing folder is used only if it is a benchmark's own (resumed) or with ``--overwrite``."""
    if out.exists() and not out.is_dir():
        raise CommandLineError(f"--out {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists() and not overwrite:
        raise CommandLineError(
            f"the output folder {out} exists and holds files of something other than a benchmark",
            fix="choose another --out, or pass --overwrite to write into it",
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).touch()


def model_key(model: Any) -> str:
    """A hash of the model: its architecture and every tensor's bytes (a retrained or changed model differs)."""
    import torch

    digest = hashlib.sha256(json.dumps(model.config, sort_keys=True, default=str).encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def cache_folder(out: Path, source: str) -> Path:
    """``OUT/cache/<source as a folder name>``."""
    return out / "cache" / re.sub(r"[^A-Za-z0-9._-]+", "_", source).strip("_")


def check_cache(out: Path, source: str, key: str, overwrite: bool) -> None:
    """Refuse a model's cache written by another version of it (another hash), unless ``--overwrite`` discards it."""
    import shutil

    folder = cache_folder(out, source)
    stamp = folder / "model.json"
    if stamp.is_file():
        written = json.loads(stamp.read_text()).get("hash")
        if written != key:
            if not overwrite:
                raise CommandLineError(
                    f"the cached predictions of {source} in {folder} were made by another version of the model "
                    f"(hash {written}, now {key}); they are not mixed in",
                    fix="pass --overwrite to discard them, or use another --out",
                )
            shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps({"source": source, "hash": key}) + "\n")


def make_plan(args: argparse.Namespace) -> Plan:
    """Check every name, path, model and size, and load the models."""
    # deferred: torch, the readers and the models load only when the command runs
    import depthzoo
    from depthzoo.metrics.protocols import get_protocol

    if not args.models:
        raise CommandLineError("--models names no model", fix="e.g. --models fcrn_nyu,runs/best.ckpt")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if len(set(models)) != len(models):
        raise CommandLineError("--models names a model twice")
    if args.limit is not None and args.limit < 1:
        raise CommandLineError(f"--limit must be at least 1, got {args.limit}")
    if args.workers < 0 or args.images < 0:
        raise CommandLineError("--workers and --images must be 0 or more")
    paths = _dataset_paths(args.datasets)
    if args.protocol is None and set(paths) != {"synthetic"}:
        raise CommandLineError("--protocol names no protocol", fix="pass one, e.g. --protocol marigold ('--protocol' "
                               "lists them)")
    protocol = get_protocol(args.protocol or "synthetic")
    for name in paths:
        protocol.rule(name)  # a dataset the protocol does not define: an error naming those it does
    datasets = {name: READERS[name].open(path, args.limit) for name, path in paths.items()}
    check_out(args.out, args.overwrite)
    input_sizes = {}
    for name, dataset in datasets.items():
        sample = dataset[0]
        default = READERS[name].input_size or tuple(max(32, round(s / 32) * 32) for s in sample["image"].shape[:2])
        input_sizes[name] = _parse_size(args.input_size) if args.input_size else default
    loaded = {}
    for source in models:
        model = depthzoo.load(source)
        # deferred: torch, the readers and the models load only when the command runs
        from depthzoo.metrics.protocols import output_kind

        output_kind(model.output_kind)
        key = model_key(model)
        check_cache(args.out, source, key, args.overwrite)
        for name, size in input_sizes.items():
            check_runs(model, source, name, size, args.precision)
        loaded[source] = (model, key)
    return Plan(args, protocol, models, datasets, input_sizes, loaded, args.out)


def check_runs(model: Any, source: str, dataset: str, size: tuple[int, int], precision: str) -> None:
    """One forward pass at the dataset's input size; a failure names the model, the size and the fix."""
    import torch

    try:
        with torch.inference_mode():
            out = model.predict(torch.full((1, 3, *size), 0.5), precision=precision)
    except (RuntimeError, ValueError, IndexError) as exc:
        raise CommandLineError(
            f"model {source} cannot run at {size[0]}x{size[1]}, the input size of {dataset} "
            f"({type(exc).__name__}: {str(exc).splitlines()[0][:200]})",
            fix="pass --input-size H,W with a size the model takes (e.g. a multiple of its stride)",
        ) from None
    if not bool(torch.isfinite(out).all()):
        raise CommandLineError(f"model {source} gives non-finite output at {size[0]}x{size[1]} ({dataset})")


class _Inputs:
    """Samples as the model wants them, prepared in DataLoader workers: resized image, and the ground truth."""

    def __init__(self, dataset: Any, size: tuple[int, int]) -> None:
        self.dataset, self.size = dataset, size

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, position: int) -> dict[str, Any]:
        import cv2
        import numpy as np

        sample = self.dataset[position]
        height, width = self.size
        image = sample["image"]
        small = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if height < image.shape[0]
                           else cv2.INTER_LINEAR)
        return {
            "position": position, "input": np.ascontiguousarray(small.transpose(2, 0, 1)),
            "image": image, "depth": sample["depth"], "valid": sample["valid"], "edges": sample.get("edges"),
        }


def predict(plan: Plan, model: Any, key: str, source: str, dataset: str, label: str) -> list[dict[str, Any]]:
    """Every image's prediction at the input size, from the cache or the model (then cached), with its ground truth."""
    import numpy as np
    import torch
    from torch.utils.data import DataLoader
    from tqdm import tqdm


    size = plan.input_sizes[dataset]
    # Keyed by the input size and the precision too: fp32 and bf16 predictions are never mixed.
    folder = cache_folder(plan.out, source) / dataset / f"{size[0]}x{size[1]}-{plan.args.precision}"
    folder.mkdir(parents=True, exist_ok=True)
    loader = DataLoader(_Inputs(plan.datasets[dataset], size), batch_size=None, num_workers=plan.args.workers)
    items, cached, started = [], 0, time.perf_counter()
    for item in tqdm(loader, desc=label, unit="img", file=sys.stderr, dynamic_ncols=True):
        path = folder / f"{int(item['position']):06d}.npy"
        if path.is_file():
            prediction = np.load(path, allow_pickle=False)
            cached += 1
        else:
            image = torch.from_numpy(np.asarray(item["input"])).float().div_(255.0)[None]
            with torch.inference_mode():
                prediction = model.predict(image, precision=plan.args.precision)[0, 0].float().numpy()
            with atomic_path(path, overwrite=True, keep_suffix=True) as temporary:
                np.save(temporary, prediction)
        items.append({**item, "prediction": prediction})
    seconds = time.perf_counter() - started
    print(f"{label}: {len(items)} images ({cached} from the cache) in {seconds:.1f} s", file=sys.stderr)
    return items


def _at_target(prediction: Any, target_size: tuple[int, int], align_corners: bool) -> Any:
    import torch
    import torch.nn.functional as F

    tensor = torch.from_numpy(prediction)[None, None].to(torch.float64)
    return F.interpolate(tensor, size=target_size, mode="bilinear", align_corners=align_corners)[0, 0].numpy()


def _scoring_arrays(plan: Plan, dataset: str, item: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    """(prediction, ground truth, mask, edges) at the size the protocol scores the dataset at."""
    import cv2
    import numpy as np

    rule = plan.protocol.rule(dataset)
    target, valid, edges = np.asarray(item["depth"]), np.asarray(item["valid"]), item.get("edges")
    if rule.eval_size is not None and tuple(target.shape) != rule.eval_size:
        height, width = rule.eval_size
        target = cv2.resize(target, (width, height), interpolation=cv2.INTER_NEAREST)
        valid = cv2.resize(valid.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST) > 0
        if edges is not None:
            edges = cv2.resize(np.asarray(edges, np.uint8), (width, height), interpolation=cv2.INTER_NEAREST) > 0
    prediction = _at_target(np.asarray(item["prediction"]), target.shape, rule.align_corners)
    return prediction, target, valid, None if edges is None else np.asarray(edges)


def score(plan: Plan, model: Any, dataset: str, items: list[dict[str, Any]]) -> dict[str, float]:
    """The protocol's scores of one model on one dataset."""
    arrays = [_scoring_arrays(plan, dataset, item) for item in items]
    edges = [a[3] for a in arrays]
    return plan.protocol.score(
        [a[0] for a in arrays], [a[1] for a in arrays], dataset, model.output_kind,
        masks=[a[2] for a in arrays], edges=edges if any(e is not None for e in edges) else None,
    )


def table_rows(plan: Plan, results: dict) -> list[tuple[str, dict[str, dict[str, float]]]]:
    """(row name, dataset -> scores) per row: a model, and for a metric model also its aligned scores."""
    rows = []
    for source in plan.models:
        model = plan.loaded[source][0]
        rows.append((source, {d: results[(source, d)] for d in plan.datasets}))
        if model.output_kind == "metric":
            aligned = {d: {k[len("aligned_"):]: v for k, v in results[(source, d)].items() if k.startswith("aligned_")}
                       for d in plan.datasets}
            rows.append((f"{source} (aligned)", aligned))
    return rows


def mean_ranks(rows: list[tuple[str, dict]], datasets: list[str]) -> list[float]:
    """Each row's rank per column (AbsRel ascending, delta1 descending; ties share the best rank), averaged."""
    ranks = [[] for _ in rows]
    for dataset in datasets:
        for metric in ("abs_rel", "d1"):
            values = [scores[dataset][metric] for _, scores in rows]
            for index, value in enumerate(values):
                better = sum((v > value) if metric in HIGHER_IS_BETTER else (v < value) for v in values)
                ranks[index].append(1 + better)
    return [sum(r) / len(r) for r in ranks]


def markdown_table(plan: Plan, results: dict) -> str:
    """Rows are models; AbsRel and delta1 per dataset; the mean rank."""
    rows = table_rows(plan, results)
    datasets = list(plan.datasets)
    ranks = mean_ranks(rows, datasets)
    header = ["model", *(f"{d} {m}" for d in datasets for m in ("AbsRel", "δ1")), "mean rank"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    for (name, scores), rank in zip(rows, ranks):
        cells = [f"`{name}`", *(f"{scores[d][m]:.4f}" for d in datasets for m in ("abs_rel", "d1")), f"{rank:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    images = ", ".join(f"{d}: {int(results[(plan.models[0], d)]['images'])} images at input "
                       f"{plan.input_sizes[d][0]}x{plan.input_sizes[d][1]}" for d in datasets)
    caption = (
        f"Protocol `{plan.protocol.name}`: {plan.protocol.description}. {images}; precision {plan.args.precision}. "
        "Relative models are aligned by their output kind; a metric model's row is as predicted, its '(aligned)' row "
        "after the protocol's alignment. AbsRel lower is better, δ1 higher."
    )
    return caption + "\n\n" + "\n".join(lines) + "\n"


def write_outputs(plan: Plan, results: dict, pictures: dict) -> None:
    """Print the table; write benchmark.md, benchmark.csv and benchmark.png atomically into the output folder."""
    table = markdown_table(plan, results)
    print("\n" + table, flush=True)
    with atomic_write(plan.out / "benchmark.md", "w", overwrite=True) as handle:
        handle.write(table)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["model", "output_kind", "protocol", "dataset", "metric", "value"])
    for (source, dataset), scores in results.items():
        for metric, value in scores.items():
            writer.writerow([source, plan.loaded[source][0].output_kind, plan.protocol.name, dataset, metric,
                             repr(float(value))])
    with atomic_write(plan.out / "benchmark.csv", "w", overwrite=True) as handle:
        handle.write(buffer.getvalue())
    if plan.args.images:
        # deferred: torch, the readers and the models load only when the command runs
        from depthzoo.visualize import save_png

        save_png(benchmark_picture(plan, pictures), plan.out / "benchmark.png", overwrite=True)
    print(f"written: {plan.out / 'benchmark.md'}, benchmark.csv" + (", benchmark.png" if plan.args.images else ""),
          file=sys.stderr)


def benchmark_picture(plan: Plan, pictures: dict) -> Any:
    """Per dataset, the same images spread over it: input | ground truth | one column per model (aligned depth)."""
    import numpy as np
    import torch

    # deferred: torch, the readers and the models load only when the command runs
    from depthzoo.metrics.protocols import output_kind
    from depthzoo.visualize import comparison_grid, stack_pictures

    grids = []
    for dataset in plan.datasets:
        items = pictures[(plan.models[0], dataset)]
        positions = np.unique(np.linspace(0, len(items) - 1, min(plan.args.images, len(items))).round().astype(int))
        images, targets, preds = [], [], {}
        rule = plan.protocol.rule(dataset)
        for position in positions.tolist():
            _, target, valid, _ = _scoring_arrays(plan, dataset, items[position])
            images.append(np.asarray(items[position]["image"]).astype(np.float32) / 255.0)
            targets.append(np.where(valid, target, 0.0))
            for source in plan.models:
                model = plan.loaded[source][0]
                prediction, target, valid, _ = _scoring_arrays(plan, dataset, pictures[(source, dataset)][position])
                kind = output_kind(model.output_kind)
                shown = prediction
                if kind.invariance != "none":  # relative: shown as the protocol aligns it, in metres
                    mask = torch.from_numpy(rule.valid_mask(target, valid))
                    shown = plan.protocol.aligner(kind)(
                        torch.from_numpy(prediction), torch.from_numpy(np.where(mask.numpy(), target, 1.0)), mask,
                        rule,
                    ).numpy()
                preds.setdefault(source, []).append(shown)
        grids.append(comparison_grid(images, targets, preds))
    return stack_pictures(grids)


__all__ = ["READERS", "benchmark_command", "benchmark_parser", "markdown_table", "mean_ranks", "model_key"]
