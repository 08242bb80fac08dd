"""``save_pretrained`` folders and Hugging Face Hub repositories holding one, read for :func:`depthzoo.load`.

A folder has the layout of ``huggingface_hub.PyTorchModelHubMixin``: ``config.json`` (how to build the model) and
``model.safetensors`` (a depthzoo model file), plus the model card ``README.md`` (written by :mod:`depthzoo.hub`).
A repository is read through the local Hugging Face cache; with ``HF_HUB_OFFLINE=1`` nothing but the cache is used.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from huggingface_hub import constants, hf_hub_download
from huggingface_hub.constants import CONFIG_NAME, SAFETENSORS_SINGLE_FILE
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    HFValidationError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from depthzoo.errors import WeightsError, WeightsNotFoundError
from depthzoo.models.decoders import list_decoders
from depthzoo.models.encoders import check_encoder_name
from depthzoo.weights.model_file import read_model_weights
from depthzoo.weights.sources import Source, Weights


def read_pretrained_folder(folder: str | os.PathLike[str], source: str | None = None) -> Weights:
    """The weights and architecture of a ``save_pretrained`` folder, for :func:`depthzoo.load`.

    Raises:
        WeightsError: no ``config.json`` or ``model.safetensors``, a config that is not a depthzoo one, or one
            naming an encoder or decoder this installation does not know.
    """
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


def read_hub_folder(source: Source) -> Weights:
    """The ``hub-folder`` format of :func:`depthzoo.load`: a ``save_pretrained`` folder."""
    return read_pretrained_folder(source.path)


def read_hub_repo(
    source: Source,
    revision: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    token: str | bool | None = None,
    local_files_only: bool = False,
    force_download: bool = False,
) -> Weights:
    """The ``hf-repo`` format of :func:`depthzoo.load`: a Hub repository's folder, from the cache or downloaded."""
    folder = download_pretrained(
        source.text,
        revision=revision,
        cache_dir=cache_dir,
        token=token,
        local_files_only=local_files_only,
        force_download=force_download,
    )
    weights = read_pretrained_folder(folder, source=source.text)
    weights.config = {"weights_from": f"hf://{source.text}", **(weights.config or {})}
    weights.format = "hf-repo"
    return weights


__all__ = ["download_pretrained", "read_hub_folder", "read_hub_repo", "read_pretrained_folder"]
