"""MkDocs hooks: the pages generated from the code at every build, so that they cannot drift from it.

- ``model-zoo.md``: the encoders, decoders and losses from their registries, and the known checkpoints from
  ``checkpoints/manifest.json`` with their architecture, output kind (from the model built on the meta device),
  size and licence;
- ``cli.md``: every ``depthzoo`` subcommand's ``--help``, from the parsers themselves;
- ``api/*.md``: mkdocstrings pages for the public modules (the docstrings, with their doctested examples);
- ``benchmarks.md``, ``changelog.md`` and ``readme.md``: the repository's Markdown files, links adjusted for the site.

mkdocs.yml names this file under ``hooks``; nothing here is part of the installed package.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

API_PAGES = {
    "depthzoo": "The package: create_model, load, the registries and the lazily imported public names.",
    "depthzoo.models": "DepthModel, create_model, encoders and the decoder registry.",
    "depthzoo.weights.loader": "depthzoo.load: any trained model from any source, strictly.",
    "depthzoo.losses": "Masked depth losses and their registry.",
    "depthzoo.metrics": "DepthMetrics, alignments and the depth-boundary errors.",
    "depthzoo.task": "DepthTask, the LightningModule.",
    "depthzoo.datamodules": "The LightningDataModules.",
    "depthzoo.inference": "Fast inference on CPU and GPU.",
    "depthzoo.export": "ONNX, torch.export and TorchScript.",
    "depthzoo.geometry": "Camera intrinsics and back-projection.",
    "depthzoo.visualize": "Colour maps, colour bars and the pictures of a run.",
    "depthzoo.errors": "The DepthzooError family.",
    "depthzoo.demo": "The web demo (depthzoo demo).",
}
"""Module -> one line: the API reference's pages (a module that moves is a strict-build error, not a dead page)."""

ROOT_PAGES = {"BENCHMARKS.md": "benchmarks.md", "CHANGELOG.md": "changelog.md", "README.md": "readme.md"}


