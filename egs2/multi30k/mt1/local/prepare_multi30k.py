"""Writes Kaldi-style data dirs from the raw Multi30k files; line i of every language is the
same caption, so the utterance id (split + line number) is shared by all language pairs.

train_<src>: the first --max_train training lines. train_<src>_low<N>, one per --low_sizes N:
the first N of the lines after them (nested slices of one held-out pool), so a low-resource slice
shares no sentence with the main training set and a larger slice extends a smaller one."""
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
    parser.add_argument("--low_sizes", type=int, nargs="*", default=[],
                        help="sizes of the nested low-resource slices (none: no slices)")
    parser.add_argument("--max_eval", type=int, default=0, help="valid/test size, 0 = all")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    root = Path(args.data_root)
    for split, stem in SPLITS.items():
        target = read_lines(root / f"{stem}.{args.tgt_lang}.gz")
        limit = args.max_train if split == "train" else args.max_eval
        parts = {"": slice(0, limit or len(target))}  # data dir name suffix -> lines
        if split == "train" and args.low_sizes:
            start = limit or len(target)
            if start + max(args.low_sizes) > len(target):
                raise SystemExit(f"--max_train {limit} + --low_sizes {max(args.low_sizes)} exceeds "
                                 f"the {len(target)} training sentences; lower --max_train")
            for size in args.low_sizes:
                parts[f"_low{size}"] = slice(start, start + size)
        for src in args.src_langs:
            source = read_lines(root / f"{stem}.{src}.gz")
            if len(source) != len(target):
                raise SystemExit(f"{root}/{stem}.{src}.gz has {len(source)} lines but the "
                                 f"{args.tgt_lang} side has {len(target)}: the corpus is damaged")
            ids = [f"m30k_{split}_{i:05d}" for i in range(len(target))]
            for suffix, part in parts.items():
                rows = list(zip(ids, source, target))[part]
                pairs = [(u, s, t) for u, s, t in rows if s and t]
                out = Path(args.out) / f"{split}_{src}{suffix}"
                out.mkdir(parents=True, exist_ok=True)
                for file, column in (("src_text", 1), ("text", 2)):
                    (out / file).write_text("".join(f"{p[0]} {p[column]}\n" for p in pairs), encoding="utf-8")
                print(f"{out}: {len(pairs)} sentence pairs ({len(rows) - len(pairs)} empty skipped)")


if __name__ == "__main__":
    main()
