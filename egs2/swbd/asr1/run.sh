#!/usr/bin/env bash
# Switchboard 300h at full scale (paper IV-A, Table II, Fig. 4, Tables IX and XI), scored on
# the SWB and CallHome halves of HUB5 Eval2000 (no LM, beam 20, length penalty 1.0, last model).
#
#  stage 1  data (local/data.sh, db.sh), interfaces: SentencePiece 100 and 2000 units of the
#           300h text, fbank dump, 10% and 30% training slices (Table XI)
#  stage 2  baseline enc-dec, LegoNN WEmb and BeamConv, encoder-only CTC, second seeds;
#           decoded and scored (WER, and WER at the encoder interface: Table IX), modules
#  stage 3  modularity tests (Fig. 4): seed swap, architecture swap, decoder plug
#  stage 4  low-resource transfer (App. F, Table XI): encoder-only modules and enc-dec
#           baselines on 10% / 30% of the data; the full-data decoders plugged onto the encoders
set -euo pipefail
stage=1
stop_stage=4
ngpu=8                   # GPUs per node, one process each (ESPnet's multiprocessing_distributed)
train_launcher=          # or e.g. "torchrun --no-python --standalone --nproc_per_node 8" (--ngpu 1)
extra_train_args=        # added to every training, e.g. "--use_amp true" (mixed precision on a GPU) or "--use_amp false" (float32 on a CPU with bfloat16)
nj=32
units=2000               # the interface of every model: sp2000 or sp100 (both are built)
. utils/parse_options.sh
. ./path.sh              # python (data_dir subset below)

tests="eval2000_swb eval2000_ch"
common=(--task asr --metric wer --ngpu "$ngpu" --nj "$nj" --train_set train --valid_set valid
        --test_sets "$tests" --inference_args "--beam_size 20 --penalty 1.0" --inference_model latest.pth
        --ctc_interfaces "sp$units" --output_interface "sp$units")
[ -n "$train_launcher" ] && common+=(--train_launcher "$train_launcher")
dist=""; [ "$ngpu" -gt 1 ] && dist="--multiprocessing_distributed true"
no_interface=(--ctc_interfaces "" --ctc_targets "")
. utils/experiments.sh   # lego_train, lego_compose (../../TEMPLATE/legonn1/README.md)
lego_common=("${common[@]}") lego_train_args="$dist${extra_train_args:+ $extra_train_args}"
# Every experiment is named after its interface: exp/<model>_sp$units.
# swap <encoder model> <decoder model>: their modules composed, decoded and scored, no training
swap() { lego_compose "swap_$1+${2}_sp$units" "exp/$1_sp$units/modules/encoder0.zip" "exp/$2_sp$units/modules/decoder.zip"; }

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  ./legonn.sh "${common[@]}" --test_sets "eval2000 $tests" --stage 1 --stop_stage 3 \
    --interfaces "sp100=bpe:100:data/train/text sp2000=bpe:2000:data/train/text"
  for pct in 10 30; do
    [ -d "dump/train_${pct}pct" ] || python -m legonn.recipe.data_dir subset dump/train \
      "dump/train_${pct}pct" --fraction "0.$pct" --seed 0
  done
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  for model in legonn_wemb legonn_beamconv ctc; do
    lego_train --seed 1 "${model}_sp$units" "train_$model" 4-8
  done
  lego_train --seed 2 "legonn_wemb_seed2_sp$units" train_legonn_wemb 4-8
  lego_train --seed 1 "encdec_sp$units" train_encdec 4-8 "${no_interface[@]}"
  lego_train --seed 2 "encdec_seed2_sp$units" train_encdec 4-8 "${no_interface[@]}"
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  swap legonn_wemb legonn_wemb_seed2; swap legonn_wemb_seed2 legonn_wemb      # seed swap
  swap encdec encdec_seed2                                                     # (no interface)
  swap legonn_wemb legonn_beamconv; swap legonn_beamconv legonn_wemb          # architecture swap
  swap ctc legonn_wemb; swap ctc legonn_beamconv                              # decoder plug
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  for pct in 10 30; do
    # The paper drops the OLC here (same dataset, same lengths); ours keeps it so the encoder's
    # output lengths are exactly those the full-data decoders were trained on.
    lego_train --seed 1 "ctc_${pct}pct_sp$units" train_ctc 4-8 --train_set "train_${pct}pct"
    lego_train --seed 1 "encdec_${pct}pct_sp$units" train_encdec 4-7 --train_set "train_${pct}pct" "${no_interface[@]}"
    swap "ctc_${pct}pct" legonn_wemb; swap "ctc_${pct}pct" legonn_beamconv
  done
fi
