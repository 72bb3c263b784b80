"""Distributed data-parallel training on CPU through the recipe pipeline: legonn.sh stage 5
with --train_launcher torchrun (two ranks), as egs2/TEMPLATE/legonn1/README.md documents:

    ./legonn.sh ... --ngpu 0 --train_launcher "torchrun --no-python --standalone --nproc_per_node 2"

With --ngpu 0 legonn's trainer picks the gloo backend itself (NCCL, ESPnet's default, needs GPUs).

ESPnet reads RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT from torchrun's
environment when --dist_launcher is unset; each rank gets every batch's rank::2 slice."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

TEMPLATE = Path(__file__).resolve().parents[1] / "egs2" / "TEMPLATE" / "legonn1"

SOURCE = "ein kleiner hund sieht eine große katze und der mann läuft schnell".split()
TARGET = "a small dog sees a big cat and the man runs fast".split()
CONFIG = {
    "encoder_conf": {"dim": 16, "heads": 2, "ffn_dim": 32, "layers": 1, "olc": {"ratio": 2.0, "max_len": 64, "layers": 1}},
    "ingestor": "wemb", "ingestor_conf": {"rf": 1, "heads": 2, "ffn_dim": 32, "layers": 1},
    "decoder_conf": {"dim": 16, "heads": 2, "ffn_dim": 32, "layers": 1},
    "model_conf": {"ctc_weights": [1.0], "lsm_weight": 0.1},
    "optim": "adam", "optim_conf": {"lr": 0.001},
    "batch_type": "unsorted", "batch_size": 4, "max_epoch": 1, "num_workers": 0,
    "num_att_plot": 0, "use_tensorboard": False, "use_matplotlib": False, "best_model_criterion": [["valid", "acc", "max"]],
    "keep_nbest_models": 1,
}


def toy_data(root: Path):
    """Word-level toy translation pairs (every source word maps to one target word)."""
    for name, count in (("train", 16), ("valid", 4)):
        folder = root / "data" / name
        folder.mkdir(parents=True)
        src, tgt = [], []
        for i in range(count):
            words = [(i * 7 + j * 3) % len(SOURCE) for j in range(3 + i % 4)]
            src.append(f"utt{i:03d} " + " ".join(SOURCE[w] for w in words))
            tgt.append(f"utt{i:03d} " + " ".join(TARGET[w] for w in words))
        (folder / "src_text").write_text("\n".join(src) + "\n", encoding="utf-8")
        (folder / "text").write_text("\n".join(tgt) + "\n", encoding="utf-8")
    (root / "conf.yaml").write_text(yaml.safe_dump(CONFIG))


@pytest.mark.skipif(shutil.which("torchrun", path=os.path.dirname(sys.executable)) is None,
                    reason="torchrun not installed")
def test_recipe_trains_with_torchrun_two_ranks_and_picks_gloo_on_cpu(tmp_path):
    recipe = tmp_path / "recipe"
    recipe.mkdir()
    for name in ("legonn.sh", "utils", "path.sh", "cmd.sh"):
        (recipe / name).symlink_to(TEMPLATE / name)
    toy_data(recipe)
    common = ["--train_set", "train", "--valid_set", "valid", "--test_sets", "valid",
              "--input_interface", "de", "--ctc_interfaces", "en", "--tag", "ddp"]
    stages = [["--stage", "2", "--stop_stage", "3",
               "--interfaces", "de=word:0:data/train/src_text en=word:0:data/train/text"],
              ["--stage", "4", "--stop_stage", "5", "--train_config", "conf.yaml", "--ngpu", "0",
               "--train_launcher", "torchrun --no-python --standalone --nproc_per_node 2",
               "--train_args", "--seed 1"]]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for options in stages:
        result = subprocess.run(["./legonn.sh", *common, *options], cwd=recipe, env=env,
                                capture_output=True, text=True, timeout=600)
        log = (recipe / "exp/ddp/train.log").read_text() if (recipe / "exp/ddp/train.log").exists() else ""
        assert result.returncode == 0, result.stderr[-3000:] + log[-3000:]

    host = os.uname()[1].split(".")[0]
    assert f"[{host}:0/2]" in log  # rank 0 of a world of 2 (ESPnet logs only on rank 0)
    assert "Traceback" not in log, log[-2000:]
    assert (recipe / "exp/ddp/1epoch.pth").is_file()
    assert (recipe / "exp/ddp/checkpoint.pth").is_file()
    config = yaml.safe_load((recipe / "exp/ddp/config.yaml").read_text())
    assert config["dist_backend"] == "gloo" and config["multiprocessing_distributed"] is False
