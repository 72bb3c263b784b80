"""Text-only data for a pronunciation module (no audio): MT-style data dirs whose source is
the g2p_en phone sequence of an English caption and whose target is the caption itself.

  data/text_train   --num_text captions of Multi30k train from line --text_offset
                    (default: the MT recipe's own English training sentences)
  data/text_valid   the speech valid captions (data/valid), with their phones
  data/text_test    the speech test captions (data/test), with their phones

Each holds `text` (the raw caption) and `src_text` (its phones). Utterance ids are the MT
recipe's (m30k_<split>_<line>). Run after local/data.sh (it reuses data/{valid,test}/phones)."""
import argparse
import shutil
import sys
from pathlib import Path

from prepare_speech import read_lines  # local/, beside this script

from legonn.progress import progress
from legonn.recipe.data_dir import write_lines
from legonn.recipe.g2p import Phonemizer


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_root", required=True)
    parser.add_argument("--num_text", type=int, default=10000)
    parser.add_argument("--text_offset", type=int, default=0)
    parser.add_argument("--data", default="data")
    args = parser.parse_args()

    data = Path(args.data)
    for name in ("valid", "test"):
        source = data / name
        if not (source / "phones").is_file():
            sys.exit(f"prepare_text.py: {source}/phones not found: run local/data.sh (stage 1) first")
        out = data / f"text_{name}"
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / "text", out / "text")
        shutil.copyfile(source / "phones", out / "src_text")
        print(f"{out}: {sum(1 for _ in open(out / 'text'))} captions (from {source})")

    out = data / "text_train"
    captions = read_lines(Path(args.data_root) / "train.en.gz")
    last = args.text_offset + args.num_text
    if last > len(captions):
        sys.exit(f"prepare_text.py: --text_offset {args.text_offset} + --num_text {args.num_text} "
                 f"exceeds the {len(captions)} Multi30k training captions")
    rows = [(f"m30k_train_{i:05d}", captions[i]) for i in range(args.text_offset, last) if captions[i]]
    if (out / "src_text").is_file() and (out / "text").is_file():
        held = {line.split(maxsplit=1)[0] for line in open(out / "src_text") if line.strip()}
        held |= set(open(out / "no_phones").read().split()) if (out / "no_phones").is_file() else set()
        if held != {utt for utt, _ in rows}:
            sys.exit(f"prepare_text.py: {out} holds {len(held)} captions, not the {len(rows)} of "
                     f"--text_offset {args.text_offset} --num_text {args.num_text}: delete {out} and "
                     f"dump/{out.name} to rebuild them (trainings on them start again)")
        print(f"{out}: exists, kept")
        return
    phonemize = Phonemizer()
    rows = [(utt, caption, phonemize(caption)) for utt, caption in progress(rows, desc="g2p text_train")]
    kept = [row for row in rows if row[2]]
    out.mkdir(parents=True, exist_ok=True)
    write_lines(out / "no_phones", (utt for utt, _, phones in rows if not phones))
    write_lines(out / "text", (f"{utt} {caption}" for utt, caption, _ in kept))
    write_lines(out / "src_text", (f"{utt} {phones}" for utt, _, phones in kept))  # written last: marks done
    print(f"{out}: {len(kept)} captions ({len(rows) - len(kept)} without phones skipped, listed in {out}/no_phones)")


if __name__ == "__main__":
    main()
