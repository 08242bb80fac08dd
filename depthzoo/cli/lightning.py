"""``depthzoo fit|validate|test|predict``: LightningCLI over :class:`depthzoo.task.DepthTask` and any data module.

``--data`` takes a data module's short name (``NYUv2DataModule``, ``KITTIDataModule``, ``ImageFolderDataModule``, or
any other :mod:`depthzoo.datamodules` class); ``--config NAME`` also accepts the name of a shipped config
(``depthzoo configs`` lists them).
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from typing import Any

from depthzoo.cli.commands import command
from depthzoo.cli.configs import resolve_config_names
from depthzoo.hub import check_pretrained_folder
from depthzoo.registry import import_submodules
from depthzoo.weights.lightning import architecture_from_checkpoint, read_checkpoint

EVAL_SUBCOMMANDS = ("validate", "test", "predict")


class _DropTips(logging.Filter):
    """Lightning prints promotional '💡 Tip' lines on every run with no option to turn them off."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.getMessage()).startswith("💡 Tip")


def quiet_known_noise() -> None:
    """Silence specific, understood messages only (see ENVIRONMENT notes); everything else stays visible."""
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero"):
        logging.getLogger(name).addFilter(_DropTips())
    # The data modules choose num_workers explicitly; small CPU machines are better off without workers.
    warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
    # lightning 2.6's pytree helper on torch >= 2.10, harmless.
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)", category=FutureWarning)
    # Video batches come from an iterable dataset without a sampler; the prediction writer does not use batch indices.
    warnings.filterwarnings("ignore", message=r".*Couldn't infer the batch indices fetched from your dataloader.*")
    # `test --ckpt_path` of a run made elsewhere: the checkpoint callback's old dirpath is expected to differ.
    warnings.filterwarnings("ignore", message=r".*The dirpath has changed from.*")


def _datamodule_for_checks(data: Any) -> Any:
    """The configured data module, built early, when it can list its prediction inputs (else None).

    Data modules do their work in ``setup``, so building one twice costs nothing.
    """
    import importlib

    class_path = data.get("class_path") if data is not None and hasattr(data, "get") else None
    if not class_path:
        return None
    module_name, _, class_name = class_path.rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name, None)
    if cls is None or not callable(getattr(cls, "prediction_inputs", None)):
        return None
    init_args = data.get("init_args")
    return cls(**(init_args.as_dict() if init_args is not None else {}))


def check_prediction_outputs(config: Any) -> None:
    """Check every output of ``depthzoo predict`` before the model is built (the folder, existing files, inputs)."""
    from depthzoo.callbacks import DepthMapWriter, prediction_inputs  # deferred: imports lightning (seconds)

    writer = config.get("writer")
    writer = DepthMapWriter(**(writer.as_dict() if writer is not None else {}))
    writer.check(prediction_inputs(_datamodule_for_checks(config.get("data"))))


def make_cli_class() -> type:
    """The LightningCLI subclass of depthzoo (built on first use, so importing this module stays cheap)."""
    from lightning.fabric.plugins import TorchCheckpointIO
    from lightning.pytorch.cli import LightningCLI

    # Deferred, like lightning itself above: these import lightning, which takes seconds, and every command module
    # is imported to start the command line.
    from depthzoo.callbacks import DepthMapWriter
    from depthzoo.checkpointing import CheckedCheckpointIO, CheckpointOnSigterm

    class DepthCLI(LightningCLI):
        """LightningCLI with depthzoo's defaults: flat model args, any data module, offline-safe evaluation."""

        def add_arguments_to_parser(self, parser: Any) -> None:
            parser.add_lightning_class_args(DepthMapWriter, "writer")
            parser.add_argument(
                "--test_after_fit",
                type=bool,
                default=False,
                help="after fit, run test on the best checkpoint (the last one if none was kept)",
            )
            parser.add_argument(
                "--save_pretrained",
                type=str | None,
                default=None,
                help="after fit or test, write the model as a save_pretrained folder (config.json, model.safetensors "
                "and a model card with the training data, evaluation protocol and metrics); never replaces files",
            )

        def _parse_ckpt_path(self) -> None:
            """Take the architecture from ``--ckpt_path``'s hyper-parameters, and nothing else.

            Lightning would replace every model argument with the checkpoint's, silently ignoring e.g.
            ``test --ckpt_path X --model.eval_crop null``.
            """
            subcommand = self.config.get("subcommand")
            ckpt_path = self.config[subcommand].get("ckpt_path") if subcommand else None
            if not ckpt_path or not os.path.isfile(ckpt_path):
                return
            # The checkpoint decides the architecture (its weights only fit that); all other model arguments,
            # the evaluation protocol included, come from the command line and config files.
            architecture = architecture_from_checkpoint(read_checkpoint(ckpt_path))
            if architecture:
                self.config = self.parser.parse_object({subcommand: {"model": architecture}}, self.config)

        def before_instantiate_classes(self) -> None:
            config = self.config.get(self.subcommand, self.config) if self.subcommand else self.config
            if config.get("save_pretrained"):
                check_pretrained_folder(config.save_pretrained)  # refuse before training, not after
            if self.subcommand == "predict" and config.get("return_predictions") is None:
                config.return_predictions = False  # the writer saves every batch; keeping them would fill memory
            if self.subcommand in EVAL_SUBCOMMANDS and config.get("ckpt_path"):
                # The checkpoint provides every weight: never fetch ImageNet weights for a model about to be
                # overwritten (and never fail offline because of them).
                config.model.pretrained = False
                config.model.encoder_weights = None
            if self.subcommand == "predict":  # before the model is built: a mistake costs no model load
                check_prediction_outputs(config)

        def instantiate_trainer(self, **kwargs: Any) -> Any:
            trainer = super().instantiate_trainer(**kwargs)
            trainer.callbacks.append(CheckpointOnSigterm())
            if type(trainer.strategy.checkpoint_io) is TorchCheckpointIO:
                trainer.strategy.checkpoint_io = CheckedCheckpointIO()
            return trainer

        def after_fit(self) -> None:
            if self.trainer.received_sigterm:  # an interrupted run: resume it rather than test or publish it
                return
            if not self.config.fit.get("test_after_fit"):
                self._save_pretrained()
                return
            callback = self.trainer.checkpoint_callback
            ckpt = None  # the weights in memory, when no checkpoint was written (e.g. fast_dev_run)
            if callback is not None and not self.trainer.fast_dev_run:
                if os.path.isfile(getattr(callback, "best_model_path", "") or ""):
                    ckpt = callback.best_model_path
                elif os.path.isfile(getattr(callback, "last_model_path", "") or ""):
                    ckpt = callback.last_model_path
            self.trainer.test(self.model, datamodule=self.datamodule, ckpt_path=ckpt)
            self._save_pretrained()

        def after_test(self) -> None:
            self._save_pretrained()

        def _save_pretrained(self) -> None:
            """``--save_pretrained DIR``: the model as tested (or, after fit alone, as trained) with its model card."""
            folder = self.config.get(self.subcommand, {}).get("save_pretrained") if self.subcommand else None
            if folder:
                self.model.save_pretrained(folder)
                print(f"wrote {folder}: a save_pretrained folder with its model card", flush=True)

    return DepthCLI


