"""Sharing models the Hugging Face Hub way: ``save_pretrained``, ``from_pretrained``, ``push_to_hub``, model cards.

:class:`DepthModel` inherits :class:`HubMixin`, depthzoo's ``huggingface_hub.ModelHubMixin``. A saved folder has the
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
from typing import TYPE_CHECKING, Any

from huggingface_hub import ModelCard, ModelCardData, ModelHubMixin
from huggingface_hub.constants import CONFIG_NAME, SAFETENSORS_SINGLE_FILE

from depthzoo.errors import InvalidArgumentError, OutputExistsError, WeightsError, WeightsNotFoundError
from depthzoo.utils.files import atomic_write, check_output_path
from depthzoo.version import __version__

if TYPE_CHECKING:
    from depthzoo.models.depth_model import DepthModel
    from depthzoo.weights.loader import Weights

CARD_NAME = "README.md"
FOLDER_FILES = (CONFIG_NAME, SAFETENSORS_SINGLE_FILE, CARD_NAME)
TAGS = ["depth-estimation", "monocular-depth-estimation", "depthzoo"]
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
    from depthzoo.weights.model_file import save_model

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


def read_pretrained_folder(folder: str | os.PathLike[str], source: str | None = None) -> Weights:
    """The weights and architecture of a ``save_pretrained`` folder, for :func:`depthzoo.load`.

    Raises:
        WeightsError: no ``config.json`` or ``model.safetensors``, a config that is not a depthzoo one, or one
            naming an encoder or decoder this installation does not know.
    """
    from depthzoo.models.decoders import list_decoders
    from depthzoo.models.encoders import check_encoder_name
    from depthzoo.weights.loader import Weights
    from depthzoo.weights.model_file import read_model_weights

    folder = Path(folder).expanduser()
    shown = source or str(folder)
    config_path, weights_path = folder / CONFIG_NAME, folder / SAFETENSORS_SINGLE_FILE
    if not config_path.is_file():
        raise WeightsError(
            f"the model folder has no {CONFIG_NAME}, so the architecture is unknown",
            source=shown,
            fix="save the model with model.save_pretrained(folder), which writes it; for bare weights pass the "
            "architecture: depthzoo.load(folder + '/model.safetensors', encoder=..., decoder=...)",
        )
    if not weights_path.is_file():
        raise WeightsError(f"the model folder has no {SAFETENSORS_SINGLE_FILE}", source=shown, fix="save it again")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WeightsError(f"{CONFIG_NAME} is not JSON ({exc})", source=shown, fix="save the model again") from None
    if not isinstance(config, dict) or not config.get("encoder") or not config.get("decoder"):
        raise WeightsError(
            f"{CONFIG_NAME} does not name an encoder and a decoder: not a depthzoo model folder",
            source=shown,
            fix="pass a folder written by depthzoo's save_pretrained",
        )
    if config["decoder"] not in list_decoders():
        raise WeightsError(
            f"{CONFIG_NAME} names the decoder {config['decoder']!r}, which this depthzoo does not know "
            f"(known: {', '.join(list_decoders())})",
            source=shown,
            fix="update depthzoo, or install the package that registers that decoder",
        )
    try:
        check_encoder_name(config["encoder"])
    except KeyError as exc:
        raise WeightsError(
            f"{CONFIG_NAME} names an encoder this installation does not know ({exc})",
            source=shown,
            fix="update timm and depthzoo",
        ) from None
    config.pop("depthzoo_version", None)
    state, _ = read_model_weights(weights_path)
    return Weights(state, config, shown, "hub-folder")


def download_pretrained(
    repo_id: str,
    revision: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    token: str | bool | None = None,
    local_files_only: bool = False,
    force_download: bool = False,
) -> Path:
    """The local snapshot folder of a Hub repository's ``config.json`` and ``model.safetensors`` (cache first).

    Raises:
        WeightsNotFoundError: not cached while offline, no such repository (or no access), or the Hub unreachable.
        WeightsError: the repository is no depthzoo model (no ``config.json`` or ``model.safetensors``).
    """
    from huggingface_hub import constants, hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        HfHubHTTPError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    paths = []
    for filename in (CONFIG_NAME, SAFETENSORS_SINGLE_FILE):
        try:
            paths.append(
                hf_hub_download(
                    repo_id,
                    filename,
                    revision=revision,
                    cache_dir=cache_dir,
                    token=token,
                    local_files_only=local_files_only,
                    force_download=force_download,
                )
            )
        except HFValidationError:
            raise WeightsNotFoundError(
                "no such file or folder, and not a valid Hugging Face repository id (user/name)",
                source=repo_id,
                fix="check the path",
            ) from None
        except LocalEntryNotFoundError:
            offline = constants.HF_HUB_OFFLINE or local_files_only
            raise WeightsNotFoundError(
                f"no such file or folder, and the Hugging Face repository's {filename} is not in the local "
                f"cache" + (" (offline: HF_HUB_OFFLINE is set)" if offline else " and the Hub cannot be reached"),
                source=repo_id,
                fix="check the path; for a Hub repository, load it once online (unset HF_HUB_OFFLINE) so that it is "
                "cached, or download the folder and pass its path",
            ) from None
        except (RepositoryNotFoundError, GatedRepoError, RevisionNotFoundError) as exc:
            raise WeightsNotFoundError(
                f"no such file or folder, and no such Hugging Face repository or revision ({type(exc).__name__})",
                source=repo_id,
                fix="check the spelling; a private or gated repository needs token=... (or 'hf auth login')",
            ) from None
        except EntryNotFoundError:
            raise WeightsError(
                f"the Hugging Face repository has no {filename}: it is not a depthzoo model",
                source=repo_id,
                fix="upload a folder written by save_pretrained (or use model.push_to_hub)",
            ) from None
        except (HfHubHTTPError, OSError) as exc:
            raise WeightsNotFoundError(
                f"cannot download from the Hugging Face Hub ({exc})",
                source=repo_id,
                fix="check the network, or download the folder and pass its path",
            ) from None
    return Path(paths[0]).parent


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


# ---------------------------------------------------------------------------------------------------- the mixin
class HubMixin(
    ModelHubMixin,
    library_name="depthzoo",
    tags=TAGS,
    pipeline_tag="depth-estimation",
):
    """``save_pretrained``, ``from_pretrained`` and ``push_to_hub`` for :class:`DepthModel` (huggingface_hub's mixin).

    Saving is atomic and never replaces files unless ``overwrite=True``; loading goes through
    :func:`depthzoo.load`, so it is strict and its errors are :class:`~depthzoo.errors.WeightsError`.
    """

    def save_pretrained(  # type: ignore[override]
        self,
        save_directory: str | os.PathLike[str],
        *,
        config: dict[str, Any] | None = None,
        repo_id: str | None = None,
        push_to_hub: bool = False,
        model_card_kwargs: dict[str, Any] | None = None,
        overwrite: bool = False,
        license: str | None = None,
        training: dict[str, Any] | None = None,
        evaluation: dict[str, Any] | None = None,
        **push_to_hub_kwargs: Any,
    ) -> Path:
        """Write ``config.json``, ``model.safetensors`` and a model card ``README.md`` into ``save_directory``.

        Args:
            save_directory: the folder (created when missing).
            config: the build config to record (default ``self.config``).
            repo_id: the Hub repository, for ``push_to_hub`` and the card's usage example.
            push_to_hub: also upload the folder (then returns the commit URL).
            model_card_kwargs: more for the card: ``license``, ``training``, ``evaluation``, ``name``.
            overwrite: replace the three files when present.
            license: the weights' licence, e.g. "mit" (recorded in ``config.json`` and the card).
            training: the training data and recipe, for the card.
            evaluation: ``{"data": ..., "protocol": ..., "metrics": ...}`` of a test run, for the card.
            **push_to_hub_kwargs: passed to :meth:`push_to_hub`.

        Returns:
            The folder (or, with ``push_to_hub``, the commit URL).
        """
        card = dict(model_card_kwargs or {})
        card.update({k: v for k, v in (("license", license), ("training", training), ("evaluation", evaluation)) if v})
        unknown = set(card) - {"license", "training", "evaluation", "name", "repo_id"}
        if unknown:
            raise InvalidArgumentError(f"unknown model card argument(s) {sorted(unknown)}")
        card.setdefault("repo_id", repo_id)
        folder = save_pretrained_folder(self, save_directory, overwrite=overwrite, config=config, **card)  # type: ignore[arg-type]
        if push_to_hub:
            card.pop("repo_id", None)
            return self.push_to_hub(  # type: ignore[return-value]
                repo_id or folder.name, config=config, model_card_kwargs=card, **push_to_hub_kwargs
            )
        return folder

    def push_to_hub(self, repo_id: str, *, model_card_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> str:  # type: ignore[override]
        """Upload the ``save_pretrained`` folder to the Hub repository ``repo_id`` (created when missing).

        Args:
            repo_id: ``user/name``.
            model_card_kwargs: ``license``, ``training``, ``evaluation``, ``name`` for the card.
            **kwargs: ``huggingface_hub.ModelHubMixin.push_to_hub`` options (``private``, ``token``, ``branch``,
                ``commit_message``, ...).
        """
        card = dict(model_card_kwargs or {})
        card.setdefault("repo_id", repo_id)  # the card's usage example names the repository
        return super().push_to_hub(repo_id, model_card_kwargs=card, **kwargs)

    def _save_pretrained(self, save_directory: Path) -> None:
        save_pretrained_folder(self, save_directory)  # type: ignore[arg-type]

    @classmethod
    def from_pretrained(  # type: ignore[override]
        cls,
        pretrained_model_name_or_path: str | os.PathLike[str],
        *,
        force_download: bool = False,
        token: str | bool | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        local_files_only: bool = False,
        revision: str | None = None,
        **overrides: Any,
    ) -> DepthModel:
        """A model from a ``save_pretrained`` folder or a Hugging Face repository id, in eval mode.

        Args:
            pretrained_model_name_or_path: the folder, or ``user/name`` on the Hub (cached; offline-safe).
            force_download: download again even when cached.
            token: for private or gated repositories.
            cache_dir: the Hugging Face cache to use.
            local_files_only: never download.
            revision: a branch, tag or commit of the repository.
            **overrides: :func:`depthzoo.load` overrides, e.g. ``map_location="cuda"``.
        """
        from depthzoo.weights.loader import load

        source = os.fspath(pretrained_model_name_or_path)
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

    @classmethod
    def _from_pretrained(cls, *, model_id: str, **kwargs: Any) -> DepthModel:
        return cls.from_pretrained(model_id, **kwargs)

    def generate_model_card(self, *args: Any, **kwargs: Any) -> ModelCard:
        """The model card of this model (``README.md``); keyword arguments as in :func:`model_card`."""
        return ModelCard(model_card(self, **kwargs))  # type: ignore[arg-type]


__all__ = [
    "HubMixin",
    "check_pretrained_folder",
    "download_pretrained",
    "model_card",
    "read_pretrained_folder",
    "save_pretrained_folder",
]
