"""Sharing models the Hugging Face Hub way: ``save_pretrained``, ``from_pretrained``, ``push_to_hub``, model cards.

:class:`DepthModel` inherits :class:`~depthzoo.models.sharing.HubMixin`, depthzoo's ``huggingface_hub.ModelHubMixin``,
whose methods do what this module says: it sits above the weights it saves and loads, and connects itself to the
mixin when imported (``import depthzoo`` imports it). A saved folder has the
layout of ``PyTorchModelHubMixin``: ``config.json`` (how to build the model: encoder, decoder and their options,
``output_kind``), ``model.safetensors`` (the weights; itself a depthzoo model file) and ``README.md``, a model card
stating the architecture, what the output means, the input convention, the training data and evaluation protocol
with its metrics when known, and the licence. ``from_pretrained`` and :func:`depthzoo.load` read such a folder, or a
Hub repository holding one (through the local Hugging Face cache; with ``HF_HUB_OFFLINE=1`` nothing but the cache
is used).

>>> import tempfile, torch, depthzoo
>>> model = depthzoo.create_model("resnet18", "fast_upconv")
>>> folder = model.save_pretrained(tempfile.mkdtemp() + "/my-depth", license="mit")
>>> sorted(p.name for p in folder.iterdir())
['README.md', 'config.json', 'model.safetensors']
>>> again = depthzoo.DepthModel.from_pretrained(folder)
>>> torch.equal(again.decoder.head_conv.weight, model.decoder.head_conv.weight)
True
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from huggingface_hub import ModelCard, ModelCardData
from huggingface_hub.constants import CONFIG_NAME, SAFETENSORS_SINGLE_FILE

from depthzoo.errors import OutputExistsError
from depthzoo.models.depth_model import DepthModel
from depthzoo.models.sharing import TAGS, HubMixin, HubOperations, connect_hub
from depthzoo.utils.files import atomic_write, check_output_path
from depthzoo.version import __version__
from depthzoo.weights.hub_folder import download_pretrained, read_pretrained_folder
from depthzoo.weights.loader import load
from depthzoo.weights.model_file import save_model

CARD_NAME = "README.md"
FOLDER_FILES = (CONFIG_NAME, SAFETENSORS_SINGLE_FILE, CARD_NAME)
# Hub licence identifiers for the licences depthzoo's known checkpoints carry (the first word of their licence text).
HUB_LICENSES = {
    "mit": "mit",
    "apache-2.0": "apache-2.0",
    "bsd-2-clause": "bsd-2-clause",
    "bsd-3-clause": "bsd-3-clause",
    "cc-by-4.0": "cc-by-4.0",
    "cc-by-nc-4.0": "cc-by-nc-4.0",
    "cc-by-nc-sa-4.0": "cc-by-nc-sa-4.0",
    "gpl-3.0": "gpl-3.0",
}
OUTPUT_MEANING = {
    "metric": "depth in metres.",
    "relative_disparity": (
        "relative inverse depth (disparity): known only up to an unknown scale and shift, larger is nearer. Align "
        "it to metric ground truth (least squares on disparity) before measuring errors in metres."
    ),
}


# ---------------------------------------------------------------------------------------------------- folders
def check_pretrained_folder(folder: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """The folder ``save_pretrained`` may write, checked first: none of its files replaced unless ``overwrite``.

    Raises:
        OutputExistsError: the path is a file, or the folder holds one of the files and ``overwrite`` is False.
    """
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise OutputExistsError(
            "the output exists and is a file, not a folder", source=folder, fix="pass a folder path"
        )
    for name in FOLDER_FILES:
        check_output_path(folder / name, overwrite)
    return folder


def save_pretrained_folder(
    model: DepthModel,
    folder: str | os.PathLike[str],
    overwrite: bool = False,
    config: dict[str, Any] | None = None,
    **card: Any,
) -> Path:
    """Write ``config.json``, ``model.safetensors`` and the model card ``README.md`` into ``folder`` (each atomically).

    Args:
        model: the model to save.
        folder: the folder (created when missing).
        overwrite: replace those files when present.
        config: the build config to record; default ``model.config``.
        **card: what the model card says beyond the model itself: ``license``, ``training``, ``evaluation``,
            ``name`` (see :func:`model_card`).
    """
    folder = check_pretrained_folder(folder, overwrite)
    config = dict(config if config is not None else model.config)
    if card.get("license"):
        config["license"] = card["license"]
    config["depthzoo_version"] = __version__
    text = model_card(model, config=config, **card)  # before writing: a bad argument leaves nothing behind
    folder.mkdir(parents=True, exist_ok=True)
    save_model(model, folder / SAFETENSORS_SINGLE_FILE, overwrite=overwrite)
    with atomic_write(folder / CONFIG_NAME, "w", overwrite=overwrite) as handle:
        handle.write(json.dumps(config, indent=2, sort_keys=True) + "\n")
    with atomic_write(folder / CARD_NAME, "w", overwrite=overwrite) as handle:
        handle.write(text)
    return folder


def load_pretrained(
    source: str | os.PathLike[str],
    *,
    force_download: bool = False,
    token: str | bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    local_files_only: bool = False,
    revision: str | None = None,
    **overrides: Any,
) -> DepthModel:
    """``DepthModel.from_pretrained``: a ``save_pretrained`` folder, a local :func:`depthzoo.load` source or a repo id.

    The Hub options (``revision``, ``token``, ...) apply to a Hugging Face repository only.
    """
    source = os.fspath(source)
    if Path(source).expanduser().is_dir():
        return load(source, format="hub-folder", **overrides)
    if Path(source).expanduser().exists():  # a model file: any local source depthzoo.load reads
        return load(source, **overrides)
    options = {
        "revision": revision,
        "cache_dir": cache_dir,
        "token": token,
        "local_files_only": local_files_only,
        "force_download": force_download,
    }
    return load(source, format="hf-repo", **options, **overrides)


# ------------------------------------------------------------------------------------------------- model card
def _hub_license(text: str) -> tuple[str, str | None]:
    """(Hub licence id, name for 'other') of a licence text such as 'BSD-2-Clause (...)' or 'mit'."""
    key = text.strip().split(" ", 1)[0].lower()
    return (HUB_LICENSES[key], None) if key in HUB_LICENSES else ("other", text.strip())


def _table(rows: dict[str, Any]) -> str:
    lines = ["| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in rows.items() if value is not None]
    return "\n".join(lines)


def _metrics_table(metrics: dict[str, float]) -> str:
    names = list(metrics)
    return "\n".join(
        [
            "| " + " | ".join(names) + " |",
            "|" + "---:|" * len(names),
            "| " + " | ".join(f"{metrics[n]:.4f}" for n in names) + " |",
        ]
    )


def model_card(
    model: DepthModel,
    config: dict[str, Any] | None = None,
    license: str | None = None,
    training: dict[str, Any] | None = None,
    evaluation: dict[str, Any] | None = None,
    name: str | None = None,
    repo_id: str | None = None,
) -> str:
    """The model card (``README.md`` with Hub metadata) of ``model``.

    Args:
        model: the model described.
        config: its build config (default ``model.config``).
        license: the weights' licence (default: the config's ``license``); an SPDX-style name such as "mit".
        training: what it was trained on: ``{"data": {...}, "epochs": n, "steps": n, "loss": name, ...}``.
        evaluation: how it was evaluated: ``{"data": {...}, "protocol": {...}, "metrics": {name: value}}``.
        name: the card's title (default: encoder + decoder).
        repo_id: where it will live, for the usage example.
    """
    config = dict(config if config is not None else model.config)
    license = license or config.get("license")
    output_kind = config.get("output_kind", model.output_kind)
    title = name or f"{config['encoder']} + {config['decoder']} depth model"
    hub_license, license_name = _hub_license(license) if license else (None, None)
    card_data = ModelCardData(
        library_name="depthzoo",
        license=hub_license,
        license_name=license_name,
        pipeline_tag="depth-estimation",
        tags=[*TAGS, "model_hub_mixin", "pytorch_model_hub_mixin", output_kind],
        model_name=title,
    )
    params = sum(p.numel() for p in model.parameters())
    options = config.get("decoder_kwargs") or {}
    architecture = {
        "encoder": f"`{config['encoder']}` (timm name)"
        + (f", first {config['encoder_depth']} feature levels" if config.get("encoder_depth") else ""),
        "decoder": f"`{config['decoder']}`" + (f" with `{json.dumps(options, sort_keys=True)}`" if options else ""),
        "parameters": f"{params:,}",
        "output stride": f"{model.output_stride}: `model(x)` returns depth at 1/{model.output_stride} of the input "
        "size, `model.predict(x)` at the input size",
        "weights from": config.get("weights_from"),
    }
    mean = [round(float(v), 4) for v in model.input_mean.flatten()]
    std = [round(float(v), 4) for v in model.input_std.flatten()]
    multiple = model.input_multiple
    input_text = (
        "A float tensor (B, 3, H, W) of **RGB** values in **[0, 1]** (not 0..255, not BGR). The model normalises "
        f"it itself (mean {mean}, std {std}). Any size works"
        + (f"; sizes that are not a multiple of {multiple} are padded and the output cropped" if multiple > 1 else "")
        + "."
    )
    sections = [
        f"# {title}",
        f"Monocular depth estimation with depthzoo {__version__}: one RGB "
        "image in, a depth map out.",
        "## Architecture\n\n" + _table(architecture),
        f"## Output\n\n`output_kind`: `{output_kind}`, {OUTPUT_MEANING.get(output_kind, output_kind)}",
        "## Input\n\n" + input_text,
        "## Training data\n\n" + (_table(_flatten(training)) if training else "Not recorded with this model."),
        "## Evaluation\n\n" + (_evaluation_text(evaluation) if evaluation else "No evaluation was recorded with it."),
        "## Licence\n\n"
        + (
            f"{license}"
            if license
            else "Not stated. Whoever publishes these weights should state their licence (and that of the data "
            "they were trained on)."
        ),
        "## Use\n\n```python\nimport depthzoo\n\n"
        f"model = depthzoo.load({(repo_id or 'path/to/this/folder')!r})\n"
        "depth = model.predict(images)  # (B, 3, H, W) RGB in [0, 1] -> (B, 1, H, W)\n```",
    ]
    return ModelCard(f"---\n{card_data.to_yaml()}\n---\n\n" + "\n\n".join(sections) + "\n").content


def _flatten(values: dict[str, Any]) -> dict[str, Any]:
    """Table rows of a record: nested dicts inline (their keys are distinct), lists as code, None left out."""
    rows: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            rows.update(_flatten(value))
        elif value is not None:
            rows[key] = f"`{value}`" if isinstance(value, (list, tuple)) else value
    return rows


def _evaluation_text(evaluation: dict[str, Any]) -> str:
    parts = []
    if evaluation.get("data"):
        parts.append("Data:\n\n" + _table(_flatten(evaluation["data"])))
    if evaluation.get("protocol"):
        parts.append("Protocol (`DepthMetrics` settings):\n\n" + _table(_flatten(evaluation["protocol"])))
    if evaluation.get("metrics"):
        parts.append("Metrics:\n\n" + _metrics_table(evaluation["metrics"]))
    return "\n\n".join(parts)


connect_hub(HubOperations(save_folder=save_pretrained_folder, load_pretrained=load_pretrained, model_card=model_card))


__all__ = [
    "HubMixin",
    "check_pretrained_folder",
    "download_pretrained",
    "load_pretrained",
    "model_card",
    "read_pretrained_folder",
    "save_pretrained_folder",
]
