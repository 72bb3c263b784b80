"""Writing Kaldi-style ASR data dirs, shared by the europarl_st, tedlium and swbd recipes.

A set is written as wav.scp (one command per utterance that cuts its segment out of the
recording and writes a 16 kHz WAV to stdout: legonn's data dirs have no `segments` file),
text, utt2spk and, with a phonemizer, phones (the phone interface's CTC targets).
"""
import os
import shlex
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple


class Utterance(NamedTuple):
    utt_id: str
    wav: str  # a path, or a command ending in "|"
    text: str
    speaker: str


def write_data_dir(out: Path, utterances: Iterable[Utterance],
                   phonemizer: Callable[[str], str] | None = None) -> int:
    """Sorted by id; utterances with an empty text (or no phones) are left out. Returns the count."""
    rows = sorted({u.utt_id: u for u in utterances if u.text.strip()}.values())
    files: dict[str, list] = {"wav.scp": [], "text": [], "utt2spk": []}
    if phonemizer is not None:
        files["phones"] = []
    for u in rows:
        phones = phonemizer(u.text) if phonemizer is not None else None
        if phonemizer is not None and not phones:
            continue
        files["wav.scp"].append(f"{u.utt_id} {u.wav}")
        files["text"].append(f"{u.utt_id} {u.text}")
        files["utt2spk"].append(f"{u.utt_id} {u.speaker}")
        if phones is not None:
            files["phones"].append(f"{u.utt_id} {phones}")
    out.mkdir(parents=True, exist_ok=True)
    for name, lines in files.items():
        tmp = out / f"{name}.tmp"
        tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        os.replace(tmp, out / name)
    return len(files["text"])


def segment_command(tool: str, path: Path, start: float, end: float, channel: int = 1,
                    upsample: str | None = None) -> str:
    """A wav.scp command writing [start, end] of `path` as WAV to stdout.
    tool: 'sph2pipe' (NIST Sphere, shorten included; Kaldi's tool) or 'ffmpeg' (anything else)."""
    name = Path(tool).name
    quoted = shlex.quote(str(path))
    if name.startswith("ffmpeg"):
        command = (f"{tool} -nostdin -loglevel error -ss {start:.2f} -t {end - start:.2f} -i {quoted} "
                   "-ac 1 -ar 16000 -f wav -")
    else:
        command = f"{tool} -f wav -p -c {channel} -t {start:.2f}:{end:.2f} {quoted}"
    if upsample:  # ESPnet's swbd recipe: 8 kHz telephone speech upsampled to 16 kHz with sox
        command += f" | {upsample} -R -t wav - -t wav - rate 16000 dither"
    return command + " |"


def require_tools(*tools: str, why: str) -> None:
    from shutil import which

    missing = [t for t in tools if which(t) is None]
    if missing:
        sys.exit(f"{', '.join(missing)} not found on PATH: {why}")


def time_id(seconds: float, width: int = 7) -> str:
    """Centiseconds, zero-padded, as in Kaldi's segment ids (sw02001-A_000098-001156)."""
    return f"{int(seconds * 100 + 0.5):0{width}d}"
