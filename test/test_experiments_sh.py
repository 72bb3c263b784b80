"""egs2/TEMPLATE/legonn1/utils/experiments.sh, the helper every run.sh sources: the legonn.sh
calls its steps make (a stub legonn.sh records them), the trainer options in the exact form
legonn.sh's "finished training is kept" check compares, and the skip of a composition whose
archives are not trained yet."""
import shlex
import subprocess
import zipfile
from pathlib import Path

HELPER = Path(__file__).resolve().parents[1] / "egs2/TEMPLATE/legonn1/utils/experiments.sh"


def calls(tmp_path: Path, script: str):
    (tmp_path / "legonn.sh").write_text('#!/usr/bin/env bash\nprintf "%q " "$@" >> calls; echo >> calls\n')
    (tmp_path / "legonn.sh").chmod(0o755)
    out = subprocess.run(["bash", "-c", f"set -euo pipefail; . {HELPER}\n{script}"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = (tmp_path / "calls").read_text().splitlines() if (tmp_path / "calls").exists() else []
    return [shlex.split(line) for line in lines], out.stdout


def option(call, name):
    return call[len(call) - 1 - call[::-1].index(name) + 1]


def test_lego_train(tmp_path):
    (made,), _ = calls(tmp_path, 'lego_common=(--task asr --nj 2) lego_train_args="--batch_bins 9"\n'
                       'lego_train --seed 2 --abs_stats --train_args "--max_epoch 3" wemb train_wemb 4-8 --nj 1')
    assert made[:2] == ["--task", "asr"] and made[-2:] == ["--nj", "1"]
    assert option(made, "--tag") == "wemb" and option(made, "--train_config") == "conf/train_wemb.yaml"
    assert option(made, "--train_args") == (f"--batch_bins 9 --seed 2 --normalize_stats "
                                            f"{tmp_path}/exp/wemb/stats/train/feats_stats.npz --max_epoch 3")
    assert (option(made, "--stage"), option(made, "--stop_stage")) == ("4", "8")
    (decode,), _ = calls(tmp_path, "rm calls; lego_train x exp/y/config.yaml 6")
    assert option(decode, "--train_config") == "exp/y/config.yaml" and option(decode, "--train_args") == ""
    assert (option(decode, "--stage"), option(decode, "--stop_stage")) == ("6", "6")


def test_lego_finetune(tmp_path):
    (made,), _ = calls(tmp_path, 'lego_train_args="--ddp"; lego_finetune c+d --inference_model best.pth')
    assert option(made, "--tag") == "finetune_c+d" and option(made, "--train_config") == "exp/c+d/finetune.yaml"
    assert option(made, "--init_param") == "exp/c+d/model.pth" and option(made, "--train_args") == "--ddp"
    assert option(made, "--inference_model") == "best.pth" and option(made, "--stop_stage") == "7"


def test_lego_compose(tmp_path):
    (compose, decode), _ = calls(tmp_path, "lego_common=(--nj 2)\n"
                                 "lego_compose --finetune_config f.yaml c a.zip b.zip -- --test_sets t")
    assert option(compose, "--compose_modules") == "a.zip b.zip" and option(compose, "--finetune_config") == "f.yaml"
    assert option(compose, "--stage") == "9" and option(compose, "--test_sets") == "t"
    assert option(decode, "--tag") == "c" and (option(decode, "--stage"), option(decode, "--stop_stage")) == ("6", "7")
    assert "--compose_modules" not in decode and option(decode, "--test_sets") == "t"
    (tmp_path / "calls").unlink()
    made, stdout = calls(tmp_path, "touch a.zip\nlego_compose --if_trained c a.zip b.zip\n"
                         "lego_compose --if_trained --compose_only d a.zip")
    assert stdout == "run.sh: c skipped: b.zip not trained yet\n"
    assert len(made) == 1 and option(made[0], "--tag") == "d" and option(made[0], "--stage") == "9"


def test_lego_carry(tmp_path):
    for s in ("train", "test"):
        (tmp_path / "dump" / s).mkdir(parents=True)
        (tmp_path / "data" / s).mkdir(parents=True)
        (tmp_path / "dump" / s / "text").write_text("u2 b\n")
        (tmp_path / "data" / s / "phones").write_text("u1 P\nu2 Q R\n")
    calls(tmp_path, "lego_carry phones train test")
    assert (tmp_path / "dump/test/phones").read_text() == "u2 Q R\n"


def test_lego_init_starts_a_training_from_another_experiments_parameters(tmp_path):
    (tmp_path / "exp/phones").mkdir(parents=True)
    (tmp_path / "exp/phones/model.pth").write_text("weights")
    (made,), _ = calls(tmp_path, "lego_init exp/phones/model.pth encoders.0.olc,encoders.0.ctc_head\n"
                       'lego_train wemb train_wemb 4-8 "${lego_init_param[@]}"')
    assert option(made, "--init_param") == "exp/phones/model.pth:::encoders.0.olc,encoders.0.ctc_head"


def encoder_archive(recipe: Path, card: str = "role: encoder\n") -> None:
    """pretrained/de_encoder.zip: a module archive with this module.yaml."""
    (recipe / "pretrained").mkdir()
    with zipfile.ZipFile(recipe / "pretrained/de_encoder.zip", "w") as archive:
        archive.writestr("module.yaml", card)
        archive.writestr("module.pth", b"encoder weights")


def test_lego_init_starts_a_part_of_the_model_from_a_module_archive(tmp_path):
    encoder_archive(tmp_path)
    (made,), _ = calls(tmp_path, "lego_init --into encoders.0 pretrained/de_encoder.zip frontend.embed\n"
                       'lego_train fr train_ctc 4-8 "${lego_init_param[@]}"')
    assert option(made, "--init_param") == "exp/init/pretrained_de_encoder.pth::encoders.0:frontend.embed"
    assert (tmp_path / "exp/init/pretrained_de_encoder.pth").read_bytes() == b"encoder weights"


def test_lego_init_from_an_encoder_archive_trains_the_architecture_of_its_weights(tmp_path):
    # The config says uniform copy; the archive's encoder was trained without it: the weights win.
    encoder_archive(tmp_path, "role: encoder\nencoder_conf: {dim: 256, olc: {ratio: 2.0, layers: 1}}\n")
    (made,), _ = calls(tmp_path, "lego_init --into encoders.0 pretrained/de_encoder.zip frontend.embed\n"
                       'lego_train --train_args "--max_epoch 3$lego_init_arch" fr train_ctc 4-8 "${lego_init_param[@]}"')
    # (legonn.sh splits the trainer options into words)
    assert option(made, "--train_args").split() == [
        "--max_epoch", "3", "--encoder_conf", '{"dim":256,"olc":{"ratio":2.0,"layers":1}}']
    # a weights file says nothing of its architecture
    (made, again), _ = calls(tmp_path, "echo weights > model.pth; lego_init model.pth x\n"
                             'lego_train --train_args "$lego_init_arch" fr train_ctc 4-8')
    assert option(again, "--train_args").split() == []


def test_lego_init_with_no_excludes_starts_from_every_parameter(tmp_path):
    # ESPnet drops the keys that start with any exclude, and every key starts with "".
    (tmp_path / "exp/wemb").mkdir(parents=True)
    (tmp_path / "exp/wemb/model.pth").write_text("weights")
    (made,), _ = calls(tmp_path, 'lego_init --into encoders.0 exp/wemb/model.pth ""\n'
                       'lego_train further train_ctc 4-8 "${lego_init_param[@]}"')
    assert option(made, "--init_param") == "exp/wemb/model.pth::encoders.0"


def test_lego_init_names_an_archive_that_holds_no_module(tmp_path):
    with zipfile.ZipFile(tmp_path / "model.zip", "w") as archive:
        archive.writestr("model.pth", b"weights")
    out = subprocess.run(["bash", "-c", f". {HELPER}; lego_init --into encoders.0 model.zip x; echo on"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and out.stdout == "" and not (tmp_path / "exp/init/model.pth").exists()
    assert out.stderr.startswith("run.sh: model.zip: not a legonn module archive")


def test_lego_init_names_the_missing_experiment_and_what_to_run(tmp_path):
    out = subprocess.run(["bash", "-c", f". {HELPER}; lego_init exp/phones/model.pth x 'run --models phones'; echo on"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr == "run.sh: exp/phones/model.pth not found: run --models phones\n"
