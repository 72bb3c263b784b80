"""Tokens: OOV words and CTC targets longer than the interface allows.

One group of the fault-injection suite; test/faults_common.py holds the cases' machinery, the
shared toy recipe and the table (docs/faults.md)."""
import re

import numpy as np
import pytest

from legonn.bin import inference
from legonn.recipe import data_dir
from test.faults_common import (
    Case,
    call,
    case,
    cases_of,
    observe,
    reporter_of,
    run_case,
    succeeded,
    write_kaldi,
)

GROUP = "tokens"

# OOV, and targets longer than the CTC interface allows (both seen in the toy training run).

@case("oov-source-words-inference", GROUP, "python -m legonn.bin.inference --task mt ... (source words not in the vocabulary)")
def _(toy, tmp):
    source = write_kaldi(tmp / "src_text", {"a": "s1 s2", "b": "s1 zz s3 qq zz"})
    text = succeeded(call(inference.main, toy.decode_argv(source, tmp / "out")),
                     r"3 piece\(s\) in 1 text\(s\) are not in 'src' .* became <unk>: 'zz' x2, 'qq' x1")
    assert data_dir.read_keys(tmp / "out" / "text") == ["a", "b"]
    return observe(next(line for line in text.splitlines() if "became <unk>" in line))


@case("oov-target-word-training", GROUP, "python -m legonn.bin.mt_train ... (valid text has a word not in the vocabulary)")
def _(toy, tmp):
    log = toy.trained.err
    match = re.search(r"utterance 'utt9001': 'text' pieces \['t99'\] are not in 'tgt' .*; mapped to <unk>", log)
    assert match, log[-3000:]
    return observe(match.group(0))


@case("ctc-target-longer-than-interface", GROUP, "python -m legonn.bin.mt_train ... (a 9-token target, 2 interface frames)")
def _(toy, tmp):
    stats = reporter_of(toy.exp / "checkpoint.pth")["stats"]
    for epoch in (1, 2):
        assert stats[epoch]["train"]["ctc0_infeasible"] > 0
        assert all(np.isfinite(stats[epoch][mode]["loss"]) for mode in ("train", "valid"))
    train = stats[2]["train"]
    return observe(f"trained; epoch 2 train ctc0_infeasible={train['ctc0_infeasible']:.3f} (per batch), "
                   f"loss_ctc0={train['loss_ctc0']:.2f}, loss={train['loss']:.2f} (finite)")


@pytest.mark.parametrize("fault", cases_of(GROUP), ids=lambda fault: fault.id)
def test_fault(fault: Case, fault_toy, tmp_path):
    run_case(fault, fault_toy, tmp_path)