# ------------------------------------------------------------------------------------------------ model zoo
def _first_line(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.split("\n\n")[0].replace("\n", " ").strip()


def _options(factory: Any, skip: tuple[str, ...] = ("in_channels", "reductions")) -> str:
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return ""
    shown = [
        f"`{p.name}={p.default!r}`" if p.default is not inspect.Parameter.empty else f"`{p.name}`"
        for p in parameters
        if p.name not in skip and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    return ", ".join(shown)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _architecture(config: dict[str, Any]) -> tuple[str, int]:
    """The output kind and parameter count of a manifest architecture, from the model built on the meta device."""
    import torch

    import depthzoo

    options = dict(config)
    decoder_kwargs = options.pop("decoder_kwargs", {})
    with torch.device("meta"):
        model = depthzoo.create_model(pretrained=False, **options, **decoder_kwargs)
    return model.output_kind, sum(p.numel() for p in model.parameters())


def model_zoo_page() -> str:
    """The model zoo: registries and manifest, as Markdown tables."""
    import depthzoo
    from depthzoo.losses.registry import LOSSES
    from depthzoo.models.decoders.registry import DECODERS
    from depthzoo.weights.manifest import checkpoint_info, list_checkpoints

    lines = [
        "# Model zoo",
        "",
        "Generated from the code at every build of this site: the registries and `checkpoints/manifest.json`.",
        "",
        "## Encoders",
        "",
        f"Any of the **{len(depthzoo.list_encoders())}** timm models of this installation works as an encoder by "
        "name (`depthzoo.list_encoders(pattern)` lists them): its feature levels come from timm's `feature_info`, "
        "NHWC models (Swin) are permuted, and plain ViTs give evenly spaced blocks. Registered by depthzoo itself:",
        "",
        "| name | what |",
        "|---|---|",
    ]
    from depthzoo.models.encoders import fcrn_resnet

    lines += [f"| `{name}` | {_cell(_first_line(fcrn_resnet))} |" for name in depthzoo.list_encoders("fcrn*")]
    lines += ["", "## Decoders", "", "| name | what | options |", "|---|---|---|"]
    for name in depthzoo.list_decoders():
        factory = DECODERS.get(name)
        lines.append(f"| `{name}` | {_cell(_first_line(factory))} | {_cell(_options(factory))} |")
    lines += ["", "## Losses", "", "| name | what | options |", "|---|---|---|"]
    for name in depthzoo.list_losses():
        factory = LOSSES.get(name)
        lines.append(f"| `{name}` | {_cell(_first_line(factory))} | {_cell(_options(factory, ()))} |")
    lines += [
        "",
        "## Pretrained models",
        "",
        "Known checkpoints: `depthzoo.load(NAME)` reads them from `$DEPTHZOO_CHECKPOINT_DIR` (downloading them there "
        "when online, sha256-checked). *metric*: depth in metres; *relative_disparity*: inverse depth up to an "
        "unknown scale and shift.",
        "",
        "| name | architecture | output | parameters | file | licence |",
        "|---|---|---|---|---|---|",
    ]
    for name in list_checkpoints():
        info = checkpoint_info(name)
        config = info["architecture"]
        kind, count = _architecture(config)
        size = f"{info['size'] / 1e6:.0f} MB" if info.get("size") else "size not published"
        lines.append(
            f"| `{name}` | `{config['encoder']}` + `{config['decoder']}` | {kind} | {count / 1e6:.1f}M | "
            f"{_cell(info['file_name'])} ({size}) | {_cell(info.get('license', 'unknown'))} |"
        )
    lines += ["", "Descriptions and where to get each file:", ""]
    for name in list_checkpoints():
        info = checkpoint_info(name)
        links = ", ".join(f"<{url}>" for url in info.get("urls") or []) or "no working download link is known"
        lines.append(f"- **`{name}`**: {info['description']} Download: {links}. Convert: `{info['convert']}`.")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------ CLI
def _help(run: Any, argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        try:
            run(argv)
        except SystemExit:
            pass
    return out.getvalue().rstrip()


def cli_page() -> str:
    """Every subcommand's ``--help``, as its parser prints it."""
    from depthzoo.cli.commands import COMMANDS
    from depthzoo.cli.main import load_commands

    load_commands()
    commands = sorted(COMMANDS.values(), key=lambda c: (c.order, c.name))
    lines = [
        "# Command-line reference",
        "",
        "Generated from the parsers at every build of this site (`depthzoo SUBCOMMAND --help` prints the same). "
        "`--debug` (or `DEPTHZOO_DEBUG=1`) adds the traceback to an error.",
        "",
        "| command | what |",
        "|---|---|",
    ]
    lines += [f"| [`{c.name}`](#{c.name}) | {_cell(c.summary)} |" for c in commands if c.usage]
    for entry in commands:
        text = _help(entry.run, ["--help"])
        lines += ["", f"## {entry.name}", "", entry.summary[:1].upper() + entry.summary[1:] + ".", ""]
        if len(text) > 5000:  # LightningCLI's full option list: folded
            lines += [f'??? note "depthzoo {entry.name} --help"', "", "    ```text"]
            lines += [f"    {line}" if line else "" for line in text.splitlines()]
            lines += ["    ```"]
        else:
            lines += ["```text", text, "```"]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------ API
def api_pages() -> dict[str, str]:
    """One mkdocstrings page per public module, and an index."""
    pages = {}
    index = ["# API reference", "", "From the docstrings; their `>>>` examples run as tests.", ""]
    for module, summary in API_PAGES.items():
        path = f"api/{module}.md"
        pages[path] = f"# `{module}`\n\n{summary}\n\n::: {module}\n"
        index.append(f"- [`{module}`]({module}.md): {summary}")
    pages["api/index.md"] = "\n".join(index) + "\n"
    return pages


# ------------------------------------------------------------------------------------------------ root pages
LINK = re.compile(r"(!?\[[^\]]*\])\(([^)\s]+)\)")


def root_page(text: str, assets: set[str]) -> str:
    """A repository Markdown file for the site, its links adjusted.

    Links to the other root files go to their pages, files under ``docs/`` lose that prefix, and any other
    repository file it shows is added to the site (``assets``).
    """

    def fix(match: re.Match[str]) -> str:
        label, target = match.groups()
        if re.match(r"^[a-z]+:|^#", target):
            return match.group(0)
        path, _, anchor = target.partition("#")
        if path in ROOT_PAGES:
            path = ROOT_PAGES[path]
        elif path.startswith("docs/"):
            path = path[len("docs/") :]
        elif (ROOT / path).is_file():
            assets.add(path)
        return f"{label}({path}{'#' + anchor if anchor else ''})"

    return LINK.sub(fix, text)


def generated_pages() -> tuple[dict[str, str], set[str]]:
    """Every generated page (path in the site -> Markdown) and the repository files they show."""
    assets: set[str] = set()
    pages = {"model-zoo.md": model_zoo_page(), "cli.md": cli_page(), **api_pages()}
    for source, target in ROOT_PAGES.items():
        pages[target] = root_page((ROOT / source).read_text(encoding="utf-8"), assets)
    return pages, assets


def on_files(files: Any, config: Any) -> Any:
    """MkDocs hook: add the generated pages and the files they show."""
    from mkdocs.structure.files import File

    pages, assets = generated_pages()
    for path, content in pages.items():
        files.append(File.generated(config, path, content=content))
    for path in sorted(assets):
        files.append(File.generated(config, path, abs_src_path=str(ROOT / path)))
    return files
