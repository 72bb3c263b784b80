"""Word / character error rate with sclite-like per-utterance alignments.

The edit distance itself comes from ``editdistance``; the substitution /
deletion / insertion split needs an actual alignment, which ``editdistance``
does not expose, so a small Levenshtein backtrace provides it (and is checked
against ``editdistance`` so the two can never silently disagree).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import editdistance
import numpy as np

from legonn.scoring import IdMismatchError, first_few, paired_texts

UNITS = ("word", "char")
# Spaces are characters too (as in ESPnet's CER); this makes them visible in alignments.
SPACE = "<space>"

CORRECT, SUB, DEL, INS = "C", "S", "D", "I"


def tokenize(text: str, unit: str) -> list[str]:
    words = text.split()
    if unit == "word":
        return words
    if unit == "char":
        return [SPACE if c == " " else c for c in " ".join(words)]
    raise ValueError(f"unknown unit {unit!r}; expected one of {UNITS}")


def align(ref: list[str], hyp: list[str]) -> list[str]:
    """One minimum-edit alignment as ops (C/S/D/I), ref order.

    Among equally cheap alignments the backtrace prefers C/S, then D, then I.
    """
    n, m = len(ref), len(hyp)
    # Integer ids compare far faster than numpy object arrays of strings.
    ids: dict[str, int] = {}
    ref_ids = [ids.setdefault(t, len(ids)) for t in ref]
    hyp_ids = np.array([ids.setdefault(t, len(ids)) for t in hyp], dtype=np.int64)
    cols = np.arange(m + 1)
    cost = np.empty((n + 1, m + 1), dtype=np.int64)
    cost[0] = cols
    for i in range(1, n + 1):
        mismatch = (hyp_ids != ref_ids[i - 1]).astype(np.int64)
        best = np.empty(m + 1, dtype=np.int64)
        best[0] = i
        best[1:] = np.minimum(cost[i - 1, :-1] + mismatch, cost[i - 1, 1:] + 1)
        # Insertions chain left to right: cost[i, j] = min_k best[k] + (j - k),
        # which a running minimum computes without a Python loop over j.
        cost[i] = np.minimum.accumulate(best - cols) + cols
    cost = cost.tolist()  # the backtrace reads single cells, which lists do far faster
    ops = []
    i, j = n, m
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            ops.append(CORRECT if ref[i - 1] == hyp[j - 1] else SUB)
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            ops.append(DEL)
            i -= 1
        else:
            ops.append(INS)
            j -= 1
    return ops[::-1]


@dataclass(frozen=True)
class UttAlignment:
    utt_id: str
    ref: list[str]
    hyp: list[str]
    ops: list[str]

    def count(self, op: str) -> int:
        return self.ops.count(op)

    def lines(self) -> list[str]:
        """sclite-style ``REF:``/``HYP:``/``Eval:`` block; gaps are ``***``."""
        ref_it, hyp_it = iter(self.ref), iter(self.hyp)
        ref_col, hyp_col, eval_col = [], [], []
        for op in self.ops:
            r = next(ref_it) if op != INS else None
            h = next(hyp_it) if op != DEL else None
            width = max(len(r or ""), len(h or ""), 3 if r is None or h is None else 1)
            ref_col.append((r or "*" * width).ljust(width))
            hyp_col.append((h or "*" * width).ljust(width))
            eval_col.append(("" if op == CORRECT else op).ljust(width))
        c, s, d, i = (self.count(op) for op in (CORRECT, SUB, DEL, INS))
        return [
            f"id: ({self.utt_id})",
            f"Scores: (#C #S #D #I) {c} {s} {d} {i}",
            ("REF:  " + " ".join(ref_col)).rstrip(),
            ("HYP:  " + " ".join(hyp_col)).rstrip(),
            ("Eval: " + " ".join(eval_col)).rstrip(),
        ]


@dataclass(frozen=True)
class ErrorReport:
    unit: str
    num_ref: int
    substitutions: int
    deletions: int
    insertions: int
    num_sentences: int
    sentences_with_errors: int
    alignments: list[UttAlignment] = field(repr=False)

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def rate(self) -> float:
        # max(): an all-empty reference set must not crash the scoring of a run.
        return 100.0 * self.errors / max(self.num_ref, 1)

    @property
    def name(self) -> str:
        return "WER" if self.unit == "word" else "CER"

    def summary(self) -> str:
        """Kaldi compute-wer style: ``%WER 12.50 [ 5 / 40, 1 ins, 2 del, 2 sub ]``."""
        return (
            f"%{self.name} {self.rate:.2f} [ {self.errors} / {self.num_ref}, "
            f"{self.insertions} ins, {self.deletions} del, {self.substitutions} sub ]"
        )

    def to_dict(self) -> dict:
        return {
            "metric": self.name.lower(),
            "unit": self.unit,
            "rate": self.rate,
            "errors": self.errors,
            "num_ref": self.num_ref,
            "substitutions": self.substitutions,
            "deletions": self.deletions,
            "insertions": self.insertions,
            "num_sentences": self.num_sentences,
            "sentences_with_errors": self.sentences_with_errors,
        }

    def write(self, out_dir: str | Path) -> str:
        """Write ``out_dir/result.txt`` (summary, then every alignment); return the summary."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        correct = self.num_ref - self.substitutions - self.deletions
        header = [
            self.summary(),
            f"%SER {100.0 * self.sentences_with_errors / self.num_sentences:.2f} "
            f"[ {self.sentences_with_errors} / {self.num_sentences} ]",
            f"Scored {self.num_sentences} sentences, {self.num_ref} {self.unit}s: "
            f"{correct} correct, {self.substitutions} substituted, {self.deletions} deleted, "
            f"{self.insertions} inserted",
            "",
        ]
        blocks = ["\n".join(a.lines()) + "\n" for a in self.alignments]
        (out_dir / "result.txt").write_text("\n".join(header) + "\n" + "\n".join(blocks), encoding="utf-8")
        return self.summary()


