"""Compute Kaldi-compatible log-mel filterbank features for a data dir.

    python -m legonn.bin.make_fbank --data_dir data/train --output_dir dump/fbank/train \
        [--num_mel_bins 80] [--sample_rate 16000] [--resample] [--key_file keys.1]

Reads ``wav.scp`` (audio paths, NIST Sphere ``.sph`` included, or shell commands
ending in ``|``) and writes ``feats.ark``, ``feats.scp``, ``utt2num_frames`` and
``skipped`` (``utt_id reason``) to ``out_dir``.  Bad audio is skipped and counted;
the exit status is 1 only if nothing was kept.  An ``out_dir`` finished with the
same options is left alone, so re-running a partly failed stage redoes only the
failed jobs.

Parallel use: one ``out_dir`` per job; merging is concatenation in job order:

    python -m legonn.recipe.data_dir split data/train/wav.scp 4 data/train/split4
    utils/run_jobs.sh JOB=1:4 dump/fbank/train/log/fbank.JOB.log \\
        python -m legonn.bin.make_fbank --data_dir data/train \\
        --key_file data/train/split4/keys.JOB --output_dir dump/fbank/train/split4/JOB
    for n in 1 2 3 4; do cat dump/fbank/train/split4/$n/feats.scp; done > dump/fbank/train/feats.scp
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import kaldiio
import numpy as np
import soundfile

from legonn.features import BadAudio, compute_fbank
from legonn.progress import progress
from legonn.recipe.data_dir import DataDirError, read_entries, read_keys
from legonn.utils import atomic_path, first_few, write_lines

MULTI_CHANNEL = "multi-channel (used channel 0)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m legonn.bin.make_fbank", description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", required=True, help="data dir with wav.scp")
    parser.add_argument("--output_dir", "--out_dir", dest="output_dir", required=True, help="where feats.ark/feats.scp/utt2num_frames/skipped go")
    parser.add_argument("--num_mel_bins", type=int, default=80)
    parser.add_argument("--sample_rate", type=int, default=16000, help="expected sample rate in Hz")
    parser.add_argument("--resample", action="store_true", help="resample other rates instead of skipping them")
    parser.add_argument("--key_file", help="only these utterances (first column), e.g. keys.JOB from data_dir split")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out_dir = Path(args.output_dir)
    try:
        utterances = utterances_to_do(Path(args.data_dir), args.key_file)
    except DataDirError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    options = f"num_mel_bins={args.num_mel_bins} sample_rate={args.sample_rate} resample={args.resample}"
    if already_done(out_dir, utterances, options):
        print(f"make_fbank: {out_dir} is already done for these {len(utterances)} utterances; skipping")
        return 0

    out_dir.mkdir(parents=True, exist_ok=True)
    # Not feats.scp.partial: that is the name write_lines gives the final scp while writing it.
    ark, tmp_scp = out_dir / "feats.ark", out_dir / "feats_of_partial_ark.scp"
    num_frames, skipped, warnings = {}, {}, Counter()
    with atomic_path(ark) as tmp_ark, kaldiio.WriteHelper(f"ark,scp:{tmp_ark},{tmp_scp}") as writer:
        for utt_id, location in progress(utterances.items(), total=len(utterances), desc="fbank"):
            try:
                samples, rate = load_audio(location)
                if samples.shape[1] > 1:
                    warnings[MULTI_CHANNEL] += 1
                feats = compute_fbank(samples[:, 0], rate, args.num_mel_bins, args.sample_rate, args.resample)
            except BadAudio as bad:
                print(f"skip {utt_id}: {bad}", file=sys.stderr)
                skipped[utt_id] = bad
                continue
            writer(utt_id, feats)
            num_frames[utt_id] = len(feats)

    # The scp written above points into the temporary ark; point it at the final one.
    offsets = [line.rsplit(":", 1) for line in tmp_scp.read_text(encoding="utf-8").splitlines()]
    write_lines(out_dir / "utt2num_frames", (f"{u} {n}" for u, n in num_frames.items()))
    write_lines(out_dir / "skipped", (f"{u} {bad}" for u, bad in skipped.items()))
    write_lines(out_dir / "fbank_opts", [options])
    write_lines(out_dir / "feats.scp", (f"{head.split()[0]} {ark}:{offset}" for head, offset in offsets))
    tmp_scp.unlink()

    reasons = Counter(bad.reason for bad in skipped.values())
    summary = f"make_fbank {args.data_dir} -> {out_dir}: kept {len(num_frames)}, skipped {len(skipped)}"
    if reasons:
        summary += " (" + ", ".join(f"{reason}: {n}" for reason, n in reasons.most_common()) + ")"
    for warning, n in warnings.items():
        summary += f"; {warning}: {n}"
    print(summary)
    if not num_frames:
        print(f"error: no utterance was kept; see {out_dir / 'skipped'} for why", file=sys.stderr)
        return 1
    return 0


def utterances_to_do(data_dir: Path, key_file: str | None) -> dict[str, str]:
    """``{utt_id: wav.scp location}``, restricted to the ids of ``key_file``."""
    locations = {entry.utt_id: entry.value for entry in read_entries(data_dir / "wav.scp")}
    if key_file is None:
        return locations
    keys = read_keys(key_file)
    unknown = [k for k in keys if k not in locations]
    if unknown:
        raise DataDirError(
            f"{key_file} lists {len(unknown)} id(s) not in {data_dir / 'wav.scp'}: {first_few(unknown)}; "
            "re-split with `python -m legonn.recipe.data_dir split`"
        )
    return {k: locations[k] for k in keys}


def already_done(out_dir: Path, utterances: dict[str, str], options: str) -> bool:
    """feats.scp is written last, so its presence means a finished run; it must
    also have used the same options and covered the same utterances."""
    files = [out_dir / name for name in ("feats.scp", "skipped", "fbank_opts")]
    if not all(f.is_file() for f in files):
        return False
    if files[2].read_text(encoding="utf-8").strip() != options:
        return False
    done = [line.split(maxsplit=1)[0] for f in files[:2] for line in f.read_text(encoding="utf-8").splitlines()]
    return sorted(done) == sorted(utterances)


def load_audio(location: str) -> tuple[np.ndarray, int]:
    """Samples as ``(frames, channels)`` float32 in [-1, 1], and the sample rate."""
    if location.endswith("|"):
        proc = subprocess.run(location[:-1], shell=True, capture_output=True)
        if proc.returncode != 0:
            message = proc.stderr.decode(errors="replace").strip().splitlines()
            raise BadAudio("command failed", f"exit {proc.returncode}: {message[-1] if message else location}")
        source = io.BytesIO(proc.stdout)
    else:
        source = Path(location)
        if not source.is_file():
            raise BadAudio("missing file", location)
        if source.stat().st_size == 0:
            raise BadAudio("empty file", location)
    try:
        check_not_truncated(source)
        return soundfile.read(source, dtype="float32", always_2d=True)
    except soundfile.LibsndfileError as err:
        if isinstance(source, Path) and source.suffix.lower() == ".sph" and shutil.which("sox"):
            return read_with_sox(source)  # e.g. shorten-compressed Sphere, which libsndfile cannot decode
        raise BadAudio("unreadable", f"{location}: {err}") from None


def read_with_sox(path: Path) -> tuple[np.ndarray, int]:
    proc = subprocess.run(["sox", str(path), "-t", "wav", "-"], capture_output=True)
    if proc.returncode != 0:
        raise BadAudio("unreadable", f"{path}: sox: {proc.stderr.decode(errors='replace').strip()}")
    return soundfile.read(io.BytesIO(proc.stdout), dtype="float32", always_2d=True)


def check_not_truncated(source) -> None:
    """libsndfile reads a cut-off file without complaint, so compare with its header."""
    if isinstance(source, io.BytesIO):
        return  # a pipe has no header promise we could hold it to
    info = soundfile.info(source)
    if info.format in ("WAV", "WAVEX"):
        # libsndfile notes "data : <header size> (should be <real size>)" for a cut-off WAV.
        cut = re.search(r"^data : (\d+) \(should be (\d+)\)", info.extra_info, re.MULTILINE)
        if cut:
            raise BadAudio("truncated file", f"{source}: header promises {cut[1]} data bytes, file has {cut[2]}")
    elif info.format == "NIST":
        header = sphere_header(source)
        expected = header["header_size"] + header["sample_count"] * header["sample_n_bytes"] * header["channel_count"]
        size = source.stat().st_size
        if size < expected and "shorten" not in header.get("sample_coding", ""):
            raise BadAudio("truncated file", f"{source}: header promises {expected} bytes, file has {size}")


def sphere_header(path: Path) -> dict:
    """The NIST Sphere header: "NIST_1A", its size, then "name -type value" lines."""
    with path.open("rb") as f:
        lines = f.read(1024).decode("ascii", errors="replace").splitlines()
    header = {"header_size": int(lines[1]), "sample_count": 0, "sample_n_bytes": 2, "channel_count": 1}
    for line in lines[2:]:
        fields = line.split(maxsplit=2)
        if fields and fields[0] == "end_head":
            break
        if len(fields) == 3:
            header[fields[0]] = int(fields[2]) if fields[1] == "-i" else fields[2]
    return header


if __name__ == "__main__":
    sys.exit(main())
