"""``depthzoo.load``: every source gives the same model, overrides, strictness, one error family, downloads."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch
from hubcache import write_hf_cache
from safetensors.torch import save_file

import depthzoo
from depthzoo.errors import DepthzooError, InvalidArgumentError, WeightsError, WeightsNotFoundError
from depthzoo.models import create_model
from depthzoo.weights import loader, manifest
from depthzoo.weights.lightning import save_lightning_checkpoint
from depthzoo.weights.model_file import save_model

TINY = "test_resnet.r160_in1k"


@pytest.fixture(scope="module")
def model():
    net = create_model(TINY, "fast_upproj", padding="tf")
    with torch.no_grad():  # non-default values everywhere, BN statistics included
        for tensor in net.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(torch.rand_like(tensor) + 0.5)
    return net.eval()


def assert_same(loaded: torch.nn.Module, model: torch.nn.Module) -> None:
    assert not loaded.training
    state = loaded.state_dict()
    assert set(state) == set(model.state_dict())
    for key, value in model.state_dict().items():
        assert torch.equal(state[key], value), key


def test_every_source_gives_the_same_model(tmp_path: Path, model, monkeypatch: pytest.MonkeyPatch) -> None:
    sources = {
        "model file": save_model(model, tmp_path / "m.safetensors"),
        "lightning checkpoint": save_lightning_checkpoint(model, tmp_path / "m.ckpt"),
        "save_pretrained folder": model.save_pretrained(tmp_path / "hub"),
    }
    bare = tmp_path / "bare.pth"
    torch.save(model.state_dict(), bare)
    for name, source in sources.items():
        loaded = depthzoo.load(source)
        assert_same(loaded, model)
        assert loaded.config["decoder_kwargs"] == {"padding": "tf"}, name
    assert_same(depthzoo.load(str(bare), encoder=TINY, decoder="fast_upproj", decoder_kwargs={"padding": "tf"}), model)
    cache = tmp_path / "hf"
    write_hf_cache(cache, "someone/tiny-depth", sources["save_pretrained folder"])
    from_hub = depthzoo.load("someone/tiny-depth", cache_dir=cache)
    assert_same(from_hub, model)
    assert from_hub.config["weights_from"] == "hf://someone/tiny-depth"
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(cache))  # the default cache, as users have it
    assert_same(depthzoo.DepthModel.from_pretrained("someone/tiny-depth"), model)


def test_known_names_resolve_to_a_verified_file(tmp_path: Path, model, monkeypatch: pytest.MonkeyPatch) -> None:
    file = save_model(model, tmp_path / "store" / "tiny.safetensors")
    entry = {
        "file_name": "tiny.safetensors",
        "size": file.stat().st_size,
        "sha256": hashlib.sha256(file.read_bytes()).hexdigest(),
        "format": "depthzoo-safetensors",
        "license": "MIT",
        "urls": [],
    }
    monkeypatch.setattr(manifest, "_manifest", lambda: {"tiny": entry})
    monkeypatch.setenv(manifest.CHECKPOINT_DIR_ENV, str(tmp_path / "store"))
    loaded = depthzoo.load("tiny")
    assert_same(loaded, model)
    assert loaded.config["weights_from"] == "tiny" and loaded.config["license"] == "MIT"
    entry["sha256"] = "0" * 64
    with pytest.raises(WeightsError, match="sha256 mismatch"):
        depthzoo.load("tiny")


def test_official_release_with_and_without_overrides(official_files: dict[str, Path], official_model) -> None:
    loaded = depthzoo.load(official_files["npy"])
    assert_same(loaded, official_model)
    geometric = depthzoo.load(official_files["npy"], decoder_kwargs={"padding": "geometric"})  # same tensors
    assert geometric.config["decoder_kwargs"] == {"padding": "geometric", "bn_eps": 1e-4}
    x = torch.rand(1, 3, 64, 80)
    with torch.no_grad():
        assert not torch.allclose(geometric(x), official_model(x))  # B, C, D shifted by one pixel
    prefix = official_files["ckpt"]
    assert loader.identify(prefix)[1].name == "fcrn-official"  # the NYU_FCRN.ckpt prefix, not a Lightning .ckpt
    assert loader.identify(prefix.parent)[1].name == "fcrn-official"  # the folder holding it


def test_architecture_mismatch_is_named_first(tmp_path: Path, model) -> None:
    path = save_model(model, tmp_path / "m.safetensors")
    with pytest.raises(WeightsError, match=r"holds a test_resnet.r160_in1k \+ fast_upproj model, not the "
                                           r"test_resnet.r160_in1k \+ upconv model.*m.safetensors"):
        depthzoo.load(path, decoder="upconv")
    torch.save({"weight": torch.zeros(2)}, tmp_path / "bare.pth")
    with pytest.raises(WeightsError, match="bare weights.*encoder='resnet50', decoder='fast_upproj'"):
        depthzoo.load(tmp_path / "bare.pth")
    save_file({"decoder.extra": torch.zeros(1)}, str(tmp_path / "bare.safetensors"))
    with pytest.raises(WeightsError, match="unexpected decoder.extra"):
        depthzoo.load(tmp_path / "bare.safetensors", encoder=TINY, decoder="fast_upproj")


def test_bad_sources_and_options_are_explained(tmp_path: Path, model) -> None:
    with pytest.raises(WeightsNotFoundError, match=r"not a known checkpoint name \(fcrn_nuy\).*Did you mean: fcrn_nyu"):
        depthzoo.load("fcrn_nuy")
    with pytest.raises(WeightsNotFoundError, match="not in the local cache.*HF_HUB_OFFLINE"):
        depthzoo.load("nobody/no-such-model", cache_dir=tmp_path / "empty-cache")
    (tmp_path / "notes.txt").write_text("not weights")
    with pytest.raises(WeightsError, match="no weight source depthzoo knows.*save_pretrained folder"):
        depthzoo.load(tmp_path / "notes.txt")
    (tmp_path / "broken.ckpt").write_bytes(b"\x00" * 100)
    with pytest.raises(WeightsError, match="not a readable PyTorch checkpoint.*broken.ckpt"):
        depthzoo.load(tmp_path / "broken.ckpt")
    path = save_model(model, tmp_path / "m.safetensors")
    with pytest.raises(InvalidArgumentError, match="unknown option 'verfy'.*accepts: encoder"):
        depthzoo.load(path, verfy=False)
    with pytest.raises(InvalidArgumentError, match="unknown weight format 'onnx'"):
        depthzoo.load(path, format="onnx")
    for error in (WeightsError, WeightsNotFoundError, InvalidArgumentError):
        assert issubclass(error, DepthzooError)


def test_a_registered_format_reads_its_own_files(tmp_path: Path, model) -> None:
    """A release sharing the .pth suffix registers ahead of the generic reader and recognises its files by content."""

    def read(source: loader.Source) -> loader.Weights:
        state = {k.removeprefix("net."): v for k, v in source.checkpoint["release"].items()}
        return loader.Weights(state, dict(model.config), source.text, "tiny-release")

    fmt = loader.SourceFormat(
        "tiny-release",
        lambda source: source.suffix == ".pth" and "release" in source.checkpoint,
        read,
        describe="a tiny release",
    )
    loader.register_format(fmt, before="torch-checkpoint")
    try:
        torch.save({"release": {f"net.{k}": v for k, v in model.state_dict().items()}}, tmp_path / "r.pth")
        assert list(loader.list_formats()).index("tiny-release") < list(loader.list_formats()).index("torch-checkpoint")
        assert_same(depthzoo.load(tmp_path / "r.pth"), model)
        torch.save(model.state_dict(), tmp_path / "plain.pth")  # the generic reader still gets the others
        assert_same(depthzoo.load(tmp_path / "plain.pth", encoder=TINY, decoder="fast_upproj",
                                  decoder_kwargs={"padding": "tf"}), model)
        with pytest.raises(InvalidArgumentError, match="registered twice"):
            loader.register_format(fmt)
    finally:
        loader._FORMATS.pop("tiny-release")


@pytest.fixture
def downloadable(tmp_path: Path, model, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, Path]:
    """A known checkpoint served from a file:// URL (no network), and an empty checkpoint folder."""
    served = save_model(model, tmp_path / "served" / "tiny.safetensors")
    entry = {
        "file_name": "tiny.safetensors",
        "size": served.stat().st_size,
        "sha256": hashlib.sha256(served.read_bytes()).hexdigest(),
        "format": "depthzoo-safetensors",
        "urls": [served.as_uri()],
    }
    monkeypatch.setattr(manifest, "_manifest", lambda: {"tiny": entry})
    monkeypatch.setenv(manifest.CHECKPOINT_DIR_ENV, str(tmp_path / "store"))
    return entry, tmp_path / "store"


