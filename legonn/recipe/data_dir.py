"""Check, split, subset and filter Kaldi-style data directories.

A data dir ``data/<set>/`` holds one line per utterance, ``utt_id value``,
in files sorted by utterance id (``LC_ALL=C sort`` order):

    text            target transcript or translation
    src_text        MT source sentence (MT only)
    wav.scp         audio path, or a shell command ending in ``|``
    feats.scp       Kaldi ark location of the features
    utt2spk         speaker id
    utt2num_frames  number of feature frames

Usage:
    python -m legonn.recipe.data_dir validate data/train
    python -m legonn.recipe.data_dir split data/train/wav.scp 4 data/train/split4
    python -m legonn.recipe.data_dir subset data/train data/train_mini --first 100
    python -m legonn.recipe.data_dir subset data/train data/train_10pct --fraction 0.1
    python -m legonn.recipe.data_dir subset data/train data/train_dev --keys dev_ids
    python -m legonn.recipe.data_dir filter data/train data/train_clean --max_tokens 150
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from legonn.utils import first_few, write_lines

UTTERANCE_FILES = ("text", "src_text", "phones", "wav.scp", "feats.scp", "utt2spk", "utt2num_frames")
TEXT_FILES = ("text", "src_text", "phones")  # phones: g2p CTC targets of a phone interface
# Files that describe the whole set rather than single utterances travel unchanged.
SET_FILES = ("feats_type",)


class DataDirError(ValueError):
    """A data dir (or one of its files) is unusable; the message says what to do."""


class Entry(NamedTuple):
    utt_id: str
    value: str
    line: str  # the original line, so that subsets keep the file byte for byte


def read_entries(path: str | Path) -> list[Entry]:
    """Read ``utt_id value`` lines; a bad line is an error naming file and line."""
    path = Path(path)
    if not path.is_file():
        raise DataDirError(f"{path}: no such file")
    entries = []
    with path.open("rb") as f:
        # Decoding line by line is what lets the error point at the bad line.
        for lineno, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as err:
                raise DataDirError(
                    f"{path}:{lineno}: not valid UTF-8 ({err.reason} at byte {err.start}); "
                    "re-encode the file as UTF-8 (e.g. iconv -t UTF-8)"
                ) from None
            fields = line.split(maxsplit=1)
            if not fields:
                raise DataDirError(f"{path}:{lineno}: blank line; delete it (every line must be 'utt_id value')")
            entries.append(Entry(fields[0], fields[1].strip() if len(fields) > 1 else "", line))
    return entries


def read_keys(path: str | Path) -> list[str]:
    """The utterance ids of a key list or any ``utt_id ...`` file."""
    return [entry.utt_id for entry in read_entries(path)]


# --- validate ----------------------------------------------------------------


def validate(data_dir: str | Path) -> str:
    """Check everything a training or decoding stage relies on; returns a summary.

    Raises ``DataDirError`` listing every problem found, ending with what to do.
    """
    data_dir = Path(data_dir)
    present = [name for name in UTTERANCE_FILES if (data_dir / name).is_file()]
    if not present:
        raise DataDirError(
            f"{data_dir} has none of {', '.join(UTTERANCE_FILES)}; "
            "run the recipe's data preparation stage first"
        )
    problems = []
    tables = {}
    for name in present:
        try:
            tables[name] = read_entries(data_dir / name)
        except DataDirError as err:
            problems.append(str(err))
            continue
        problems += _order_problems(data_dir / name, tables[name])
        if name in TEXT_FILES:
            empty = [e.utt_id for e in tables[name] if not e.value]
            if empty:
                problems.append(
                    f"{data_dir / name}: {len(empty)} empty transcript(s): {first_few(empty)}; "
                    "drop them with `python -m legonn.recipe.data_dir filter`"
                )
    problems += _coverage_problems(data_dir, tables)
    if "wav.scp" in tables:
        missing = [e.utt_id for e in tables["wav.scp"] if not _audio_exists(e.value)]
        if missing:
            problems.append(
                f"{data_dir / 'wav.scp'}: audio file missing for {first_few(missing)}; "
                "fix the paths (relative paths are taken from the recipe directory)"
            )
    if "feats.scp" in tables:
        problems += _ark_problems(data_dir / "feats.scp", tables["feats.scp"])
    if problems:
        raise DataDirError(
            f"{data_dir} is not a valid data dir:\n  - "
            + "\n  - ".join(problems)
            + f"\nFix the files above (usually in the data preparation stage) and re-run "
            f"`python -m legonn.recipe.data_dir validate {data_dir}`."
        )
    num_utts = len(next(iter(tables.values())))
    return f"{data_dir}: OK, {num_utts} utterances in {' '.join(present)}"


def _order_problems(path: Path, entries: list[Entry]) -> list[str]:
    """Kaldi tools merge files by walking them in step, so order matters."""
    for lineno, (prev, cur) in enumerate(zip(entries, entries[1:]), start=2):
        if cur.utt_id == prev.utt_id:
            return [f"{path}:{lineno}: utterance id {cur.utt_id!r} appears twice; keep one line per utterance"]
        if cur.utt_id < prev.utt_id:
            return [
                f"{path}:{lineno}: not sorted ({cur.utt_id!r} comes after {prev.utt_id!r}); "
                f"sort it with `LC_ALL=C sort -o {path} {path}`"
            ]
    return []


def _coverage_problems(data_dir: Path, tables: dict[str, list[Entry]]) -> list[str]:
    """Every file must describe the same utterances as the first one."""
    if len(tables) < 2:
        return []
    reference, *others = tables
    ref_ids = {e.utt_id for e in tables[reference]}
    problems = []
    for name in others:
        ids = {e.utt_id for e in tables[name]}
        lacking, extra = sorted(ref_ids - ids), sorted(ids - ref_ids)
        if lacking:
            problems.append(f"{data_dir / name} lacks {len(lacking)} id(s) that {reference} has: {first_few(lacking)}")
        if extra:
            problems.append(f"{data_dir / name} has {len(extra)} id(s) that {reference} lacks: {first_few(extra)}")
    if len(problems):
        problems[-1] += (
            f"; keep only utterances found in every file, e.g. "
            f"`python -m legonn.recipe.data_dir subset {data_dir} NEW_DIR --fraction 1`"
        )
    return problems


def _audio_exists(location: str) -> bool:
    """Commands (``... |``) cannot be checked without running them; paths can."""
    if location.endswith("|") or len(location.split()) > 1:
        return True
    if Path(location).exists():
        return True
    ark_offset = re.fullmatch(r"(.+):\d+", location)  # Kaldi "file.ark:1234"
    return bool(ark_offset and Path(ark_offset.group(1)).exists())


# --- data loader inputs -------------------------------------------------------

ARK_HEADER = 15  # "\0B", "FM " or "DM ", then rows and columns as "\4" + int32 each


def _ark_problems(scp: Path, entries: list[Entry]) -> list[str]:
    """feats.scp entries (``file.ark:offset``) whose ark is missing, shorter than the offset,
    or cut off inside the matrix; a data loader would fail there without naming the utterance."""
    missing, beyond, cut = [], [], []
    arks: dict[str, object] = {}
    try:
        for entry in entries:
            location = re.fullmatch(r"(.+):(\d+)(\[.*\])?", entry.value)
            if location is None:
                continue  # a command or a plain matrix file: nothing to check cheaply
            ark, offset = location.group(1), int(location.group(2))
            if ark not in arks:
                arks[ark] = open(ark, "rb") if Path(ark).is_file() else None
            f = arks[ark]
            if f is None:
                missing.append(f"{entry.utt_id} -> {ark}")
                continue
            size = os.fstat(f.fileno()).st_size
            f.seek(offset)
            header = f.read(ARK_HEADER)
            if len(header) < ARK_HEADER:
                beyond.append(f"{entry.utt_id} -> {ark}:{offset} (file has {size} bytes)")
            elif header[:2] == b"\0B" and header[2:5] in (b"FM ", b"DM "):
                rows, cols = int.from_bytes(header[6:10], "little"), int.from_bytes(header[11:15], "little")
                end = offset + ARK_HEADER + rows * cols * (4 if header[2:5] == b"FM " else 8)
                if end > size:
                    cut.append(f"{entry.utt_id} ({rows}x{cols} at {ark}:{offset}, file ends {end - size} bytes early)")
    finally:
        for f in arks.values():
            if f is not None:
                f.close()
    problems = []
    if missing:
        problems.append(f"{scp}: {len(missing)} utterance(s) point to a missing ark: {first_few(missing)}; "
                        "re-run the feature dump stage or fix the paths")
    if beyond:
        problems.append(f"{scp}: {len(beyond)} utterance(s) point past the end of their ark: {first_few(beyond)}; "
                        "the ark was rewritten or cut off: re-run the feature dump stage")
    if cut:
        problems.append(f"{scp}: {len(cut)} utterance(s) cut off: {first_few(cut)}; the ark is truncated "
                        "(disk full or killed while writing?): delete it and re-run the feature dump stage")
    return problems


def check_data_files(triples, option: str = "--data_path_and_name_and_type") -> None:
    """Check ESPnet data-loader inputs (``path,name,type`` triples) before loading any: every
    file exists and is valid UTF-8, every utterance of the first file is in the others, text
    is not empty and feature entries point into whole arks. Raises ``DataDirError``."""
    problems, ids = [], {}
    for path, name, kind in triples:
        if not Path(path).is_file():
            problems.append(f"{path} (the {name} data) does not exist")
            continue
        if kind not in ("text", "kaldi_ark"):
            continue
        try:
            entries = read_entries(path)
        except DataDirError as err:
            problems.append(str(err))
            continue
        ids[path] = {e.utt_id for e in entries}
        if kind == "text":
            empty = [e.utt_id for e in entries if not e.value]
            if empty:
                problems.append(f"{path}: {len(empty)} utterance(s) with empty {name}: {first_few(empty)}; "
                                "drop them with `python -m legonn.recipe.data_dir filter`")
        else:
            problems += _ark_problems(Path(path), entries)
    if len(ids) > 1:
        (first, first_ids), *others = ids.items()
        for path, other_ids in others:
            lacking = sorted(first_ids - other_ids)
            if lacking:
                problems.append(f"{path} lacks {len(lacking)} utterance(s) of {first}: {first_few(lacking)}; "
                                "keep only utterances found in every file (`python -m legonn.recipe.data_dir subset`)")
    if problems:
        raise DataDirError(f"cannot load the data of {option}:\n  - " + "\n  - ".join(problems))


# --- split, filter, subset ----------------------------------------------------


def split_scp(scp: str | Path, n: int, out_dir: str | Path) -> list[Path]:
    """Write the ids of ``scp`` as ``n`` contiguous key lists ``out_dir/keys.1..n``.

    Contiguous parts keep each list sorted, so merging the per-job outputs is
    plain concatenation in job order.
    """
    keys = read_keys(scp)
    if not 1 <= n <= len(keys):
        raise DataDirError(f"cannot split {scp} ({len(keys)} lines) into {n} parts; use 1 to {len(keys)} jobs")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for job in range(n):
        path = out_dir / f"keys.{job + 1}"
        write_lines(path, keys[job * len(keys) // n : (job + 1) * len(keys) // n])
        paths.append(path)
    return paths


def filter_scp(scp: str | Path, keys: Iterable[str]) -> list[str]:
    """The lines of ``scp`` whose id is in ``keys``, in the order of ``scp``."""
    keys = set(keys)
    return [entry.line for entry in read_entries(scp) if entry.utt_id in keys]


def subset(
    data_dir: str | Path,
    out_dir: str | Path,
    keys: Iterable[str] | None = None,
    first: int | None = None,
    fraction: float | None = None,
    seed: int = 0,
) -> str:
    """Make ``out_dir`` a consistent data dir with some of the utterances of ``data_dir``.

    Pick them by ``keys``, the ``first`` N, or a random ``fraction`` (a fixed
    ``seed`` makes low-resource slices reproducible).  Utterances missing from
    any file are left out and counted.  Returns a summary line.
    """
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    if [keys is not None, first is not None, fraction is not None].count(True) != 1:
        raise DataDirError("subset needs exactly one of keys, first or fraction")
    if out_dir.resolve() == data_dir.resolve():
        raise DataDirError(f"subset would overwrite its input {data_dir}; choose another out_dir")
    tables, usable = _load_consistent(data_dir)
    if keys is not None:
        wanted = set(keys)
        unknown = sorted(wanted - set(usable))
        if unknown:
            raise DataDirError(
                f"{len(unknown)} requested id(s) are not in every file of {data_dir}: {first_few(unknown)}; "
                "check the key list against the data dir"
            )
    elif first is not None:
        if first < 1:
            raise DataDirError(f"--first must be at least 1, not {first}")
        wanted = set(usable[:first])
    else:
        if not 0 < fraction <= 1:
            raise DataDirError(f"--fraction must be in (0, 1], not {fraction}")
        wanted = set(random.Random(seed).sample(usable, max(1, round(fraction * len(usable)))))
    _write_subset(data_dir, out_dir, tables, wanted)
    summary = f"{out_dir}: {len(wanted)} of {len(usable)} utterances from {data_dir}"
    num_incomplete = len({e.utt_id for entries in tables.values() for e in entries}) - len(usable)
    if num_incomplete:
        summary += f" (left out {num_incomplete} not found in every file)"
    return summary


def _load_consistent(data_dir: Path) -> tuple[dict[str, list[Entry]], list[str]]:
    """All per-utterance files and the ids (in file order) that every one of them has."""
    tables = {name: read_entries(data_dir / name) for name in UTTERANCE_FILES if (data_dir / name).is_file()}
    if not tables:
        raise DataDirError(f"{data_dir} has none of {', '.join(UTTERANCE_FILES)}; is this a data dir?")
    everywhere = set.intersection(*({e.utt_id for e in entries} for entries in tables.values()))
    usable = [e.utt_id for e in next(iter(tables.values())) if e.utt_id in everywhere]
    return tables, usable


def write_spk2utt(out_dir: Path, utt2spk) -> None:
    """out_dir/spk2utt from (utterance, speaker) pairs: speakers sorted, utterances in the given order."""
    spk2utts: dict[str, list[str]] = {}
    for utt, spk in utt2spk:
        spk2utts.setdefault(spk, []).append(utt)
    write_lines(out_dir / "spk2utt", (f"{spk} {' '.join(utts)}" for spk, utts in sorted(spk2utts.items())))


def _write_subset(data_dir: Path, out_dir: Path, tables: dict[str, list[Entry]], wanted: set[str]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, entries in tables.items():
        write_lines(out_dir / name, (e.line for e in entries if e.utt_id in wanted))
    if "utt2spk" in tables:
        write_spk2utt(out_dir, ((e.utt_id, e.value) for e in tables["utt2spk"] if e.utt_id in wanted))
    for name in SET_FILES:
        if (data_dir / name).is_file():
            shutil.copyfile(data_dir / name, out_dir / name)


def filter_long_or_empty(
    data_dir: str | Path,
    out_dir: str | Path,
    max_tokens: int,
    unit: str = "word",
    max_frames: int | None = None,
) -> str:
    """Copy ``data_dir`` to ``out_dir`` without utterances whose ``text`` or
    ``src_text`` is empty or longer than ``max_tokens`` words (or characters,
    ``unit="char"``), or, given ``max_frames``, whose ``utt2num_frames`` is larger.

    Skipped ids and why go to ``out_dir/skipped``; returns the summary line.
    """
    if unit not in ("word", "char"):
        raise DataDirError(f"unit must be 'word' or 'char', not {unit!r}")
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    tables, usable = _load_consistent(data_dir)
    if max_frames is not None and "utt2num_frames" not in tables:
        raise DataDirError(f"--max_frames needs {data_dir / 'utt2num_frames'}; compute features first")
    why_skipped: dict[str, str] = {}
    for name in TEXT_FILES:
        for entry in tables.get(name, []):
            length = len(entry.value.split()) if unit == "word" else len(entry.value)
            if length == 0:
                why_skipped.setdefault(entry.utt_id, f"empty {name}")
            elif length > max_tokens:
                why_skipped.setdefault(entry.utt_id, f"{name} longer than {max_tokens} {unit}s")
    if max_frames is not None:
        for entry in tables["utt2num_frames"]:
            if int(entry.value) > max_frames:
                why_skipped.setdefault(entry.utt_id, f"more than {max_frames} frames")
    kept = [u for u in usable if u not in why_skipped]
    if not kept:
        raise DataDirError(f"all {len(usable)} utterances of {data_dir} would be skipped; raise --max_tokens")
    _write_subset(data_dir, out_dir, tables, set(kept))
    write_lines(out_dir / "skipped", (f"{u} {why_skipped[u]}" for u in usable if u in why_skipped))
    reasons = Counter(why_skipped[u] for u in usable if u in why_skipped)
    summary = f"{out_dir}: kept {len(kept)} of {len(usable)} utterances, skipped {len(usable) - len(kept)}"
    if reasons:
        summary += " (" + ", ".join(f"{why}: {count}" for why, count in reasons.most_common()) + ")"
    return summary


# --- command line ------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m legonn.recipe.data_dir",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("validate", help="check a data dir; exit 1 with what to fix")
    check.add_argument("data_dir")

    split = commands.add_parser("split", help="write N contiguous key lists OUT_DIR/keys.1..N")
    split.add_argument("scp")
    split.add_argument("n", type=int)
    split.add_argument("out_dir")

    sub = commands.add_parser("subset", help="a consistent data dir with some of the utterances")
    sub.add_argument("data_dir")
    sub.add_argument("out_dir")
    pick = sub.add_mutually_exclusive_group(required=True)
    pick.add_argument("--keys", help="file whose first column lists the utterance ids to keep")
    pick.add_argument("--first", type=int, help="keep the first N utterances (e.g. for --mini runs)")
    pick.add_argument("--fraction", type=float, help="keep a random fraction (e.g. 0.1 for a 10%% slice)")
    sub.add_argument("--seed", type=int, default=0, help="random seed for --fraction")

    filt = commands.add_parser("filter", help="drop utterances with empty or overly long text")
    filt.add_argument("data_dir")
    filt.add_argument("out_dir")
    filt.add_argument("--max_tokens", type=int, required=True)
    filt.add_argument("--unit", choices=["word", "char"], default="word")
    filt.add_argument("--max_frames", type=int, help="also drop utterances with more frames (needs utt2num_frames)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "validate":
            print(validate(args.data_dir))
        elif args.command == "split":
            paths = split_scp(args.scp, args.n, args.out_dir)
            print(f"wrote {paths[0]} .. {paths[-1]}")
        elif args.command == "subset":
            keys = read_keys(args.keys) if args.keys else None
            print(subset(args.data_dir, args.out_dir, keys, args.first, args.fraction, args.seed))
        else:
            print(filter_long_or_empty(args.data_dir, args.out_dir, args.max_tokens, args.unit, args.max_frames))
    except DataDirError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
