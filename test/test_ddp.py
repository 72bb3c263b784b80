"""Distributed data-parallel training on CPU: torchrun starts two ranks of the MT trainer with
the gloo backend, the way legonn.sh's --train_launcher does (README.md of egs2/TEMPLATE/legonn1):

    torchrun --standalone --no-python --nproc_per_node 2 python -m legonn.bin.mt_train ...
        --ngpu 0 --dist_backend gloo --multiprocessing_distributed false

ESPnet reads RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT from torchrun's
environment when --dist_launcher is unset; each rank gets every batch's rank::2 slice."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from legonn.nets.interface import BLANK, SOS_EOS, UNK, Interface
from legonn.tasks.mt import MTTask

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
    Interface("de", "word", [BLANK, UNK, *sorted(set(SOURCE)), SOS_EOS]).save(root / "data/interfaces/de")
    Interface("en", "word", [BLANK, UNK, *sorted(set(TARGET)), SOS_EOS]).save(root / "data/interfaces/en")
    (root / "conf.yaml").write_text(yaml.safe_dump(CONFIG))


def task_args(split_names=("train", "valid")):
    args = ["--config", "conf.yaml", "--input_interface", "data/interfaces/de/interface.yaml",
            "--interfaces", "[data/interfaces/en/interface.yaml]", "--ctc_targets", "[text]"]
    for split in split_names:
        args += [f"--{split}_data_path_and_name_and_type", f"data/{split}/src_text,src_text,text",
                 f"--{split}_data_path_and_name_and_type", f"data/{split}/text,text,text"]
    return args


@pytest.mark.skipif(shutil.which("torchrun", path=os.path.dirname(sys.executable)) is None,
                    reason="torchrun not installed")
def test_torchrun_two_ranks_gloo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    toy_data(tmp_path)
    # Shapes first, in this process (legonn.sh stage 4).
    MTTask.main(cmd=task_args() + ["--collect_stats", "true", "--train_shape_file", "data/train/text",
                                   "--valid_shape_file", "data/valid/text", "--output_dir", "exp/stats",
                                   "--ngpu", "0"])
    shapes = []
    for split in ("train", "valid"):
        for key in ("src_text", "text"):
            shapes += [f"--{split}_shape_file", f"exp/stats/{split}/{key}_shape"]
    torchrun = str(Path(sys.executable).parent / "torchrun")
    command = [torchrun, "--standalone", "--nproc_per_node", "2", "--log-dir", "torchrun_logs",
               "--redirects", "3", "--no-python", sys.executable, "-m", "legonn.bin.mt_train",
               *task_args(), *shapes, "--output_dir", "exp/ddp", "--ngpu", "0", "--seed", "1",
               "--dist_backend", "gloo", "--multiprocessing_distributed", "false"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    logs = {path.parent.name: path.read_text() for path in (tmp_path / "torchrun_logs").rglob("stderr.log")}
    assert result.returncode == 0, result.stderr[-3000:] + "".join(v[-3000:] for v in logs.values())

    assert sorted(logs) == ["0", "1"], logs.keys()
    for rank, log in logs.items():
        assert "legonn/bin/mt_train.py" in log  # every rank started the trainer (ESPnet prints argv)
        assert "Traceback" not in log and "ERROR" not in log, log[-2000:]
    host = os.uname()[1].split(".")[0]
    assert f"[{host}:0/2]" in logs["0"]  # rank 0 of a world of 2 (ESPnet logs only on rank 0)
    assert "1epoch training" in logs["0"] or "1/1epoch" in logs["0"], logs["0"][-2000:]
    assert (tmp_path / "exp" / "ddp" / "1epoch.pth").is_file()
    assert (tmp_path / "exp" / "ddp" / "checkpoint.pth").is_file()
    config = yaml.safe_load((tmp_path / "exp" / "ddp" / "config.yaml").read_text())
    assert config["dist_backend"] == "gloo" and config["multiprocessing_distributed"] is False