def error_rate(hyps: dict[str, str], refs: dict[str, str], unit: str = "word") -> ErrorReport:
    """WER (``unit="word"``) or CER (``unit="char"``) of ``hyps`` against ``refs``."""
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}; expected one of {UNITS}")
    alignments = []
    for utt_id, hyp, ref in paired_texts(hyps, refs):
        ref_units, hyp_units = tokenize(ref, unit), tokenize(hyp, unit)
        ops = align(ref_units, hyp_units)
        distance = editdistance.eval(ref_units, hyp_units)
        if len(ops) - ops.count(CORRECT) != distance:
            raise AssertionError(f"{utt_id}: backtrace disagrees with edit distance {distance}")
        alignments.append(UttAlignment(utt_id, ref_units, hyp_units, ops))
    return _report(unit, alignments)


def error_rate_by_group(report: ErrorReport, utt2group: dict[str, str]) -> dict[str, ErrorReport]:
    """The report split by group (e.g. speaker, from a Kaldi ``utt2spk``), groups sorted, as
    sclite's per-speaker summary. Every scored utterance needs a group: a missing one is an
    error naming it, since a partial split would not add up to the whole."""
    missing = [a.utt_id for a in report.alignments if a.utt_id not in utt2group]
    if missing:
        source = getattr(utt2group, "source", "the group file")
        raise IdMismatchError(f"{len(missing)} scored utterance(s) have no group in {source}: {first_few(missing)}")
    groups: dict[str, list[UttAlignment]] = {}
    for a in report.alignments:
        groups.setdefault(utt2group[a.utt_id], []).append(a)
    return {group: _report(report.unit, groups[group]) for group in sorted(groups)}


def _report(unit: str, alignments: list[UttAlignment]) -> ErrorReport:
    total = {op: sum(a.count(op) for a in alignments) for op in (SUB, DEL, INS)}
    return ErrorReport(
        unit=unit,
        num_ref=sum(len(a.ref) for a in alignments),
        substitutions=total[SUB],
        deletions=total[DEL],
        insertions=total[INS],
        num_sentences=len(alignments),
        sentences_with_errors=sum(any(op != CORRECT for op in a.ops) for a in alignments),
        alignments=alignments,
    )
