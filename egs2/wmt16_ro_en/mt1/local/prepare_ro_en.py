"""Kaldi-style data dirs (src_text = Romanian, text = English) from Lee et al.'s (2018) WMT16
Ro-En release, which is tokenized, lower-cased and BPE-segmented: the "@@ " joints are undone
and Moses escapes (&apos; ...) resolved, so that stage 2 can learn the joint 41K vocabulary
with the WMT19 De-En text on plain tokens. The text is not tokenized again.

  python local/prepare_ro_en.py --root DIR --out data [--ratio 1.5 --max_len 80]
"""
import argparse
import re
import sys
from pathlib import Path

from legonn.recipe import text_norm
from legonn.recipe.wmt import DataDir, best, file_index, keep_pair, open_text

SPLITS = {"train": "corpus", "valid": "dev", "test": "test"}  # our set: Lee et al.'s file stem
BPE_JOINT = re.compile(r"@@( |$)")


def find(index, stem, lang):
    for name in (f"{stem}.bpe.{lang}", f"{stem}.tok.{lang}", f"{stem}.{lang}"):
        if index.get(name):
            return best(index[name])
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--ratio", type=float, default=1.5)
    parser.add_argument("--max_len", type=int, default=80)
    parser.add_argument("--get_help", default="")
    args = parser.parse_args(argv)
    index = file_index(Path(args.root))
    files = {(s, lang): find(index, stem, lang) for s, stem in SPLITS.items() for lang in ("ro", "en")}
    missing = [f"{SPLITS[s]}.bpe.{lang} (or {SPLITS[s]}.tok.{lang})" for (s, lang), f in files.items() if f is None]
    if missing:
        sys.exit(f"prepare_ro_en.py: not found under {args.root}: {', '.join(missing)}\n{args.get_help}")
    clean = lambda line: text_norm.normalize(BPE_JOINT.sub("", line), pretokenized=True)
    for split in SPLITS:
        data, seen, dropped = DataDir(Path(args.out), split, False), 0, 0
        with open_text(files[split, "ro"]) as fr, open_text(files[split, "en"]) as fe:
            for number, (ro, en) in enumerate(zip(fr, fe)):
                pair = (clean(ro), clean(en))
                seen += 1
                if split == "train" and not keep_pair(*pair, args.max_len, args.ratio):
                    dropped += 1
                    continue
                data.add(f"wmt16_{split}_{number:07d}", [pair])
            if fr.readline() or fe.readline():
                sys.exit(f"{files[split, 'ro']} and {files[split, 'en']} differ in length")
        print(f"{args.out}/{split}: {data.close()[0]} of {seen} pairs"
              + (f" (dropped {dropped}: length ratio above {args.ratio} or over {args.max_len} tokens)"
                 if split == "train" else ""))


if __name__ == "__main__":
    main()
