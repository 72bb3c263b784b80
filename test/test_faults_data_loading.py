"""Data loading: scp entries and data files the loaders read.

One group of the fault-injection suite; test/faults_common.py holds the cases' machinery, the
shared toy recipe and the table (docs/faults.md)."""
import os
from collections.abc import Callable
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import torch
import yaml

from legonn.bin import asr_train, inference
from legonn.nets.interface import BLANK, SOS_EOS, UNK, Interface
from legonn.tasks.asr import ASRTask
from test.faults_common import (
    TINY,
    Case,
    Result,
    call,
    case,
    cases_of,
    clear_error,
    run_case,
    write_kaldi,
)

GROUP = "data loading"

# Data files the loaders read: a clear error naming the utterance and file, before any loading.

def asr_experiment(tmp: Path):
    """A random tiny ASR model (no training needed to check loading) and features for 3 utterances."""
    phones = Interface("phones", "phone", [BLANK, UNK, *"AA B K S T".split(), SOS_EOS])
    interface = phones.save(tmp / "phones")
    config = tmp / "asr.yaml"
    config.write_text(yaml.safe_dump({**TINY, "input_size": 8, "decoder": "none", "ingestor": None,
                                      "encoder_conf": {"dim": 16, "heads": 2, "ffn_dim": 32, "layers": 1,
                                                       "conv_channels": [4, 4]}}))
    options = ["--config", str(config), "--interfaces", f"[{interface}]", "--ctc_targets", "[text]"]
    args = ASRTask.get_parser().parse_args(options)
    model = ASRTask.build_model(args)
    (tmp / "exp").mkdir()
    (tmp / "exp" / "config.yaml").write_text(yaml.safe_dump(vars(args)))
    torch.save(model.state_dict(), tmp / "exp" / "model.pth")
    with kaldiio.WriteHelper(f"ark,scp:{tmp}/feats.ark,{tmp}/feats.scp") as writer:
        for i in range(3):
            writer(f"u{i}", np.random.default_rng(i).standard_normal((30, 8)).astype(np.float32))
    write_kaldi(tmp / "text", {f"u{i}": "AA B K" for i in range(3)})
    return options, tmp / "feats.scp"


def decode_asr(tmp: Path, scp: Path) -> Result:
    return call(inference.main, ["--task", "asr", "--train_config", str(tmp / "exp" / "config.yaml"),
                                 "--model_file", str(tmp / "exp" / "model.pth"), "--output_dir", str(tmp / "out"),
                                 "--data_path_and_name_and_type", f"{scp},speech,kaldi_ark"])


def bad_scp(tmp: Path, scp: Path, change: Callable[[str, str], str]) -> Path:
    lines = scp.read_text().splitlines()
    lines[1] = change(*lines[1].split(" ", 1))
    bad = tmp / "bad.scp"
    bad.write_text("\n".join(lines) + "\n")
    return bad


@case("feats-scp-missing-ark-inference", GROUP, "python -m legonn.bin.inference --task asr ... (feats.scp -> missing ark)")
def _(toy, tmp):
    _, scp = asr_experiment(tmp)
    scp = bad_scp(tmp, scp, lambda uid, where: f"{uid} /nowhere/feats.ark:{where.split(':')[1]}")
    return clear_error(decode_asr(tmp, scp), r"bad.scp: 1 utterance\(s\) point to a missing ark: u1 -> /nowhere/feats.ark",
                       r"re-run the feature dump stage")


@case("feats-scp-offset-past-end", GROUP, "python -m legonn.bin.inference --task asr ... (offset past the ark's end)")
def _(toy, tmp):
    _, scp = asr_experiment(tmp)
    scp = bad_scp(tmp, scp, lambda uid, where: f"{uid} {where.split(':')[0]}:999999")
    return clear_error(decode_asr(tmp, scp), r"point past the end of their ark: u1 -> .*feats.ark:999999")


@case("feats-ark-truncated", GROUP, "python -m legonn.bin.inference --task asr ... (ark cut off)")
def _(toy, tmp):
    _, scp = asr_experiment(tmp)
    ark = tmp / "feats.ark"
    os.truncate(ark, ark.stat().st_size - 100)
    return clear_error(decode_asr(tmp, scp), r"1 utterance\(s\) cut off: u2 \(30x8 at .*feats.ark", r"truncated")


@case("feats-scp-missing-ark-training", GROUP, "python -m legonn.bin.asr_train ... (train feats.scp -> missing ark)")
def _(toy, tmp):
    options, scp = asr_experiment(tmp)
    scp = bad_scp(tmp, scp, lambda uid, where: f"{uid} /nowhere/feats.ark:{where.split(':')[1]}")
    data = []
    for mode in ("train", "valid"):
        data += [f"--{mode}_data_path_and_name_and_type", f"{scp},speech,kaldi_ark",
                 f"--{mode}_data_path_and_name_and_type", f"{tmp / 'text'},text,text", f"--{mode}_shape_file", str(scp)]
    result = call(asr_train.main, options + data + ["--output_dir", str(tmp / "train"), "--ngpu", "0"])
    return clear_error(result, r"--train_data_path_and_name_and_type", r"u1 -> /nowhere/feats.ark")


@case("data-ids-missing-training", GROUP, "python -m legonn.bin.mt_train ... (text lacks an utterance of src_text)")
def _(toy, tmp):
    d = tmp / "train"
    d.mkdir()
    (d / "src_text").write_text((toy.recipe / "dump/train/src_text").read_text())
    (d / "text").write_text("".join((toy.recipe / "dump/train/text").read_text().splitlines(True)[1:]))
    result = toy.train(tmp / "exp", data={"train": d, "valid": toy.recipe / "dump/valid"})
    return clear_error(result, r"train/text lacks 1 utterance\(s\) of .*src_text: utt0000", r"data_dir subset")


@case("data-file-missing-inference", GROUP, "python -m legonn.bin.inference ... --data_path_and_name_and_type /nowhere/src_text,src_text,text")
def _(toy, tmp):
    result = call(inference.main, toy.decode_argv(tmp / "nowhere" / "src_text", tmp / "out"))
    return clear_error(result, r"nowhere/src_text \(the src_text data\) does not exist")


@case("data-empty-source-inference", GROUP, "python -m legonn.bin.inference ... (a source line with no text)")
def _(toy, tmp):
    source = write_kaldi(tmp / "src_text", {"a": "s1 s2", "b": "", "c": "s3"})
    return clear_error(call(inference.main, toy.decode_argv(source, tmp / "out")),
                       r"1 utterance\(s\) with empty src_text: b", r"data_dir filter")


@case("data-non-utf8-inference", GROUP, "python -m legonn.bin.inference ... (source file not UTF-8)")
def _(toy, tmp):
    source = tmp / "src_text"
    source.write_bytes(b"a s1 s2\nb s1 caf\xe9\n")
    return clear_error(call(inference.main, toy.decode_argv(source, tmp / "out")), r"src_text:2: not valid UTF-8")


@pytest.mark.parametrize("fault", cases_of(GROUP), ids=lambda fault: fault.id)
def test_fault(fault: Case, fault_toy, tmp_path):
    run_case(fault, fault_toy, tmp_path)
