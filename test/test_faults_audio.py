"""Audio: every bad recording make_fbank meets is skipped with a reason and counted.

One group of the fault-injection suite; test/faults_common.py holds the cases' machinery, the
shared toy recipe and the table (docs/faults.md)."""
import re

import numpy as np
import pytest

from test.faults_common import (
    Case,
    case,
    cases_of,
    corrupt_wav,
    fbank_case,
    observe,
    run_case,
    write_wav,
)

GROUP = "audio (make_fbank)"

# make_fbank: every bad recording is skipped with a reason and counted; a good one is kept.

def truncated_wav(path):
    write_wav(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def empty_file(path):
    path.write_bytes(b"")
    return path


def nan_wav(path):
    samples = np.random.default_rng(0).uniform(-0.3, 0.3, 4800)
    samples[100:200] = np.nan
    return write_wav(path, samples=samples, subtype="FLOAT")


for _id, _make, _patterns in [
    ("audio-empty-file", empty_file, [r"empty file: 1"]),
    ("audio-header-only", lambda p: write_wav(p, samples=np.zeros(0)), [r"empty audio: 1"]),
    ("audio-truncated", truncated_wav, [r"truncated file: 1"]),
    ("audio-corrupt", corrupt_wav, [r"unreadable: 1"]),
    ("audio-wrong-rate", lambda p: write_wav(p, rate=8000), [r"wrong sample rate: 1"]),
    ("audio-silent", lambda p: write_wav(p, silent=True), [r"silent: 1"]),
    ("audio-nan-samples", nan_wav, [r"non-finite features: 1"]),
    ("audio-missing-file", lambda p: p, [r"missing file: 1"]),
]:
    case(_id, GROUP, "python -m legonn.bin.make_fbank --data_dir D --out_dir O")(
        lambda toy, tmp, make=_make, patterns=_patterns: fbank_case(tmp, make, *patterns))


@case("audio-multi-channel", GROUP, "python -m legonn.bin.make_fbank --data_dir D --out_dir O")
def _(toy, tmp):
    text = fbank_case(tmp, lambda p: write_wav(p, channels=2), r"multi-channel \(used channel 0\): 1")
    assert "kept 2, skipped 0" in text
    return text


@case("audio-wrong-rate-detail", GROUP, "make_fbank (8 kHz file): the skipped list says what to do")
def _(toy, tmp):
    fbank_case(tmp, lambda p: write_wav(p, rate=8000))
    reason = (tmp / "fbank" / "skipped").read_text().strip()
    assert re.fullmatch(r"bad wrong sample rate: 8000 Hz, expected 16000 Hz \(add --resample\)", reason), reason
    return observe(reason)


@case("audio-nothing-kept", GROUP, "make_fbank on a data dir whose only recording is corrupt")
def _(toy, tmp):
    return fbank_case(tmp, corrupt_wav, r"error: no utterance was kept; see .*skipped for why", bad_only=True)


@pytest.mark.parametrize("fault", cases_of(GROUP), ids=lambda fault: fault.id)
def test_fault(fault: Case, fault_toy, tmp_path):
    run_case(fault, fault_toy, tmp_path)
