"""Specification of BLEU / WER / CER scoring and the ``legonn.bin.score`` CLI."""

import json
import random
import re
import subprocess
import sys
from pathlib import Path

import editdistance
import pytest
import sacrebleu

from legonn.bin import score
from legonn.scoring import IdMismatchError, read_kaldi_text
from legonn.scoring.bleu import corpus_bleu
from legonn.scoring.wer import DEL, INS, SUB, align, error_rate, error_rate_by_group

REFS = {
    "utt1": "The cat sat on the mat.",
    "utt2": "A quick brown fox jumps over the lazy dog.",
    "utt3": "Hello, world!",
}
HYPS = {
    "utt1": "The cat sat on a mat.",
    "utt2": "A fast brown fox jumped over the lazy dog.",
    "utt3": "Hello world!",
}


def write_text(path, entries):
    path.write_text("".join(f"{u} {t}\n" for u, t in entries.items()), encoding="utf-8")
    return path


def column_starts(line):
    return [m.start() for m in re.finditer(r"\S+", line)]


# --- BLEU --------------------------------------------------------------------


def test_identical_text_has_bleu_100_both_ways():
    report = corpus_bleu(REFS, REFS)
    assert report.detokenized.score == pytest.approx(100.0)
    assert report.tokenized.score == pytest.approx(100.0)
    assert report.num_sentences == 3


def test_detokenized_bleu_is_sacrebleu_default_with_its_signature():
    report = corpus_bleu(HYPS, REFS)
    expected = sacrebleu.corpus_bleu(list(HYPS.values()), [list(REFS.values())])
    assert report.detokenized.score == pytest.approx(expected.score)
    assert report.detokenized.hyp_len == expected.sys_len
    assert "tok:13a" in report.detokenized.signature
    assert "case:mixed" in report.detokenized.signature
    default_bleu = sacrebleu.BLEU()
    default_bleu.corpus_score(list(HYPS.values()), [list(REFS.values())])
    assert report.detokenized.signature == str(default_bleu.get_signature())


def test_tokenized_bleu_is_sacrebleu_on_lowercased_pretokenized_text_without_smoothing():
    report = corpus_bleu(HYPS, REFS)
    expected = sacrebleu.corpus_bleu(
        [h.lower() for h in HYPS.values()],
        [[r.lower() for r in REFS.values()]],
        tokenize="none",
        smooth_method="none",
    )
    assert report.tokenized.score == pytest.approx(expected.score)
    assert "tok:none" in report.tokenized.signature and "case:lc" in report.tokenized.signature


def test_tokenized_bleu_ignores_case_unless_asked_not_to():
    refs = {"u": "the quick brown fox jumps over the lazy dog"}
    hyps = {"u": "The Quick Brown Fox Jumps Over The Lazy Dog"}
    assert corpus_bleu(hyps, refs).tokenized.score == pytest.approx(100.0)
    assert corpus_bleu(hyps, refs).detokenized.score < 100.0
    assert corpus_bleu(hyps, refs, lowercase_tokenized=False).tokenized.score < 100.0


def test_tokenized_bleu_does_not_tokenize_again():
    # 13a splits "dog." into "dog ." and so sees no difference; pre-tokenized scoring must.
    refs = {"u": "the quick brown fox jumps over the lazy dog ."}
    hyps = {"u": "the quick brown fox jumps over the lazy dog."}
    report = corpus_bleu(hyps, refs)
    assert report.detokenized.score == pytest.approx(100.0)
    assert report.tokenized.score < 100.0


# --- WER / CER ---------------------------------------------------------------


def test_wer_counts_each_error_type_exactly():
    refs = {"u1": "a b c d e f", "u2": "hello world"}
    hyps = {"u1": "a x c e f g", "u2": ""}
    report = error_rate(hyps, refs)
    u1, u2 = report.alignments
    assert u1.ops == ["C", SUB, "C", DEL, "C", "C", INS]
    assert u2.ops == [DEL, DEL]
    assert (report.substitutions, report.deletions, report.insertions) == (1, 3, 1)
    assert report.num_ref == 8 and report.errors == 5
    assert report.rate == pytest.approx(62.5)
    assert report.summary() == "%WER 62.50 [ 5 / 8, 1 ins, 3 del, 1 sub ]"


