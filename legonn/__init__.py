"""legonn: LegoNN modular encoder-decoder models (Dalmia et al., TASLP 2023) on ESPnet2."""
import os
from pathlib import Path

__version__ = "0.1.0"

# ESPnet imports g2p_en, which tries to download NLTK data at import time (and there may be no
# network): point it at the copy shipped beside the repository when the user has not chosen one.
_shared_nltk = Path(__file__).resolve().parents[2] / "shared" / "data" / "nltk_data"
if "NLTK_DATA" not in os.environ and _shared_nltk.is_dir():
    os.environ["NLTK_DATA"] = str(_shared_nltk)
