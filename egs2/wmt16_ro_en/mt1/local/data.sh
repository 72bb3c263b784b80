#!/usr/bin/env bash
# WMT16 Ro->En from Lee et al.'s release (paper App. A-A: already tokenized and lower-cased;
# their BPE joints are undone so the joint 41K vocabulary with WMT19 De-En can be learned):
# data/train (610K pairs, cleaned with length ratio 1.5 and at most 80 tokens per side),
# data/valid (newsdev2016), data/test (newstest2016).
#
# Expected layout under --data_root (= WMT16_RO_EN of db.sh); files are found by name at any depth:
#   wmt16/en-ro/train/corpus.bpe.{ro,en}
#   wmt16/en-ro/dev/dev.bpe.{ro,en}
#   wmt16/en-ro/test/test.bpe.{ro,en}
# (STEM.tok.LANG or STEM.LANG without BPE are accepted too.)
set -euo pipefail
[ -f ./db.sh ] && . ./db.sh
data_root=${WMT16_RO_EN:-}   # folder holding Lee et al.'s wmt16/ (see above)
ratio=1.5                    # training pairs: max length ratio
max_len=80                   # training pairs: max tokens per side
. utils/parse_options.sh

get="Get Lee et al.'s WMT16 Ro-En data (wmt16.tar.gz, linked from https://github.com/nyu-dl/dl4mt-nonauto;
Google Drive id 1YrAwCEuktG-iDVxtEW-FE72uFTLc5QMl), unpack it and set WMT16_RO_EN in db.sh
(or pass --data_root DIR)."
if [ -z "$data_root" ] || [ ! -d "$data_root" ]; then
  echo "local/data.sh: WMT16 Ro-En folder not found (data_root='$data_root')." >&2
  echo "$get" >&2
  exit 1
fi
python local/prepare_ro_en.py --root "$data_root" --out data --ratio "$ratio" --max_len "$max_len" \
  --get_help "$get"
