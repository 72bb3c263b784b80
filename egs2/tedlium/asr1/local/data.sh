#!/usr/bin/env bash
# TED-LIUM release 3 for the pronunciation module (paper App. A-B): data/{train,valid,test} with
# wav.scp (sph2pipe cutting the segment out of the talk, 16 kHz), text (lower-cased,
# punctuation, <unk> and noise marks stripped), utt2spk (talk) and phones (g2p_en, 39 phones).
# train = all talks of data/ but the dev/test talks; valid/test = legacy/dev, legacy/test.
#
# Expected layout under --data_root (= TEDLIUM3 of db.sh), as in TEDLIUM_release-3.tgz:
#   data/stm/<talk>.stm   "<talk> 1 <speaker> <start> <end> <label> words..." per segment
#   data/sph/<talk>.sph   NIST Sphere, 16 kHz
#   legacy/{dev,test}/{stm,sph}/   the standard dev and test talks (optional: without them
#                                  valid = the last --num_valid_talks talks of data/, no test)
set -euo pipefail
[ -f ./db.sh ] && . ./db.sh
data_root=${TEDLIUM3:-}      # TEDLIUM_release-3 folder (see above)
sph2pipe=sph2pipe            # Kaldi's tools/sph2pipe_v2.5/sph2pipe (needed from stage 3 on)
num_valid_talks=8
. utils/parse_options.sh

get="Get TED-LIUM release 3 from https://www.openslr.org/51/ (TEDLIUM_release-3.tgz), unpack it and
set TEDLIUM3 in db.sh to the TEDLIUM_release-3 folder (or pass --data_root DIR)."
missing=""
for d in data/stm data/sph; do [ -d "$data_root/$d" ] || missing+=" $d/"; done
if [ -z "$data_root" ] || [ -n "$missing" ] || ! ls "$data_root"/data/stm/*.stm > /dev/null 2>&1; then
  echo "local/data.sh: TED-LIUM release 3 not found at '$data_root' (missing:${missing:- data/stm/*.stm})." >&2
  echo "$get" >&2
  exit 1
fi
if ! command -v "$sph2pipe" > /dev/null; then
  echo "local/data.sh: $sph2pipe not found: it cuts segments out of the .sph talks (wav.scp);" \
       "install Kaldi's sph2pipe (tools/extras) or pass --sph2pipe PATH." >&2
  exit 1
fi
python local/prepare_tedlium.py --root "$data_root" --out data --sph2pipe "$sph2pipe" \
  --num_valid_talks "$num_valid_talks"
