#!/usr/bin/env bash
# Sentences per second of a real recipe training (legonn.sh stage 5: ESPnet's trainer and loader
# over the Multi30k dump), one epoch each way on the same data and model:
#   base  issue 14's baseline: one process, one thread, float32, with the code of --base_commit
#         (default 72e7a4b, when the issue measured its 118 sentences/s), checked out as a git
#         worktree under the recipe's exp/ and run on this checkout's dump
#   1x1   this code: one process, one thread (OMP_NUM_THREADS=1, as the recipes train), float32
#   1x2   one process, two threads
#   2x1   two DDP processes (torchrun, gloo), one thread each; ESPnet gives each rank half of
#         every batch, so updates, batches and learning rates are those of 1x1
#   PxT_amp, base_amp  the same with --use_amp true: the forward passes under CPU bfloat16
#         autocast (legonn/tasks/trainer.py)
# and each one's ratio against the first way listed, with the valid accuracy after the epoch.
# The model: --config, by default issue 14's (bench/conf/issue14_legonn_wemb.yaml: LegoNN WEmb
# at 128 dimensions; a config with `ingestor: none`, an enc-dec, trains without the CTC
# interface); the data: the first --sentences De-En training sentences.
#
#   (cd egs2/multi30k/mt1 && ./run.sh --stage 1 --stop_stage 1)   # data, interfaces, dumps
#   bench/recipe_training.sh [--ways "base 1x1 2x1 2x1_amp"] [--sentences 5000] [--config FILE] [--train_args "..."]
#   bench/recipe_training.sh --config egs2/multi30k/mt1/conf/train_legonn_wemb.yaml --ways "1x1 2x1_amp"   # the recipe's own
#   bench/recipe_training.sh --config egs2/multi30k/mt1/conf/train_encdec.yaml --ways "base_amp 1x1_amp" --base_commit db04346
# Takes about 1 minute per way on an idle 2-core machine; writes egs2/multi30k/mt1/exp/bench_*.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sentences=5000
ways="base 1x1 2x1 2x1_amp"
config=$root/bench/conf/issue14_legonn_wemb.yaml
base_commit=72e7a4b
train_args=
while [ $# -gt 0 ]; do
  case $1 in
    --sentences) sentences=$2 ;; --ways) ways=$2 ;; --config) config=$2 ;;
    --base_commit) base_commit=$2 ;; --train_args) train_args=$2 ;;
    *) echo "$0: unknown option $1" >&2; exit 1 ;;
  esac
  shift 2
done
config=$(readlink -f "$config")
[ -f "$config" ] || { echo "$0: config $config not found" >&2; exit 1; }
recipe=$root/egs2/multi30k/mt1
cd "$recipe"
[ -s dump/train_de/src_text ] || { echo "$0: no dump/train_de: run ./run.sh --stage 1 --stop_stage 1 in $PWD" >&2; exit 1; }
set_name=train_de_first$sentences
if [ ! -f "dump/$set_name/.done" ]; then
  mkdir -p "dump/$set_name"
  for f in src_text text; do head -n "$sentences" "dump/train_de/$f" > "dump/$set_name/$f"; done
  touch "dump/$set_name/.done"
fi
mkdir -p exp
interface=(--ctc_interfaces en)
# no ingestor as LegoNNTask reads it: "none" or YAML's null (null, ~ or nothing)
grep -Eq '^ingestor: *(none|null|~)? *$' "$config" && interface=(--ctc_interfaces "" --ctc_targets "")

# The baseline's recipe directory: a worktree of --base_commit reading this checkout's data.
base_recipe() {
  local src=$recipe/exp/bench_base_src sha
  if ! sha=$(git -C "$root" rev-parse --verify -q "$base_commit^{commit}"); then
    echo "$0: commit $base_commit is not in this clone (a shallow one?): fetch it, or leave base out of --ways" >&2
    return 1
  fi
  if [ "$(git -C "$src" rev-parse HEAD 2>/dev/null)" != "$sha" ]; then
    rm -rf "$src"
    git -C "$root" worktree prune
    git -C "$root" worktree add --detach "$src" "$base_commit" > /dev/null
  fi
  ln -sfn "$root/tools/venv" "$src/tools/venv"
  for d in dump data; do ln -sfn "$recipe/$d" "$src/egs2/multi30k/mt1/$d"; done
  mkdir -p "$src/egs2/multi30k/mt1/exp"
  echo "$src"
}

declare -A rate accuracy
for way in $ways; do
  dir=$recipe code=$root layout=${way%_amp} amp=false
  [ "$layout" != "$way" ] && amp=true
  if [ "$layout" = base ]; then
    code=$(base_recipe) || exit 1
    layout=1x1
    dir=$code/egs2/multi30k/mt1
  fi
  processes=${layout%x*} threads=${layout#*x} tag=bench_$way launch=()
  if [ "$processes" -gt 1 ]; then
    launch=(--train_launcher "torchrun --no-python --standalone --nproc_per_node $processes")
  fi
  rm -rf "$dir/exp/$tag"
  (cd "$dir" && PYTHONPATH=$code OMP_NUM_THREADS=$threads ./legonn.sh --stage 4 --stop_stage 5 --tag "$tag" \
    --train_config "$config" --train_set "$set_name" --valid_set valid_de --input_interface de \
    "${interface[@]}" --output_interface en "${launch[@]}" \
    --train_args "$train_args --max_epoch 1 --num_att_plot 0 --seed 1 --use_amp $amp") \
    > "exp/$tag.log" 2>&1 \
    || { echo "$0: the $way training failed: see $PWD/exp/$tag.log and $dir/exp/$tag/train.log" >&2; exit 1; }
  log=$dir/exp/$tag/train.log
  # ESPnet's epoch summary: "[train] ... time=13 minutes and 0.12 seconds, ..." (or "time=42.5 seconds")
  seconds=$(grep -o "1epoch results: \[train\].*" "$log" | grep -o " time=[^,]*" | head -1 | sed 's/.*time=//' |
            awk '{ for (i = 1; i < NF; i++) t += $i * ($(i+1) ~ /^hour/ ? 3600 : $(i+1) ~ /^minute/ ? 60 : $(i+1) ~ /^second/ ? 1 : 0)
                   print t }')
  rate[$way]=$(awk -v n="$sentences" -v s="$seconds" 'BEGIN { printf "%.1f", n / s }')
  accuracy[$way]=$(grep -o "1epoch results: .*" "$log" | grep -o "\[valid\].*" | grep -o " acc=[0-9.]*" | cut -d= -f2)
  echo "$way: $sentences sentences in $seconds s of training: ${rate[$way]} sentences/s, valid accuracy ${accuracy[$way]}"
done
first=${ways%% *}
echo "model: ${config#"$root"/}; base: commit $base_commit"
echo "| way | sentences/s | vs $first | valid accuracy after the epoch |"
echo "|---|---|---|---|"
for way in $ways; do
  echo "| $way | ${rate[$way]} | $(awk -v a="${rate[$way]}" -v b="${rate[$first]}" 'BEGIN { printf "%.2fx", a / b }') | ${accuracy[$way]} |"
done
