#!/usr/bin/env bash
# Multi30k task 1 (multi-parallel captions): data/{train,valid,test}_<src> with src_text and
# English text, for every source language; low-resource slices (train_<src>_low)
# disjoint from the main training set.
set -euo pipefail
data_root=../../../../shared/data/multi30k   # folder with train.<lang>.gz, val.*, test_2016_flickr.*
src_langs="de fr cs"
max_train=25000                                # first N training sentences (29000 in all; the rest feed the slices)
low_sizes=500,1000,2000,4000                  # train_<src>_low<N>: nested slices of the lines after max_train
max_eval=0                                     # valid/test sentences (0 = all)
. utils/parse_options.sh

if [ ! -f "$data_root/train.en.gz" ]; then
  echo "local/data.sh: Multi30k not found at '$data_root' (expected train.en.gz, val.en.gz," \
       "test_2016_flickr.en.gz and the same for: $src_langs)." >&2
  echo "Get it from the multi30k/dataset repository (data/task1/raw) and pass --data_root DIR." >&2
  exit 1
fi
python local/prepare_multi30k.py --data_root "$data_root" --src_langs $src_langs --out data \
  --max_train "$max_train" --low_sizes ${low_sizes//,/ } --max_eval "$max_eval"
