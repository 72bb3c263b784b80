"""Kaldi-style data dirs for SYNTHETIC English speech of Multi30k captions, and the synthesis
plan that local/synthesize.py renders with espeak-ng.

  data/<set>/text      the English caption, raw (as on the MT recipe's English side)
  data/<set>/utt2spk   the voice (espeak-ng accent+variant) that speaks it
  data/<set>/wav.scp   db/wav/<set>/<utt>.wav (16 kHz mono, written by local/synthesize.py)
  db/plan/<set>        utt voice rate pitch snr_db noise_color lead_s trail_s, one line per utt

Utterance ids are the MT recipe's (m30k_<split>_<line>), so a speech utterance and its MT
sentence pair share an id. Sets: train = --num_train captions of Multi30k train starting at
line --train_offset (past the MT recipe's training and low-resource slices), valid / test =
the first --num_eval captions of val / test_2016_flickr (the MT recipe's valid / test
sentences). Voices: train speaks with --train_accents x --train_variants, valid and test
with --test_accents x --test_variants; no voice speaks in both (the defaults share the
accents, not the variants; disjoint accent lists test unseen accents too). Every random
choice is seeded by the utterance id, so re-running gives the same plan (and synthesis can
resume)."""
import argparse
import gzip
import random
import sys
from pathlib import Path

SPLITS = {"train": "train", "valid": "val", "test": "test_2016_flickr"}


def voices(accents: str, variants: str):
    return [f"{a}+{v}" for a in accents.split() for v in variants.split()]


def read_lines(path: Path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [line.strip() for line in f]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_root", required=True)
    parser.add_argument("--num_train", type=int, required=True)
    parser.add_argument("--train_offset", type=int, default=10000)
    parser.add_argument("--num_eval", type=int, default=500, help="valid and test size (0 = all)")
    parser.add_argument("--train_accents", required=True)
    parser.add_argument("--train_variants", required=True)
    parser.add_argument("--test_accents", required=True)
    parser.add_argument("--test_variants", required=True)
    parser.add_argument("--rate", default="140:200", help="espeak-ng words per minute, min:max")
    parser.add_argument("--pitch", default="30:70", help="espeak-ng pitch (0-99), min:max")
    parser.add_argument("--snr", default="15:30", help="noise SNR in dB, min:max")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="data")
    parser.add_argument("--db", default="db")
    args = parser.parse_args()

    pools = {"train": voices(args.train_accents, args.train_variants)}
    pools["valid"] = pools["test"] = voices(args.test_accents, args.test_variants)
    overlap = set(pools["train"]) & set(pools["test"])
    if overlap:
        sys.exit(f"prepare_speech.py: valid/test voices must be unseen in training; both use {sorted(overlap)}")
    ranges = {name: tuple(float(x) for x in getattr(args, name).split(":")) for name in ("rate", "pitch", "snr")}

    root = Path(args.data_root)
    for name, stem in SPLITS.items():
        captions = read_lines(root / f"{stem}.en.gz")
        ids = [f"m30k_{name}_{i:05d}" for i in range(len(captions))]
        if name == "train":
            if args.train_offset + args.num_train > len(captions):
                sys.exit(f"prepare_speech.py: --train_offset {args.train_offset} + --num_train "
                         f"{args.num_train} exceeds the {len(captions)} Multi30k training captions")
            part = slice(args.train_offset, args.train_offset + args.num_train)
        else:
            part = slice(0, args.num_eval or len(captions))
        rows = [(u, t) for u, t in list(zip(ids, captions))[part] if t]
        out, plan = Path(args.out) / name, Path(args.db) / "plan"
        out.mkdir(parents=True, exist_ok=True)
        plan.mkdir(parents=True, exist_ok=True)
        lines = {"text": [], "utt2spk": [], "wav.scp": [], "plan": []}
        for utt, caption in rows:
            rng = random.Random(f"{args.seed}:{utt}")
            voice = rng.choice(pools[name])
            rate = round(rng.uniform(*ranges["rate"]))
            pitch = round(rng.uniform(*ranges["pitch"]))
            snr = rng.uniform(*ranges["snr"])
            color = rng.uniform(0.0, 0.95)  # 0 = white noise, towards 1 = low-frequency (brown-like)
            lead, trail = rng.uniform(0.05, 0.3), rng.uniform(0.05, 0.3)
            lines["text"].append(f"{utt} {caption}")
            lines["utt2spk"].append(f"{utt} {voice}")
            lines["wav.scp"].append(f"{utt} {args.db}/wav/{name}/{utt}.wav")
            lines["plan"].append(f"{utt} {voice} {rate} {pitch} {snr:.2f} {color:.3f} {lead:.3f} {trail:.3f}")
        for file, content in lines.items():
            path = plan / name if file == "plan" else out / file
            path.write_text("".join(line + "\n" for line in content), encoding="utf-8")
        used = sorted({line.split()[1] for line in lines["utt2spk"]})
        skipped = len(range(*part.indices(len(captions)))) - len(rows)
        print(f"{out}: {len(rows)} captions, {len(used)} voices ({skipped} empty skipped)")


if __name__ == "__main__":
    main()