def test_known_checkpoints_download_when_online(downloadable, model, monkeypatch: pytest.MonkeyPatch) -> None:
    entry, store = downloadable
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WeightsNotFoundError, match="not found.*Download it from file://"):
        depthzoo.load("tiny")  # offline: nothing is fetched
    assert not store.exists()
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert_same(depthzoo.load("tiny"), model)
    assert sorted(p.name for p in store.iterdir()) == ["tiny.safetensors"]  # no temporary file left
    with pytest.raises(WeightsNotFoundError, match="not found"):
        manifest.load_checkpoint("tiny", store / "elsewhere")  # load_checkpoint never downloads


def test_bad_downloads_leave_nothing(downloadable, monkeypatch: pytest.MonkeyPatch) -> None:
    entry, store = downloadable
    monkeypatch.delenv("HF_HUB_OFFLINE")
    entry["sha256"] = "f" * 64
    with pytest.raises(WeightsError, match="sha256 mismatch for file://"):
        depthzoo.load("tiny")
    assert not list(store.glob("*")) if store.exists() else True
    entry["urls"] = [(store.parent / "missing.safetensors").as_uri()]
    with pytest.raises(WeightsNotFoundError, match="could not download checkpoint 'tiny'.*missing.safetensors"):
        depthzoo.load("tiny")


