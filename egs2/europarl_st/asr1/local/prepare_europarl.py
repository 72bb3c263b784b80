"""Kaldi-style data dirs for Europarl-ST English ASR (paper App. A-B): transcripts lower-cased,
tokenized and stripped of punctuation (legonn/recipe/text_norm.py), g2p_en phones as second target.

  python local/prepare_europarl.py --root DIR/v1.1 --out data [--pair en] [--ffmpeg ffmpeg]

Reads DIR/en/audios/<talk>.m4a and DIR/en/<pair>/{train,dev,test}/segments.{lst,en}
(segments.lst: "<talk> <start> <end>" per line, segments.en: the transcript of that line).
"""
import argparse
import sys
from pathlib import Path

from legonn.recipe.asr_data import Utterance, segment_command, time_id, write_data_dir
from legonn.recipe.g2p import Phonemizer  # noqa: E402
from legonn.recipe.text_norm import normalize

SPLITS = {"train": "train", "valid": "dev", "test": "test"}


def read_split(root: Path, pair: str, split: str, ffmpeg: str, missing_audio: set):
    folder = root / "en" / pair / split
    segments = (folder / "segments.lst").read_text(encoding="utf-8").splitlines()
    texts = (folder / "segments.en").read_text(encoding="utf-8").splitlines()
    if len(segments) != len(texts):
        sys.exit(f"{folder}: segments.lst has {len(segments)} lines but segments.en {len(texts)}")
    for segment, text in zip(segments, texts):
        talk, start, end = segment.split()[:3]
        start, end = float(start), float(end)
        audio = root / "en" / "audios" / f"{talk}.m4a"
        if not audio.is_file():
            missing_audio.add(talk)
            continue
        yield Utterance(f"{talk}_{time_id(start)}_{time_id(end)}",
                        segment_command(ffmpeg, audio.resolve(), start, end),
                        normalize(text, "en", punct=False), talk)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--pair", default="en", help="which <pair> folder's English transcripts to use")
    parser.add_argument("--ffmpeg", default="ffmpeg")
    args = parser.parse_args(argv)
    root, out = Path(args.root), Path(args.out)
    phonemize = Phonemizer()
    for ours, theirs in SPLITS.items():
        missing_audio = set()
        utterances = list(read_split(root, args.pair, theirs, args.ffmpeg, missing_audio))
        count = write_data_dir(out / ours, utterances, phonemize)
        note = f"; {len(missing_audio)} talk(s) without audio skipped" if missing_audio else ""
        print(f"{out / ours}: {count} utterances from {root}/en/{args.pair}/{theirs}{note}")
        if missing_audio:
            print(f"  e.g. missing {root}/en/audios/{sorted(missing_audio)[0]}.m4a", file=sys.stderr)
        if not count:
            sys.exit(f"prepare_europarl.py: no usable utterance in {root}/en/{args.pair}/{theirs}")
    inventory = out / "local" / "phone_inventory"
    inventory.parent.mkdir(parents=True, exist_ok=True)
    inventory.write_text("inventory " + " ".join(Phonemizer.INVENTORY) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
