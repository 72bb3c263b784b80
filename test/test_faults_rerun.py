"""Re-running stages: finished work is kept, outputs unchanged.

One group of the fault-injection suite; test/faults_common.py holds the cases' machinery, the
shared toy recipe and the table (docs/faults.md)."""

import pytest
import torch

from legonn.bin import export_modules, make_fbank
from test.faults_common import (
    Case,
    call,
    case,
    cases_of,
    compose_with,
    corrupt_wav,
    fbank_case,
    legonn_sh,
    observe,
    run_case,
    succeeded,
)

GROUP = "re-running stages"

@case("rerun-stage-6", GROUP, "./legonn.sh --stage 6 --stop_stage 6 --nj 2 again")
def _(toy, tmp):
    decode = toy.recipe / "exp/toy/decode_test"
    stage6 = ["--stage", "6", "--stop_stage", "6", "--nj", "2", "--tag", "toy", "--test_sets", "test",
              "--inference_args", "--beam_size 2", "--default_inference_args", "--beam_size 2"]
    if not (decode / "text").exists():  # kill-9-during-decoding, which finishes one, has not run
        succeeded(legonn_sh(toy.recipe, *stage6))
    before = (decode / "text").read_text()
    logs_before = sorted((decode / "log").iterdir())
    kept = succeeded(legonn_sh(toy.recipe, *stage6), r"exp/toy/decode_test is up to date, kept")
    assert sorted((decode / "log").iterdir()) == logs_before, "no decoding job should have run"
    assert (decode / "text").read_text() == before
    message = next(line for line in kept.splitlines() if "up to date" in line).split("] ", 1)[-1]
    return observe(f"{message}; no job ran; decode_test/text unchanged")


@case("rerun-stages-2-3", GROUP, "./legonn.sh --stage 2 --stop_stage 3 ... again")
def _(toy, tmp):
    files = sorted(p for p in (toy.recipe / "data/interfaces").rglob("*") if p.is_file()) + \
        sorted(p for p in (toy.recipe / "dump").rglob("*") if p.is_file())
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}
    result = legonn_sh(toy.recipe, *toy.stage23)
    text = succeeded(result, r"src exists, kept", r"tgt exists, kept")
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files} == before
    return observe(" / ".join(line.split("] ", 1)[-1] for line in text.splitlines()) + f" ({len(files)} files untouched)")


@case("rerun-training", GROUP, "python -m legonn.bin.mt_train ... --resume true on a finished run")
def _(toy, tmp):
    checkpoint = toy.exp / "checkpoint.pth"
    before = checkpoint.read_bytes()
    text = succeeded(toy.train(toy.exp), r"already reached at max_epoch: 3")
    assert checkpoint.read_bytes() == before and "epoch started" not in text
    return observe("The training has already reached at max_epoch: 3 (ESPnet names the next epoch); "
                   "no epoch started, checkpoint.pth unchanged")


@case("rerun-make-fbank", GROUP, "python -m legonn.bin.make_fbank ... twice")
def _(toy, tmp):
    fbank_case(tmp, corrupt_wav)
    feats = (tmp / "fbank" / "feats.ark").read_bytes()
    result = call(make_fbank.main, ["--data_dir", str(tmp / "data"), "--out_dir", str(tmp / "fbank")])
    text = succeeded(result, r"already done for these 2 utterances; skipping")
    assert (tmp / "fbank" / "feats.ark").read_bytes() == feats
    return observe(text.strip())


@case("rerun-export-and-compose", GROUP, "export_modules then compose, twice")
def _(toy, tmp):
    outputs = []
    for _ in range(2):
        assert call(export_modules.main, ["--train_config", str(toy.exp / "config.yaml"), "--model_file",
                                          str(toy.model_file), "--out_dir", str(tmp / "modules")]).code == 0
        result = compose_with(toy, tmp, tmp / "modules" / "decoder.zip", encoder=tmp / "modules" / "encoder0.zip")
        succeeded(result, r"composed encoder \+ decoder \(mt\)")
        state = torch.load(tmp / "composed" / "model.pth", weights_only=True)
        outputs.append(((tmp / "composed" / "config.yaml").read_text(), state))
    (config1, state1), (config2, state2) = outputs
    assert config1 == config2 and state1.keys() == state2.keys()
    assert all(torch.equal(state1[k], state2[k]) for k in state1)
    return observe("same composed config.yaml and weights both times")


@pytest.mark.parametrize("fault", cases_of(GROUP), ids=lambda fault: fault.id)
def test_fault(fault: Case, fault_toy, tmp_path):
    run_case(fault, fault_toy, tmp_path)
