"""Issue 16, what a user sees: progress with totals and ETA in job logs, each legonn.sh stage's
elapsed time, decodings of other search options beside the default one (named, and named in
RESULTS tables), translate/transcribe in one command, and a model card in every archive."""
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile
import yaml

from legonn.bin import inference as inference_cli
from legonn.bin import pack, transcribe, translate
from legonn.inference import LegoNNInference, SearchOptions
from legonn.nets.interface import BLANK, SOS_EOS, UNK, Interface
from legonn.progress import progress
from legonn.recipe import results
from legonn.tasks.asr import ASRTask
from test.recipe_copy import stub_runner_and_test_set
from test.test_zoo import mt_recipe, save_experiment  # noqa: F401 (a fixture)

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "egs2" / "TEMPLATE" / "legonn1"
SENTENCES = ["ein kleiner hund läuft", "der mann sieht eine katze"]


# --- 1. progress -------------------------------------------------------------------------------

def test_progress_in_a_log_is_one_line_per_redraw_with_total_and_eta(monkeypatch):
    monkeypatch.setenv("LEGONN_PROGRESS_INTERVAL", "0")
    log = io.StringIO()  # not a terminal, like a job's log file
    for _ in progress(range(3), desc="decode", stream=log):
        pass
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and len(lines) == len(set(lines))
    assert re.search(r"^decode: 100%.* 3/3 \[\d\d:\d\d<00:00", lines[-1]), lines


def test_progress_in_a_log_is_paced_not_spammed(monkeypatch):
    monkeypatch.delenv("LEGONN_PROGRESS_INTERVAL", raising=False)
    log = io.StringIO()
    for _ in progress(range(10000), desc="fbank", stream=log):
        pass
    assert len(log.getvalue().splitlines()) <= 3  # start, maybe one redraw, the final line


def write_split(recipe: Path):
    (recipe / "dump" / "test").mkdir(parents=True, exist_ok=True)
    (recipe / "dump" / "test" / "src_text").write_text(
        "".join(f"u{i} {s}\n" for i, s in enumerate(SENTENCES)), encoding="utf-8")
    return ["--task", "mt", "--train_config", "exp/tiny/config.yaml", "--model_file", "exp/tiny/valid.acc.ave.pth",
            "--data_path_and_name_and_type", "dump/test/src_text,src_text,text"]


def test_a_decoding_records_its_search(mt_recipe):  # noqa: F811
    recipe, _ = mt_recipe
    out = inference_cli.main(write_split(recipe) + ["--output_dir", "exp/tiny/decode_test_beam3_lp0.6",
                                                    "--beam_size", "3"])
    search = yaml.safe_load((out / "search.yaml").read_text())
    assert search["beam_size"] == 3 and search["length_penalty"] == 0.6 and search["inference_tag"] == "beam3_lp0.6"


def test_decoding_progress_names_its_total(mt_recipe, capfd, monkeypatch):  # noqa: F811
    recipe, _ = mt_recipe
    monkeypatch.setenv("LEGONN_PROGRESS_INTERVAL", "0")
    inference_cli.main(write_split(recipe) + ["--output_dir", "exp/tiny/decode_test"])
    err = capfd.readouterr().err
    assert re.search(r"decode: 100%.* 2/2 \[", err), err


# --- 2. decode settings side by side -----------------------------------------------------------

def test_search_tags_name_the_options():
    assert SearchOptions(10, 1.0).tag() == "beam10_lp1.0"
    assert SearchOptions(5, 0.6, nbest=3, stop_when_beam_finished=True).tag() == "beam5_lp0.6_nbest3_stopfinished"
    assert SearchOptions(10, 1.0).describe() == "beam 10, lp 1.0"
    assert SearchOptions(5, 0.6, blank_penalty=1.0).tag() == "beam5_lp0.6_bp1.0"
    assert SearchOptions(5, 0.6, blank_penalty=1.0).describe() == "beam 5, lp 0.6, bp1.0"
    assert SearchOptions(10, 1.0, ctc_weight=0.3).describe() == "beam 10, lp 1.0, ctc0.3"


