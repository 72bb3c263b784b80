"""The Multi30k MT recipe as a user runs it (mini profile): data, interfaces, training through
ESPnet, decoding, scoring at the output and the interface, module export, and a decoder plugged
into another model's encoder with no fine-tuning."""
import io
import json
import shutil
import subprocess
import zipfile

import pytest
import torch

from test.conftest import SHARED_DATA
from test.recipe_copy import copy_recipe

pytestmark = pytest.mark.skipif(not (SHARED_DATA / "multi30k").is_dir(), reason="no Multi30k data")
COMMON = ["--nj", "1", "--valid_set", "valid_de", "--test_sets", "test_de", "--input_interface", "de",
          "--ctc_interfaces", "en", "--train_set", "train_de"]
TINY = ("--max_epoch 1 --num_att_plot 0 --batch_bins 3000 --encoder_conf dim=32 --encoder_conf ffn_dim=64 "
        "--encoder_conf heads=2 --decoder_conf dim=32 --decoder_conf ffn_dim=64 "
        "--decoder_conf heads=2 --ingestor_conf ffn_dim=64 --ingestor_conf heads=2")


def run(cwd, *args):
    result = subprocess.run(["bash", *args], cwd=cwd, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    recipe = copy_recipe(tmp_path_factory.mktemp("mt"), "multi30k/mt1")
    run(recipe, "run.sh", "--mini", "true", "--data_root", str(SHARED_DATA / "multi30k"),
        "--stage", "1", "--stop_stage", "1")
    mini = recipe / "mini"
    for tag, config in [("wemb", "train_legonn_wemb"), ("ctc", "train_ctc")]:
        run(mini, "legonn.sh", *COMMON, "--tag", tag, "--train_config", f"conf/{config}.yaml",
            "--train_args", TINY, "--stage", "4", "--stop_stage", "8")
    return mini


def read_score(path):
    return json.loads(path.read_text())


def test_stage_1_prepares_every_language_pair_and_a_shared_english_interface(recipe):
    for src in ("de", "fr", "cs"):
        assert (recipe / f"dump/train_{src}/src_text").exists()
        assert (recipe / f"dump/train_{src}_low100/text").exists()
        assert (recipe / f"data/interfaces/{src}/interface.yaml").exists()
    assert (recipe / "data/interfaces/en/bpe.model").exists()


def ids(path):
    return {line.split(" ", 1)[0] for line in path.read_text(encoding="utf-8").splitlines()}


def test_low_resource_slices_share_no_sentence_with_the_de_en_training_data(recipe):
    slice_ids = ids(recipe / "data/train_fr_low100/text")
    assert len(slice_ids) == 100
    assert not slice_ids & ids(recipe / "data/train_de/text")
    assert ids(recipe / "data/train_cs_low100/text") == slice_ids  # the same captions in each language


def test_a_trained_model_is_scored_at_the_output_and_at_its_interface(recipe):
    decode = recipe / "exp/wemb/decode_test_de"
    output = read_score(decode / "score_bleu/score.json")
    interface = read_score(decode / "score_interface0/score.json")
    assert 0 <= output["detokenized"]["score"] <= 100 and "tok:13a" in output["detokenized"]["signature"]
    assert 0 <= interface["tokenized"]["score"] <= 100
    assert len((decode / "text").read_text().splitlines()) == 60


def test_every_module_is_exported_as_an_archive(recipe):
    assert (recipe / "exp/wemb/modules/encoder0.zip").exists()
    assert (recipe / "exp/wemb/modules/decoder.zip").exists()
    assert (recipe / "exp/ctc/modules/encoder0.zip").exists()
    assert not (recipe / "exp/ctc/modules/decoder.zip").exists()


def test_a_decoder_plugs_into_another_models_encoder_and_decodes(recipe):
    plug = ["--tag", "plug", "--compose_modules", "exp/ctc/modules/encoder0.zip exp/wemb/modules/decoder.zip"]
    run(recipe, "legonn.sh", *COMMON, *plug, "--stage", "9", "--stop_stage", "9")
    run(recipe, "legonn.sh", *COMMON, "--tag", "plug", "--stage", "6", "--stop_stage", "7")
    assert read_score(recipe / "exp/plug/decode_test_de/score_bleu/score.json")["num_sentences"] == 60


def test_composing_again_for_fine_tuning_keeps_a_decoded_composition(recipe):
    """run.sh composes and decodes a transfer (stage 4), then composes it again to fine-tune it
    (stage 6): the second compose adds finetune.yaml and leaves the decoded model alone."""
    plug = ["--tag", "plug", "--compose_modules", "exp/ctc/modules/encoder0.zip exp/wemb/modules/decoder.zip"]
    run(recipe, "legonn.sh", *COMMON, *plug, "--stage", "9", "--stop_stage", "9")
    run(recipe, "legonn.sh", *COMMON, "--tag", "plug", "--stage", "6", "--stop_stage", "6")
    model = recipe / "exp/plug/model.pth"
    composed_at = model.stat().st_mtime_ns
    out = run(recipe, "legonn.sh", *COMMON, *plug, "--finetune_config", "conf/finetune.yaml",
              "--stage", "9", "--stop_stage", "9")
    assert "is newer than its modules, kept" in out
    assert model.stat().st_mtime_ns == composed_at
    assert "optim_conf" in (recipe / "exp/plug/finetune.yaml").read_text()
    out = run(recipe, "legonn.sh", *COMMON, "--tag", "plug", "--stage", "6", "--stop_stage", "6")
    assert "stage 6: exp/plug/decode_test_de is up to date, kept" in out


def test_a_composed_model_fine_tunes_end_to_end_through_the_task(recipe):
    composed = ["--tag", "plug_ft", "--compose_modules",
                "exp/ctc/modules/encoder0.zip exp/wemb/modules/decoder.zip",
                "--finetune_config", "conf/finetune.yaml"]
    run(recipe, "legonn.sh", *COMMON, *composed, "--stage", "9", "--stop_stage", "9")
    run(recipe, "legonn.sh", *COMMON, "--tag", "finetune_plug", "--train_config", "exp/plug_ft/finetune.yaml",
        "--init_param", "exp/plug_ft/model.pth", "--train_args", "--max_epoch 1",
        "--stage", "4", "--stop_stage", "7")
    log = (recipe / "exp/finetune_plug/train.log").read_text()
    assert "exp/plug_ft/model.pth" in log and "1epoch results" in log
    assert read_score(recipe / "exp/finetune_plug/decode_test_de/score_bleu/score.json")["num_sentences"] == 60


def test_stages_are_idempotent_and_skip_finished_work(recipe):
    wemb = ["--tag", "wemb", "--train_config", "conf/train_legonn_wemb.yaml", "--train_args", TINY]
    hypotheses = recipe / "exp/wemb/decode_test_de/text"
    decoded_at = hypotheses.stat().st_mtime_ns
    out = run(recipe, "legonn.sh", *COMMON, *wemb, "--stage", "3", "--stop_stage", "7")
    assert "stage 5: exp/wemb is trained with these settings, kept" in out
    assert "stage 6: exp/wemb/decode_test_de is up to date, kept" in out
    assert hypotheses.stat().st_mtime_ns == decoded_at
    # Other search options are another decoding, beside the default one (which stays as it
    # was); a longer training resumes, keeping the first log.
    out = run(recipe, "legonn.sh", *COMMON, *wemb, "--inference_args", "--beam_size 2",
              "--stage", "6", "--stop_stage", "6")
    assert "stage 6: decode test_de -> exp/wemb/decode_test_de_beam2_lp0.6" in out
    assert hypotheses.stat().st_mtime_ns == decoded_at
    assert (recipe / "exp/wemb/decode_test_de_beam2_lp0.6/search.yaml").is_file()
    longer = ["--tag", "wemb", "--train_config", "conf/train_legonn_wemb.yaml", "--train_args", TINY + " --max_epoch 2"]
    run(recipe, "legonn.sh", *COMMON, *longer, "--stage", "5", "--stop_stage", "5")
    assert "1epoch results" in (recipe / "exp/wemb/train.log.1").read_text()
    resumed = (recipe / "exp/wemb/train.log").read_text()
    assert "The training was resumed" in resumed and "2epoch results" in resumed
    run(recipe, "legonn.sh", *COMMON, *longer, "--stage", "6", "--stop_stage", "6")
    # The retrained model decodes every sentence again: no hypothesis of the old one is reused.
    assert "already has every utterance" not in (recipe / "exp/wemb/decode_test_de/log/decode.1.log").read_text()


def test_the_results_stage_writes_tables_for_what_was_run(recipe):
    run(recipe.parent, "run.sh", "--mini", "true", "--stage", "7", "--stop_stage", "7")
    results = (recipe / "RESULTS.md").read_text()
    # This test trained tags 'wemb' and 'ctc', not the recipe's own experiments: rows say n/a.
    assert "| LegoNN WEmb | `de_legonn_wemb` | n/a |" in results
    assert "## Modularity on De-En" in results and "### Fr-En, BLEU on test_2016_flickr by slice size" in results


def test_a_slice_encoder_from_the_de_en_encoder_trains_only_its_new_source_embedding(recipe):
    de_en = recipe / "exp/de_legonn_wemb/modules/encoder0.zip"
    de_en.parent.mkdir(parents=True)
    shutil.copy(recipe / "exp/wemb/modules/encoder0.zip", de_en)  # stands in for the De-En WEmb encoder
    fixture_sizes = TINY.replace("--max_epoch 1 ", "")
    run(recipe.parent, "run.sh", "--mini", "true", "--nj", "1", "--stage", "3", "--stop_stage", "3",
        "--low_from_de", "true", "--low_models", "ctc", "--epochs", "1", "--extra_train_args", fixture_sizes)
    assert not (recipe / "exp/fr_low100_encdec").exists()  # --low_models: the encoder module alone
    with zipfile.ZipFile(de_en) as archive:
        de = torch.load(io.BytesIO(archive.read("module.pth")), map_location="cpu")
    fr = torch.load(recipe / "exp/fr_low100_ctc_from_de/valid.loss.ave.pth", map_location="cpu")
    kept = [key for key in de if key.startswith(("blocks", "olc", "ctc_head"))]
    assert kept and all(torch.equal(fr[f"encoders.0.{key}"], de[key]) for key in kept)
    assert not torch.equal(fr["encoders.0.frontend.embed.weight"], de["frontend.embed.weight"])


def test_the_wemb_encoder_module_trains_further_on_what_the_wemb_model_translates(recipe):
    teacher = recipe / "exp/de_legonn_wemb"
    shutil.copytree(recipe / "exp/wemb", teacher, dirs_exist_ok=True)  # stands in for the De-En WEmb model
    fixture_sizes = TINY.replace("--max_epoch 1 ", "")
    run(recipe.parent, "run.sh", "--mini", "true", "--nj", "1", "--stage", "2", "--stop_stage", "2",
        "--de_models", "wemb_encoder_kd", "--epochs", "1", "--extra_train_args", fixture_sizes)
    references = dict(line.split(" ", 1) for line in (recipe / "dump/train_de/text").read_text().splitlines())
    translations = [line.split(" ", 1) for line in (teacher / "decode_train_de/text").read_text().splitlines()]
    expected = [f"{uid} {words[0] if words else references[uid]}" for uid, *words in translations]
    assert (recipe / "dump/train_de/text_kd_wemb").read_text().splitlines() == expected
    log = (recipe / "exp/de_wemb_encoder_kd/train.log").read_text()
    assert "exp/init/exp_de_legonn_wemb_modules_encoder0.pth::encoders.0 " in log and "text_kd_wemb" in log
    plugged = recipe / "exp/plug_de_wemb_encoder_kd+de_legonn_wemb/decode_test_de/score_bleu/score.json"
    assert read_score(plugged)["num_sentences"] == 60


@pytest.mark.slow
def test_the_parallel_runner_builds_the_table_and_fits_the_de_en_epochs_to_its_budget(tmp_path):
    recipe = copy_recipe(tmp_path, "multi30k/mt1")
    run(recipe, "local/run_parallel.sh", "--mini", "true", "--data_root", str(SHARED_DATA / "multi30k"),
        "--de_models", "legonn_wemb ctc", "--train_minutes", "0.05")
    summary = (recipe / "mini/exp/parallel/summary.log").read_text()
    assert "De-En: resumed with --epochs 2" in summary  # 3 s could not hold the configs' 20
    assert "FAILED" not in summary and "all done" in summary
    rows = [[cell.strip() for cell in line.split("|")[1:-1]]
            for line in (recipe / "mini/RESULTS.md").read_text().splitlines() if line.startswith("| ")]
    bleu = {}  # the first table's row of each name (Fr before Cs), n/a where nothing was scored
    for row in rows:
        bleu.setdefault(row[0], row[1:])
    assert float(bleu["LegoNN WEmb"][1]) >= 0  # exp, BLEU, ...
    plug = next(row for row in rows if row[:3] == ["decoder plug", "`de_ctc`", "`de_legonn_wemb`"])
    assert float(plug[3]) >= 0
    slice_encoder = "De-En encoder module with a new source embedding"  # run.sh --low_from_de true
    assert float(bleu[f"{slice_encoder} + De-En WEmb decoder, no fine-tuning"][0]) >= 0  # Fr, n=100
    assert float(bleu[f"{slice_encoder} + De-En WEmb decoder, fine-tuned on the slice"][0]) >= 0
    # a part of the table: the dumps that are there, no slices, pretrained/ left as it is
    shutil.rmtree(recipe / "mini/exp/parallel")
    shipped = {path: path.stat().st_mtime_ns for path in (recipe / "mini/pretrained").iterdir()}
    run(recipe, "local/run_parallel.sh", "--mini", "true", "--low_srcs", "", "--prepare_data", "false",
        "--ship", "false", "--de_models", "ctc")
    summary = (recipe / "mini/exp/parallel/summary.log").read_text()
    assert "data:" not in summary and "fr_low" not in summary and "FAILED" not in summary and "all done" in summary
    assert {path: path.stat().st_mtime_ns for path in (recipe / "mini/pretrained").iterdir()} == shipped
