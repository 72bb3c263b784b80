"""Small helpers every part of legonn shares: atomic file writes, Kaldi-style text files, short id
lists for error messages, and greedy CTC reading.

Imports only the standard library at module level (torch is imported inside `atomic_save`), so
the recipe utilities that shell scripts call stay fast to start.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

SHOWN_IDS = 5  # ids named in an error message before "... (N in all)"


def cpu_has_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices natively (AVX-512 BF16): there, training under
    bfloat16 autocast runs about twice as fast as in float32; elsewhere it is emulated, and slower."""
    import torch
    return getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)()  # torch's own check, private


# --- atomic writes ------------------------------------------------------------------------------

@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".partial", prefix: str = "") -> Iterator[Path]:
    """Yields a sibling name to write to (`prefix` + name + `suffix`); on success it is renamed
    over `path`, on an error it is removed. Readers therefore see the old file or the complete
    new one, never a cut-off one."""
    path = Path(path)
    partial = path.with_name(prefix + path.name + suffix)
    try:
        yield partial
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise


def write_lines(path: str | os.PathLike, lines: Iterable[str]) -> None:
    """Writes one line per item (newline added), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as partial, partial.open("w", encoding="utf-8") as f:
        f.writelines(line + "\n" for line in lines)


def _open_partial(path: Path):
    """The file `atomic_save` writes to (the fault tests replace it to simulate a full disk)."""
    return open(path, "wb")


def _os_error(error: BaseException | None) -> OSError | None:
    """The OSError behind `error` (torch reports a failed write as a RuntimeError)."""
    while error is not None and not isinstance(error, OSError):
        error = error.__cause__ or error.__context__
    return error


def atomic_save(obj, path, *args, **kwargs):
    """torch.save that leaves `path` either as it was or complete (flushed to disk), never
    truncated; a full disk is reported as an OSError that says the old file is unchanged."""
    import torch

    if not isinstance(path, (str, os.PathLike)):  # a file object: nothing to rename
        return torch.save(obj, path, *args, **kwargs)
    path = Path(path)
    try:
        with atomic_path(path) as partial, _open_partial(partial) as f:
            torch.save(obj, f, *args, **kwargs)
            f.flush()
            os.fsync(f.fileno())
    except Exception as error:
        cause = _os_error(error)
        if cause is None:
            raise
        raise OSError(cause.errno, f"could not save {path} ({cause.strerror or cause}); the previous "
                      f"{path.name} is unchanged: free disk space and resume with --resume true") from error


# --- Kaldi-style text files (`utt_id text` per line) --------------------------------------------

class KaldiText(dict):
    """``{utt_id: text}`` that remembers which file it came from, so that mismatch errors can
    name the file instead of a nameless dict."""

    def __init__(self, entries=(), source: str = "text"):
        super().__init__(entries)
        self.source = source


def read_kaldi_lines(path: str | os.PathLike) -> Iterator[tuple[int, str, str]]:
    """``(line number, utt_id, text)`` per line, the text possibly empty; blank lines are
    skipped. A line that is not UTF-8 is an error naming file and line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such text file: {path}")
    with path.open("rb") as f:
        # Decoding line by line is what lets the error point at the bad line.
        for lineno, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise ValueError(f"{path}:{lineno}: not valid UTF-8 ({err.reason} at byte {err.start}); "
                                 "re-encode the file as UTF-8 (e.g. iconv -t UTF-8)") from None
            fields = line.strip().split(maxsplit=1)
            if fields:
                yield lineno, fields[0], fields[1] if len(fields) > 1 else ""


def read_kaldi_text(path: str | os.PathLike) -> KaldiText:
    """The whole file as a dict; an utterance id given twice is an error."""
    texts = KaldiText(source=str(path))
    for lineno, utt_id, text in read_kaldi_lines(path):
        if utt_id in texts:
            raise ValueError(f"{path}:{lineno}: utterance id {utt_id!r} appears twice")
        texts[utt_id] = text
    return texts


def first_few(ids: Iterable[str]) -> str:
    """The first ids of a list, for an error message: 'a, b, c, ... (12 in all)'."""
    ids = list(ids)
    shown = ", ".join(ids[:SHOWN_IDS])
    return shown + (f", ... ({len(ids)} in all)" if len(ids) > SHOWN_IDS else "")


# --- CTC ------------------------------------------------------------------------------------------

def collapse_ctc(best_ids: Sequence[int], blank: int = 0) -> list[int]:
    """Per-position best tokens -> output tokens: repeats collapsed, then blanks dropped."""
    return [t for i, t in enumerate(best_ids) if t != blank and (i == 0 or t != best_ids[i - 1])]


def greedy_ctc(log_probs, length: int | None = None, blank: int = 0, blank_penalty: float = 0.0) -> list[int]:
    """Greedy CTC reading of (K, V) log-marginals (a torch tensor or numpy array), of the first
    `length` positions. `blank_penalty` is subtracted from the blank's log-probability first:
    a CTC model trained on translations reads out too few words (its blank wins too often), and a
    penalty tuned on a validation set restores the length."""
    scores = log_probs[:length]
    if blank_penalty:
        scores = scores + 0  # a copy, of a torch tensor or a numpy array alike
        scores[:, blank] -= blank_penalty
    return collapse_ctc(scores.argmax(-1).tolist(), blank)
