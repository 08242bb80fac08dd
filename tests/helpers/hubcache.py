"""A Hugging Face Hub cache written by hand, so that ``from_pretrained(repo_id)`` is tested offline."""

from __future__ import annotations

from pathlib import Path

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def write_hf_cache(cache: Path, repo_id: str, folder: Path, commit: str = COMMIT) -> Path:
    """The cache layout of a model repository whose ``main`` holds ``folder``'s files; returns the snapshot."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for file in folder.iterdir():
        (snapshot / file.name).write_bytes(file.read_bytes())
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    return snapshot
