"""Specification of legonn.sh's command line: every option documented, stray arguments refused,
and jobs going through cmd.sh's train_cmd (stages 4-5) or decode_cmd (stages 3 and 6)."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from legonn.utils import cpu_has_bfloat16
from test.recipe_copy import stub_runner_and_test_set

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "egs2" / "TEMPLATE" / "legonn1"


@pytest.fixture
def recipe(tmp_path):
    for name in ("legonn.sh", "utils", "path.sh", "cmd.sh"):
        (tmp_path / name).symlink_to(TEMPLATE / name)
    return tmp_path


def legonn_sh(recipe, *options):
    return subprocess.run(["./legonn.sh", *options], cwd=recipe, capture_output=True, text=True, timeout=120)


def test_help_describes_every_option_and_nine_stages(recipe):
    result = legonn_sh(recipe, "--help")
    assert result.returncode == 0
    options = re.findall(r"^  --(\w+) (.*)$", result.stdout, re.MULTILINE)
    assert len(options) > 25
    undocumented = [name for name, rest in options if "#" not in rest]
    assert not undocumented, f"options without help text: {undocumented}"
    described = dict(options)
    assert re.match(r"9\s+# last stage to run \(1-9\)", described["stop_stage"])
    for name in ("interfaces", "train_set", "test_sets", "ngpu", "train_config", "train_cmd", "decode_cmd"):
        assert name in described


@pytest.mark.parametrize("argv", [["3"], ["--stage", "3", "extra"]])
def test_a_stray_positional_argument_is_an_error_and_runs_nothing(recipe, argv):
    result = legonn_sh(recipe, *argv)
    assert result.returncode == 1
    assert f"legonn.sh: unexpected argument '{argv[-1]}'" in result.stderr
    assert "stage 1" not in result.stdout and not (recipe / "data").exists()
    if argv == ["3"]:
        assert "--stage 3 --stop_stage 3" in result.stderr


RECORDER = """#!/usr/bin/env bash
# Stands in for a job runner: notes which one was called, runs nothing (but leaves the
# folder stage 4 marks as done).
echo "$1 $2" >> calls
mkdir -p exp/x/stats
"""


def test_training_stages_use_train_cmd_and_decoding_uses_decode_cmd(recipe):
    stub_runner_and_test_set(recipe, RECORDER)
    runners = ["--tag", "x", "--train_config", "conf.yaml", "--train_cmd", "./rec train",
               "--decode_cmd", "./rec decode", "--nj", "1"]
    assert legonn_sh(recipe, "--stage", "4", "--stop_stage", "5", *runners).returncode == 0
    legonn_sh(recipe, "--stage", "6", "--stop_stage", "6", *runners)  # the recorder decodes nothing
    assert (recipe / "calls").read_text().splitlines() == [
        "train exp/x/stats.log", "train exp/x/train.log", "decode JOB=1:1"]
    # --cmd, the one runner of earlier versions, still replaces both.
    (recipe / "calls").unlink()
    (recipe / "exp" / "x" / ".trained").unlink()
    shutil.rmtree(recipe / "exp" / "x" / "decode_test")
    legonn_sh(recipe, "--stage", "5", "--stop_stage", "6", *runners, "--cmd", "./rec one")
    assert [line.split()[0] for line in (recipe / "calls").read_text().splitlines()] == ["one", "one"]


def test_a_training_restarts_when_the_parameters_it_started_from_change(recipe):
    stub_runner_and_test_set(recipe, '#!/usr/bin/env bash\necho "trained from $(cat init.pth)" >> exp/x/train.log\n')
    (recipe / "exp" / "x" / "stats").mkdir()
    (recipe / "init.pth").write_text("modules of the first run")
    train = ["--stage", "5", "--stop_stage", "5", "--tag", "x", "--train_config", "conf.yaml",
             "--train_cmd", "./rec", "--init_param", "init.pth"]
    assert legonn_sh(recipe, *train).returncode == 0
    rerun = legonn_sh(recipe, *train)
    assert "is trained with these settings, kept" in rerun.stdout
    (recipe / "init.pth").write_text("modules trained further")
    changed = legonn_sh(recipe, *train)
    assert changed.returncode == 0 and "exp/x started from other parameters than init.pth holds now" in changed.stdout
    (stale,) = (recipe / "exp" / "x").glob("stale_*")
    assert (stale / "train.log").read_text() == "trained from modules of the first run\n"
    assert (stale / "model.pth").exists() and (recipe / "exp" / "x" / "stats").is_dir()
    assert (recipe / "exp" / "x" / "train.log").read_text() == "trained from modules trained further\n"


def test_training_precision_follows_the_cpu_and_changing_it_keeps_a_finished_training(recipe):
    stub_runner_and_test_set(recipe, '#!/usr/bin/env bash\necho "$@" >> exp/x/train.log\n')
    (recipe / "exp" / "x" / "stats").mkdir()
    train = ["--stage", "5", "--stop_stage", "5", "--tag", "x", "--train_config", "conf.yaml", "--train_cmd", "./rec"]
    assert legonn_sh(recipe, *train).returncode == 0
    auto = "true" if cpu_has_bfloat16() else "false"  # bfloat16 autocast where the CPU computes it natively
    assert re.search(rf" --use_amp {auto}\b", (recipe / "exp" / "x" / "train.log").read_text())
    assert "is trained with these settings, kept" in legonn_sh(recipe, *train, "--use_amp", "false").stdout
    (recipe / "exp" / "x" / ".trained").unlink()
    assert legonn_sh(recipe, *train, "--use_amp", "false").returncode == 0
    assert re.search(r" --use_amp false\b", (recipe / "exp" / "x" / "train.log").read_text().splitlines()[-1])


def test_a_training_from_no_parameters_restarts_when_given_some_and_one_that_named_them_is_kept(recipe):
    stub_runner_and_test_set(recipe, '#!/usr/bin/env bash\necho "trained" >> exp/x/train.log\n')
    (recipe / "exp" / "x" / "stats").mkdir()
    (recipe / "init.pth").write_text("a phone recognizer")
    train = ["--stage", "5", "--stop_stage", "5", "--tag", "x", "--train_config", "conf.yaml", "--train_cmd", "./rec"]
    assert legonn_sh(recipe, *train).returncode == 0
    given = legonn_sh(recipe, *train, "--init_param", "init.pth:::encoders.0.olc")
    assert given.returncode == 0 and "exp/x started from other parameters than init.pth" in given.stdout
    assert len(list((recipe / "exp" / "x").glob("stale_*"))) == 1
    # A run from before exp/x/.init was kept counts as started from the file its log names.
    (recipe / "exp" / "x" / ".init").unlink()
    (recipe / "exp" / "x" / "train.log").write_text("# python -m legonn.bin.mt_train --init_param init.pth:::x\n")
    kept = legonn_sh(recipe, *train, "--init_param", "init.pth:::encoders.0.olc")
    assert kept.returncode == 0 and "other parameters" not in kept.stdout
    assert len(list((recipe / "exp" / "x").glob("stale_*"))) == 1


def test_a_training_from_some_parameters_restarts_when_given_none(recipe):
    stub_runner_and_test_set(recipe, '#!/usr/bin/env bash\necho "trained" >> exp/x/train.log\n')
    (recipe / "exp" / "x" / "stats").mkdir()
    (recipe / "init.pth").write_text("a phone recognizer")
    train = ["--stage", "5", "--stop_stage", "5", "--tag", "x", "--train_config", "conf.yaml", "--train_cmd", "./rec"]
    assert legonn_sh(recipe, *train, "--init_param", "init.pth:::encoders.0.olc").returncode == 0
    random = legonn_sh(recipe, *train)
    assert random.returncode == 0 and "exp/x started from other parameters than random weights" in random.stdout
    (stale,) = (recipe / "exp" / "x").glob("stale_*")
    assert (stale / ".init").exists() and not (recipe / "exp" / "x" / ".init").exists()
    assert "is trained with these settings, kept" in legonn_sh(recipe, *train).stdout
    # A run from before exp/x/.init was kept counts as started from the file its log names.
    shutil.rmtree(stale)
    (recipe / "exp" / "x" / "train.log").write_text("# python -m legonn.bin.asr_train --init_param init.pth:::x\n")
    assert "than random weights" in legonn_sh(recipe, *train).stdout


def test_a_changed_config_resumes_the_same_model_and_trains_another_model_again(recipe):
    # The stand-in trainer writes what ESPnet writes first: the options it read, as config.yaml.
    stub_runner_and_test_set(recipe, '#!/usr/bin/env bash\necho trained >> exp/x/train.log\n'
                             'cp conf.yaml exp/x/config.yaml; touch exp/x/checkpoint.pth\n')
    (recipe / "exp" / "x" / "stats").mkdir()
    model = "encoder_conf: {dim: 8, olc: {ratio: 2.0}}\ndecoder: none\n"
    (recipe / "conf.yaml").write_text(model + "max_epoch: 2\n")
    train = ["--stage", "5", "--stop_stage", "5", "--tag", "x", "--train_config", "conf.yaml", "--train_cmd", "./rec"]
    assert legonn_sh(recipe, *train).returncode == 0
    (recipe / "conf.yaml").write_text(model + "max_epoch: 4\n")
    longer = legonn_sh(recipe, *train)
    assert longer.returncode == 0 and "another architecture" not in longer.stdout
    assert (recipe / "exp/x/train.log").read_text() == "trained\ntrained\n"  # resumed in place
    (recipe / "conf.yaml").write_text(model.replace("ratio: 2.0", "ratio: 2.0, uniform_copy: true") + "max_epoch: 4\n")
    other = legonn_sh(recipe, *train)
    assert other.returncode == 0, other.stderr
    assert "exp/x holds a model of another architecture (encoder_conf.olc.uniform_copy: None -> True)" in other.stdout
    (stale,) = (recipe / "exp" / "x").glob("stale_*")
    assert (stale / "train.log").read_text() == "trained\ntrained\n" and (stale / "checkpoint.pth").exists()
    assert (recipe / "exp/x/train.log").read_text() == "trained\n"


def test_experiments_on_the_same_data_share_one_statistics_job(recipe):
    stub_runner_and_test_set(recipe, '#!/usr/bin/env bash\necho "$1 $2" >> calls\nmkdir -p "$(dirname "$2")/stats"\n')
    for tag, valid_set in (("x", "valid"), ("y", "valid"), ("z", "test")):
        assert legonn_sh(recipe, "--stage", "4", "--stop_stage", "4", "--tag", tag, "--train_config", "conf.yaml",
                         "--valid_set", valid_set, "--train_cmd", "./rec train").returncode == 0
        assert (recipe / "exp" / tag / "stats" / ".done").exists()
    # y copied x's statistics; z validates on other data and computes its own
    assert (recipe / "calls").read_text().splitlines() == ["train exp/x/stats.log", "train exp/z/stats.log"]


def test_an_interface_trained_on_a_text_variant_is_scored_against_the_reference_where_that_variant_is_absent(recipe):
    # Distilled CTC targets (text_kd) exist for the training sets only; a test set has its reference.
    decoded = recipe / "exp" / "x" / "decode_test"
    (decoded / "interface0").mkdir(parents=True)
    (recipe / "dump" / "test").mkdir(parents=True)
    (recipe / "dump" / "test" / "text").write_text("u1 a man rides a brown horse\n")
    (decoded / "text").write_text("u1 a man rides a brown horse\n")
    (decoded / "interface0" / "text").write_text("u1 a man rides a brown horse\n")
    result = legonn_sh(recipe, "--tag", "x", "--test_sets", "test", "--metric", "bleu", "--ctc_interfaces", "en",
                       "--ctc_targets", "text_kd", "--stage", "7", "--stop_stage", "7")
    assert result.returncode == 0, result.stderr
    interface_score = (decoded / "score_interface0" / "score.json").read_text()
    assert '"metric": "bleu"' in interface_score and '"score": 100.0' in interface_score
    # A missing target of another kind (phones) is still an error.
    result = legonn_sh(recipe, "--tag", "x", "--test_sets", "test", "--metric", "bleu", "--ctc_interfaces", "phone",
                       "--ctc_targets", "phones", "--stage", "7", "--stop_stage", "7")
    assert result.returncode != 0