def test_alignment_printout_marks_gaps_with_asterisks():
    report = error_rate({"u1": "a x c e f g"}, {"u1": "a b c d e f"})
    lines = report.alignments[0].lines()
    assert lines[0] == "id: (u1)"
    assert lines[1] == "Scores: (#C #S #D #I) 4 1 1 1"
    ref_line, hyp_line, eval_line = lines[2:]
    assert ref_line.split() == ["REF:", "a", "b", "c", "d", "e", "f", "***"]
    assert hyp_line.split() == ["HYP:", "a", "x", "c", "***", "e", "f", "g"]
    assert eval_line.split() == ["Eval:", "S", "D", "I"]
    assert column_starts(ref_line) == column_starts(hyp_line)
    assert set(column_starts(eval_line)) <= set(column_starts(ref_line))


def test_cer_counts_characters_including_spaces():
    report = error_rate({"u": "abd  de"}, {"u": "abc de"}, unit="char")
    assert report.num_ref == 6  # a b c <space> d e; runs of spaces count once
    assert (report.substitutions, report.deletions, report.insertions) == (1, 0, 0)
    assert report.summary().startswith("%CER 16.67")


def test_backtrace_is_a_minimum_edit_alignment():
    rng = random.Random(0)
    for _ in range(200):
        ref = rng.choices("abc", k=rng.randint(0, 8))
        hyp = rng.choices("abc", k=rng.randint(0, 8))
        ops = align(ref, hyp)
        assert len(ops) - ops.count("C") == editdistance.eval(ref, hyp)
        assert len(ops) - ops.count(INS) == len(ref) and len(ops) - ops.count(DEL) == len(hyp)


def test_write_puts_summary_and_alignments_in_result_txt(tmp_path):
    report = error_rate({"u1": "a x c"}, {"u1": "a b c"})
    assert report.write(tmp_path) == report.summary()
    text = (tmp_path / "result.txt").read_text(encoding="utf-8")
    assert text.startswith(report.summary())
    assert "id: (u1)" in text and "REF:  a b c" in text


# --- ids and files -----------------------------------------------------------


def test_missing_hypotheses_are_an_error_naming_the_ids():
    with pytest.raises(IdMismatchError, match=r"2 reference id.*utt2, utt3"):
        corpus_bleu({"utt1": "x"}, REFS)
    with pytest.raises(IdMismatchError, match=r"2 reference id.*utt2, utt3"):
        error_rate({"utt1": "x"}, REFS)


def test_extra_hypotheses_are_an_error_naming_the_ids_and_file(tmp_path):
    hyp_file = write_text(tmp_path / "hyp", {**HYPS, "bogus": "x"})
    with pytest.raises(IdMismatchError, match=rf"1 hypothesis id.*{hyp_file}.*bogus"):
        error_rate(read_kaldi_text(hyp_file), REFS)


def test_kaldi_text_allows_empty_text_and_rejects_bad_utf8_by_line(tmp_path):
    good = tmp_path / "good"
    good.write_text("u1 hello world\nu2\n\nu3 x\n", encoding="utf-8")
    assert read_kaldi_text(good) == {"u1": "hello world", "u2": "", "u3": "x"}
    bad = tmp_path / "bad"
    bad.write_bytes(b"u1 fine\nu2 caf\xe9\n")
    with pytest.raises(ValueError, match=rf"{bad}:2: .*UTF-8"):
        read_kaldi_text(bad)


# --- CLI ---------------------------------------------------------------------


