"""The ``depthzoo`` command.

Each module here registers its subcommands with :func:`depthzoo.cli.commands.command`; a new module is found
without editing a list.

- :mod:`~depthzoo.cli.lightning`: ``fit``, ``validate``, ``test``, ``predict`` (LightningCLI);
- :mod:`~depthzoo.cli.configs`: ``configs`` and ``--config NAME``;
- :mod:`~depthzoo.cli.data`: ``data synth``;
- :mod:`~depthzoo.cli.convert`: ``convert`` (any weight source), ``convert-fcrn`` and ``convert-depth-anything``;
- :mod:`~depthzoo.cli.export`: ``export`` (ONNX, torch.export, TorchScript);
- :mod:`~depthzoo.cli.compare`: ``compare`` (several decoders trained alike, a table and a picture);
- :mod:`~depthzoo.cli.benchmark`: ``benchmark`` (models on the zero-shot datasets under a published protocol);
- :mod:`~depthzoo.cli.demo`: ``demo`` (the web demo, :mod:`depthzoo.demo`);
- :mod:`~depthzoo.cli.docs`: ``docs`` (serve or build the documentation site of a source checkout).
"""

from depthzoo.cli.configs import list_configs, resolve_config_names
from depthzoo.cli.lightning import lightning_main
from depthzoo.cli.main import main

__all__ = ["lightning_main", "list_configs", "main", "resolve_config_names"]
