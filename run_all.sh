#!/usr/bin/env bash
# Main job: sets up the environment, runs every recipe's --mini profile end-to-end on the
# default data (../shared/data beside the repository, or LEGONN_DATA), and prints the results.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$root"
bash tools/install.sh
. tools/activate.sh
data=${LEGONN_DATA:-$root/../shared/data}
if [ ! -d "$data/multi30k" ]; then
  echo "run_all.sh: no corpus data at $data (expected multi30k/, an4/)." >&2
  echo "Set LEGONN_DATA to the folder that holds them." >&2
  exit 1
fi

# First, LegoNN working rather than only running: the Multi30k recipe's shipped modules (trained
# there, committed at half precision) composed and decoded on the real test sets, no training.
if [ -f egs2/multi30k/mt1/pretrained/scores.json ]; then
  echo "=== egs2/multi30k/mt1: shipped modules, no training ==="
  start=$SECONDS
  (cd egs2/multi30k/mt1 && ./run.sh --data_root "$data/multi30k" --stage 1 --stop_stage 1 > /dev/null &&
   ./run.sh --stage 9 --stop_stage 9 > /dev/null)
  for pair in de_en fr_en; do
    score=egs2/multi30k/mt1/exp/shipped_$pair/decode_test_${pair%_en}/score_bleu/score.json
    echo "shipped $pair: $(python -c "import json, sys; print(json.load(open(sys.argv[1]))['summary'])" "$score")"
  done
  echo "=== shipped modules done in $((SECONDS - start)) s ==="
fi

recipes=(multi30k/mt1)
[ -d "$data/an4" ] && [ -x egs2/an4/asr1/run.sh ] && recipes+=(an4/asr1)
[ -x egs2/multi30k_speech/asr1/run.sh ] && recipes+=(multi30k_speech/asr1)
declare -A corpus=([multi30k/mt1]=multi30k [an4/asr1]=an4 [multi30k_speech/asr1]=multi30k)

for recipe in "${recipes[@]}"; do
  echo "=== egs2/$recipe (mini) ==="
  start=$SECONDS
  (cd "egs2/$recipe" && ./run.sh --mini true --data_root "$data/${corpus[$recipe]}")
  echo "=== egs2/$recipe done in $((SECONDS - start)) s ==="
done
for recipe in "${recipes[@]}"; do
  echo; echo "### SMOKE RUN of egs2/$recipe (--mini: tiny models, 2 epochs; its numbers say nothing about quality)"
  cat "egs2/$recipe/mini/RESULTS.md"
done
