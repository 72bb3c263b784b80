#!/usr/bin/env bash
# TED-LIUM release 3: the pronunciation module of transfer scenario 4 of Fig. 3 (paper V-C,
# Table V, App. A-B). A two-module encoder-only LegoNN model (phone recognizer -> pronunciation
# model) is trained on TED-LIUM; ../../europarl_st/asr1 stage 4 composes its modules with the
# Europarl phone recognizer and the De-En decoder and scores them on Europarl-ST.
#
#  stage 1  data (local/data.sh, db.sh: TEDLIUM3), interfaces: en_epted2000 (2000-unit BPE of
#           the Europarl-ST + TED-LIUM train text; needs ../../europarl_st/asr1 stage 1) and
#           the phone interface (copied from europarl_st), fbank dump
#  stage 2  the phone + pronunciation model (CTC over phones and en_epted2000): decoded on the
#           TED-LIUM test set (WER and PER at the interfaces) and cut into modules
#           (exp/ted_phone_ctc/modules: encoder0 = phone recognizer, middle1 = pronunciation)
set -euo pipefail
stage=1
stop_stage=2
ngpu=8                   # GPUs per node, one process each (ESPnet's multiprocessing_distributed)
train_launcher=          # or e.g. "torchrun --no-python --standalone --nproc_per_node 8" (--ngpu 1)
extra_train_args=        # added to every training, e.g. "--use_amp true" (mixed precision on a GPU) or "--use_amp false" (float32 on a CPU with bfloat16)
nj=16
europarl=../../europarl_st/asr1
. utils/parse_options.sh

common=(--task asr --metric wer --ngpu "$ngpu" --nj "$nj" --train_set train --valid_set valid
        --test_sets test --inference_model latest.pth --ctc_interfaces "phones en_epted2000"
        --ctc_targets "phones text" --output_interface en_epted2000)
[ -n "$train_launcher" ] && common+=(--train_launcher "$train_launcher")
dist=""; [ "$ngpu" -gt 1 ] && dist="--multiprocessing_distributed true"
. utils/experiments.sh   # lego_train, lego_carry (../../TEMPLATE/legonn1/README.md)
lego_common=("${common[@]}") lego_train_args="$dist${extra_train_args:+ $extra_train_args}"

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  ./legonn.sh "${common[@]}" --stage 1 --stop_stage 3 --interfaces \
    "en_epted2000=bpe:2000:data/train/text,$europarl/data/train/text phones=copy:$europarl/data/interfaces/phones"
  lego_carry phones train valid test   # the phone targets (the dump keeps only standard files)
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  lego_train --seed 1 ted_phone_ctc train_phone_ctc 4-8
fi
