"""Every recipe takes --ngpu and --extra_train_args (e.g. "--use_amp true": mixed precision) and
hands them to each legonn.sh call of its training stage: the GPU reaches training and decoding,
the trainer options every training."""
import subprocess

import pytest

from test.recipe_copy import copy_recipe

TRAINING_STAGE = {  # recipe: its training stage, with options that keep it to one or two models
    "multi30k/mt1": ["--stage", "2", "--stop_stage", "2", "--de_models", "encdec legonn_wemb"],
    "an4/asr1": ["--stage", "2", "--stop_stage", "2", "--models", "encdec legonn_wemb"],
    "multi30k_speech/asr1": ["--stage", "2", "--stop_stage", "2", "--models", "encdec legonn_wemb",
                             "--phone_init", "false"],  # the stub trains no phoneme recognizer to start from
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
