#!/usr/bin/env bash
# WMT19 De->En (minus ParaCrawl): the De-En LegoNN models whose decoder modules the other
# recipes reuse (paper Fig. 3, App. A). Three vocabulary set-ups, one per transfer scenario:
#
#  stage 1  data (lower-cased, tokenized; *_nopunct also punctuation-stripped) and dump
#  stage 2  joint 41K BPE of WMT19 De-En + WMT16 Ro-En (needs ../../wmt16_ro_en/mt1 stage 1):
#           LegoNN WEmb and BeamConv De-En models -> decoders for the Ro-En transfer (Table III)
#  stage 3  English interface = Europarl-ST's 2000-unit BPE (needs ../../europarl_st/asr1
#           stage 1), German source = the joint 41K BPE of stage 2 (source and target
#           vocabularies not shared, App. A-B): WEmb and BeamConv models
#           on *_nopunct -> decoders for the Europarl ASR transfer (Table IV)
#  stage 4  English interface = the Europarl + TED-LIUM 2000-unit BPE (needs ../../tedlium/asr1
#           stage 1): WEmb model on *_nopunct -> decoder of the three-module ASR (Table V)
# Every model is decoded (tokenized BLEU on newstest2019) and cut into modules (exp/*/modules).
set -euo pipefail
stage=1
stop_stage=4
ngpu=8                   # GPUs per node, one process each (ESPnet's multiprocessing_distributed)
train_launcher=          # or e.g. "torchrun --no-python --standalone --nproc_per_node 8" (--ngpu 1)
extra_train_args=        # added to every training, e.g. "--use_amp true" (mixed precision on a GPU) or "--use_amp false" (float32 on a CPU with bfloat16)
nj=8
joint_size=41000
ro_en=../../wmt16_ro_en/mt1
europarl=../../europarl_st/asr1
tedlium=../../tedlium/asr1
. utils/parse_options.sh

common=(--ngpu "$ngpu" --nj "$nj" --metric bleu --max_len 250 --input_interface joint41k
        --inference_args "--beam_size 5 --penalty 0.6")
[ -n "$train_launcher" ] && common+=(--train_launcher "$train_launcher")
dist=""; [ "$ngpu" -gt 1 ] && dist="--multiprocessing_distributed true"

. utils/experiments.sh   # lego_train (../../TEMPLATE/legonn1/README.md)
lego_common=("${common[@]}") lego_train_args="$dist${extra_train_args:+ $extra_train_args}"
# set_up <data suffix: "" or _nopunct> <English interface>: the sets and interface of the next models
set_up() { lego_common=("${common[@]}" --train_set "train$1" --valid_set "valid$1" --test_sets "test$1"
                        --ctc_interfaces "$2" --output_interface "$2"); }

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  ./legonn.sh "${common[@]}" --train_set train --valid_set valid \
    --test_sets "test train_nopunct valid_nopunct test_nopunct" --stage 1 --stop_stage 3
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  joint=data/train/src_text,data/train/text,$ro_en/data/train/src_text,$ro_en/data/train/text
  ./legonn.sh --interfaces "joint41k=bpe:$joint_size:$joint" --stage 2 --stop_stage 2
  set_up "" joint41k
  lego_train --seed 1 deen_joint41k_legonn_wemb train_legonn_wemb 4-8
  lego_train --seed 1 deen_joint41k_legonn_beamconv train_legonn_beamconv 4-8
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  ./legonn.sh --interfaces "en_ep2000=copy:$europarl/data/interfaces/en_ep2000" --stage 2 --stop_stage 2
  set_up _nopunct en_ep2000
  lego_train --seed 1 deen_ep2000_legonn_wemb train_legonn_wemb 4-8
  lego_train --seed 1 deen_ep2000_legonn_beamconv train_legonn_beamconv 4-8
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  ./legonn.sh --interfaces "en_epted2000=copy:$tedlium/data/interfaces/en_epted2000" --stage 2 --stop_stage 2
  set_up _nopunct en_epted2000
  lego_train --seed 1 deen_epted2000_legonn_wemb train_legonn_wemb 4-8
fi
