"""Scoring of decoded Kaldi-style text files (``utt_id text`` per line).

This module holds what every scorer shares: reading the files and pairing
hypotheses with references.  The scorers live in ``legonn.scoring.bleu`` and
``legonn.scoring.wer``; they are not imported here so that importing one
scorer never pulls in the other's dependencies.
"""

from __future__ import annotations

from pathlib import Path

_SHOWN_IDS = 5


class KaldiText(dict):
    """``{utt_id: text}`` that remembers which file it came from, so that
    mismatch errors can name the file instead of a nameless dict."""

    def __init__(self, entries=(), source: str = "text"):
        super().__init__(entries)
        self.source = source


class IdMismatchError(ValueError):
    """Hypotheses and references do not cover the same utterances."""


def read_kaldi_text(path: str | Path) -> KaldiText:
    """Read ``utt_id text`` lines; the text may be empty, blank lines are skipped."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such text file: {path}")
    texts = KaldiText(source=str(path))
    with path.open("rb") as f:
        # Decoding line by line is what lets the error point at the bad line.
        for lineno, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise ValueError(f"{path}:{lineno}: line is not valid UTF-8 ({err.reason})") from None
            fields = line.strip().split(maxsplit=1)
            if not fields:
                continue
            utt_id = fields[0]
            if utt_id in texts:
                raise ValueError(f"{path}:{lineno}: utterance id {utt_id!r} appears twice")
            texts[utt_id] = fields[1] if len(fields) > 1 else ""
    return texts


def paired_texts(hyps: dict[str, str], refs: dict[str, str]) -> list[tuple[str, str, str]]:
    """``(utt_id, hyp, ref)`` in reference order; any id mismatch is an error,
    because silently scoring a subset inflates or deflates the number."""
    hyp_name = getattr(hyps, "source", "hypotheses")
    ref_name = getattr(refs, "source", "references")
    missing = [u for u in refs if u not in hyps]
    if missing:
        raise IdMismatchError(
            f"{len(missing)} reference id(s) of {ref_name} have no hypothesis in {hyp_name}: "
            f"{_first_few(missing)}"
        )
    extra = [u for u in hyps if u not in refs]
    if extra:
        raise IdMismatchError(
            f"{len(extra)} hypothesis id(s) in {hyp_name} are not in the references {ref_name}: "
            f"{_first_few(extra)}"
        )
    if not refs:
        raise ValueError(f"nothing to score: {ref_name} has no utterances")
    return [(u, hyps[u], refs[u]) for u in refs]


def _first_few(ids: list[str]) -> str:
    shown = ", ".join(ids[:_SHOWN_IDS])
    return shown + (", ..." if len(ids) > _SHOWN_IDS else "")
