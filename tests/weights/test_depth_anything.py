"""Depth Anything V2 releases: the layout, exact outputs against an independent numpy forward pass, every bad input.

The weights are random tensors in the released layout (names and shapes of the ViT-S listing; Base and Large derived
from the architecture facts); the reference is ``tests/helpers/dav2_reference.py`` (float64 numpy, no depthzoo code).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import dav2_fixtures as fx
import dav2_reference as ref
import numpy as np
import pytest
import torch

import depthzoo
from depthzoo.errors import WeightsError, WeightsNotFoundError
from depthzoo.models import create_model
from depthzoo.weights import depth_anything as dav2
from depthzoo.weights.manifest import checkpoint_info, list_checkpoints
from depthzoo.weights.model_file import load_model, save_model

SIZES = [(518, 518), (364, 490)]
UNUSED = ["pretrained.mask_token"] + [
    f"depth_head.scratch.refinenet4.resConfUnit1.{c}.{p}" for c in ("conv1", "conv2") for p in ("weight", "bias")
]


@pytest.fixture(scope="module")
def weights(dav2_weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return dav2_weights


@pytest.fixture(scope="module")
def files(dav2_files: dict[str, Path]) -> dict[str, Path]:
    return dav2_files


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def loaded(files: dict[str, Path]) -> tuple[dict[str, depthzoo.DepthModel], list[str]]:
    """Both heads loaded from the files once, with what the loader logged."""
    logger = logging.getLogger("depthzoo.weights.depth_anything")
    records, level = _Records(), logger.level
    logger.addHandler(records)
    logger.setLevel(logging.INFO)
    try:
        models = {
            "relative": depthzoo.from_depth_anything_v2(files["relative"]),
            "metric": depthzoo.from_depth_anything_v2(files["metric"], max_depth=20),
        }
    finally:
        logger.removeHandler(records)
        logger.setLevel(level)
    return models, records.messages


@pytest.fixture(scope="module")
def models(loaded) -> dict[str, depthzoo.DepthModel]:
    return loaded[0]


@pytest.fixture(scope="module")
def images() -> dict[tuple[int, int], torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    return {size: torch.rand(1, 3, *size, generator=generator) for size in SIZES}


@pytest.fixture(scope="module")
def reference(weights, images) -> dict[tuple[int, int], np.ndarray]:
    """The official forward pass up to the head's last activation, float64, per input size."""
    numpy_weights = {k: v.double().numpy() for k, v in weights.items()}
    return {size: ref.forward_logits(numpy_weights, image[0].double().numpy(), (2, 5, 8, 11), heads=6)
            for size, image in images.items()}


def assert_within_range(ours: torch.Tensor, expected: np.ndarray, fraction: float = 1e-4) -> None:
    span = float(expected.max() - expected.min())
    error = float(np.abs(ours.double().numpy() - expected).max())
    assert span > 0.1, "the reference output hardly varies: the test could not fail"
    assert error <= fraction * span, f"max error {error:.3g} is {error / span:.3g} of the output's range"


# ------------------------------------------------------------------------------------------------------ layout
def test_layout_facts_reproduce_the_released_listing() -> None:
    listing = fx.vits_listing()
    assert fx.release_layout("vits") == listing and list(fx.release_layout("vits")) == list(listing)
    assert len(listing) == 239 and sum(int(np.prod(s)) for s in listing.values()) == 24_785_089
    assert len(fx.release_layout("vitl")) == 239 + 12 * 14


@pytest.mark.parametrize("size", ["vits", "vitb", "vitl"])
def test_each_size_is_inferred_and_its_model_takes_every_used_tensor(size: str) -> None:
    """Shapes only (meta tensors): the layout of Base and Large is checked without building 1.3 GB of weights."""
    layout = fx.release_layout(size)
    state = {name: torch.empty(shape, device="meta") for name, shape in layout.items()}
    variant = dav2.infer_variant(state, "x.pth")
    assert variant.code == size and variant.indices == fx.SIZES[size][4]
    with torch.device("meta"):
        model = dav2.create_release_model(variant, max_depth=20.0)
    ours = {dav2.release_name(k): tuple(v.shape) for k, v in model.state_dict().items()}
    assert ours == {k: v for k, v in layout.items() if k not in UNUSED}
    assert model.encoder.model.out_indices == list(fx.SIZES[size][4])


