import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LEGONN_SHARED_DATA", REPO.parent / "shared" / "data"))
os.environ.setdefault("NLTK_DATA", str(SHARED_DATA / "nltk_data"))


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)
    torch.set_num_threads(2)


