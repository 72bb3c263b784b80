"""Archives and checkpoints: corrupt, truncated, missing or misordered files.

One group of the fault-injection suite; test/faults_common.py holds the cases' machinery, the
shared toy recipe and the table (docs/faults.md)."""
from pathlib import Path

import numpy as np
import pytest

from legonn.bin import inference
from test.faults_common import (
    Case,
    call,
    case,
    cases_of,
    clear_error,
    compose_with,
    run_case,
)

GROUP = "archives and checkpoints"

@case("compose-corrupt-archive", GROUP, "python -m legonn.bin.compose --encoder encoder0.zip --decoder junk.zip ...")
def _(toy, tmp):
    (tmp / "decoder.zip").write_bytes(np.random.default_rng(0).bytes(3000))
    return clear_error(compose_with(toy, tmp, tmp / "decoder.zip"), r"decoder.zip: not a readable legonn module archive", r"re-export")


@case("compose-truncated-archive", GROUP, "python -m legonn.bin.compose --encoder encoder0.zip --decoder decoder.zip(cut in half) ...")
def _(toy, tmp):
    data = (toy.modules / "decoder.zip").read_bytes()
    (tmp / "decoder.zip").write_bytes(data[: len(data) // 2])
    return clear_error(compose_with(toy, tmp, tmp / "decoder.zip"), r"decoder.zip: not a readable legonn module archive")


@case("compose-missing-archive", GROUP, "python -m legonn.bin.compose --encoder encoder0.zip --decoder /nowhere/decoder.zip ...")
def _(toy, tmp):
    return clear_error(compose_with(toy, tmp, tmp / "nowhere" / "decoder.zip"), r"nowhere/decoder.zip does not exist")


@case("compose-wrong-order", GROUP, "python -m legonn.bin.compose --encoder decoder.zip --decoder encoder0.zip ...")
def _(toy, tmp):
    result = compose_with(toy, tmp, toy.modules / "encoder0.zip", encoder=toy.modules / "decoder.zip")
    return clear_error(result, r"modules must be: encoder, middle\.\.\., \[decoder\]; got \['decoder', 'encoder'\]")


def damaged_copy(source: Path, target: Path, how: str) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: len(data) // 2] if how == "truncated" else np.random.default_rng(0).bytes(len(data)))
    return target


for _how in ("corrupt", "truncated"):
    @case(f"inference-{_how}-model", GROUP, f"python -m legonn.bin.inference ... --model_file {_how}.pth")
    def _(toy, tmp, how=_how):
        model = damaged_copy(toy.model_file, tmp / f"{how}.pth", how)
        result = call(inference.main, toy.decode_argv(toy.recipe / "dump/test/src_text", tmp / "out", model_file=model))
        return clear_error(result, rf"--model_file .*{how}.pth is not a readable checkpoint", r"use another epoch's file")

    @case(f"init-param-{_how}", GROUP, f"python -m legonn.bin.mt_train ... --init_param {_how}.pth")
    def _(toy, tmp, how=_how):
        model = damaged_copy(toy.model_file, tmp / f"{how}.pth", how)
        return clear_error(toy.train(tmp / "exp", "--init_param", str(model)),
                           rf"--init_param .*{how}.pth: not a readable model file", r"re-create it")


@case("inference-missing-model", GROUP, "python -m legonn.bin.inference ... --model_file /nowhere/model.pth")
def _(toy, tmp):
    result = call(inference.main, toy.decode_argv(toy.recipe / "dump/test/src_text", tmp / "out",
                                                  model_file=tmp / "nowhere" / "model.pth"))
    return clear_error(result, r"--model_file .*nowhere/model.pth does not exist")


@case("resume-truncated-checkpoint", GROUP, "python -m legonn.bin.mt_train ... --resume true (checkpoint.pth cut off by a non-atomic writer)")
def _(toy, tmp):
    (tmp / "exp").mkdir()
    damaged_copy(toy.exp / "checkpoint.pth", tmp / "exp" / "checkpoint.pth", "truncated")
    return clear_error(toy.train(tmp / "exp"), r"--resume: .*checkpoint.pth cannot be read",
                       r"Delete it to start over from epoch 1")


@pytest.mark.parametrize("fault", cases_of(GROUP), ids=lambda fault: fault.id)
def test_fault(fault: Case, fault_toy, tmp_path):
    run_case(fault, fault_toy, tmp_path)