@pytest.mark.parametrize("task, default, given, tag", [
    ("mt", "", "", ""),                                            # the paper's search
    ("mt", "", "--beam_size 5 --length_penalty 0.6", ""),          # the same search, spelled out
    ("mt", "", "--beam_size 10 --batch_size 32", "beam10_lp0.6"),  # batch size is no search option
    ("asr", "--beam_size 10 --penalty 1.0", "--beam_size 10 --penalty 1.0", ""),  # a recipe's default
    ("asr", "--beam_size 10 --penalty 1.0", "--beam_size 20", "beam20_lp1.0"),
    ("mt", "--blank_penalty 1.0", "--blank_penalty 1.0", ""),
    ("mt", "--blank_penalty 1.0", "", "beam5_lp0.6"),
    ("asr", "--ctc_weight 0.3", "--ctc_weight 0.3", ""),
    ("asr", "--ctc_weight 0.3", "", "beam20_lp1.0"),
])
def test_the_inference_tag_is_empty_only_for_the_default_search(task, default, given, tag, capsys):
    inference_cli.main(["--task", task, "--print_inference_tag", "true", "--default_search", default, *given.split()])
    assert capsys.readouterr().out.strip() == tag


RECORDER = """#!/usr/bin/env bash
# Stands in for the job runner: notes the log it was given, writes a split's outputs.
echo "$*" >> calls
mkdir -p exp/x/decode_test/split/1 exp/x/decode_test_beam3_lp0.6/split/1
for d in exp/x/decode_test*/split/1; do echo "u1 a" > $d/text; echo "beam_size: 3" > $d/search.yaml; done
"""


