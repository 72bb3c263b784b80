"""The AN4 ASR recipe as a user runs it (mini profile, in a copy of the recipe): data from the
real AN4 corpus with held-out validation speakers and g2p phones, character and phone
interfaces, fbank dump, an encoder-only phone recognizer and a LegoNN WEmb model started from
it, trained through ESPnet, decoded, scored (WER at the output, WER/PER at the interface),
exported, RESULTS.md."""
import json
import math
import subprocess
import sys

import pytest

from test.conftest import SHARED_DATA
from test.recipe_copy import copy_recipe

AN4 = SHARED_DATA / "an4"
needs_an4 = pytest.mark.skipif(not (AN4 / "etc" / "an4_train.transcription").is_file(),
                               reason=f"no CMU AN4 corpus at {AN4} (see egs2/an4/asr1/local/data.sh)")


def run(cwd, *args, check=True):
    result = subprocess.run(["bash", *args], cwd=cwd, capture_output=True, text=True, timeout=1200)
    if check:
        assert result.returncode == 0, f"{args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    recipe = copy_recipe(tmp_path_factory.mktemp("an4"), "an4/asr1")
    run(recipe, "run.sh", "--mini", "true", "--nj", "1", "--data_root", str(AN4))
    return recipe / "mini"


def entries(path):
    return dict(line.split(maxsplit=1) if " " in line else (line, "") for line in path.read_text().splitlines())


@needs_an4
def test_data_dirs_are_valid_with_speaker_disjoint_validation_and_phones(recipe):
    speakers = {}
    for name in ("train", "valid", "test"):
        data = recipe / "data" / name
        subprocess.run([sys.executable, "-m", "legonn.recipe.data_dir", "validate", str(data)], check=True)
        text, phones = entries(data / "text"), entries(data / "phones")
        assert text and text.keys() == phones.keys()
        assert all(t == t.lower() for t in text.values())
        assert all(p.split() and not any(c.isdigit() for c in p) for p in phones.values())
        assert entries(recipe / "dump" / name / "phones").keys() == entries(recipe / "dump" / name / "text").keys()
        speakers[name] = set(entries(data / "utt2spk").values())
    assert not speakers["train"] & speakers["valid"]
    assert not speakers["train"] & speakers["test"]


@needs_an4
def test_models_are_scored_at_the_output_and_at_every_interface(recipe):
    decode = recipe / "exp/legonn_wemb/decode_test"
    for where in ("score_wer", "score_interface0"):  # decoder output, encoder-only (characters)
        numbers = json.loads((decode / where / "score.json").read_text())
        assert numbers["metric"] == "wer" and math.isfinite(numbers["rate"]) and numbers["rate"] >= 0
    phones = json.loads((recipe / "exp/phone_ctc/decode_test/score_interface0/score.json").read_text())
    assert phones["ref"].endswith("phones") and math.isfinite(phones["rate"])
    assert len((decode / "text").read_text().splitlines()) == len(entries(recipe / "dump/test/text"))


@needs_an4
def test_modules_are_exported_and_results_written(recipe):
    for archive in ("legonn_wemb/modules/encoder0.zip", "legonn_wemb/modules/decoder.zip",
                    "phone_ctc/modules/encoder0.zip"):
        assert (recipe / "exp" / archive).is_file()
    results = (recipe / "RESULTS.md").read_text()
    row = next(line for line in results.splitlines() if "`legonn_wemb`" in line)
    wer, _vs_sanity, encoder_wer, updates = row.split("|")[5:9]
    float(wer), float(encoder_wer)  # numbers, not n/a
    assert updates.strip().startswith("2 / ")  # the mini profile's 2 epochs, read from train.log
    assert "`phone_ctc`" in results


@needs_an4
def test_the_models_start_from_the_phone_recognizer_trained_first(recipe):
    command = (recipe / "exp/legonn_wemb/train.log").read_text().splitlines()[0]
    assert "--init_param exp/phone_ctc/valid.loss.ave.pth:::encoders.0.olc,encoders.0.ctc_head," in command
    row = next(line for line in (recipe / "RESULTS.md").read_text().splitlines() if "`legonn_wemb`" in line)
    assert row.split("|")[-2].strip() == "`phone_ctc`"  # the table's encoder start column


def test_missing_corpus_fails_with_a_clear_message(tmp_path):
    recipe = copy_recipe(tmp_path, "an4/asr1")
    result = run(recipe, "local/data.sh", "--data_root", str(tmp_path / "nowhere"), check=False)
    assert result.returncode != 0
    assert "CMU AN4 not found" in result.stderr and "--data_root" in result.stderr
