"""Known checkpoints: the shipped manifest, verification by size and sha256, loading by format."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

from depthzoo.models import create_model
from depthzoo.utils import files
from depthzoo.utils.files import sha256_file
from depthzoo.weights import fcrn
from depthzoo.weights import manifest as hub
from depthzoo.weights.model_file import save_model

OFFICIAL_SHA256 = "9d97ed165c4a5b3f085eb83b8814de1e883c6348da60da4b2568ddd64bb2d5c4"


def test_manifest_lists_the_official_checkpoint() -> None:
    assert {"fcrn_nyu", "fcrn_nyu_npy"} <= set(hub.list_checkpoints())
    info = hub.checkpoint_info("fcrn_nyu")
    assert (info["file_name"], info["size"], info["sha256"]) == (
        "NYU_FCRN-checkpoint.zip",
        472_588_519,
        OFFICIAL_SHA256,
    )
    assert any(
        "storage.openvinotoolkit.org" in url and url.endswith("/NYU_FCRN-checkpoint.zip") for url in info["urls"]
    )
    assert info["license"].startswith("BSD-2-Clause") and info["format"] == "tf-checkpoint-zip"
    assert info["architecture"] == {
        "encoder": fcrn.ENCODER,
        "decoder": fcrn.DECODER,
        "decoder_kwargs": fcrn.DECODER_KWARGS,
    }
    info["size"] = 0  # a copy: the manifest itself is untouched
    assert hub.checkpoint_info("fcrn_nyu")["size"] == 472_588_519


def test_unknown_name_suggests() -> None:
    with pytest.raises(KeyError, match=r"unknown checkpoint 'fcrn_nuy'\. Did you mean: fcrn_nyu"):
        hub.checkpoint_info("fcrn_nuy")


def test_missing_file_says_where_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(hub.CHECKPOINT_DIR_ENV, str(tmp_path / "store"))
    with pytest.raises(FileNotFoundError) as caught:
        hub.load_checkpoint("fcrn_nyu")
    message = str(caught.value)
    assert "storage.openvinotoolkit.org" in message and "NYU_FCRN-checkpoint.zip" in message
    assert (
        "load_checkpoint('fcrn_nyu', 'path/to/NYU_FCRN-checkpoint.zip')" in message
        and str(tmp_path / "store") in message
    )
    with pytest.raises(FileNotFoundError, match="No working download link is known"):
        hub.verify_checkpoint("fcrn_nyu_npy", tmp_path)


@pytest.fixture
def fake_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict]:
    """A small file registered under the name "tiny", with its real size and sha256."""
    file = tmp_path / "tiny.bin"
    file.write_bytes(b"depth" * 1000)
    entry = {
        "file_name": "tiny.bin",
        "size": 5000,
        "sha256": hashlib.sha256(b"depth" * 1000).hexdigest(),
        "format": "tf-checkpoint-zip",
        "urls": ["https://example.invalid/tiny.bin"],
    }
    monkeypatch.setattr(hub, "_manifest", lambda: {"tiny": entry})
    return file, entry


def test_verify_by_size_and_streamed_sha256(fake_entry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file, entry = fake_entry
    assert hub.verify_checkpoint("tiny", file) == file
    assert hub.verify_checkpoint("tiny", tmp_path) == file  # a folder holding the file
    monkeypatch.setattr(files, "_CHUNK", 7)  # many chunks: streaming gives the same digest
    assert sha256_file(file) == entry["sha256"]
    file.write_bytes(b"DEPTH" * 1000)
    with pytest.raises(
        ValueError, match=f"expected {entry['sha256']} .*got {hashlib.sha256(b'DEPTH' * 1000).hexdigest()}"
    ):
        hub.verify_checkpoint("tiny", file)
    file.write_bytes(b"depth")
    with pytest.raises(ValueError, match="has 5 bytes but checkpoint 'tiny' .* has 5,000.*example.invalid"):
        hub.verify_checkpoint("tiny", file)


def test_unpublished_hash_warns(fake_entry) -> None:
    file, entry = fake_entry
    entry["sha256"] = None
    with pytest.warns(UserWarning, match="no published sha256"):
        assert hub.verify_checkpoint("tiny", file) == file


def test_load_dispatches_on_format_after_verifying(fake_entry, tmp_path: Path) -> None:
    file, entry = fake_entry
    model = create_model("test_resnet.r160_in1k", "fast_upconv")
    save_model(model, file, overwrite=True)
    entry.update(format="depthzoo-safetensors", size=file.stat().st_size, sha256=sha256_file(file), license="MIT")
    loaded = hub.load_checkpoint("tiny", file)
    assert torch.equal(loaded.decoder.head_conv.weight, model.decoder.head_conv.weight) and not loaded.training
    assert loaded.config["weights_from"] == "tiny" and loaded.config["license"] == "MIT"
    entry["format"] = "onnx"
    with pytest.raises(ValueError, match="format 'onnx'"):
        hub.load_checkpoint("tiny", file)
    entry["sha256"] = "0" * 64
    with pytest.raises(ValueError, match="sha256 mismatch"):
        hub.load_checkpoint("tiny", file)
