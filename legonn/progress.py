"""Progress with totals and ETA for the long loops of a recipe (data preparation, feature dumps,
synthesis, decoding): tqdm, written to stderr, which the job runner sends to the job's log.

    for utt in progress(utterances, desc="fbank"):
        ...

On a terminal the bar redraws in place, at most once a second. In a log file (what recipes and
CI see) every redraw is a line of its own, at most one every 30 s plus the final one, so a log
stays short and `tail -f` shows where a job is. LEGONN_PROGRESS_INTERVAL sets the seconds between
redraws; LEGONN_PROGRESS=0 turns the bars off.
"""
import os
import sys
from collections.abc import Iterable

from tqdm import tqdm

TERMINAL_INTERVAL = 1.0
LOG_INTERVAL = 30.0


class LineWriter:
    """tqdm redraws in place with '\\r', which in a log file piles every redraw onto one line;
    here each redraw becomes a line (trailing padding and repeats dropped)."""

    def __init__(self, stream):
        self.stream, self.last = stream, None

    def write(self, text: str) -> None:
        for part in text.replace("\r", "\n").split("\n"):
            part = part.rstrip()
            if part and part != self.last:
                self.stream.write(part + "\n")
                self.last = part

    def flush(self) -> None:
        self.stream.flush()


def progress(iterable: Iterable | None = None, total: int | None = None, desc: str = "",
             unit: str = "utt", stream=None, **options) -> tqdm:
    """tqdm over `iterable` (total: len(iterable) when it has one), paced for where it writes."""
    stream = stream or sys.stderr
    terminal = hasattr(stream, "isatty") and stream.isatty()
    default = TERMINAL_INTERVAL if terminal else LOG_INTERVAL
    interval = float(os.environ.get("LEGONN_PROGRESS_INTERVAL", default))
    return tqdm(iterable, total=total, desc=desc, unit=unit, file=stream if terminal else LineWriter(stream),
                mininterval=interval, maxinterval=max(interval, 10.0), ascii=not terminal,
                dynamic_ncols=terminal, disable=os.environ.get("LEGONN_PROGRESS") == "0", **options)
