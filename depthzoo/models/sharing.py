"""The Hugging Face Hub methods of :class:`~depthzoo.models.DepthModel` (huggingface_hub's ``ModelHubMixin``).

``save_pretrained``, ``from_pretrained``, ``push_to_hub`` and ``generate_model_card``. What they do is the work of
:mod:`depthzoo.hub`: writing a folder with its model card, and loading any :func:`depthzoo.load` source, which builds
models, so it sits in the layer above the models. :mod:`depthzoo.hub` connects its operations here
(:func:`connect_hub`) when it is imported, and ``import depthzoo`` imports it, so these methods work as soon as the
package is imported.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huggingface_hub import ModelCard, ModelHubMixin

from depthzoo.errors import DepthzooError, InvalidArgumentError

TAGS = ["depth-estimation", "monocular-depth-estimation", "depthzoo"]


@dataclass(frozen=True)
class HubOperations:
    """What the Hub methods need from the layer above the models.

    Args:
        save_folder: ``save_folder(model, folder, overwrite=False, config=None, **card) -> folder``.
        load_pretrained: ``load_pretrained(folder_file_or_repo_id, **options) -> model``.
        model_card: ``model_card(model, **card) -> text``.
    """

    save_folder: Callable[..., Path]
    load_pretrained: Callable[..., Any]
    model_card: Callable[..., str]


_OPERATIONS: list[HubOperations] = []


def connect_hub(operations: HubOperations) -> None:
    """Give the Hub methods their operations (:mod:`depthzoo.hub` does this when it is imported)."""
    _OPERATIONS[:] = [operations]


def _hub() -> HubOperations:
    if not _OPERATIONS:
        raise DepthzooError(
            "the Hugging Face Hub methods are not connected: import depthzoo (or depthzoo.hub) before using them"
        )
    return _OPERATIONS[0]


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
        folder = _hub().save_folder(self, save_directory, overwrite=overwrite, config=config, **card)
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
        _hub().save_folder(self, save_directory)

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
    ) -> Any:
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
        return _hub().load_pretrained(
            pretrained_model_name_or_path,
            force_download=force_download,
            token=token,
            cache_dir=cache_dir,
            local_files_only=local_files_only,
            revision=revision,
            **overrides,
        )

    @classmethod
    def _from_pretrained(cls, *, model_id: str, **kwargs: Any) -> Any:
        return cls.from_pretrained(model_id, **kwargs)

    def generate_model_card(self, *args: Any, **kwargs: Any) -> ModelCard:
        """The model card of this model (``README.md``); keyword arguments as in :func:`depthzoo.hub.model_card`."""
        return ModelCard(_hub().model_card(self, **kwargs))


__all__ = ["TAGS", "HubMixin", "HubOperations", "connect_hub"]
