"""Writes Kaldi-style data dirs from the raw Multi30k files; line i of every language is the
same caption, so the utterance id (split + line number) is shared by all language pairs.

train_<src>: the first --max_train training lines; train_<src>_low: --low_size lines taken
after them, so a low-resource slice shares no sentence with the main training set."""
import argparse
import gzip
from pathlib import Path

SPLITS = {"train": "train", "valid": "val", "test": "test_2016_flickr"}


def read_lines(path: Path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [line.strip() for line in f]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data_root", required=True)
    parser.add_argument("--src_langs", nargs="+", required=True)
    parser.add_argument("--tgt_lang", default="en")
    parser.add_argument("--max_train", type=int, default=0, help="0 = all")
    parser.add_argument("--low_size", type=int, default=0, help="0 = no low-resource slices")
    parser.add_argument("--max_eval", type=int, default=0, help="valid/test size, 0 = all")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    root = Path(args.data_root)
    for split, stem in SPLITS.items():
        target = read_lines(root / f"{stem}.{args.tgt_lang}.gz")
        limit = args.max_train if split == "train" else args.max_eval
        parts = {split: slice(0, limit or len(target))}
        if split == "train" and args.low_size:
            start = limit or len(target)
            if start + args.low_size > len(target):
                raise SystemExit(f"--max_train {limit} + --low_size {args.low_size} exceeds the "
                                 f"{len(target)} training sentences")
            parts["train_low"] = slice(start, start + args.low_size)
        for src in args.src_langs:
            source = read_lines(root / f"{stem}.{src}.gz")
            if len(source) != len(target):
                raise SystemExit(f"{root}/{stem}.{src}.gz has {len(source)} lines but the "
                                 f"{args.tgt_lang} side has {len(target)}: the corpus is damaged")
            ids = [f"m30k_{split}_{i:05d}" for i in range(len(target))]
            for name, part in parts.items():
                rows = list(zip(ids, source, target))[part]
                pairs = [(u, s, t) for u, s, t in rows if s and t]
                out = Path(args.out) / (f"{split}_{src}" if name == split else f"train_{src}_low")
                out.mkdir(parents=True, exist_ok=True)
                for file, column in (("src_text", 1), ("text", 2)):
                    (out / file).write_text("".join(f"{p[0]} {p[column]}\n" for p in pairs), encoding="utf-8")
                print(f"{out}: {len(pairs)} sentence pairs ({len(rows) - len(pairs)} empty skipped)")


if __name__ == "__main__":
    main()
