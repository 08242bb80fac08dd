"""Test-wide setup: no test may touch the network, and nothing may phone home."""
import os

# Set before anything imports huggingface_hub/timm/albumentations.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["NO_ALBUMENTATIONS_UPDATE"] = "1"
os.environ.setdefault("HF_HOME", os.path.join(os.path.dirname(__file__), ".hf_home_unused"))

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
