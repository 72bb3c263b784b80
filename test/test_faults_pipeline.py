"""Pipeline: legonn.sh options, stage numbers, stray arguments, a missing corpus.

One group of the fault-injection suite; test/faults_common.py holds the cases' machinery, the
shared toy recipe and the table (docs/faults.md)."""
import re

import pytest

from test.faults_common import (
    MULTI30K,
    Case,
    case,
    cases_of,
    clear_error,
    legonn_sh,
    link_recipe,
    observe,
    run_case,
)

GROUP = "pipeline (legonn.sh)"

# The pipeline script.

@case("legonn-sh-unknown-option", GROUP, "./legonn.sh --stgae 3")
def _(toy, tmp):
    return clear_error(legonn_sh(toy.recipe, "--stgae", "3"), r"unknown option --stgae; valid options: --stage --stop_stage")


@case("legonn-sh-stage-not-a-number", GROUP, "./legonn.sh --stage two")
def _(toy, tmp):
    return clear_error(legonn_sh(toy.recipe, "--stage", "two"), r"--stage")


@case("legonn-sh-unknown-stage", GROUP, "./legonn.sh --stage 42")
def _(toy, tmp):
    return clear_error(legonn_sh(toy.recipe, "--stage", "42"), r"--stage")


@case("legonn-sh-stage-after-stop-stage", GROUP, "./legonn.sh --stage 5 --stop_stage 3")
def _(toy, tmp):
    return clear_error(legonn_sh(toy.recipe, "--stage", "5", "--stop_stage", "3"), r"stop_stage")


@case("legonn-sh-stray-argument", GROUP, "./legonn.sh 3")
def _(toy, tmp):
    result = legonn_sh(toy.recipe, "3")
    assert "stage 1" not in result.out  # nothing ran
    return clear_error(result, r"unexpected argument '3' \(for a stage: --stage 3 --stop_stage 3\)")


@case("multi30k-missing-corpus", GROUP, "egs2/multi30k/mt1: ./legonn.sh --stage 1 --stop_stage 1 --data_root /nowhere/multi30k")
def _(toy, tmp):
    recipe = link_recipe(tmp / "mt1", local=MULTI30K / "local")
    result = legonn_sh(recipe, "--stage", "1", "--stop_stage", "1", "--data_root", str(tmp / "nowhere" / "multi30k"))
    clear_error(result, r"stage 1 failed: local/data.sh", r"resume with: ./legonn.sh --stage 1")
    assert re.search(r"Multi30k not found at '.*nowhere/multi30k'.*pass --data_root DIR", result.err, re.DOTALL)
    return observe(" / ".join(result.err.strip().splitlines()))


@pytest.mark.parametrize("fault", cases_of(GROUP), ids=lambda fault: fault.id)
def test_fault(fault: Case, fault_toy, tmp_path):
    run_case(fault, fault_toy, tmp_path)
