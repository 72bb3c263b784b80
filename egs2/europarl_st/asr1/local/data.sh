#!/usr/bin/env bash
# Europarl-ST English ASR (paper App. A-B): data/{train,valid,test} with wav.scp (an ffmpeg
# command cutting the segment out of the talk's m4a, 16 kHz), text (lower-cased, tokenized,
# punctuation stripped: legonn/recipe/text_norm.py), utt2spk (talk) and phones (g2p_en, 39 phones), and
# data/local/phone_inventory (the fixed phone list: the phone interface of stage 2).
#
# Expected layout under --data_root (= EUROPARL_ST of db.sh), as in v1.1.tar.gz:
#   en/audios/<talk>.m4a                  e.g. en/audios/en.20080925.22.3-216.m4a
#   en/<pair>/{train,dev,test}/segments.lst   "<talk> <start> <end>" per segment
#   en/<pair>/{train,dev,test}/segments.en    the English transcript of each segment
# <pair> = en (the English ASR folder, default) or any en/<tgt> folder (--pair de).
set -euo pipefail
[ -f ./db.sh ] && . ./db.sh
data_root=${EUROPARL_ST:-}   # Europarl-ST v1.1 folder (see above)
pair=en                      # en/<pair>/ folder to read the English transcripts from
ffmpeg=ffmpeg                # decodes the m4a audio (needed from stage 3 on)
. utils/parse_options.sh

get="Get Europarl-ST v1.1 from https://www.mllp.upv.es/europarl-st/ (v1.1.tar.gz), unpack it and
set EUROPARL_ST in db.sh to the folder holding en/ (or pass --data_root DIR)."
missing=""
for split in train dev test; do
  for f in segments.lst segments.en; do
    [ -f "$data_root/en/$pair/$split/$f" ] || missing+=" en/$pair/$split/$f"
  done
done
[ -d "$data_root/en/audios" ] || missing+=" en/audios/"
if [ -z "$data_root" ] || [ -n "$missing" ]; then
  echo "local/data.sh: Europarl-ST not found at '$data_root' (missing:${missing:- the folder})." >&2
  echo "$get" >&2
  exit 1
fi
if ! command -v "$ffmpeg" > /dev/null; then
  echo "local/data.sh: $ffmpeg not found: it decodes the m4a audio (wav.scp); install ffmpeg or pass --ffmpeg PATH." >&2
  exit 1
fi
python local/prepare_europarl.py --root "$data_root" --out data --pair "$pair" --ffmpeg "$ffmpeg"
