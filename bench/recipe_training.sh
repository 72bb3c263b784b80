#!/usr/bin/env bash
# Sentences per second of a real recipe training (legonn.sh stage 5: ESPnet's trainer and loader
# over the Multi30k dump), one epoch each way on the same data and model:
#   1x1  one process, one thread (OMP_NUM_THREADS=1, as the recipes train), float32
#   1x2  one process, two threads
#   2x1  two DDP processes (torchrun, gloo), one thread each; ESPnet gives each rank half of
#        every batch, so updates, batches and learning rates are those of 1x1
#   PxT_amp  the same with --use_amp true: the forward passes under CPU bfloat16 autocast
#        (legonn/tasks/trainer.py)
# and each one's ratio against 1x1, with the valid accuracy after the epoch. The model and data
# of issue 14's baseline (118 sentences/s): LegoNN WEmb at 128 dimensions (the Multi30k config of
# that time: 2 encoder and 2 decoder layers, batch_bins 2000) on the first 5000 De-En training
# sentences.
#
#   (cd egs2/multi30k/mt1 && ./run.sh --stage 1 --stop_stage 1)   # data, interfaces, dumps
#   bench/recipe_training.sh [--sentences 5000] [--ways "1x1 1x2 2x1 1x1_amp 2x1_amp"] [--train_args "..."]
#   bench/recipe_training.sh --train_args ""    # the recipe's own config (256 dimensions)
# Takes about 1-2 minutes per way on an idle 2-core machine; writes egs2/multi30k/mt1/exp/bench_*.
set -euo pipefail
sentences=5000
ways="1x1 1x2 2x1 1x1_amp 2x1_amp"
train_args="--encoder_conf dim=128 --encoder_conf ffn_dim=512 --ingestor_conf ffn_dim=512 --decoder_conf dim=128
            --decoder_conf ffn_dim=512 --decoder_conf layers=2 --batch_bins 2000"
while [ $# -gt 0 ]; do
  case $1 in
    --sentences) sentences=$2 ;; --ways) ways=$2 ;; --train_args) train_args=$2 ;;
    *) echo "$0: unknown option $1" >&2; exit 1 ;;
  esac
  shift 2
done
cd "$(dirname "$0")/../egs2/multi30k/mt1"
[ -s dump/train_de/src_text ] || { echo "$0: no dump/train_de: run ./run.sh --stage 1 --stop_stage 1 in $PWD" >&2; exit 1; }
set_name=train_de_first$sentences
if [ ! -f "dump/$set_name/.done" ]; then
  mkdir -p "dump/$set_name"
  for f in src_text text; do head -n "$sentences" "dump/train_de/$f" > "dump/$set_name/$f"; done
  touch "dump/$set_name/.done"
fi

declare -A rate accuracy
for way in $ways; do
  layout=${way%_amp} amp=false; [ "$layout" != "$way" ] && amp=true
  processes=${layout%x*} threads=${layout#*x} tag=bench_$way launch=()
  if [ "$processes" -gt 1 ]; then
    launch=(--train_launcher "torchrun --no-python --standalone --nproc_per_node $processes")
  fi
  rm -rf "exp/$tag"
  OMP_NUM_THREADS=$threads ./legonn.sh --stage 4 --stop_stage 5 --tag "$tag" --train_config conf/train_legonn_wemb.yaml \
    --train_set "$set_name" --valid_set valid_de --input_interface de --ctc_interfaces en --output_interface en \
    "${launch[@]}" --train_args "$train_args --max_epoch 1 --num_att_plot 0 --seed 1 --dist_backend gloo --use_amp $amp" > "exp/$tag.log" 2>&1 \
    || { echo "$0: the $way training failed: see $PWD/exp/$tag.log and exp/$tag/train.log" >&2; exit 1; }
  # ESPnet's epoch summary: "[train] ... time=13 minutes and 0.12 seconds, ..." (or "time=42.5 seconds")
  seconds=$(grep -o "1epoch results: \[train\].*" "exp/$tag/train.log" | grep -o " time=[^,]*" | head -1 | sed 's/.*time=//' |
            awk '{ for (i = 1; i < NF; i++) t += $i * ($(i+1) ~ /^hour/ ? 3600 : $(i+1) ~ /^minute/ ? 60 : $(i+1) ~ /^second/ ? 1 : 0)
                   print t }')
  rate[$way]=$(awk -v n="$sentences" -v s="$seconds" 'BEGIN { printf "%.1f", n / s }')
  accuracy[$way]=$(grep -o "1epoch results: .*" "exp/$tag/train.log" | grep -o "\[valid\].*" | grep -o " acc=[0-9.]*" | cut -d= -f2)
  echo "$way: $sentences sentences in $seconds s of training: ${rate[$way]} sentences/s, valid accuracy ${accuracy[$way]}"
done
echo "| way | sentences/s | vs 1x1 | valid accuracy after the epoch |"
echo "|---|---|---|---|"
for way in $ways; do
  echo "| $way | ${rate[$way]} | $(awk -v a="${rate[$way]}" -v b="${rate[1x1]:-${rate[$way]}}" 'BEGIN { printf "%.2fx", a / b }') | ${accuracy[$way]} |"
done
