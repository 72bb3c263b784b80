"""Scoring of decoded Kaldi-style text files (``utt_id text`` per line).

This module holds what every scorer shares: reading the files and pairing
hypotheses with references.  The scorers live in ``legonn.scoring.bleu`` and
``legonn.scoring.wer``; they are not imported here so that importing one
scorer never pulls in the other's dependencies.
"""

from __future__ import annotations

from legonn.utils import KaldiText, first_few, read_kaldi_text  # noqa: F401  (read_kaldi_text: the scorers' reader)


class IdMismatchError(ValueError):
    """Hypotheses and references do not cover the same utterances."""


def paired_texts(hyps: dict[str, str], refs: dict[str, str]) -> list[tuple[str, str, str]]:
    """``(utt_id, hyp, ref)`` in reference order; any id mismatch is an error,
    because silently scoring a subset inflates or deflates the number."""
    hyp_name = getattr(hyps, "source", "hypotheses")
    ref_name = getattr(refs, "source", "references")
    missing = [u for u in refs if u not in hyps]
    if missing:
        raise IdMismatchError(
            f"{len(missing)} reference id(s) of {ref_name} have no hypothesis in {hyp_name}: "
            f"{first_few(missing)}"
        )
    extra = [u for u in hyps if u not in refs]
    if extra:
        raise IdMismatchError(
            f"{len(extra)} hypothesis id(s) in {hyp_name} are not in the references {ref_name}: "
            f"{first_few(extra)}"
        )
    if not refs:
        raise ValueError(f"nothing to score: {ref_name} has no utterances")
    return [(u, hyps[u], refs[u]) for u in refs]
