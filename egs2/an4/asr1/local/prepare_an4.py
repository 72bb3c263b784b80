"""Kaldi-style data dirs for CMU AN4: data/{train,valid,test}/{wav.scp,text,utt2spk,spk2utt}.

valid = the training utterances of --valid_speakers (held out, so valid and train share no
speaker); test = the official AN4 test set. Text is lower-cased; utterance ids are
<speaker>-<an4 id> so that sorting by id groups speakers. wav.scp holds absolute paths to the
NIST Sphere files (read directly by soundfile)."""
import argparse
import random
import re
from pathlib import Path

LINE = re.compile(r"^(?:<s>\s*)?(.*?)(?:\s*</s>)?\s*\(([^()\s]+)\)\s*$")


def read_set(root: Path, name: str):
    """[(utt_id, speaker, sph path, text)] of etc/an4_<name>.{transcription,fileids}."""
    etc = root / "etc"
    transcripts = {}
    for number, line in enumerate((etc / f"an4_{name}.transcription").read_text().splitlines(), 1):
        if not line.strip():
            continue
        match = LINE.match(line.strip())
        if not match:
            raise SystemExit(f"{etc}/an4_{name}.transcription:{number}: cannot parse {line!r}")
        transcripts[match.group(2)] = " ".join(match.group(1).lower().split())
    utterances = []
    for fileid in (etc / f"an4_{name}.fileids").read_text().split():
        *_, speaker, an4_id = fileid.split("/")
        path = (root / "wav" / f"{fileid}.sph").resolve()
        if an4_id not in transcripts:
            raise SystemExit(f"{etc}/an4_{name}.fileids lists {an4_id}, which has no transcript")
        if not path.is_file():
            raise SystemExit(f"{path} is missing: the AN4 copy at {root} is incomplete")
        if transcripts[an4_id]:
            utterances.append((f"{speaker}-{an4_id}", speaker, str(path), transcripts[an4_id]))
    return sorted(utterances)


def write_dir(out: Path, utterances):
    out.mkdir(parents=True, exist_ok=True)
    files = {"wav.scp": 2, "text": 3, "utt2spk": 1}
    for name, column in files.items():
        (out / name).write_text("".join(f"{u[0]} {u[column]}\n" for u in utterances), encoding="utf-8")
    speakers = {}
    for u in utterances:
        speakers.setdefault(u[1], []).append(u[0])
    (out / "spk2utt").write_text("".join(f"{s} {' '.join(ids)}\n" for s, ids in sorted(speakers.items())))
    print(f"{out}: {len(utterances)} utterances, {len(speakers)} speakers")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data_root", required=True)
    parser.add_argument("--valid_speakers", nargs="+", required=True)
    parser.add_argument("--mini", type=int, default=0,
                        help=">0: random subsets (seed 0): this many train, a fifth as many valid/test")
    parser.add_argument("--out", default="data")
    args = parser.parse_args()
    root, out = Path(args.data_root), Path(args.out)
    train = read_set(root, "train")
    known = {u[1] for u in train}
    unknown = sorted(set(args.valid_speakers) - known)
    if unknown:
        raise SystemExit(f"--valid_speakers {unknown} are not AN4 training speakers; choose from {sorted(known)}")
    sets = {"train": [u for u in train if u[1] not in args.valid_speakers],
            "valid": [u for u in train if u[1] in args.valid_speakers],
            "test": read_set(root, "test")}
    if args.mini:
        sizes = {"train": args.mini, "valid": max(args.mini // 5, 10), "test": max(args.mini // 3, 20)}
        rng = random.Random(0)
        sets = {name: sorted(rng.sample(utts, min(sizes[name], len(utts)))) for name, utts in sets.items()}
    for name, utts in sets.items():
        write_dir(out / name, utts)


if __name__ == "__main__":
    main()
