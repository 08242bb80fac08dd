"""save_pretrained / from_pretrained / push_to_hub: the Hugging Face layout, the model card, offline loading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hubcache import write_hf_cache
from huggingface_hub import HfApi, ModelCard

import depthzoo
from depthzoo.errors import OutputExistsError, WeightsError, WeightsNotFoundError
from depthzoo.models import create_model

TINY = "test_resnet.r160_in1k"


@pytest.fixture(scope="module")
def model():
    net = create_model(TINY, "fast_upconv", encoder_depth=4)
    with torch.no_grad():
        for tensor in net.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(torch.rand_like(tensor) * 0.1 + 0.5)
    return net.eval()


EVALUATION = {
    "data": {"data module": "NYUv2DataModule", "dataset": "nyu_depth_v2_labeled.mat", "test samples": 654},
    "protocol": {"min_depth": 0.001, "max_depth": 10.0, "crop": "eigen_nyu", "average": "image", "clamp": True},
    "metrics": {"abs_rel": 0.1234, "rmse": 0.4567, "d1": 0.8642},
}


def test_local_round_trip_and_layout(tmp_path: Path, model) -> None:
    folder = model.save_pretrained(tmp_path / "out", license="apache-2.0")
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    config = json.loads((folder / "config.json").read_text())
    assert config["encoder"] == TINY and config["encoder_depth"] == 4 and config["output_kind"] == "metric"
    assert config["license"] == "apache-2.0"
    loaded = depthzoo.DepthModel.from_pretrained(folder)
    assert loaded.config["encoder_depth"] == 4 and not loaded.training
    x = torch.rand(1, 3, 48, 64)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)
    assert depthzoo.load(folder / "model.safetensors").config["encoder_depth"] == 4  # the weights file stands alone


def test_model_card_states_what_users_need(tmp_path: Path, model) -> None:
    training = {"data": {"data module": "NYUv2DataModule", "dataset": "nyu.mat"}, "epochs": 20, "loss": "berhu"}
    folder = model.save_pretrained(tmp_path / "card", license="mit", training=training, evaluation=EVALUATION)
    card = ModelCard.load(folder / "README.md")
    assert card.data.library_name == "depthzoo" and card.data.license == "mit"
    assert card.data.pipeline_tag == "depth-estimation" and "metric" in card.data.tags
    text = card.text
    params = f"{sum(p.numel() for p in model.parameters()):,}"
    for expected in (
        f"`{TINY}` (timm name), first 4 feature levels",  # architecture
        "`fast_upconv`",
        params,
        "`output_kind`: `metric`, depth in metres",  # what the output means
        "**RGB** values in **[0, 1]**",  # input convention
        "| data module | NYUv2DataModule |",  # training data
        "| epochs | 20 |",
        "| max_depth | 10.0 |",  # evaluation protocol
        "| 0.1234 | 0.4567 | 0.8642 |",  # its metrics
        "## Licence\n\nmit",
    ):
        assert expected in text, expected
    bare = model.save_pretrained(tmp_path / "bare")
    assert "Not stated" in (bare / "README.md").read_text() and "No evaluation was recorded" in (
        bare / "README.md"
    ).read_text()


def test_relative_models_say_so(tmp_path: Path) -> None:
    relative = create_model(TINY, "fast_upconv", output_kind="relative_disparity")
    text = (relative.save_pretrained(tmp_path / "rel") / "README.md").read_text()
    assert "`relative_disparity`, relative inverse depth" in text and "unknown scale and shift" in text


def test_offline_from_the_hub_cache(tmp_path: Path, model, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = model.save_pretrained(tmp_path / "repo")
    write_hf_cache(tmp_path / "cache", "lab/tiny", folder)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "cache"))
    loaded = depthzoo.DepthModel.from_pretrained("lab/tiny")
    assert loaded.config["weights_from"] == "hf://lab/tiny"
    assert torch.equal(loaded.decoder.head_conv.weight, model.decoder.head_conv.weight)
    with pytest.raises(WeightsNotFoundError, match="not in the local cache.*HF_HUB_OFFLINE.*lab/other"):
        depthzoo.DepthModel.from_pretrained("lab/other")


def test_push_to_hub_uploads_the_saved_folder(tmp_path: Path, model, monkeypatch: pytest.MonkeyPatch) -> None:
    uploads = []

    def create_repo(self, repo_id, **kwargs):
        class Url(str):
            pass

        url = Url(f"https://huggingface.co/{repo_id}")
        url.repo_id = repo_id
        return url

    def upload_folder(self, repo_id, folder_path, **kwargs):
        uploads.append((repo_id, {p.name: p.read_bytes() for p in Path(folder_path).iterdir()}))
        return "commit-url"

    monkeypatch.setattr(HfApi, "create_repo", create_repo)
    monkeypatch.setattr(HfApi, "upload_folder", upload_folder)
    assert model.push_to_hub("lab/tiny", model_card_kwargs={"evaluation": EVALUATION, "license": "mit"}) == "commit-url"
    (repo_id, files), = uploads
    assert repo_id == "lab/tiny" and sorted(files) == ["README.md", "config.json", "model.safetensors"]
    assert b"| 0.1234 | 0.4567 | 0.8642 |" in files["README.md"] and b"depthzoo.load('lab/tiny')" in files["README.md"]
    assert json.loads(files["config.json"])["license"] == "mit"


def test_bad_folders_and_outputs(tmp_path: Path, model) -> None:
    folder = model.save_pretrained(tmp_path / "m")
    with pytest.raises(OutputExistsError, match="exists already.*--overwrite"):
        model.save_pretrained(folder)
    model.save_pretrained(folder, overwrite=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputExistsError, match="is a file, not a folder"):
        model.save_pretrained(tmp_path / "file")
    (folder / "config.json").unlink()
    with pytest.raises(WeightsError, match="model folder has no config.json.*save_pretrained"):
        depthzoo.load(folder)
    config = {**model.config, "decoder": "hourglass9000"}
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(WeightsError, match="names the decoder 'hourglass9000', which this depthzoo does not know"):
        depthzoo.DepthModel.from_pretrained(folder)
    (folder / "config.json").write_text("{not json")
    with pytest.raises(WeightsError, match="config.json is not JSON"):
        depthzoo.load(folder)
