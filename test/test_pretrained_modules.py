"""The Multi30k recipe's shipped modules (egs2/multi30k/mt1/pretrained/, stage 8 of its run.sh):
composed with no training, they translate the first 100 test sentences with the BLEU the recipe
measured for those sentences with the full-precision modules (pretrained/scores.json), within 1.
A change that breaks loading, composing or decoding them fails here."""
import gzip
import json

import pytest

from legonn.inference import LegoNNInference
from legonn.scoring.bleu import corpus_bleu
from test.conftest import REPO, SHARED_DATA

PRETRAINED = REPO / "egs2/multi30k/mt1/pretrained"
MULTI30K = SHARED_DATA / "multi30k"
pytestmark = pytest.mark.skipif(not (PRETRAINED / "scores.json").is_file() or not MULTI30K.is_dir(),
                                reason="no shipped modules or no Multi30k data")


def first_test_sentences(language: str, count: int):
    with gzip.open(MULTI30K / f"test_2016_flickr.{language}.gz", "rt", encoding="utf-8") as f:
        return [next(f).strip() for _ in range(count)]


@pytest.mark.parametrize("composition, source", [
    ("fr_en_ctc_encoder+de_en_wemb_decoder", "fr"),   # a Fr-En encoder under the De-En decoder
    ("de_en_wemb_encoder+de_en_wemb_decoder", "de"),  # the De-En model, reassembled
])
def test_shipped_modules_compose_and_translate_as_the_recipe_measured(composition, source, tmp_path):
    reported = json.loads((PRETRAINED / "scores.json").read_text())[composition]
    count = next(int(key.rsplit("_", 1)[1]) for key in reported if key.startswith("bleu_first_"))
    # The recipe's search (modules shipped before scores.json named it: the paper's, beam 5, lp 0.6)
    search = reported.get("search", {})
    translate = LegoNNInference.from_modules([PRETRAINED / f"{m}.zip" for m in composition.split("+")],
                                             cache_dir=tmp_path, **search)
    sources, references = first_test_sentences(source, count), first_test_sentences("en", count)
    hypotheses = [nbest[0].text for i in range(0, count, 25) for nbest in translate(sources[i:i + 25])]
    ids = [f"m30k_test_{i:05d}" for i in range(count)]
    bleu = corpus_bleu(dict(zip(ids, hypotheses)), dict(zip(ids, references))).detokenized.score
    assert bleu == pytest.approx(reported[f"bleu_first_{count}"], abs=1.0)