def lightning_main(args: list[str] | None = None, cli_class: type | None = None, run: bool = True) -> Any:
    """Run LightningCLI (``args`` as on the command line; tests pass lists).

    Args:
        args: the arguments after ``depthzoo``, subcommand first (without one when ``run`` is False); None reads
            the command line.
        cli_class: a subclass of the class made by :func:`make_cli_class` (default that class).
        run: run the subcommand; False parses and instantiates only (``depthzoo compare`` drives the Trainer itself).
    """
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # albumentations asks the package index at import otherwise
    quiet_known_noise()
    from depthzoo.task import DepthTask  # deferred: imports lightning (seconds), needed only when a run starts

    import_submodules("depthzoo.datamodules")  # short class names for --data need the classes imported

    cli_class = cli_class or make_cli_class()
    if args is None:  # from the shell: keep sys.argv authoritative (Lightning's DDP launcher re-executes it)
        sys.argv[1:] = resolve_config_names(sys.argv[1:])
        cli_args = None
    else:
        cli_args = resolve_config_names(list(args))
    return cli_class(
        DepthTask,
        datamodule_class=None,
        seed_everything_default=0,
        save_config_kwargs={"overwrite": True},
        auto_configure_optimizers=False,
        args=cli_args,
        run=run,
        trainer_defaults={
            "logger": {"class_path": "lightning.pytorch.loggers.CSVLogger", "init_args": {"save_dir": "."}}
        },
    )


def _run(subcommand: str, argv: list[str]) -> int:
    # From the shell, LightningCLI must read sys.argv itself: its DDP launcher re-runs the process's command line.
    from_shell = sys.argv[1:] == [subcommand, *argv]
    try:
        cli = lightning_main(None if from_shell else [subcommand, *argv])
    except SystemExit as exc:
        from lightning.pytorch.utilities.exceptions import SIGTERMException

        if not isinstance(exc, SIGTERMException):
            raise
        from depthzoo.checkpointing import SIGTERM_EXIT_STATUS, stopped_message  # deferred: imports lightning

        print(f"error: {stopped_message(exc, subcommand)}", file=sys.stderr)
        return SIGTERM_EXIT_STATUS
    if getattr(getattr(cli, "trainer", None), "received_sigterm", False):  # the signal came after the last step
        from depthzoo.checkpointing import SIGTERM_EXIT_STATUS  # deferred: imports lightning

        print(f"error: {subcommand} received SIGTERM as it finished; its results are complete", file=sys.stderr)
        return SIGTERM_EXIT_STATUS
    return 0


LIGHTNING_USAGE = "fit|validate|test|predict [--config NAME_OR_PATH] [--model.* ...] [--data.* ...] [--trainer.* ...]"

for _name in ("fit", "validate", "test", "predict"):  # one listing line for the four (the others have no usage)
    command(
        _name,
        LIGHTNING_USAGE if _name == "fit" else "",
        "train, evaluate or predict through LightningCLI",
        order=0,
    )(lambda argv, _sub=_name: _run(_sub, argv))
