"""Writes Kaldi-style data dirs from the raw Multi30k files; line i of every language is the
same caption, so the utterance id (split + line number) is shared by all language pairs."""
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
    parser.add_argument("--mini", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    root = Path(args.data_root)
    for split, stem in SPLITS.items():
        target = read_lines(root / f"{stem}.{args.tgt_lang}.gz")
        keep = len(target)
        if args.mini:
            keep = args.mini if split == "train" else max(args.mini // 5, 20)
        for src in args.src_langs:
            source = read_lines(root / f"{stem}.{src}.gz")
            if len(source) != len(target):
                raise SystemExit(f"{root}/{stem}.{src}.gz has {len(source)} lines but the "
                                 f"{args.tgt_lang} side has {len(target)}: the corpus is damaged")
            out = Path(args.out) / f"{split}_{src}"
            out.mkdir(parents=True, exist_ok=True)
            ids = [f"m30k_{split}_{i:05d}" for i in range(len(target))][:keep]
            pairs = [(u, s, t) for u, s, t in zip(ids, source, target) if s and t]
            for name, column in (("src_text", 1), ("text", 2)):
                (out / name).write_text("".join(f"{p[0]} {p[column]}\n" for p in pairs), encoding="utf-8")
            print(f"{out}: {len(pairs)} sentence pairs ({keep - len(pairs)} empty skipped)")


if __name__ == "__main__":
    main()
