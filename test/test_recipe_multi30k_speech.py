"""The Multi30k synthetic-speech recipe (mini profile, in a copy of the recipe): espeak-ng
synthesis of a few dozen captions, valid and test voices unseen in training, valid Kaldi data dirs
with g2p phones, the MT recipe's English interface copied, the fbank dump; and (slow) the whole
ASR <- MT transfer chain on top of a tiny MT model, with a pronunciation module trained from
text alone."""
import gzip
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from test.conftest import SHARED_DATA
from test.recipe_copy import GENERATED, REPO, copy_recipe

MULTI30K = SHARED_DATA / "multi30k"
RECIPE = "multi30k_speech/asr1"
ESPEAK = shutil.which("espeak-ng") is not None or (os.geteuid() == 0 and shutil.which("apt-get") is not None)
pytestmark = [
    pytest.mark.skipif(not (MULTI30K / "train.en.gz").is_file(), reason=f"no Multi30k at {MULTI30K}"),
    pytest.mark.skipif(not ESPEAK, reason="espeak-ng is not installed and cannot be (needs root and apt-get)"),
]


def run(cwd, *args, check=True, timeout=1200):
    result = subprocess.run(["bash", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if check:
        assert result.returncode == 0, f"{args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def copy_with_mt(tmp_path):
    """The speech recipe beside a copy of the MT recipe (it reads ../../multi30k/mt1)."""
    mt = copy_recipe(tmp_path, "multi30k/mt1")
    shutil.copytree(REPO / "egs2" / RECIPE, tmp_path / "egs2" / RECIPE, symlinks=True, ignore=GENERATED)
    return tmp_path / "egs2" / RECIPE, mt


def entries(path):
    return dict(line.split(maxsplit=1) if " " in line else (line, "") for line in path.read_text().splitlines())


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    recipe, mt = copy_with_mt(tmp_path_factory.mktemp("speech"))
    # Stage 1 needs only the MT recipe's English interface: build one from 300 captions.
    english = mt / "mini/data/train_de"
    english.mkdir(parents=True)
    with gzip.open(MULTI30K / "train.en.gz", "rt", encoding="utf-8") as f:
        captions = [next(f).strip() for _ in range(300)]
    (english / "text").write_text("".join(f"m30k_train_{i:05d} {c}\n" for i, c in enumerate(captions)))
    subprocess.run([sys.executable, "-m", "legonn.bin.make_interface", "--kind", "bpe", "--vocab_size", "100",
                    "--name", "en", "--text", str(english / "text"), "--out_dir",
                    str(mt / "mini/data/interfaces/en")], check=True, capture_output=True)
    run(recipe, "run.sh", "--mini", "true", "--nj", "2", "--data_root", str(MULTI30K),
        "--stage", "1", "--stop_stage", "1")
    return recipe / "mini"


def voice_parts(data_dir):
    voices = set(entries(data_dir / "utt2spk").values())
    return {v.split("+")[0] for v in voices}, {v.split("+")[1] for v in voices}


def test_data_dirs_are_valid_and_hold_the_raw_english_captions(recipe):
    with gzip.open(MULTI30K / "test_2016_flickr.en.gz", "rt", encoding="utf-8") as f:
        test_captions = [line.strip() for line in f]
    for name in ("train", "valid", "test"):
        # wav.scp paths are relative to the recipe directory, as the recipe's stages run there.
        subprocess.run([sys.executable, "-m", "legonn.recipe.data_dir", "validate", f"data/{name}"],
                       cwd=recipe, check=True)
        text, phones = entries(recipe / "data" / name / "text"), entries(recipe / "data" / name / "phones")
        assert 10 <= len(text) <= 60 and text.keys() == phones.keys()
        assert all(p.split() and not any(c.isdigit() for c in p) for p in phones.values())
    for utt, caption in entries(recipe / "data/test/text").items():
        assert caption == test_captions[int(utt.rsplit("_", 1)[1])]


def test_valid_and_test_voices_are_unseen_in_training(recipe):
    train_voices = set(entries(recipe / "data/train/utt2spk").values())
    train_accents, train_variants = voice_parts(recipe / "data/train")
    for name in ("valid", "test"):
        assert not set(entries(recipe / "data" / name / "utt2spk").values()) & train_voices
        # The defaults hold out voice variants, not accents.
        accents, variants = voice_parts(recipe / "data" / name)
        assert accents <= train_accents and not variants & train_variants
    assert len(train_accents) > 1 and len(train_variants) > 1


def test_a_voice_in_both_train_and_test_is_refused(recipe, tmp_path):
    result = subprocess.run([sys.executable, "local/prepare_speech.py", "--data_root", str(MULTI30K),
                             "--num_train", "5", "--num_eval", "5", "--train_accents", "en-us en-gb",
                             "--train_variants", "m1 f1", "--test_accents", "en-gb", "--test_variants", "f1 m2",
                             "--out", str(tmp_path / "data"), "--db", str(tmp_path / "db")],
                            cwd=recipe, capture_output=True, text=True)
    assert result.returncode != 0 and "unseen in training" in result.stderr and "en-gb+f1" in result.stderr
    assert not (tmp_path / "data").exists()


def test_audio_is_16khz_mono_speech_with_noise(recipe):
    for location in list(entries(recipe / "data/train/wav.scp").values())[:5]:
        audio, rate = soundfile.read(recipe / location)
        assert rate == 16000 and audio.ndim == 1 and len(audio) > 0.5 * rate
        assert 0.2 < np.abs(audio).max() < 1.0
        assert np.abs(audio[:400]).max() > 0  # the leading pause carries noise, not digital silence


def test_synthesis_resumes_without_redoing_finished_files(recipe):
    result = subprocess.run([sys.executable, "local/synthesize.py", "--plan", "db/plan/test", "--text",
                             "data/test/text", "--wav_dir", "db/wav/test"], cwd=recipe,
                            capture_output=True, text=True, check=True)
    assert "0 wavs written" in result.stdout


def test_interfaces_and_fbank_dump(recipe):
    mt_interface = recipe.parents[2] / "multi30k/mt1/mini/data/interfaces/en/interface.yaml"
    assert (recipe / "data/interfaces/en/interface.yaml").read_text() == mt_interface.read_text()
    assert (recipe / "data/interfaces/phone/interface.yaml").is_file()
    import kaldiio

    for name in ("train", "valid", "test"):
        dump = recipe / "dump" / name
        feats = entries(dump / "feats.scp")
        assert feats.keys() == entries(dump / "text").keys() == entries(dump / "phones").keys()
        matrix = kaldiio.load_mat(str(recipe / next(iter(feats.values()))))
        assert matrix.shape[1] == 80 and np.isfinite(matrix).all()


def test_text_only_pronunciation_data_pairs_g2p_phones_with_captions(recipe):
    subprocess.run([sys.executable, "local/prepare_text.py", "--data_root", str(MULTI30K), "--num_text", "20"],
                   cwd=recipe, check=True, capture_output=True)
    with gzip.open(MULTI30K / "train.en.gz", "rt", encoding="utf-8") as f:
        first_captions = [next(f).strip() for _ in range(20)]
    for name in ("text_train", "text_valid", "text_test"):
        subprocess.run([sys.executable, "-m", "legonn.recipe.data_dir", "validate", f"data/{name}"],
                       cwd=recipe, check=True)
    train = entries(recipe / "data/text_train/text")
    assert list(train.values()) == first_captions  # the MT recipe's English side, no audio needed
    assert entries(recipe / "data/text_test/src_text") == entries(recipe / "data/test/phones")
    assert all(phones.split() for phones in entries(recipe / "data/text_train/src_text").values())


def test_text_only_data_of_another_size_is_refused_not_silently_kept(recipe):
    def prepare(num_text):
        return subprocess.run([sys.executable, "local/prepare_text.py", "--data_root", str(MULTI30K),
                               "--num_text", num_text], cwd=recipe, capture_output=True, text=True)

    assert prepare("20").returncode == 0
    again = prepare("20")
    assert again.returncode == 0 and "data/text_train: exists, kept" in again.stdout
    more = prepare("30")
    assert more.returncode != 0
    assert "data/text_train holds 20 captions, not the 30 of --text_offset 0 --num_text 30" in more.stderr and "delete" in more.stderr
    assert len(entries(recipe / "data/text_train/text")) == 20


def test_a_missing_mt_recipe_is_reported(tmp_path):
    recipe, _ = copy_with_mt(tmp_path)
    result = run(recipe, "run.sh", "--mini", "true", "--stage", "1", "--stop_stage", "1", check=False)
    assert result.returncode != 0 and "run the MT recipe first" in result.stderr


def test_the_shipped_mt_decoder_is_refused_with_the_mini_interface(recipe):
    result = run(recipe.parent, "run.sh", "--mini", "true", "--mt_wemb", "shipped", "--stage", "3",
                 "--stop_stage", "3", check=False)
    assert result.returncode != 0
    assert "--mt_wemb shipped needs the full MT recipe's interface, not --mini true" in result.stderr


def test_models_that_start_from_the_phoneme_recognizer_need_it_trained_first(recipe):
    result = run(recipe.parent, "run.sh", "--mini", "true", "--stage", "2", "--stop_stage", "2",
                 "--models", "legonn_wemb", check=False)
    assert result.returncode != 0
    assert "exp/phone_ctc/valid.loss.ave.pth not found: train the phoneme recognizer first" in result.stderr
    assert not (recipe / "exp/legonn_wemb").exists()


@pytest.mark.slow
def test_speech_encoder_and_pronunciation_modules_compose_with_the_mt_decoder(tmp_path):
    """The whole mini chain: a tiny MT model, then every stage of the speech recipe."""
    recipe, mt = copy_with_mt(tmp_path)
    run(mt, "run.sh", "--mini", "true", "--data_root", str(MULTI30K), "--stage", "1", "--stop_stage", "1")
    tiny = ("--max_epoch 1 --batch_bins 3000 --encoder_conf dim=32 --encoder_conf ffn_dim=64 --encoder_conf heads=2 "
            "--decoder_conf dim=32 --decoder_conf ffn_dim=64 --decoder_conf heads=2 "
            "--ingestor_conf ffn_dim=64 --ingestor_conf heads=2")
    run(mt / "mini", "legonn.sh", "--nj", "1", "--train_set", "train_de", "--valid_set", "valid_de",
        "--test_sets", "test_de", "--input_interface", "de", "--ctc_interfaces", "en", "--tag", "de_legonn_wemb",
        "--train_config", "conf/train_legonn_wemb.yaml", "--train_args", tiny, "--stage", "4", "--stop_stage", "8")
    run(recipe, "run.sh", "--mini", "true", "--nj", "1", "--data_root", str(MULTI30K), timeout=3000)
    exp = recipe / "mini/exp"
    for tag in ("encdec", "legonn_wemb"):  # their encoders start from the phoneme recognizer's
        assert "Loading pretrained params from exp/phone_ctc/valid.loss.ave.pth" in (exp / tag / "train.log").read_text()
    for tag in ("transfer_legonn_wemb+mt", "finetune_transfer_legonn_wemb+mt",
                "compose3_phone_ctc+legonn_3module+mt", "compose3_phone_ctc+pron_text+mt"):
        numbers = json.loads((exp / tag / "decode_test/score_wer/score.json").read_text())
        assert math.isfinite(numbers["rate"])
    phones = json.loads((exp / "compose3_phone_ctc+legonn_3module+mt/decode_test/score_interface0/score.json").read_text())
    assert phones["ref"].endswith("phones")
    results = (recipe / "mini/RESULTS.md").read_text()
    assert "transfer_legonn_wemb+mt" in results and "compose3_phone_ctc+pron_text+mt" in results
