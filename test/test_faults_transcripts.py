"""Transcripts: non-UTF-8, empty and very long text in data_dir validate / filter and make_interface.

One group of the fault-injection suite; test/faults_common.py holds the cases' machinery, the
shared toy recipe and the table (docs/faults.md)."""
from pathlib import Path

import pytest

from legonn.bin import make_interface
from legonn.recipe import data_dir
from test.faults_common import (
    Case,
    call,
    case,
    cases_of,
    clear_error,
    observe,
    run_case,
    succeeded,
)

GROUP = "transcripts"

# Transcripts: data_dir validate / filter and make_interface.

def text_dir(tmp: Path, text: bytes) -> Path:
    (tmp / "d").mkdir()
    (tmp / "d" / "text").write_bytes(text)
    return tmp / "d"


@case("text-non-utf8-validate", GROUP, "python -m legonn.recipe.data_dir validate D")
def _(toy, tmp):
    d = text_dir(tmp, b"u1 hello\nu2 caf\xe9\n")
    return clear_error(call(data_dir.main, ["validate", str(d)]), r"text:2: not valid UTF-8", r"iconv -t UTF-8")


@case("text-non-utf8-interface", GROUP, "python -m legonn.bin.make_interface --kind char --text T ...")
def _(toy, tmp):
    d = text_dir(tmp, b"u1 hello\nu2 caf\xe9\n")
    result = call(make_interface.main, ["--kind", "char", "--name", "x", "--text", str(d / "text"), "--out_dir", str(tmp / "i")])
    return clear_error(result, r"text:2: not valid UTF-8", r"re-encode")


@case("text-empty-validate", GROUP, "python -m legonn.recipe.data_dir validate D")
def _(toy, tmp):
    d = text_dir(tmp, b"u1 hello\nu2\nu3 world\n")
    return clear_error(call(data_dir.main, ["validate", str(d)]), r"1 empty transcript\(s\): u2", r"data_dir filter")


@case("text-empty-filter", GROUP, "python -m legonn.recipe.data_dir filter D O --max_tokens 50")
def _(toy, tmp):
    d = text_dir(tmp, b"u1 hello\nu2\nu3 world\n")
    text = succeeded(call(data_dir.main, ["filter", str(d), str(tmp / "o"), "--max_tokens", "50"]),
                     r"kept 2 of 3 utterances, skipped 1 \(empty text: 1\)")
    assert (tmp / "o" / "skipped").read_text() == "u2 empty text\n"
    return text


@case("text-very-long-filter", GROUP, "python -m legonn.recipe.data_dir filter D O --max_tokens 50")
def _(toy, tmp):
    d = text_dir(tmp, ("u1 hello\nu2 " + "word " * 5000 + "\nu3 world\n").encode())
    return succeeded(call(data_dir.main, ["filter", str(d), str(tmp / "o"), "--max_tokens", "50"]),
                     r"kept 2 of 3 utterances, skipped 1 \(text longer than 50 words: 1\)")


@case("text-all-empty-interface", GROUP, "python -m legonn.bin.make_interface --kind bpe --text T ...")
def _(toy, tmp):
    d = text_dir(tmp, b"u1\nu2\n")
    result = call(make_interface.main, ["--kind", "bpe", "--vocab_size", "20", "--name", "x", "--text", str(d / "text"),
                                        "--out_dir", str(tmp / "i")])
    return clear_error(result, r"no text to build the bpe vocabulary from", r"2 transcript\(s\), all empty")


@case("text-very-long-interface", GROUP, "python -m legonn.bin.make_interface --kind bpe --text T ...")
def _(toy, tmp):
    lines = [f"u{i} a small dog sees a big cat number {i}" for i in range(20)] + ["u99 " + "ab " * 3000]
    d = text_dir(tmp, ("\n".join(lines) + "\n").encode())
    result = call(make_interface.main, ["--kind", "bpe", "--vocab_size", "30", "--name", "x", "--text", str(d / "text"),
                                        "--out_dir", str(tmp / "i")])
    text = succeeded(result, r"skipped 1 transcript\(s\) longer than 4192 bytes", r"text:u99", r"wrote .*interface.yaml")
    return observe(" / ".join(line for line in text.splitlines() if "skipped" in line or "wrote" in line))


@pytest.mark.parametrize("fault", cases_of(GROUP), ids=lambda fault: fault.id)
def test_fault(fault: Case, fault_toy, tmp_path):
    run_case(fault, fault_toy, tmp_path)
