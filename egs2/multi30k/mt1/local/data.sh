#!/usr/bin/env bash
# Multi30k task 1 (multi-parallel captions): data/{train,valid,test}_<src> with src_text and
# English text, for every source language; optional low-resource slices and a --mini subset.
set -euo pipefail
data_root=../../../../shared/data/multi30k   # folder with train.<lang>.gz, val.*, test_2016_flickr.*
src_langs="de fr cs"
low_resource_fraction=0.1                      # also make train_<src>_low slices (0 = none)
mini=0                                         # >0: keep only this many training sentences
. utils/parse_options.sh

if [ ! -f "$data_root/train.en.gz" ]; then
  echo "local/data.sh: Multi30k not found at '$data_root' (expected train.en.gz, val.en.gz," \
       "test_2016_flickr.en.gz and the same for: $src_langs)." >&2
  echo "Get it from the multi30k/dataset repository (data/task1/raw) and pass --data_root DIR." >&2
  exit 1
fi
python local/prepare_multi30k.py --data_root "$data_root" --src_langs $src_langs --mini "$mini" --out data
if [ "$low_resource_fraction" != 0 ]; then
  for src in $src_langs; do
    python -m legonn.recipe.data_dir subset "data/train_$src" "data/train_${src}_low" \
      --fraction "$low_resource_fraction" --seed 0
  done
fi