def test_task_weights_go_through_the_loader(tmp_path: Path, model) -> None:
    from depthzoo.task import DepthTask

    folder = model.save_pretrained(tmp_path / "hub")
    task = DepthTask(weights=str(folder))  # default architecture arguments: the source's architecture is used
    assert_same(task.model, model)
    assert (task.hparams.encoder, task.hparams.decoder, task.hparams.decoder_kwargs) == (
        TINY, "fast_upproj", {"padding": "tf"}
    )
    with pytest.raises(WeightsError, match="not the test_resnet.r160_in1k \\+ deconv model"):
        DepthTask(decoder="deconv", weights=str(folder))  # an explicit, different architecture
    task.hparams.weights = None
    reloaded = DepthTask(**{k: v for k, v in task.hparams.items() if k in ("encoder", "decoder", "decoder_kwargs")})
    assert reloaded.model.config["decoder_kwargs"] == {"padding": "tf"}  # a checkpoint reload rebuilds the same model
    assert json.loads((folder / "config.json").read_text())["encoder"] == TINY


def test_a_depth_anything_release_is_read_once(dav2_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Recognising the format reads the file; the reader reuses that read (releases are 100 MB to 1.3 GB)."""
    import torch

    import depthzoo

    calls: list[str] = []
    real_load = torch.load

    def counting_load(path: object, *args: object, **kwargs: object) -> object:
        calls.append(str(path))
        return real_load(path, *args, **kwargs)

    monkeypatch.setattr(torch, "load", counting_load)
    model = depthzoo.load(dav2_files["relative"])
    assert model.config["weights_from"].startswith("Depth Anything V2 Small")
    assert calls == [str(dav2_files["relative"])]
