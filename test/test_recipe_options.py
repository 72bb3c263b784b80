"""Every recipe takes --ngpu and --extra_train_args (e.g. "--use_amp true": mixed precision) and
hands them to each legonn.sh call of its training stage: the GPU reaches training and decoding,
the trainer options every training."""
import subprocess
import zipfile

import pytest

from test.recipe_copy import copy_recipe

# recipe: its training stage, with options that keep it to one or two models (and no phone init:
# the stub trains no phone recognizer to start from)
TRAINING_STAGE = {
    "multi30k/mt1": ["--stage", "2", "--stop_stage", "2", "--de_models", "encdec legonn_wemb"],
    "an4/asr1": ["--stage", "2", "--stop_stage", "2", "--models", "encdec legonn_wemb", "--phone_init", ""],
    "multi30k_speech/asr1": ["--stage", "2", "--stop_stage", "2", "--models", "encdec legonn_wemb",
                             "--phone_init", "false"],
    "swbd/asr1": ["--stage", "2", "--stop_stage", "2"],
    "tedlium/asr1": ["--stage", "2", "--stop_stage", "2"],
    "europarl_st/asr1": ["--stage", "2", "--stop_stage", "2"],
    "wmt14_en_de/mt1": ["--stage", "2", "--stop_stage", "2"],
    "wmt16_ro_en/mt1": ["--stage", "2", "--stop_stage", "2"],
    "wmt19_de_en/mt1": ["--stage", "3", "--stop_stage", "3"],
}


@pytest.mark.parametrize("recipe", TRAINING_STAGE)
def test_ngpu_and_extra_train_args_reach_every_legonn_sh_call(recipe, tmp_path):
    copy = copy_recipe(tmp_path, recipe)
    calls = tmp_path / "legonn_sh_calls"
    (copy / "legonn.sh").unlink()
    (copy / "legonn.sh").write_text(f'#!/usr/bin/env bash\nprintf "%s\\n" "$*" >> {calls}\n')
    (copy / "legonn.sh").chmod(0o755)
    result = subprocess.run(["bash", "run.sh", *TRAINING_STAGE[recipe], "--ngpu", "1",
                             "--extra_train_args", "--use_amp true"],
                            cwd=copy, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    lines = calls.read_text().splitlines()
    trainings = [line for line in lines if "--train_config" in line]
    assert trainings, lines
    jobs = [line for line in lines if int(line.split("--stop_stage ")[1].split()[0]) >= 4]  # not data
    assert all("--ngpu 1 " in line for line in jobs), jobs
    assert all("--use_amp true" in line.split("--train_args", 1)[1] for line in trainings), trainings


def test_multi30k_slices_build_on_the_shipped_de_en_modules_with_no_de_en_training(tmp_path):
    copy = copy_recipe(tmp_path, "multi30k/mt1")
    calls = tmp_path / "legonn_sh_calls"
    (copy / "legonn.sh").unlink()
    (copy / "legonn.sh").write_text(f'#!/usr/bin/env bash\nprintf "%s\\n" "$*" >> {calls}\n')
    (copy / "legonn.sh").chmod(0o755)
    slice_encoder = copy / "exp/cs_low500_ctc_from_de/modules/encoder0.zip"
    slice_encoder.parent.mkdir(parents=True)
    slice_encoder.write_text("stands for the trained slice encoder")
    result = subprocess.run(["bash", "run.sh", "--stage", "3", "--stop_stage", "6", "--low_srcs", "cs",
                             "--low_sizes", "500", "--low_models", "ctc", "--de_wemb", "shipped"],
                            cwd=copy, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    lines = calls.read_text().splitlines()
    (training,) = [line for line in lines if "--tag cs_low500_ctc_from_de " in line]
    assert "--init_param exp/init/pretrained_de_en_wemb_encoder.pth::encoders.0:frontend.embed" in training
    with zipfile.ZipFile(copy / "pretrained/de_en_wemb_encoder.zip") as shipped:
        assert (copy / "exp/init/pretrained_de_en_wemb_encoder.pth").read_bytes() == shipped.read("module.pth")
    compositions = [line for line in lines if "--compose_modules" in line]
    decoders = {line.split("--compose_modules ")[1].split()[1] for line in compositions}
    assert decoders == {"pretrained/de_en_wemb_decoder.zip"}, compositions   # the transfer and its fine-tuning
    assert "--tag transfer_cs_low500_ctc_from_de+de_legonn_beamconv" not in calls.read_text()
    assert "exp/de_legonn_beamconv/modules/decoder.zip not trained yet" in result.stdout


def test_multi30k_names_a_wrong_de_wemb_choice(tmp_path):
    copy = copy_recipe(tmp_path, "multi30k/mt1")
    result = subprocess.run(["bash", "run.sh", "--stage", "4", "--stop_stage", "4", "--de_wemb", "zoo"],
                            cwd=copy, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "--de_wemb: trained or shipped, not 'zoo'" in result.stderr


def test_an4_names_a_model_that_cannot_start_from_the_phone_recognizer(tmp_path):
    copy = copy_recipe(tmp_path, "an4/asr1")
    result = subprocess.run(["bash", "run.sh", "--stage", "2", "--stop_stage", "2", "--phone_init", "true"],
                            cwd=copy, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "--phone_init: 'true' has no acoustic encoder" in result.stderr
