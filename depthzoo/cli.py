"""The ``depthzoo`` command.

- ``depthzoo fit|validate|test|predict ...``: LightningCLI over :class:`depthzoo.task.DepthTask` and any data module
  (``--data NYUv2DataModule``, ``KITTIDataModule``, ``ImageFolderDataModule``); ``--config NAME`` also accepts the
  name of a shipped config (``depthzoo configs`` lists them).
- ``depthzoo data synth --out PATH``: write the built-in synthetic dataset.
- ``depthzoo convert-fcrn SRC OUT``: convert the official FCRN weights.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from typing import Any

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # albumentations asks the package index at import otherwise

from depthzoo import __version__  # noqa: E402
from depthzoo.resources import bundled_dir  # noqa: E402

EVAL_SUBCOMMANDS = ("validate", "test", "predict")
# The model arguments a checkpoint decides (its weights only fit this architecture); all others, evaluation
# protocol included, come from the command line and config files.
ARCHITECTURE_ARGS = ("encoder", "encoder_depth", "decoder", "decoder_kwargs")


def list_configs() -> list[str]:
    """Names of the configs shipped with depthzoo (usable as ``--config NAME``)."""
    return sorted(p.stem for p in bundled_dir("configs").glob("*.yaml"))


def resolve_config_names(argv: list[str]) -> list[str]:
    """Replace ``--config NAME`` by the shipped ``configs/NAME.yaml`` when NAME is not an existing file."""
    resolved = list(argv)
    for i, arg in enumerate(resolved):
        if arg == "--config" and i + 1 < len(resolved):
            resolved[i + 1] = _config_path(resolved[i + 1])
        elif arg.startswith("--config="):
            resolved[i] = "--config=" + _config_path(arg.split("=", 1)[1])
    return resolved


def _config_path(value: str) -> str:
    if os.path.exists(value) or os.sep in value or "/" in value:
        return value
    candidate = bundled_dir("configs") / (value if value.endswith((".yaml", ".yml")) else f"{value}.yaml")
    if candidate.is_file():
        return str(candidate)
    raise SystemExit(f"depthzoo: no config file {value!r} and no shipped config of that name; shipped: {list_configs()}")


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
    # `test --ckpt_path` of a run made elsewhere: the checkpoint callback's old dirpath is expected to differ.
    warnings.filterwarnings("ignore", message=r".*The dirpath has changed from.*")


def _make_cli_class() -> type:
    from lightning.pytorch.cli import LightningCLI

    from depthzoo.callbacks import DepthMapWriter

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

        def _parse_ckpt_path(self) -> None:
            """Take the architecture from ``--ckpt_path``'s hyper-parameters, and nothing else.

            Lightning would replace every model argument with the checkpoint's, silently ignoring e.g.
            ``test --ckpt_path X --model.eval_crop null``.
            """
            subcommand = self.config.get("subcommand")
            ckpt_path = self.config[subcommand].get("ckpt_path") if subcommand else None
            if not ckpt_path or not os.path.isfile(ckpt_path):
                return
            import torch

            hparams = torch.load(ckpt_path, weights_only=True, map_location="cpu").get("hyper_parameters", {})
            architecture = {k: hparams[k] for k in ARCHITECTURE_ARGS if k in hparams}
            if architecture:
                self.config = self.parser.parse_object({subcommand: {"model": architecture}}, self.config)

        def before_instantiate_classes(self) -> None:
            config = self.config.get(self.subcommand, self.config) if self.subcommand else self.config
            if self.subcommand in EVAL_SUBCOMMANDS and config.get("ckpt_path"):
                # The checkpoint provides every weight: never fetch ImageNet weights for a model about to be
                # overwritten (and never fail offline because of them).
                config.model.pretrained = False
                config.model.encoder_weights = None

        def after_fit(self) -> None:
            if not self.config.fit.get("test_after_fit"):
                return
            callback = self.trainer.checkpoint_callback
            ckpt = None  # the weights in memory, when no checkpoint was written (e.g. fast_dev_run)
            if callback is not None and not self.trainer.fast_dev_run:
                if os.path.isfile(getattr(callback, "best_model_path", "") or ""):
                    ckpt = callback.best_model_path
                elif os.path.isfile(getattr(callback, "last_model_path", "") or ""):
                    ckpt = callback.last_model_path
            self.trainer.test(self.model, datamodule=self.datamodule, ckpt_path=ckpt)

    return DepthCLI


def lightning_main(args: list[str] | None = None) -> Any:
    """Run LightningCLI (``args`` as on the command line; tests pass lists)."""
    quiet_known_noise()
    import depthzoo.data.images  # noqa: F401  (short class names for --data need the classes imported)
    from depthzoo.data import KITTIDataModule, NYUv2DataModule  # noqa: F401
    from depthzoo.task import DepthTask

    cli_class = _make_cli_class()
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
        trainer_defaults={"logger": {"class_path": "lightning.pytorch.loggers.CSVLogger", "init_args": {"save_dir": "."}}},
    )


USAGE = f"""depthzoo {__version__}: monocular depth estimation model zoo

usage:
  depthzoo fit|validate|test|predict [--config NAME_OR_PATH] [--model.* ...] [--data.* ...] [--trainer.* ...]
  depthzoo data synth --out PATH [--num N] [--seed S]      write the built-in synthetic dataset
  depthzoo convert-fcrn SRC OUT                            convert the official FCRN NYU weights
  depthzoo configs                                         list the shipped configs
  depthzoo --version

'depthzoo SUBCOMMAND --help' shows every option of a subcommand.
"""


def main(args: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if args is None else args)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    if argv[0] in ("--version", "-V"):
        print(f"depthzoo {__version__}")
        return 0
    if argv[0] == "configs":
        folder = bundled_dir("configs")
        print(f"shipped configs ({folder}):")
        for name in list_configs():
            print(f"  {name}")
        return 0
    if argv[0] == "data":
        if argv[1:2] != ["synth"]:
            raise SystemExit("usage: depthzoo data synth --out PATH [--num N] [--seed S] [--height H] [--width W]")
        from depthzoo.data.synthetic import synth_command

        return synth_command(argv[2:])
    if argv[0] == "convert-fcrn":
        from depthzoo.official.convert import convert_command

        return convert_command(argv[1:])
    lightning_main(None if args is None else argv)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