def test_legonn_sh_decodes_another_search_beside_the_default_and_times_each_stage(tmp_path):
    for name in ("legonn.sh", "utils", "path.sh", "cmd.sh"):
        (tmp_path / name).symlink_to(TEMPLATE / name)
    stub_runner_and_test_set(tmp_path, RECORDER)
    common = ["./legonn.sh", "--tag", "x", "--decode_cmd", "./rec", "--nj", "1", "--stage", "6", "--stop_stage", "6"]
    run = lambda *extra: subprocess.run([*common, *extra], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    default = run()
    assert default.returncode == 0, default.stderr
    assert re.search(r"stage 6: done in 0:00:\d\d", default.stdout), default.stdout
    other = run("--inference_args", "--beam_size 3")
    assert other.returncode == 0, other.stderr
    logs = [line.split()[1] for line in (tmp_path / "calls").read_text().splitlines()]
    assert logs == ["exp/x/decode_test/log/decode.JOB.log", "exp/x/decode_test_beam3_lp0.6/log/decode.JOB.log"]
    for folder in ("decode_test", "decode_test_beam3_lp0.6"):  # both kept, each with its search
        assert (tmp_path / "exp" / "x" / folder / "search.yaml").is_file()


def test_results_tables_name_the_search(tmp_path):
    exp = tmp_path / "exp"
    for tag, config in (("wemb", "decoder: transformer\n"), ("ctc", "decoder: null\n")):  # as ESPnet writes it
        (exp / tag).mkdir(parents=True)
        (exp / tag / "config.yaml").write_text(config)
    dirs = {"": exp / "wemb" / "decode_test", "beam20_lp1.0": exp / "wemb" / "decode_test_beam20_lp1.0"}
    for tag, folder in dirs.items():
        (folder / "score_wer").mkdir(parents=True)
        (folder / "score_wer" / "score.json").write_text(json.dumps({"rate": 40.0 if not tag else 39.0}))
    (dirs[""] / "search.yaml").write_text(yaml.safe_dump({"task": "asr", "beam_size": 10, "length_penalty": 1.0}))
    # A decoding made before search.yaml: what its split recorded, under the option's former name.
    (dirs["beam20_lp1.0"] / "split" / "1").mkdir(parents=True)
    (dirs["beam20_lp1.0"] / "split" / "1" / "decoded_with").write_text(json.dumps(
        {"task": "asr", "beam_size": 20, "penalty": 1.0, "nbest": 1, "maxlenratio_a": 1.5, "maxlenratio_b": 10,
         "stop_when_beam_finished": False, "model_file": "m", "modified": 1}))
    (exp / "ctc" / "decode_test").mkdir()
    (exp / "ctc" / "decode_test" / "search.yaml").write_text(yaml.safe_dump({"beam_size": 10, "length_penalty": 1.0}))
    assert results.search_used(exp, "wemb", "test") == "beam 10, lp 1.0"
    assert results.search_used(exp, "wemb", "test", "beam20_lp1.0") == "beam 20, lp 1.0"
    assert results.error_rate(exp, "wemb", "test", inference_tag="beam20_lp1.0") == 39.0
    assert results.error_rate(exp, "wemb", "test") == 40.0
    assert results.search_used(exp, "ctc", "test") == "greedy CTC"
    assert results.search_used(exp, "nothing", "test") is None
    # The recipes' RESULTS generators print it.
    for recipe in ("an4/asr1", "multi30k_speech/asr1"):
        out = subprocess.run([sys.executable, "local/results.py", "--exp", str(exp)], cwd=REPO / "egs2" / recipe,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        row = next(line for line in out.stdout.splitlines() if "`legonn_wemb`" in line or "`wemb`" in line
                   or "legonn_wemb" in line)
        assert "| search |" in out.stdout and row.endswith("| n/a |")


def test_a_swap_under_shipped_modules_is_measured_against_their_composition(tmp_path):
    exp = tmp_path / "exp"

    def scored(tag, bleu):
        (exp / tag / "decode_test_de" / "score_bleu").mkdir(parents=True)
        (exp / tag / "decode_test_de" / "score_bleu" / "score.json").write_text(
            json.dumps({"detokenized": {"score": bleu}, "tokenized": {"score": bleu - 2}}))

    def seed_swap_row():
        out = subprocess.run([sys.executable, "local/results.py", "--exp", str(exp)], capture_output=True,
                             text=True, cwd=REPO / "egs2" / "multi30k" / "mt1", timeout=120)
        assert out.returncode == 0, out.stderr
        return next(line for line in out.stdout.splitlines()
                    if "| `de_legonn_wemb_seed2` | `de_legonn_wemb` |" in line)

    scored("swap_de_legonn_wemb_seed2+de_legonn_wemb", 39.0)
    scored("de_legonn_wemb_shipped", 39.2)
    assert "| 39.0 | 39.2 (`de_legonn_wemb_shipped`) | 99.5 |" in seed_swap_row()
    scored("de_legonn_wemb", 39.0)  # where the decoder's own model was trained here, it stays the reference
    assert "| 39.0 | 39.0 | 100.0 |" in seed_swap_row()


def test_an_exploration_is_measured_against_the_enc_dec_of_its_size_on_valid_too(tmp_path):
    exp = tmp_path / "exp"

    def scored(tag, test_set, where, bleu, folder=""):
        path = exp / tag / f"decode_{test_set}{folder}" / where
        path.mkdir(parents=True)
        (path / "score.json").write_text(json.dumps(
            {"detokenized": {"score": bleu, "brevity_penalty": 0.99}, "tokenized": {"score": bleu - 2}}))

    scored("de_encdec", "test_de", "score_bleu", 39.0)
    scored("de_encdec_enc6", "test_de", "score_bleu", 38.0)
    scored("de_legonn_wemb_olc3", "test_de", "score_bleu", 39.5)
    scored("de_legonn_wemb_olc3", "test_de", "score_interface0", 34.5)
    # valid_de decoded by legonn.sh with the recipe's search named, not by run.sh
    scored("de_legonn_wemb_olc3", "valid_de", "score_interface0", 33.0, folder="_beam5_lp1.0_bp1.0")
    out = subprocess.run([sys.executable, "local/results.py", "--exp", str(exp)], capture_output=True,
                         text=True, cwd=REPO / "egs2" / "multi30k" / "mt1", timeout=120)
    assert out.returncode == 0, out.stderr
    row = next(line for line in out.stdout.splitlines()
               if line.startswith("| LegoNN WEmb, 3 OLC layers, no uniform copy |"))
    # blocks, BLEU, vs enc-dec, Enc. BLEU, Enc. BP, Enc. gap, valid BLEU, valid Enc. BLEU
    assert "| 9 | 39.5 | 1.5 | 34.5 | 0.99 | 3.5 | n/a | 33.0 |" in row


def test_the_experiments_beyond_the_defaults_appear_in_the_table_once_trained(tmp_path):
    exp = tmp_path / "exp"

    def table():
        out = subprocess.run([sys.executable, "local/results.py", "--exp", str(exp)], capture_output=True,
                             text=True, cwd=REPO / "egs2" / "multi30k" / "mt1", timeout=120)
        assert out.returncode == 0, out.stderr
        return out.stdout

    (exp / "de_encdec").mkdir(parents=True)
    untrained = table()
    assert "| LegoNN WEmb, seed 2 | `de_legonn_wemb_seed2` | n/a |" in untrained  # a default: n/a until trained
    assert "`de_legonn_wemb_kd`" not in untrained and "trained further" not in untrained
    for tag in ("de_legonn_wemb_kd", "de_wemb_encoder_ref"):
        (exp / tag / "decode_test_de" / "score_bleu").mkdir(parents=True)
        (exp / tag / "decode_test_de" / "score_bleu" / "score.json").write_text(
            json.dumps({"detokenized": {"score": 30.0, "brevity_penalty": 0.9}, "tokenized": {"score": 28.0}}))
    trained = table()
    assert "| `de_legonn_wemb_kd` | 30.0 |" in trained
    assert "## De-En: the WEmb model trained further" in trained and "`de_wemb_encoder_kd` | n/a" in trained


# --- 5. translate / transcribe -----------------------------------------------------------------

def run_cli(main, argv, stdin="", monkeypatch=None):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    main(argv)
    return out.getvalue()


def test_translate_reads_stdin_from_a_packed_model_an_exp_dir_or_modules(mt_recipe, tmp_path, monkeypatch):  # noqa: F811
    recipe, _ = mt_recipe
    archive = pack.main(["model", "--train_config", "exp/tiny/config.yaml", "--model_file",
                         "exp/tiny/valid.acc.ave.pth", "--outpath", str(tmp_path / "tiny.zip")])
    modules = [str(pack.main(["module", "--train_config", "exp/tiny/config.yaml", "--model_file",
                              "exp/tiny/valid.acc.ave.pth", "--module", name,
                              "--outpath", str(tmp_path / f"{name}.zip")])) for name in ("encoder0", "decoder")]
    monkeypatch.setenv("LEGONN_CACHE", str(tmp_path / "cache"))
    expected = [nbest[0].text for nbest in LegoNNInference.from_pretrained("exp/tiny")(SENTENCES)]
    stdin = "\n".join(SENTENCES) + "\n"
    for model in (["exp/tiny"], [str(archive)], ["--modules", *modules], modules):
        assert run_cli(translate.main, model, stdin, monkeypatch).splitlines() == expected, model
    shown = run_cli(translate.main, ["exp/tiny", "--show_interface"], stdin, monkeypatch).splitlines()
    assert [line for line in shown if not line.startswith("#")] == expected
    readings = [line for line in shown if line.startswith("# interface0 en (bpe, ")]
    assert len(readings) == 2
    # A chain in the wrong order is refused with what a chain must be.
    with pytest.raises(SystemExit, match=r"modules must be: encoder, middle\.\.\., \[decoder\]"):
        run_cli(translate.main, ["--modules", modules[1], modules[0]], stdin, monkeypatch)


def test_transcribe_prints_a_hypothesis_per_audio_file(tmp_path, monkeypatch):
    recipe = tmp_path / "egs2" / "toy" / "asr1"
    recipe.mkdir(parents=True)
    monkeypatch.chdir(recipe)
    Interface("phones", "phone", [BLANK, UNK, *"AA B K S T".split(), SOS_EOS]).save("data/interfaces/phones")
    stats = recipe / "exp" / "tiny" / "stats"
    stats.mkdir(parents=True)
    feats = np.random.RandomState(0).randn(50, 8) + 5
    np.savez(stats / "feats_stats.npz", count=np.array(50.0), sum=feats.sum(0), sum_square=(feats ** 2).sum(0))
    save_experiment(recipe, ASRTask, ["--interfaces", "[data/interfaces/phones/interface.yaml]", "--ctc_targets",
                                      "[phones]", "--normalize_stats", "exp/tiny/stats/feats_stats.npz"],
                    {"input_size": 8, "encoder_conf": {"dim": 16, "heads": 2, "ffn_dim": 32, "layers": 1,
                                                       "conv_channels": [4, 4]},
                     "decoder": "none", "model_conf": {"ctc_weights": [1.0]}})
    rng = np.random.RandomState(1)
    soundfile.write("a.wav", rng.uniform(-0.5, 0.5, 16000), 16000)
    soundfile.write("b.flac", rng.uniform(-0.5, 0.5, 8000), 8000)  # resampled to 16 kHz
    out = run_cli(transcribe.main, ["exp/tiny", "a.wav", "b.flac", "--show_interface"], "", monkeypatch)
    hyps = [line for line in out.splitlines() if not line.startswith("#")]
    assert [h.split("\t")[0] for h in hyps] == ["a.wav", "b.flac"]
    assert len([line for line in out.splitlines() if line.startswith("# interface0 phones (phone, 8)")]) == 2
    with pytest.raises(SystemExit, match="is an asr model; use python -m legonn.bin.transcribe"):
        run_cli(translate.main, ["exp/tiny"], "a\n", monkeypatch)


# --- 6. model cards ----------------------------------------------------------------------------

def card_of(archive: Path) -> str:
    with zipfile.ZipFile(archive) as z:
        return z.read("README.md").decode("utf-8")


def test_every_archive_carries_a_model_card(mt_recipe, tmp_path):  # noqa: F811
    recipe, model = mt_recipe
    (recipe / "RESULTS.md").write_text("# Toy\n\n## BLEU\n\n| model | exp | BLEU |\n|---|---|---|\n"
                                       "| LegoNN | `tiny` | 12.3 |\n| other | `big` | 40.0 |\n")
    archive = pack.main(["model", "--train_config", "exp/tiny/config.yaml", "--model_file", "exp/tiny/valid.acc.ave.pth",
                         "--outpath", str(tmp_path / "toy_tiny.zip"), "--results", "RESULTS.md"])
    card = card_of(archive)
    front = yaml.safe_load(card.split("---")[1])
    assert {"espnet", "legonn", "translation"} <= set(front["tags"]) and front["datasets"] == ["toy"]
    assert "### `toy_tiny`" in card and "## LegoNN MT model" in card
    en = model.interfaces[0]
    assert f"| en | bpe | {en.size} | `{en.checksum}` |" in card  # the interface with its vocabulary size
    assert "| input (source text) | de | word |" in card
    assert "| LegoNN | `tiny` | 12.3 |" in card and "`big`" not in card  # this experiment's scores
    assert "python -m legonn.bin.translate toy_tiny.zip" in card and "legonn.bin.compose" in card
    assert "<details><summary>expand</summary>" in card and "encoder_conf:" in card
    assert "@article{dalmia2023legonn" in card
    module = pack.main(["module", "--train_config", "exp/tiny/config.yaml", "--model_file", "exp/tiny/valid.acc.ave.pth",
                        "--module", "decoder", "--outpath", str(tmp_path / "decoder.zip")])
    card = card_of(module)
    assert "## LegoNN decoder module" in card and f"| input | en | bpe | {en.size} |" in card
    assert "| output | en | bpe |" in card and "--modules encoder0.zip" in card
    assert "No RESULTS.md was given" in card