def test_name_maps_are_inverse_one_to_one() -> None:
    layout = fx.release_layout("vits", readout=True)
    targets = {name: dav2.depthzoo_name(name) for name in layout}
    assert len(set(targets.values())) == len(targets)
    for name, target in targets.items():
        assert target is not None and dav2.release_name(target) == name
    assert dav2.depthzoo_name("depth_head.scratch.refinenet1.resConfUnit1.conv2.bias") == (
        "decoder.fusion.0.skip_unit.conv2.bias"
    )
    assert dav2.depthzoo_name("something.else") is None


# ---------------------------------------------------------------------------------------------------- exactness
@pytest.mark.parametrize("size", SIZES)
def test_relative_release_equals_the_official_forward(models, images, reference, size) -> None:
    model = models["relative"]
    assert model.output_kind == "relative_disparity" and not model.training
    with torch.no_grad():
        out = model(images[size])
    assert out.shape == (1, 1, *size)
    expected = ref.relative_output(reference[size])
    assert 0.2 < (expected > 0).mean() < 0.95  # the ReLU is exercised on both sides
    assert_within_range(out[0, 0], expected)


@pytest.mark.parametrize("size", SIZES)
def test_metric_release_equals_the_official_forward(models, images, reference, size) -> None:
    model = models["metric"]
    assert model.output_kind == "metric" and model.decoder.max_depth == 20.0
    with torch.no_grad():
        out = model(images[size])
    assert_within_range(out[0, 0], ref.metric_output(reference[size], 20.0))


def test_timms_position_rule_would_miss_the_official_output(weights, models) -> None:
    """The same weights with timm's interpolation are off by far more than the tolerance: the rule is tested."""
    architecture = dav2.VARIANTS[0].architecture(20.0)
    decoder_kwargs = architecture.pop("decoder_kwargs")
    architecture["pos_embed_interpolation"] = "timm"
    model = create_model(**architecture, **decoder_kwargs).eval()
    model.load_state_dict(models["metric"].state_dict())
    image = torch.rand(1, 3, 98, 126, generator=torch.Generator().manual_seed(8))
    numpy_weights = {k: v.double().numpy() for k, v in weights.items()}
    expected = ref.metric_output(ref.forward_logits(numpy_weights, image[0].double().numpy(), (2, 5, 8, 11), 6), 20.0)
    with torch.no_grad():
        assert_within_range(models["metric"](image)[0, 0], expected)
        out = model(image)[0, 0].double().numpy()
    assert np.abs(out - expected).max() > 1e-2 * (expected.max() - expected.min())


def test_every_tensor_lands_once_and_unused_ones_are_named(weights, models, caplog) -> None:
    model = models["relative"]
    state = model.state_dict()
    used = [name for name in weights if name not in UNUSED]
    assert len(used) == len(state) == 234
    for name in used:
        assert torch.equal(state[dav2.depthzoo_name(name)], weights[name]), name
    assert model.config["license"] == "Apache-2.0" and "Small" in model.config["weights_from"]
    with caplog.at_level(logging.INFO, logger="depthzoo.weights.depth_anything"):
        converted = dav2.convert_release_state(weights, model, "x.pth")
    assert set(converted) == set(state)
    assert "left out 5 tensor(s) the official forward pass never uses" in caplog.text
    assert "masked-token embedding" in caplog.text and "refinenet4" in caplog.text


def test_the_head_built_and_the_unused_tensors_are_logged(loaded) -> None:
    log = "\n".join(loaded[1])
    assert "loaded Depth Anything V2 Small from depth_anything_v2_vits.pth with the relative head (ReLU" in log
    assert "from depth_anything_v2_metric_hypersim_vits.pth with the metric head (sigmoid x 20 m)" in log
    assert log.count("left out 5 tensor(s) the official forward pass never uses") == 2


