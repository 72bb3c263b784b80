#!/usr/bin/env bash
# WMT16 Ro->En: transfer scenario 2 of Fig. 3 (paper V-C/D, Tables III and VI, App. A-A). Only a
# Ro-En encoder is trained; the decoder comes from the De-En model of ../../wmt19_de_en/mt1.
#
#  stage 1  data (local/data.sh, db.sh: WMT16_RO_EN), then, once ../../wmt19_de_en/mt1 stage 2
#           has built it, the joint 41K BPE interface (copied), dump
#  stage 2  baseline Ro-En enc-dec and the encoder-only Ro-En LegoNN module (CTC)
#  stage 3  Ro-En encoder + De-En WEmb / BeamConv decoder, no fine-tuning (Table III)
#  stage 4  the composed WEmb model fine-tuned end-to-end (Table VI)
# Order across recipes: this stage 1 data part (--stop_stage 1 --data_only true) ->
# wmt19_de_en stages 1-2 -> this recipe's stages 1-4.
set -euo pipefail
stage=1
stop_stage=4
data_only=false          # stage 1: only local/data.sh (its text feeds the joint BPE of wmt19)
ngpu=8                   # GPUs per node, one process each (ESPnet's multiprocessing_distributed)
train_launcher=          # or e.g. "torchrun --no-python --standalone --nproc_per_node 8" (--ngpu 1)
extra_train_args=        # added to every training, e.g. "--use_amp true" (mixed precision on a GPU) or "--use_amp false" (float32 on a CPU with bfloat16)
nj=8
de_en=../../wmt19_de_en/mt1
. utils/parse_options.sh

common=(--ngpu "$ngpu" --nj "$nj" --train_set train --valid_set valid --test_sets test
        --metric bleu --max_len 250 --inference_args "--beam_size 5 --penalty 0.6"
        --input_interface joint41k --ctc_interfaces joint41k --output_interface joint41k)
[ -n "$train_launcher" ] && common+=(--train_launcher "$train_launcher")
dist=""; [ "$ngpu" -gt 1 ] && dist="--multiprocessing_distributed true"
encoder=exp/roen_ctc/modules/encoder0.zip
. utils/experiments.sh   # lego_train, lego_compose, lego_finetune (../../TEMPLATE/legonn1/README.md)
lego_common=("${common[@]}") lego_train_args="$dist${extra_train_args:+ $extra_train_args}"

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  ./legonn.sh "${common[@]}" --stage 1 --stop_stage 1
  if [ "$data_only" = false ]; then
    ./legonn.sh "${common[@]}" --interfaces "joint41k=copy:$de_en/data/interfaces/joint41k" --stage 2 --stop_stage 3
  fi
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  lego_train --seed 1 roen_encdec train_encdec 4-7 --ctc_interfaces "" --ctc_targets ""
  lego_train --seed 1 roen_ctc train_ctc 4-8 --inference_model valid.loss.ave.pth
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  for ingestor in wemb beamconv; do
    lego_compose --finetune_config conf/finetune.yaml "roen_ctc+deen_$ingestor" "$encoder" \
      "$de_en/exp/deen_joint41k_legonn_$ingestor/modules/decoder.zip"
  done
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  lego_finetune roen_ctc+deen_wemb --inference_model valid.loss.best.pth
fi
