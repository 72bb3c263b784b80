"""Kaldi-style data dirs for TED-LIUM release 3 (paper App. A-B: the pronunciation module's
training data): transcripts cleaned like Europarl-ST's (lower-cased, punctuation stripped;
TED-LIUM text is tokenized already), g2p_en phones as second target.

  python local/prepare_tedlium.py --root DIR/TEDLIUM_release-3 --out data [--sph2pipe sph2pipe]

train = every talk of data/{stm,sph} except the dev and test talks; valid and test = the
legacy/{dev,test}/{stm,sph} talks (when legacy/ is absent: --num_valid_talks held out of data/,
and no test set).
"""
import argparse
import re
import sys
from pathlib import Path

from legonn.recipe.asr_data import Utterance, segment_command, time_id, write_data_dir
from legonn.recipe.g2p import Phonemizer  # noqa: E402
from legonn.recipe.text_norm import normalize

NOISE = re.compile(r"^(<[^>]*>|\{[^}]*\}|\[[^\]]*\])$")  # <unk>, {NOISE}, [laughter] ...
VARIANT = re.compile(r"\(\d+\)$")  # pronunciation variant marks: word(2)


def clean_text(words):
    kept = [VARIANT.sub("", w) for w in words if not NOISE.match(w)]
    return normalize(" ".join(kept), "en", punct=False, pretokenized=True)


def read_talks(stm_dir: Path, sph_dir: Path, talks, sph2pipe: str):
    for talk in talks:
        sph = sph_dir / f"{talk}.sph"
        for line in (stm_dir / f"{talk}.stm").read_text(encoding="utf-8", errors="replace").splitlines():
            fields = line.split()
            if len(fields) < 6 or line.startswith(";;") or "ignore_time_segment_in_scoring" in fields:
                continue
            name, start, end = fields[0], float(fields[3]), float(fields[4])  # fields 1-2: channel, speaker
            words = fields[6:] if fields[5].startswith("<") else fields[5:]
            yield Utterance(f"{name}-{time_id(start)}-{time_id(end)}",
                            segment_command(sph2pipe, sph.resolve(), start, end),
                            clean_text(words), name)


def talks_of(stm_dir: Path, sph_dir: Path):
    talks = sorted(p.stem for p in stm_dir.glob("*.stm"))
    missing = [t for t in talks if not (sph_dir / f"{t}.sph").is_file()]
    if missing:
        print(f"warning: {len(missing)} talk(s) of {stm_dir} have no audio in {sph_dir}, e.g. "
              f"{missing[0]}; skipped", file=sys.stderr)
    return [t for t in talks if t not in missing]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--sph2pipe", default="sph2pipe")
    parser.add_argument("--num_valid_talks", type=int, default=8)
    args = parser.parse_args(argv)
    root, out = Path(args.root), Path(args.out)
    sets = {}
    for ours, theirs in (("valid", "dev"), ("test", "test")):
        legacy = root / "legacy" / theirs
        if (legacy / "stm").is_dir():
            sets[ours] = (legacy / "stm", legacy / "sph", talks_of(legacy / "stm", legacy / "sph"))
    held_out = {t for _, _, talks in sets.values() for t in talks}
    train = [t for t in talks_of(root / "data" / "stm", root / "data" / "sph") if t not in held_out]
    if "valid" not in sets:
        train, valid = train[:-args.num_valid_talks], train[-args.num_valid_talks:]
        sets["valid"] = (root / "data" / "stm", root / "data" / "sph", valid)
    sets["train"] = (root / "data" / "stm", root / "data" / "sph", train)
    phonemize = Phonemizer()
    for name in ("train", "valid", "test"):
        if name not in sets:
            continue
        stm_dir, sph_dir, talks = sets[name]
        count = write_data_dir(out / name, read_talks(stm_dir, sph_dir, talks, args.sph2pipe), phonemize)
        print(f"{out / name}: {count} utterances from {len(talks)} talks of {stm_dir.parent}")
        if not count:
            sys.exit(f"prepare_tedlium.py: no usable utterance for {name} in {stm_dir}")


if __name__ == "__main__":
    main()
