"""Every public data module and task argument is documented in an ``Args:`` section.

LightningCLI builds ``depthzoo fit --help`` from these docstrings, so an undocumented argument is an option the
command line cannot explain. New data modules in :mod:`depthzoo.datamodules` are checked without editing this file.
"""

from __future__ import annotations

import inspect
import re

import lightning.pytorch as pl
import pytest

import depthzoo.datamodules
from depthzoo.registry import import_submodules
from depthzoo.task import DepthTask


def _public_lightning_classes() -> list[type]:
    found = {DepthTask}
    for module in import_submodules("depthzoo.datamodules"):
        namespace = vars(getattr(depthzoo.datamodules, module))
        for value in namespace.values():
            if (
                inspect.isclass(value)
                and issubclass(value, pl.LightningDataModule)
                and value.__module__.startswith("depthzoo.")
                and not value.__name__.startswith("_")
            ):
                found.add(value)
    return sorted(found, key=lambda c: c.__name__)


@pytest.mark.parametrize("cls", _public_lightning_classes(), ids=lambda c: c.__name__)
def test_every_argument_has_an_args_entry(cls: type) -> None:
    doc = inspect.getdoc(cls) or ""
    assert "Args:" in doc, f"{cls.__name__} has no Args: section"
    documented = set(re.findall(r"^ {4}\*{0,2}(\w+):", doc.split("Args:", 1)[1], re.M))
    parameters = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    missing = [p for p in parameters if p not in documented]
    assert not missing, f"{cls.__name__}: undocumented arguments {missing}"


def test_the_command_line_help_explains_shared_data_module_options(capsys: pytest.CaptureFixture) -> None:
    from depthzoo.cli import main

    with pytest.raises(SystemExit):
        main(["fit", "--data", "NYUv2DataModule", "--data.help", "NYUv2DataModule"])
    out = " ".join(capsys.readouterr().out.split())  # help text is wrapped at the terminal width
    assert "--data.val_fraction" in out and "fraction of the train split held out" in out
    assert "--data.cache_train" in out and "keep decoded training samples in memory" in out
