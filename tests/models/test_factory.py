"""create_model and DepthModel: FCRN's size and shapes, odd sizes, predict, input checks."""

import pytest
import torch

import depthzoo
from depthzoo.models import DepthModel, create_model

PAPER_FCRN_PARAMS = 63_572_737  # official TF model, incl. 64 conv1 biases that timm's resnet50 does not have
TIMM_RESNET50_CONV1_BIASES = 64


@pytest.fixture(scope="module")
def fcrn_resnet50() -> DepthModel:
    return create_model("resnet50", "upproj").eval()


def test_fcrn_resnet50_upproj_size_and_shapes(fcrn_resnet50: DepthModel) -> None:
    params = sum(p.numel() for p in fcrn_resnet50.parameters())
    assert round(params / 1e6, 2) == 63.57  # the paper's 63.6M
    with torch.no_grad():
        assert fcrn_resnet50(torch.rand(1, 3, 228, 304)).shape == (1, 1, 128, 160)
    assert fcrn_resnet50.output_stride == 2


def test_fast_upproj_has_exactly_the_official_parameter_count() -> None:
    model = create_model("resnet50", "fast_upproj")
    params = sum(p.numel() for p in model.parameters())
    assert params == PAPER_FCRN_PARAMS - TIMM_RESNET50_CONV1_BIASES


def test_public_api() -> None:
    assert depthzoo.create_model is create_model
    assert "fast_upproj" in depthzoo.list_decoders("fast_*")
    assert "resnet50" in depthzoo.list_encoders("resnet5*")


@pytest.mark.parametrize("size", [(65, 97), (31, 45), (64, 96)])
def test_odd_input_sizes_and_predict(size: tuple[int, int]) -> None:
    model = create_model("test_resnet.r160_in1k", "fast_upproj")
    x = torch.rand(2, 3, *size)
    native = model.eval()(x)
    assert native.shape[:2] == (2, 1)
    depth = model.predict(x)
    assert depth.shape == (2, 1, *size) and (depth >= 0).all()


def test_swin_odd_size_runs_through_padding() -> None:
    model = create_model("swin_tiny_patch4_window7_224", "fast_upconv").eval()
    with torch.no_grad():
        out = model(torch.rand(1, 3, 97, 131))
    # padded to 100x132 (multiple of the patch size 4) -> native 64x80, cropped to the 97/100 and 131/132 shares
    assert out.shape == (1, 1, 63, 80)


def test_predict_keeps_training_mode_and_checks_range() -> None:
    model = create_model("test_resnet.r160_in1k", "fast_upconv").train()
    model.predict(torch.rand(1, 3, 32, 32))
    assert model.training
    with pytest.raises(ValueError, match="divide 8-bit images by 255"):
        model.predict(torch.full((1, 3, 32, 32), 200.0))


def test_normalisation_happens_inside_the_model() -> None:
    model = create_model("test_efficientnet.r160_in1k", "fast_upconv").eval()
    x = torch.rand(1, 3, 32, 32)
    expected = (x - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) / torch.tensor([0.229, 0.224, 0.225]).view(
        1, 3, 1, 1
    )
    seen = {}
    model.encoder.register_forward_pre_hook(lambda module, args: seen.setdefault("x", args[0]))
    model(x)
    torch.testing.assert_close(seen["x"], expected)
    assert "input_mean" not in model.state_dict()


def test_bad_inputs_are_explained() -> None:
    model = create_model("test_resnet.r160_in1k", "fast_upconv")
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\), got \(3, 32, 32\)"):
        model(torch.rand(3, 32, 32))
    with pytest.raises(TypeError, match="float"):
        model(torch.zeros(1, 3, 32, 32, dtype=torch.uint8))


def test_decoder_typo_fails_before_building_the_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    import depthzoo.models.factory as factory

    monkeypatch.setattr(factory, "TimmEncoder", lambda *a, **k: pytest.fail("encoder built before kwargs check"))
    with pytest.raises(KeyError, match="did you mean 'padding'"):
        create_model("resnet50", "fast_upproj", paddin="tf")


def test_none_decoder_kwargs_mean_default() -> None:
    model = create_model("test_resnet.r160_in1k", "fast_upproj", padding=None, bridge_channels=None)
    assert model.config["decoder_kwargs"] == {}


def test_encoder_depth_ends_the_encoder_earlier() -> None:
    full = create_model("resnet18", "fast_upproj")
    short = create_model("resnet18", "fast_upproj", encoder_depth=4)
    assert full.encoder.reductions == [2, 4, 8, 16, 32] and short.encoder.reductions == [2, 4, 8, 16]
    assert short.config["encoder_depth"] == 4 and "encoder_depth" not in full.config
    assert not any("layer4" in name for name, _ in short.named_parameters())  # the last stage is not built
    assert len(short.decoder.blocks) == len(full.decoder.blocks) - 1  # stride 16 -> 2: three 2x blocks
    x = torch.rand(2, 3, 64, 96)
    assert short(x).shape == full(x).shape == (2, 1, 32, 48)
    assert short.output_stride == 2


def test_bad_encoder_depth_is_explained() -> None:
    with pytest.raises(ValueError, match=r"'resnet18' has 5 feature levels; depth=6 asks for more"):
        create_model("resnet18", "fast_upproj", encoder_depth=6)
    with pytest.raises(ValueError, match="positive number of feature levels"):
        create_model("resnet18", "fast_upproj", encoder_depth=0)
    with pytest.raises(ValueError, match="depth applies to hierarchical encoders"):
        create_model("vit_tiny_patch16_224", "fast_upproj", encoder_depth=2)
