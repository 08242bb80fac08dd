"""The demo's models: found where they are kept, loaded once each, a failure named and contained."""

from __future__ import annotations

import json
import threading

import pytest
from demo_helpers import save_smooth_tiny_model
from hubcache import write_hf_cache

from depthzoo.demo.catalogue import Entry, ModelCatalogue, ModelLoadError, discover
from depthzoo.weights.manifest import checkpoint_info


def test_discover_lists_given_sources_then_what_is_kept_here(tmp_path) -> None:
    checkpoints = tmp_path / "checkpoints"
    checkpoints.mkdir()
    (checkpoints / checkpoint_info("dav2_vits")["file_name"]).write_bytes(b"x")  # a known checkpoint's file
    (checkpoints / "converted.safetensors").write_bytes(b"x")
    (checkpoints / "folder").mkdir()
    (checkpoints / "folder" / "config.json").write_text("{}")
    run = tmp_path / "work" / "outputs" / "quickstart" / "checkpoints"
    run.mkdir(parents=True)
    (run / "best-epoch=03.ckpt").write_bytes(b"x")
    (run / "last.ckpt").write_bytes(b"x")
    model_folder = tmp_path / "saved"
    model_folder.mkdir()
    (model_folder / "config.json").write_text(json.dumps({"encoder": "e", "decoder": "d", "depthzoo_version": "1"}))
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"model_type": "bert"}))
    hub = tmp_path / "hub"
    write_hf_cache(hub, "user/depth-model", model_folder)
    write_hf_cache(hub, "user/not-depthzoo", other)
    entries = discover(["mine.safetensors", "mine.safetensors"], root=tmp_path / "work", checkpoint_dir=checkpoints,
                       hub_cache=hub)
    assert [(e.label, e.kind) for e in entries] == [
        ("mine.safetensors", "given"),
        ("dav2_vits", "checkpoint"),
        (str(checkpoints / "converted.safetensors"), "file"),
        (str(checkpoints / "folder"), "file"),
        ("outputs/quickstart/checkpoints/best-epoch=03.ckpt", "run"),
        ("outputs/quickstart/checkpoints/last.ckpt", "run"),
        ("user/depth-model", "hub"),
    ]
    assert entries[1].options == {"path": str(checkpoints / checkpoint_info("dav2_vits")["file_name"])}
    assert entries[-1].options == {"local_files_only": True}
    assert discover(["a"], root=tmp_path / "work", checkpoint_dir=checkpoints, search=False) == [
        Entry("a", "a", "given")]


def test_each_model_loads_once_even_when_asked_together(tmp_path) -> None:
    path = save_smooth_tiny_model(tmp_path)
    catalogue = ModelCatalogue([Entry("tiny", str(path), "given")])
    models = []
    threads = [threading.Thread(target=lambda: models.append(catalogue.get("tiny"))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert catalogue.loads == 1 and len(models) == 4 and all(m is models[0] for m in models)
    assert not models[0].training


def test_a_model_that_fails_names_its_source_and_the_rest_keeps_working(tmp_path) -> None:
    good = save_smooth_tiny_model(tmp_path)
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not safetensors")
    catalogue = ModelCatalogue([Entry("broken", str(broken), "given"), Entry("good", str(good), "given"),
                                Entry("gone", str(tmp_path / "gone.safetensors"), "given")])
    with pytest.raises(ModelLoadError, match=r"model 'broken' could not be loaded: .*broken.safetensors"):
        catalogue.get("broken")
    with pytest.raises(ModelLoadError, match=r"model 'gone' could not be loaded: .*gone.safetensors"):
        catalogue.get("gone")
    assert catalogue.get("good") is catalogue.get("good") and catalogue.loads == 1
    with pytest.raises(ModelLoadError, match="no model 'other' in the demo"):
        catalogue.get("other")
