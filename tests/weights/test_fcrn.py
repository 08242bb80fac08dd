"""The official FCRN weights: the 394-tensor mapping, both file formats, and the official graph's output reproduced."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from fcrn_fixtures import nested, official_variables, write_npy_protocol2, write_npy_python2
from fcrn_reference import OfficialGraph
from tf_bundle_writer import write_tf_checkpoint

from depthzoo.formats.safe_pickle import UnsafePickleError
from depthzoo.models.layers import InterleavedConv
from depthzoo.weights import fcrn
from depthzoo.weights.fcrn import (
    OfficialWeightsError,
    convert_official_tensors,
    create_official_model,
    from_fcrn_official,
    official_layers,
    official_tensor_map,
    read_official_tensors,
)
from depthzoo.weights.manifest import checkpoint_info


@pytest.fixture(scope="module")
def meta_model():
    with torch.device("meta"):
        return create_official_model()


@pytest.fixture(scope="module")
def ckpt_model(official_model):
    return official_model


def _expected(name: str, array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(array.transpose(3, 2, 0, 1).copy() if array.ndim == 4 else array)


def test_name_map_is_the_official_list_one_to_one(meta_model) -> None:
    official = official_variables()
    mapping = official_tensor_map()
    assert list(official) != [] and set(mapping) == set(official) and len(mapping) == 394
    params = [name.rsplit("/", 1)[1] for name in mapping]
    assert params.count("weights") == 91 and params.count("biases") == 39
    assert all(params.count(p) == 66 for p in ("mean", "variance", "scale", "offset"))
    assert len(set(mapping.values())) == 394  # no model tensor receives two official tensors
    assert len(official_layers()) == len(nested(official)) == 91 + 66  # 53 encoder + 38 decoder convs, 66 BN
    state = meta_model.state_dict()
    uncovered = set(state) - set(mapping.values())
    assert uncovered and all(key.endswith("num_batches_tracked") for key in uncovered)
    for name, key in mapping.items():
        shape = official[name]
        expected = (shape[3], shape[2], shape[0], shape[1]) if len(shape) == 4 else shape  # HWIO -> OIHW
        assert tuple(state[key].shape) == expected, name


def test_bn_parameters_map_to_running_stats_and_affine() -> None:
    mapping = official_tensor_map()
    assert mapping["bn_conv1/mean"] == "encoder.model.bn1.running_mean"
    assert mapping["bn_conv1/variance"] == "encoder.model.bn1.running_var"
    assert mapping["bn_conv1/scale"] == "encoder.model.bn1.weight"
    assert mapping["bn_conv1/offset"] == "encoder.model.bn1.bias"
    assert mapping["res3a_branch1/weights"] == "encoder.model.layer2.0.downsample.0.weight"
    assert mapping["layer8x_br2_ConvC/weights"] == "decoder.blocks.2.branch2_up.conv_c.weight"
    assert mapping["layer16x_BN/mean"] == "decoder.blocks.3.branch1_conv_bn.running_mean"
    assert mapping["ConvPred/biases"] == "decoder.head_conv.bias"
    assert sum(kind == "bn" for _, kind in official_layers().values()) == 66


def test_checkpoint_weights_land_where_the_map_says(ckpt_model, official_tensors: dict[str, np.ndarray]) -> None:
    state = ckpt_model.state_dict()
    for name, key in official_tensor_map().items():
        torch.testing.assert_close(state[key], _expected(name, official_tensors[name]), rtol=0, atol=0, msg=name)
    assert not ckpt_model.training
    assert ckpt_model.config == {
        "encoder": "fcrn_resnet50",
        "decoder": "fast_upproj",
        "decoder_kwargs": {"padding": "tf", "bn_eps": 1e-4},
        "output_kind": "metric",
        "weights_from": "official FCRN NYU release",
        "license": fcrn.LICENSE,  # for model cards
    }
    assert fcrn.LICENSE == checkpoint_info("fcrn_nyu")["license"]


def test_reproduces_the_official_graph(ckpt_model, official_tensors: dict[str, np.ndarray]) -> None:
    """DepthModel (float32, RGB in [0, 1]) vs the official graph in float64 NumPy (RGB 0..255), odd and even sizes."""
    rgb = np.random.default_rng(1).uniform(0.0, 1.0, size=(1, 36, 50, 3))
    reference = OfficialGraph(official_tensors)(rgb * 255.0)[..., 0]
    assert reference.shape == (1, 32, 32) and (reference > 0).mean() > 0.2
    with torch.no_grad():
        output = ckpt_model(torch.from_numpy(rgb).permute(0, 3, 1, 2).float())[:, 0].double().numpy()
    scale = np.abs(reference).max()
    np.testing.assert_allclose(output, reference, rtol=1e-4, atol=1e-5 * scale)
    # The same weights with the geometric up-sampling padding do not reproduce it (the test can fail).
    interleaved = [m for m in ckpt_model.modules() if isinstance(m, InterleavedConv)]
    assert len(interleaved) == 8
    try:
        for module in interleaved:
            module.padding = "geometric"
        with torch.no_grad():
            shifted = ckpt_model(torch.from_numpy(rgb).permute(0, 3, 1, 2).float())[:, 0].double().numpy()
    finally:
        for module in interleaved:
            module.padding = "tf"
    assert np.abs(shifted - reference).max() > 1e-2 * scale


def test_stem_matches_the_official_stem(ckpt_model, official_tensors: dict[str, np.ndarray]) -> None:
    rgb = np.random.default_rng(2).uniform(0.0, 1.0, size=(1, 21, 30, 3))
    graph = OfficialGraph(official_tensors)
    reference = graph.max_pool_tf_same(graph.stem(rgb * 255.0)).transpose(0, 3, 1, 2)
    encoder = ckpt_model.encoder.model
    with torch.no_grad():
        x = torch.from_numpy(rgb).permute(0, 3, 1, 2).float() * 255.0
        ours = encoder.maxpool(encoder.act1(encoder.bn1(encoder.conv1(x)))).double().numpy()
    np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-5 * np.abs(reference).max())


def test_checkpoint_extras_are_skipped_by_kind(
    official_files: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="depthzoo.weights.fcrn"):
        source = read_official_tensors(official_files["ckpt"], verify_checksums=False)
    assert source.source_format == "tf-checkpoint" and len(source.tensors) == 394
    assert source.skipped == {
        "ConvPred/weights/Momentum": "optimizer slot",
        "global_step": "training counter",
        "x_0_3": "interleave index table",
    }


def _small_checkpoint(folder: Path, extra: dict[str, np.ndarray]) -> Path:
    return write_tf_checkpoint(folder / "small.ckpt", {"ConvPred/biases": np.ones(1, np.float32), **extra})


def test_unknown_checkpoint_tensor_is_named(tmp_path: Path) -> None:
    prefix = _small_checkpoint(tmp_path, {"layer32x_Conv/weights": np.zeros((3, 3, 2, 2), np.float32)})
    with pytest.raises(OfficialWeightsError, match=r"'layer32x_Conv/weights' \(float32 \[3, 3, 2, 2\]\)"):
        read_official_tensors(prefix)


def test_float_tensor_named_like_an_index_table_is_not_skipped(tmp_path: Path) -> None:
    prefix = _small_checkpoint(tmp_path, {"x_1": np.zeros(3, np.float32)})
    with pytest.raises(OfficialWeightsError, match="'x_1'"):
        read_official_tensors(prefix)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.pop("layer4x_br2_ConvB/biases"), r"missing 1 official tensor\(s\): layer4x_br2_ConvB/biases"),
        (lambda t: t.update({"layer1/extra": np.zeros(2, np.float32)}), r"1 unknown tensor\(s\).*: layer1/extra"),
        (
            lambda t: t.update({"res4b_branch2b/weights": np.zeros((3, 3, 256, 128), np.float32)}),
            r"res4b_branch2b/weights has shape \[3, 3, 256, 128\]; expected \[3, 3, 256, 256\]",
        ),
        (
            lambda t: t.update({"layer8x_br1_ConvB/weights": np.zeros((3, 2, 256, 128), np.float32)}),  # B/C swapped
            r"layer8x_br1_ConvB/weights has shape \[3, 2, 256, 128\]; expected \[2, 3, 256, 128\]",
        ),
        (lambda t: t["bn_conv1/mean"].__setitem__(3, np.nan), r"bn_conv1/mean holds 1 NaN/inf"),
        (lambda t: t["layer1_BN/variance"].__setitem__(0, -1.0), r"layer1_BN/variance has negative variances"),
        (lambda t: t.update({"conv1/biases": np.zeros(64, np.int32)}), r"conv1/biases has dtype int32"),
    ],
)
def test_bad_tensors_are_named(meta_model, official_tensors: dict[str, np.ndarray], edit, message: str) -> None:
    tensors = dict(official_tensors)
    for name in ("bn_conv1/mean", "layer1_BN/variance"):
        tensors[name] = tensors[name].copy()
    edit(tensors)
    with pytest.raises(OfficialWeightsError, match=message):
        convert_official_tensors(tensors, meta_model)


def test_python3_protocol2_npy_reads_like_the_python2_one(tmp_path: Path) -> None:
    payload = {
        "conv1": {"weights": np.arange(12, dtype=np.float32).reshape(1, 2, 3, 2), "biases": np.ones(2, np.float32)}
    }
    (tmp_path / "py2").mkdir()
    py2 = write_npy_python2(tmp_path / "py2" / "NYU_ResNet-UpProj.npy", payload)
    for path in (py2, py2.parent, write_npy_protocol2(tmp_path / "py3.npy", payload)):  # a folder holding it works too
        tensors = read_official_tensors(path).tensors
        assert set(tensors) == {"conv1/weights", "conv1/biases"}
        np.testing.assert_array_equal(tensors["conv1/weights"], payload["conv1"]["weights"])


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_npy_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = write_npy_protocol2(tmp_path / "NYU_ResNet-UpProj.npy", {"conv1": {"weights": _Payload(marker)}})
    assert b"system" in path.read_bytes()  # the payload really is in the file
    with pytest.raises(UnsafePickleError, match=r"refused to load global (posix|nt)\.system"):
        from_fcrn_official(path)
    assert not marker.exists()
    with pytest.raises(OfficialWeightsError, match="does not hold a pickled dict"):
        read_official_tensors(write_npy_protocol2(tmp_path / "list.npy", [np.zeros(2)]))


def test_npy_with_a_non_array_value_is_rejected(tmp_path: Path) -> None:
    path = write_npy_protocol2(tmp_path / "w.npy", {"conv1": {"weights": [1.0, 2.0]}})
    with pytest.raises(OfficialWeightsError, match="conv1/weights is a list, not an array"):
        read_official_tensors(path)


def test_missing_paths_say_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="NYU_ResNet-UpProj.npy"):
        from_fcrn_official(tmp_path / "nothing.npy")
    with pytest.raises(FileNotFoundError, match=r"expected .*NYU_FCRN\.ckpt\.index"):
        from_fcrn_official(tmp_path / "NYU_FCRN.ckpt")


def test_release_zip_loads_through_the_hub(
    tmp_path: Path, official_files: dict[str, Path], ckpt_model, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The release layout end to end: a zip of NYU_FCRN.ckpt.* -> hub.load_checkpoint (size, sha256, load in place)."""
    import zipfile

    from depthzoo.weights import manifest as hub

    archive = tmp_path / "NYU_FCRN-checkpoint.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as handle:
        for suffix in (".index", ".data-00000-of-00001"):
            handle.write(f"{official_files['ckpt']}{suffix}", f"NYU_FCRN.ckpt{suffix}")
        handle.writestr("NYU_FCRN.ckpt.meta", b"graph, not needed")
    entry = hub.checkpoint_info("fcrn_nyu")
    entry.update(size=archive.stat().st_size, sha256=hub.sha256_file(archive))
    monkeypatch.setattr(hub, "_manifest", lambda: {"fcrn_nyu": entry})
    model = hub.load_checkpoint("fcrn_nyu", archive)
    assert [p.name for p in tmp_path.iterdir()] == [archive.name]  # read in place: nothing extracted
    for (key, a), (_, b) in zip(model.state_dict().items(), ckpt_model.state_dict().items(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=key)