def test_other_sizes_are_padded_to_a_multiple_of_14_and_cropped(models) -> None:
    """100x130 is not a multiple of 14: the model pads with the mean colour (zero after normalisation) and crops."""
    model = models["metric"]
    image = torch.rand(1, 3, 100, 130, generator=torch.Generator().manual_seed(4))
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    padded = mean.expand(1, 3, 112, 140).clone()
    padded[..., :100, :130] = image
    with torch.no_grad():
        out, full = model(image), model(padded)
    assert out.shape == (1, 1, 100, 130)
    torch.testing.assert_close(out, full[..., :100, :130], rtol=1e-5, atol=1e-5)


def test_class_token_readout_release_equals_the_official_forward(weights) -> None:
    generator = torch.Generator().manual_seed(5)
    tensors = dict(weights)
    for i in range(4):
        tensors[f"depth_head.readout_projects.{i}.0.weight"] = torch.randn(384, 768, generator=generator) / 768**0.5
        tensors[f"depth_head.readout_projects.{i}.0.bias"] = torch.randn(384, generator=generator) * 0.05
    assert set(tensors) == set(fx.release_layout("vits", readout=True))
    variant = dav2.infer_variant(tensors, "x.pth")
    model = dav2.create_release_model(variant, use_clstoken=True).eval()
    dav2.load_release_into(model, tensors, "x.pth")
    assert model.decoder.use_clstoken
    image = torch.rand(1, 3, 70, 98, generator=torch.Generator().manual_seed(6))
    expected = ref.relative_output(ref.forward_logits({k: v.double().numpy() for k, v in tensors.items()},
                                                      image[0].double().numpy(), (2, 5, 8, 11), heads=6))
    with torch.no_grad():
        assert_within_range(model(image)[0, 0], expected)


# ------------------------------------------------------------------------------------------- saving and reloading
SMALL = torch.rand(1, 3, 42, 70, generator=torch.Generator().manual_seed(7))  # a 3x5 grid: the rule is in use


def test_model_file_keeps_the_position_rule_and_the_output_kind(models, tmp_path: Path) -> None:
    path = save_model(models["relative"], tmp_path / "dav2.safetensors")
    loaded = load_model(path)
    assert loaded.config["pos_embed_interpolation"] == "dinov2" and loaded.output_kind == "relative_disparity"
    assert loaded.config["encoder_indices"] == [2, 5, 8, 11]
    with torch.no_grad():
        torch.testing.assert_close(loaded(SMALL), models["relative"](SMALL))


def test_release_loads_through_a_task_built_from_a_config(files, models) -> None:
    from depthzoo.task import DepthTask

    architecture = dav2.VARIANTS[0].architecture(20.0)
    task = DepthTask(**architecture, weights=str(files["metric"]))
    task.eval()
    with torch.no_grad():
        torch.testing.assert_close(task(SMALL), models["metric"](SMALL))
    # The release records its own blocks and position rule: a config need not repeat them, and one that names
    # others overrides them (the tensors still fit); widths that do not fit are an error naming the tensors.
    task = DepthTask(decoder_kwargs={"activation": "sigmoid", "max_depth": 20.0}, weights=str(files["metric"]))
    assert task.hparams.encoder_indices == [2, 5, 8, 11] and task.hparams.pos_embed_interpolation == "dinov2"
    with torch.no_grad():
        torch.testing.assert_close(task.eval()(SMALL), models["metric"](SMALL))
    architecture["encoder_indices"] = [8, 9, 10, 11]
    assert DepthTask(**architecture, weights=str(files["metric"])).model.config["encoder_indices"] == [8, 9, 10, 11]
    architecture["decoder_kwargs"]["features"] = 32
    with pytest.raises(WeightsError, match=r"depth_head\.scratch\.layer1_rn\.weight has shape"):
        DepthTask(**architecture, weights=str(files["metric"]))