def test_cli_bleu_writes_score_json(tmp_path, capsys):
    ref, hyp = write_text(tmp_path / "ref", REFS), write_text(tmp_path / "hyp", HYPS)
    out = tmp_path / "score"
    summary = score.main(["--ref", str(ref), "--hyp", str(hyp), "--metric", "bleu", "--out_dir", str(out)])
    assert capsys.readouterr().out.strip() == summary
    numbers = json.loads((out / "score.json").read_text())
    assert numbers["metric"] == "bleu"
    assert numbers["detokenized"]["score"] == pytest.approx(corpus_bleu(HYPS, REFS).detokenized.score)
    assert "tok:13a" in numbers["detokenized"]["signature"]
    assert "score" in numbers["tokenized"]


@pytest.mark.parametrize("metric", ["wer", "cer"])
def test_cli_error_rate_writes_score_json_and_result_txt(tmp_path, metric):
    ref, hyp = write_text(tmp_path / "ref", REFS), write_text(tmp_path / "hyp", HYPS)
    score.main(["--ref", str(ref), "--hyp", str(hyp), "--metric", metric, "--out_dir", str(tmp_path / "s")])
    numbers = json.loads((tmp_path / "s" / "score.json").read_text())
    expected = error_rate(HYPS, REFS, unit="word" if metric == "wer" else "char")
    assert numbers["metric"] == metric
    assert numbers["rate"] == pytest.approx(expected.rate)
    assert numbers["errors"] == numbers["substitutions"] + numbers["deletions"] + numbers["insertions"]
    assert (tmp_path / "s" / "result.txt").is_file()


def test_error_rate_by_group_splits_the_counts_of_the_whole():
    report = error_rate(HYPS, REFS)
    groups = error_rate_by_group(report, {"utt1": "voice_b", "utt2": "voice_a", "utt3": "voice_b"})
    assert list(groups) == ["voice_a", "voice_b"]
    assert groups["voice_a"].rate == pytest.approx(error_rate({"utt2": HYPS["utt2"]}, {"utt2": REFS["utt2"]}).rate)
    for count in ("num_ref", "substitutions", "deletions", "insertions", "num_sentences"):
        assert sum(getattr(g, count) for g in groups.values()) == getattr(report, count)


def test_an_utterance_without_a_group_is_an_error_naming_it():
    with pytest.raises(IdMismatchError, match="utt3"):
        error_rate_by_group(error_rate(HYPS, REFS), {"utt1": "a", "utt2": "a"})


def test_cli_utt2group_prints_and_stores_one_rate_per_group(tmp_path, capsys):
    ref, hyp = write_text(tmp_path / "ref", REFS), write_text(tmp_path / "hyp", HYPS)
    utt2spk = write_text(tmp_path / "utt2spk", {"utt1": "spk1", "utt2": "spk2", "utt3": "spk1"})
    score.main(["--ref", str(ref), "--hyp", str(hyp), "--metric", "wer", "--out_dir", str(tmp_path / "s"),
                "--utt2group", str(utt2spk)])
    printed = capsys.readouterr().out.splitlines()
    groups = json.loads((tmp_path / "s" / "score.json").read_text())["groups"]
    assert sorted(groups) == ["spk1", "spk2"]
    assert groups["spk2"]["num_sentences"] == 1
    assert printed[1].startswith("spk1: %WER") and printed[2].startswith("spk2: %WER")


def test_cli_refuses_groups_for_bleu(tmp_path):
    ref = write_text(tmp_path / "ref", REFS)
    with pytest.raises(SystemExit):
        score.main(["--ref", str(ref), "--hyp", str(ref), "--metric", "bleu", "--out_dir", str(tmp_path / "s"),
                    "--utt2group", str(ref)])


def test_cli_missing_file_fails_with_one_line_naming_it(tmp_path):
    ref = write_text(tmp_path / "ref", REFS)
    missing = tmp_path / "no_such_hyp"
    cmd = [sys.executable, "-m", "legonn.bin.score", "--ref", str(ref), "--hyp", str(missing),
           "--metric", "wer", "--out_dir", str(tmp_path / "s")]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert proc.returncode != 0
    assert str(missing) in proc.stderr and "Traceback" not in proc.stderr
