"""Configuration: unknown keys at every level of a training config.

One group of the fault-injection suite; test/faults_common.py holds the cases' machinery, the
shared toy recipe and the table (docs/faults.md)."""

import pytest

from test.faults_common import (
    Case,
    case,
    cases_of,
    clear_error,
    run_case,
)

GROUP = "configuration"

# Configuration keys.

@case("config-unknown-key", GROUP, "python -m legonn.bin.mt_train --config train.yaml (with max_epochs: 3)")
def _(toy, tmp):
    config = toy.write_config("typo.yaml", max_epochs=3)
    return clear_error(toy.train(tmp / "exp", config=config), r"unrecognized arguments: max_epochs \(from .*typo.yaml\)")


for _part, _key, _pattern in [
    ("encoder_conf", "layer", r"encoder_conf: unknown keys \['layer'\]; allowed: \[.*'layers'"),
    ("decoder_conf", "head", r"decoder_conf: unknown keys \['head'\]; allowed: \[.*'heads'"),
    ("ingestor_conf", "rff", r"ingestor_conf: unknown keys \['rff'\]; allowed: \[.*'rf'"),
    ("model_conf", "ctc_weight", r"unexpected keyword argument 'ctc_weight'"),
]:
    @case(f"config-unknown-{_part.replace('_', '-')}-key", GROUP,
          f"python -m legonn.bin.mt_train --config train.yaml ({_part}: {{{_key}: 2}})")
    def _(toy, tmp, part=_part, key=_key, pattern=_pattern):
        config = toy.write_config("typo.yaml", **{part: {key: 2}})
        return clear_error(toy.train(tmp / "exp", config=config), pattern)


@pytest.mark.parametrize("fault", cases_of(GROUP), ids=lambda fault: fault.id)
def test_fault(fault: Case, fault_toy, tmp_path):
    run_case(fault, fault_toy, tmp_path)
