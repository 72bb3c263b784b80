"""Alignment: NaN marginals of a broken model in the CTC aligner.

One group of the fault-injection suite; test/faults_common.py holds the cases' machinery, the
shared toy recipe and the table (docs/faults.md)."""

import pytest
import torch

from legonn.bin import align as align_cli
from legonn.nets.interface import Interface
from test.faults_common import (
    Case,
    call,
    case,
    cases_of,
    observe,
    run_case,
    succeeded,
    write_kaldi,
)

GROUP = "alignment (legonn.bin.align)"

# CTC alignment of a broken model: NaN marginals are flagged per utterance, never aligned.

@case("align-nan-marginals", GROUP, "python -m legonn.bin.align --task mt ... (a source word's embedding is NaN)")
def _(toy, tmp):
    state = torch.load(toy.model_file, map_location="cpu")
    state["encoders.0.frontend.embed.weight"][Interface.load(toy.src).tokens.index("s3")] = float("nan")
    torch.save(state, tmp / "nan.pth")
    source = write_kaldi(tmp / "src_text", {"a": "s1 s2", "b": "s1 s3", "c": "s4"})
    target = write_kaldi(tmp / "text", {"a": "t1 t2", "b": "t1 t3", "c": "t4"})
    result = call(align_cli.main, ["--task", "mt", "--train_config", str(toy.exp / "config.yaml"),
                                   "--model_file", str(tmp / "nan.pth"), "--output_dir", str(tmp / "align"),
                                   "--data_path_and_name_and_type", f"{source},src_text,text",
                                   "--data_path_and_name_and_type", f"{target},text,text", "--num_workers", "0"])
    text = succeeded(result, r"aligned 2, infeasible 0, not finite 1 \(NaN/\+inf marginals")
    (listed,) = (tmp / "align" / "infeasible").read_text().splitlines()
    assert listed.startswith("b marginals are not finite (NaN or +inf) from output position 0; not aligned")
    summary = next(line for line in text.splitlines() if "not finite" in line)
    return observe(f"{summary} / infeasible: {listed}")


@pytest.mark.parametrize("fault", cases_of(GROUP), ids=lambda fault: fault.id)
def test_fault(fault: Case, fault_toy, tmp_path):
    run_case(fault, fault_toy, tmp_path)