def test_official_training_checkpoint_is_unwrapped(weights, models) -> None:
    """metric_depth/train.py saves {"model": DDP state dict, "optimizer": ..., "epoch": ...}."""
    checkpoint = {"model": {f"module.{k}": v for k, v in weights.items()}, "epoch": 3, "previous_best": {"d1": 0.5}}
    assert dav2.release_state(checkpoint, "latest.pth") == weights


# ------------------------------------------------------------------------------------------------- head choice
def test_head_is_chosen_by_max_depth_alone_and_mismatched_names_warn(models) -> None:
    with pytest.warns(UserWarning, match="looks like a metric release, but max_depth is None"):
        dav2._check_head_choice(Path("depth_anything_v2_metric_vkitti_vitb.pth"), None)
    with pytest.warns(UserWarning, match="looks like a relative release, but max_depth=80"):
        dav2._check_head_choice(Path("depth_anything_v2_vits.pth"), 80.0)
    assert dav2.describe_head(models["metric"]) == "metric head (sigmoid x 20 m)"
    assert dav2.describe_head(models["relative"]).startswith("relative head (ReLU")


# --------------------------------------------------------------------------------------------------- bad inputs
def _write(path: Path, tensors: dict) -> Path:
    torch.save(tensors, path)
    return path


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda w: w.pop("pretrained.blocks.3.attn.qkv.bias"), r"missing 1 tensor\(s\): pretrained\.blocks\.3\.attn"),
        (lambda w: w.update({"depth_head.extra.weight": torch.zeros(3)}),
         r"1 tensor\(s\) the model does not have: depth_head\.extra\.weight"),
        (lambda w: w.update({"depth_head.projects.0.weight": torch.zeros(48, 384, 3, 3)}),
         r"depth_head\.projects\.0\.weight has shape \[48, 384, 3, 3\]; expected \[48, 384, 1, 1\]"),
        (lambda w: w.update({"depth_head.scratch.output_conv1.bias": torch.tensor([0.0, float("nan")] * 16)}),
         r"depth_head\.scratch\.output_conv1\.bias holds 16 NaN/inf"),
        (lambda w: w.update({"pretrained.norm.bias": torch.zeros(384, dtype=torch.int64)}),
         "pretrained.norm.bias has dtype torch.int64"),
        (lambda w: w.update({"pretrained.pos_embed": torch.zeros(1, 257, 384)}),
         r"pos_embed has shape \[1, 257, 384\]"),
        (lambda w: w.update({"depth_head.note": "trained by me"}),
         r"1 value\(s\) that are not tensors: depth_head.note"),
    ],
)
def test_tensors_that_do_not_fit_are_named(weights, models, edit, message: str) -> None:
    tensors = dict(weights)
    edit(tensors)
    with pytest.raises(WeightsError, match=message) as info:
        dav2.convert_release_state(dav2.release_state(tensors, "mine.pth"), models["relative"], "mine.pth")
    assert "(mine.pth)" in str(info.value) and "download an unmodified release" in str(info.value)


def test_a_file_missing_a_tensor_names_the_file_and_the_tensor(weights, tmp_path: Path) -> None:
    path = _write(tmp_path / "depth_anything_v2_vits.pth",
                  {k: v for k, v in weights.items() if k != "depth_head.scratch.layer2_rn.weight"})
    message = re.escape("missing 1 tensor(s): depth_head.scratch.layer2_rn.weight")
    with pytest.raises(WeightsError, match=message) as info:
        depthzoo.from_depth_anything_v2(path)
    assert str(path) in str(info.value)


def test_known_unused_tensors_may_be_absent(weights, models) -> None:
    tensors = {k: v for k, v in weights.items() if k not in UNUSED}
    assert len(dav2.convert_release_state(tensors, models["relative"], "x.pth")) == 234


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"conv1.weight": torch.zeros(1), "fc.bias": torch.zeros(1)},
         r"not a Depth Anything V2 release.*conv1\.weight"),
        ({"blocks.0.attn.qkv.weight": torch.zeros(1), "cls_token": torch.zeros(1)}, "a bare ViT encoder"),
        ({"state_dict": {"model.decoder.x": torch.zeros(1)}, "hyper_parameters": {}}, "a Lightning checkpoint"),
    ],
)
def test_a_pth_of_another_model_is_explained(tmp_path: Path, content: dict, message: str) -> None:
    path = _write(tmp_path / "other.pth", content)
    with pytest.raises(WeightsError, match=message) as info:
        depthzoo.from_depth_anything_v2(path)
    assert "other.pth" in str(info.value)


