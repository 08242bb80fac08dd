"""``depthzoo compare``: train several decoders on the same data, encoder, budget and seed; tabulate and picture them.

The FCRN paper's Table 1 asked which decoder is best. ``depthzoo compare`` answers it for any config: every decoder
is trained from the same initial encoder weights, on the same batches in the same order, for the same number of
steps, then evaluated on the test split (with iBims-1's depth-boundary errors where the ground truth is dense). It
writes a Markdown table (parameters, training time, test metrics) to stdout and to a file, and a picture of the same
test images with one column per decoder next to the input and the ground truth.

Everything that can be checked is checked before the first step: decoder names, whether each decoder fits the
encoder, whether the budget covers an epoch, dense ground truth for the boundary errors, and the output files.
"""

from __future__ import annotations

import argparse
import gc
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from depthzoo.cli.commands import CommandLineError, command
from depthzoo.cli.lightning import lightning_main, make_cli_class
from depthzoo.errors import listing
from depthzoo.models.decoders import DECODERS, build_decoder
from depthzoo.registry import unknown_name_message
from depthzoo.utils.files import atomic_path, atomic_write, check_output_path

DEFAULT_CONFIG = "compare_synthetic"
PAPER_DECODERS = ("upconv", "upproj", "fast_upconv", "fast_upproj", "deconv", "fcrn_skip", "unet")
"""The default comparison: the FCRN paper's four up-sampling decoders (Table 1; each fast form computes the same
function as its plain form, faster), its DeConv baseline, and the two skip-connection decoders; ``dpt`` joins when
it is registered."""
METRIC_COLUMNS = ("abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "silog", "d1", "d2", "d3")
BOUNDARY_COLUMNS = ("dbe_acc", "dbe_comp")
HIGHER_IS_BETTER = ("d1", "d2", "d3")
# Trainer options taken from the config; compare sets the budget, logging, validation and checkpointing itself.
PASSED_TRAINER_OPTIONS = (
    "accelerator",
    "devices",
    "strategy",
    "num_nodes",
    "precision",
    "accumulate_grad_batches",
    "gradient_clip_val",
    "gradient_clip_algorithm",
    "deterministic",
    "benchmark",
    "log_every_n_steps",
    "enable_progress_bar",
    "detect_anomaly",
    "limit_val_batches",  # validation runs as the config says (plateau schedulers need it); compare tests the end
    "check_val_every_n_epoch",
    "val_check_interval",
)


def default_decoders() -> list[str]:
    """The default comparison: :data:`PAPER_DECODERS`, and ``dpt`` once registered."""
    return [*PAPER_DECODERS, *(["dpt"] if "dpt" in DECODERS else [])]


def compare_parser() -> argparse.ArgumentParser:
    """The options of ``depthzoo compare`` (anything else is a LightningCLI option for the config)."""
    parser = argparse.ArgumentParser(
        prog="depthzoo compare",
        allow_abbrev=False,  # everything compare does not know goes to the config: no guessing at prefixes
        description="Train several decoders with the same encoder, data, budget and seed, test each, and write a "
        "Markdown table (to stdout and a file) and a picture grid. Options not listed here (e.g. --model.encoder "
        "convnext_tiny, --data.init_args.root PATH, --trainer.precision 32) go to the config, as for 'depthzoo fit'.",
    )
    parser.add_argument(
        "--config",
        default=DEFAULT_CONFIG,
        help=f"a shipped config name or a YAML path giving data, encoder, optimiser and budget (default: "
        f"{DEFAULT_CONFIG}, the built-in synthetic rooms, about 30 minutes on 2 CPU cores)",
    )
    parser.add_argument(
        "--decoders",
        help=f"comma-separated decoder names (default: {','.join(PAPER_DECODERS)}, and dpt when registered)",
    )
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--epochs", type=int, help="training epochs per decoder (default: the config's max_epochs)")
    budget.add_argument("--steps", type=int, help="training steps per decoder, at least one epoch's worth")
    parser.add_argument("--seed", type=int, help="seed of weights, batches and augmentation (default: the config's)")
    parser.add_argument("--out", type=Path, default=Path("outputs/compare"), help="runs' folder (default: %(default)s)")
    parser.add_argument("--table", type=Path, help="the Markdown table (default: OUT/compare.md)")
    parser.add_argument("--picture", type=Path, help="the picture grid (default: OUT/compare.png)")
    parser.add_argument("--images", type=int, default=4, help="test images in the picture (default: %(default)s)")
    boundary = parser.add_mutually_exclusive_group()
    boundary.add_argument(
        "--boundary", dest="boundary", action="store_true", default=None,
        help="report the depth-boundary errors (default: when the data module has dense ground truth)",
    )
    boundary.add_argument("--no-boundary", dest="boundary", action="store_false", help="leave them out")
    parser.add_argument("--overwrite", action="store_true", help="replace the table and picture if they exist")
    return parser


@dataclass
class Plan:
    """What every run shares, settled before the first one starts."""

    decoders: list[str]
    lightning_args: list[str]
    seed: int
    max_epochs: int
    max_steps: int
    steps_per_epoch: int
    boundary: bool
    scheduler_epochs: int | None
    description: str
    parameters: dict[str, tuple[int, int]] = field(default_factory=dict)  # decoder -> (total, decoder only)


@dataclass
class Result:
    """One decoder's run: its test metrics, training time and picture predictions."""

    decoder: str
    metrics: dict[str, float]
    train_seconds: float
    pictures: list[Any]


@command(
    "compare",
    "compare [--config NAME] [--decoders a,b,c] [--epochs N | --steps N] [--out DIR] [--overwrite]",
    "train several decoders alike and tabulate their test metrics, with a picture",
    order=5,
)
def compare_command(argv: list[str]) -> int:
    """``depthzoo compare``: the whole comparison; returns the exit status."""
    parser = compare_parser()
    try:
        options, lightning_args = parser.parse_known_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    table_path, picture_path = check_outputs(options)
    decoders = resolve_decoders(options.decoders)
    optional = tuple(d for d in decoders if d not in PAPER_DECODERS) if options.decoders is None else ()
    if options.images < 0:
        raise CommandLineError(f"--images must be 0 or more, got {options.images}")
    plan = make_plan(options, decoders, lightning_args, optional)
    print(f"depthzoo compare: {plan.description}", flush=True)
    results = []
    for number, decoder in enumerate(plan.decoders, start=1):
        print(f"\n[{number}/{len(plan.decoders)}] {decoder}", flush=True)
        results.append(run_decoder(plan, decoder, options, first=number == 1))
    write_outputs(plan, results, table_path, picture_path, options.overwrite)
    return 0


def check_outputs(options: argparse.Namespace) -> tuple[Path, Path | None]:
    """The table and picture paths, refused now if they exist (without ``--overwrite``) or are folders."""
    table = check_output_path(options.table or options.out / "compare.md", options.overwrite)
    picture = None
    if options.images:
        picture = check_output_path(options.picture or options.out / "compare.png", options.overwrite)
    return table, picture


def resolve_decoders(text: str | None) -> list[str]:
    """The decoder list: names checked against the registry (with suggestions), no duplicates."""
    names = default_decoders() if text is None else [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise CommandLineError("--decoders names no decoder", fix=f"e.g. --decoders {','.join(PAPER_DECODERS)}")
    for name in names:
        if name not in DECODERS:
            raise CommandLineError(unknown_name_message("decoder", name, DECODERS.names()))
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise CommandLineError(f"--decoders names {listing(repeated)} more than once")
    return names


def _cli_class(plan: Plan | None, decoder: str, baseline: bool, trainer_overrides: dict[str, Any]) -> type:
    """The LightningCLI of ``depthzoo fit`` set up for one run: the decoder swapped in, compare's own Trainer."""
    from lightning.pytorch import Trainer  # deferred: lightning takes seconds to import

    class CompareCLI(make_cli_class()):  # type: ignore[misc]
        def before_instantiate_classes(self) -> None:
            model = self.config.model
            model.decoder = decoder
            model.decoder_kwargs = None  # the config's options are for its own decoder
            model.num_val_images = 0
            if plan is not None:
                model.eval_boundary = plan.boundary
                if not baseline:
                    model.baseline_depth = None
                scheduler = model.get("lr_scheduler")
                if plan.scheduler_epochs is not None and scheduler is not None:
                    scheduler.init_args.T_max = plan.scheduler_epochs

        def instantiate_trainer(self, **kwargs: Any) -> Trainer:
            config = self._get(self.config_init, "trainer", default={})
            passed = {k: config[k] for k in PASSED_TRAINER_OPTIONS if k in config and config[k] is not None}
            return Trainer(**passed, **trainer_overrides)

    return CompareCLI


def _instantiate(plan: Plan | None, args: list[str], decoder: str, baseline: bool, trainer_overrides: dict) -> Any:
    """Parse ``args`` with the config and instantiate model, data and Trainer for one decoder."""
    argv = sys.argv
    sys.argv = argv[:1]  # LightningCLI warns when it sees both `args` and a command line (compare's own)
    try:
        return lightning_main(args, cli_class=_cli_class(plan, decoder, baseline, trainer_overrides), run=False)
    finally:
        sys.argv = argv


def make_plan(
    options: argparse.Namespace, decoders: list[str], lightning_args: list[str], optional: tuple[str, ...] = ()
) -> Plan:
    """Read the config, build its encoder and data once, and check everything a run could fail on later.

    Args:
        options: compare's own options.
        decoders: the decoders to compare (a decoder of ``optional`` that cannot pair with the encoder is left out
            with a note; any other is an error).
        lightning_args: everything else, for the config.
        optional: decoders that join the default list only where they fit (``dpt``).
    """
    args = ["--config", options.config, *lightning_args]
    if options.seed is not None:
        args += ["--seed_everything", str(options.seed)]
    # fast_upproj pairs with every encoder; each decoder of the list is checked against the encoder below.
    probe = _instantiate(None, args, "fast_upproj", False, {"logger": False, "enable_checkpointing": False})
    if probe.trainer.world_size > 1:
        raise CommandLineError(
            f"depthzoo compare runs in one process, but the config asks for {probe.trainer.world_size}",
            fix="pass --trainer.devices 1 (the comparison needs no more: every decoder sees the same data)",
        )
    encoder = probe.model.model.encoder
    parameters = {}
    for decoder in list(decoders):
        try:
            built = build_decoder(decoder, encoder.channels, encoder.reductions)
        except (ValueError, TypeError, KeyError) as exc:
            message = f"decoder {decoder!r} cannot pair with encoder {encoder.name!r}: {exc}"
            if decoder not in optional:
                raise CommandLineError(message) from None
            print(f"depthzoo compare: left out of the default list: {message}", flush=True)
            decoders.remove(decoder)
            continue
        decoder_parameters = sum(p.numel() for p in built.parameters())
        total = sum(p.numel() for p in encoder.parameters()) + decoder_parameters
        parameters[decoder] = (total, decoder_parameters)
        del built

    datamodule = probe.datamodule
    datamodule.prepare_data()
    datamodule.setup("fit")
    train_size = len(datamodule.train_dataset)
    steps_per_epoch = train_size // datamodule.batch_size
    config_trainer = probe.config.trainer
    max_epochs, max_steps = _budget(options, config_trainer, steps_per_epoch, train_size, datamodule.batch_size)

    dense = getattr(datamodule, "dense_ground_truth", True)
    boundary = dense if options.boundary is None else options.boundary
    if boundary and not dense:
        raise CommandLineError(
            f"{type(datamodule).__name__} has sparse ground truth, which has no depth edges to evaluate",
            fix="pass --no-boundary",
        )
    scheduler_epochs = None
    scheduler = probe.config.model.get("lr_scheduler")
    if (options.epochs or options.steps) and scheduler is not None and "CosineAnnealingLR" in str(scheduler.class_path):
        scheduler_epochs = max_epochs if max_epochs > 0 else math.ceil(max_steps / steps_per_epoch)
        print(f"depthzoo compare: the cosine schedule's T_max follows the budget: {scheduler_epochs} epochs")
    seed = int(probe.config.seed_everything)
    model = probe.config.model
    depth = f", encoder_depth {model.encoder_depth}" if model.encoder_depth else ""
    pretrained = ", ImageNet weights" if model.pretrained or model.encoder_weights else ", from scratch"
    budget = f"{max_steps} steps" if max_steps > 0 else f"{max_epochs} epochs"
    data_name = type(datamodule).__name__
    description = (
        f"encoder {model.encoder}{depth}{pretrained}; {data_name} ({train_size} training samples, batch "
        f"{datamodule.batch_size}, {steps_per_epoch} steps per epoch); {budget} per decoder; seed {seed}; "
        f"loss {model.loss}; precision {config_trainer.precision}"
    )
    plan = Plan(
        decoders=decoders,
        lightning_args=args,
        seed=seed,
        max_epochs=max_epochs,
        max_steps=max_steps,
        steps_per_epoch=steps_per_epoch,
        boundary=boundary,
        scheduler_epochs=scheduler_epochs,
        description=description,
        parameters=parameters,
    )
    del probe, datamodule, encoder
    gc.collect()
    return plan


def _budget(
    options: argparse.Namespace, config_trainer: Any, steps_per_epoch: int, train_size: int, batch_size: int
) -> tuple[int, int]:
    """(max_epochs, max_steps) for the Trainer: ``--epochs``, ``--steps`` or the config's; at least one epoch."""
    if steps_per_epoch == 0:
        raise CommandLineError(
            f"the training split has {train_size} samples, fewer than one batch of {batch_size}",
            fix="lower --data.init_args.batch_size or use more data",
        )
    if options.steps is not None:
        if options.steps < steps_per_epoch:
            raise CommandLineError(
                f"--steps {options.steps} does not finish an epoch ({steps_per_epoch} steps of {batch_size} from "
                f"{train_size} training samples)",
                fix=f"pass --steps {steps_per_epoch} or more, or --epochs N",
            )
        return -1, options.steps
    if options.epochs is not None:
        if options.epochs < 1:
            raise CommandLineError(f"--epochs must be at least 1, got {options.epochs}")
        return options.epochs, -1
    epochs = config_trainer.get("max_epochs")
    steps = config_trainer.get("max_steps")
    if steps is not None and steps > 0:
        if steps < steps_per_epoch:
            raise CommandLineError(
                f"the config's max_steps {steps} does not finish an epoch ({steps_per_epoch} steps)",
                fix=f"pass --steps {steps_per_epoch} or more, or --epochs N",
            )
        return -1, steps
    if epochs is None or epochs < 1:
        raise CommandLineError("the config sets no training budget", fix="pass --epochs N or --steps N")
    return epochs, -1


def run_decoder(plan: Plan, decoder: str, options: argparse.Namespace, first: bool) -> Result:
    """Train, test and picture one decoder; the same seed before building and before training as every other."""
    import torch
    from lightning.pytorch import seed_everything
    from lightning.pytorch.loggers import CSVLogger

    overrides = {
        "max_epochs": plan.max_epochs,
        "max_steps": plan.max_steps,
        "logger": CSVLogger(options.out, name=decoder),
        "enable_checkpointing": False,
        "num_sanity_val_steps": 0,
        "enable_model_summary": False,
        "default_root_dir": str(options.out / decoder),
    }
    cli = _instantiate(plan, plan.lightning_args, decoder, first, overrides)
    seed_everything(plan.seed, verbose=False)  # the same batches and augmentation for every decoder
    start = time.perf_counter()
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    train_seconds = time.perf_counter() - start
    cli.trainer.test(cli.model, datamodule=cli.datamodule, verbose=False)
    logged = {k: float(v) for k, v in cli.trainer.callback_metrics.items()}
    metrics = {k.split("/", 1)[1]: v for k, v in logged.items() if k.startswith("test/")}
    if first:
        metrics.update({f"baseline/{k.split('/', 1)[1]}": v for k, v in logged.items() if k.startswith("baseline/")})
        if getattr(cli.model, "baseline_value", None) is not None:
            metrics["baseline_depth"] = float(cli.model.baseline_value)
    pictures = picture_samples(cli.model, cli.datamodule, options.images) if options.images else []
    del cli
    gc.collect()
    torch.set_grad_enabled(True)
    return Result(decoder, metrics, train_seconds, pictures)


def picture_samples(task: Any, datamodule: Any, count: int) -> list[tuple[Any, Any, Any]]:
    """(image, ground truth, prediction at the ground truth's size) of ``count`` test images spread over the split."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    dataset = datamodule.test_dataset
    positions = np.unique(np.linspace(0, len(dataset) - 1, min(count, len(dataset))).round().astype(int))
    task.eval()
    samples = []
    with torch.no_grad():
        for position in positions.tolist():
            sample = dataset[position]
            image = torch.as_tensor(sample["image"]).float()
            depth = torch.as_tensor(sample["depth"]).float()
            pred = task(image[None].to(task.device)).float()
            pred = F.interpolate(pred, size=depth.shape[-2:], mode="bilinear", align_corners=False)
            target = depth[0].numpy()
            valid = sample.get("valid")
            if valid is not None:
                target = np.where(torch.as_tensor(valid)[0].numpy(), target, 0.0)
            samples.append((image.numpy(), target, pred[0, 0].cpu().numpy()))
    return samples


def markdown_table(plan: Plan, results: list[Result]) -> str:
    """The comparison as Markdown: a caption, then one row per decoder (best value of each metric in bold)."""
    columns = [c for c in METRIC_COLUMNS + (BOUNDARY_COLUMNS if plan.boundary else ()) if c in results[0].metrics]
    best = {}
    for column in columns:
        values = [r.metrics[column] for r in results]
        best[column] = max(values) if column in HIGHER_IS_BETTER else min(values)
    header = ["decoder", "params (M)", "decoder params (M)", "train time (s)", *columns]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    for result in results:
        total, decoder_only = plan.parameters[result.decoder]
        cells = [f"`{result.decoder}`", f"{total / 1e6:.2f}", f"{decoder_only / 1e6:.2f}"]
        cells.append(f"{result.train_seconds:.0f}")
        for column in columns:
            text = _format(column, result.metrics[column])
            cells.append(f"**{text}**" if result.metrics[column] == best[column] and len(results) > 1 else text)
        lines.append("| " + " | ".join(cells) + " |")
    baseline = {k.split("/", 1)[1]: v for k, v in results[0].metrics.items() if k.startswith("baseline/")}
    if baseline and all(c in baseline for c in columns):
        depth = results[0].metrics.get("baseline_depth")
        name = f"constant {depth:.3f} m" if depth is not None else "constant"
        lines.append("| " + " | ".join([name, "", "", "", *(_format(c, baseline[c]) for c in columns)]) + " |")
    caption = [
        f"Test split; {plan.description}.",
        "Errors are lower-is-better, d1-d3 higher-is-better; the best of each column is in bold.",
    ]
    if plan.boundary:
        caption.append(
            "dbe_acc / dbe_comp: iBims-1 depth-boundary accuracy and completeness, in pixels of the ground truth "
            "(edges of the ground-truth depth, Canny sigma sqrt(2), thresholds 0.15 / 0.3, truncated at 10)."
        )
    return "\n".join([*caption, "", *lines]) + "\n"


def _format(column: str, value: float) -> str:
    if column in ("silog",):
        return f"{value:.2f}"
    if column in BOUNDARY_COLUMNS:
        return f"{value:.3f}"
    return f"{value:.4f}"


def write_outputs(
    plan: Plan, results: list[Result], table_path: Path, picture_path: Path | None, overwrite: bool
) -> None:
    """Print the table, write it and the picture atomically (refusing existing files without ``overwrite``)."""
    from depthzoo.visualize import comparison_grid, save_png  # deferred: scipy.ndimage (about 0.7 s), for the picture

    table = markdown_table(plan, results)
    print("\n" + table, flush=True)
    with atomic_write(table_path, "w", overwrite=overwrite) as handle:
        handle.write(table)
    print(f"table: {table_path}", file=sys.stderr)
    if picture_path is not None and results[0].pictures:
        images = [image for image, _, _ in results[0].pictures]
        targets = [target for _, target, _ in results[0].pictures]
        preds = {r.decoder: [pred for _, _, pred in r.pictures] for r in results}
        grid = comparison_grid(images, targets, preds)
        with atomic_path(picture_path, overwrite) as temporary:
            save_png(grid, temporary)
        print(f"picture: {picture_path}", file=sys.stderr)


__all__ = ["compare_command", "compare_parser", "default_decoders", "markdown_table", "resolve_decoders"]