@pytest.mark.parametrize(
    ("width", "blocks", "message"),
    [(512, 12, r"512 wide is no Depth Anything V2 release; the releases are Small 384, Base 768, Large 1024"),
     (1536, 40, "ViT-G: not released, not supported"),
     (1024, 12, "1024 wide like Depth Anything V2 Large, but has 12 blocks instead of 24")],
)
def test_unknown_sizes_are_explained(width: int, blocks: int, message: str) -> None:
    state = {"pretrained.cls_token": torch.empty(1, 1, width, device="meta"), "depth_head.x": torch.empty(1)}
    state.update({f"pretrained.blocks.{b}.ls1.gamma": torch.empty(width, device="meta") for b in range(blocks)})
    with pytest.raises(WeightsError, match=message):
        dav2.infer_variant(state, "x.pth")


def test_truncated_file_is_named_with_the_fix(tmp_path: Path) -> None:
    data = _write(tmp_path / "whole.pth", {"pretrained.cls_token": torch.zeros(1, 1, 384)}).read_bytes()
    path = tmp_path / "depth_anything_v2_vits.pth"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(WeightsError, match=re.escape(f"truncated or corrupt (RuntimeError) ({path}): download")):
        depthzoo.from_depth_anything_v2(path)


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_pickle_with_code_is_refused_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "depth_anything_v2_vits.pth"
    torch.save({"pretrained.cls_token": torch.zeros(1, 1, 384), "pretrained.payload": _RunsCode(marker)}, path)
    message = r"not a readable PyTorch checkpoint: it holds objects other than tensors.*refused before any of it ran"
    with pytest.raises(WeightsError, match=message) as info:
        depthzoo.from_depth_anything_v2(path)
    assert str(path) in str(info.value) and not marker.exists()


def test_missing_file_and_bad_max_depth(tmp_path: Path, files) -> None:
    with pytest.raises(WeightsNotFoundError, match="no such Depth Anything V2 file .*nope.pth.*huggingface|github"):
        depthzoo.from_depth_anything_v2(tmp_path / "nope.pth")
    for bad in (0, -20, float("nan")):
        with pytest.raises(depthzoo.DepthzooError, match="max_depth"):
            depthzoo.from_depth_anything_v2(files["metric"], max_depth=bad)


# ----------------------------------------------------------------------------------------------------- manifest
def test_manifest_lists_every_release_with_its_licence_and_head() -> None:
    names = [n for n in list_checkpoints() if n.startswith("dav2_")]
    assert len(names) == 9
    for name in names:
        info = checkpoint_info(name)
        code = name.rsplit("_", 1)[1]
        variant = next(v for v in dav2.VARIANTS if v.code == code)
        assert info["format"] == "depth-anything-v2-pth" and info["urls"][0].endswith(info["file_name"])
        assert info["license"].startswith("Apache-2.0" if code == "vits" else "CC-BY-NC-4.0")
        expected_max = 20 if "hypersim" in name else 80 if "vkitti" in name else None
        assert info["max_depth"] == expected_max
        assert info["architecture"] == variant.architecture(expected_max)


def test_manifest_loads_a_metric_release_with_its_head(files, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPTHZOO_CHECKPOINT_DIR", str(files["folder"]))
    with pytest.warns(UserWarning, match="no published sha256"):
        model = depthzoo.load_checkpoint("dav2_metric_hypersim_vits")
    assert model.decoder.max_depth == 20 and model.output_kind == "metric"  # the entry's max_depth
    assert model.config["weights_from"].startswith("Depth Anything V2 Small")
    assert model.config["license"] == "Apache-2.0"
