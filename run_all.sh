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

declare -A corpus=([multi30k/mt1]=multi30k [an4/asr1]=an4 [multi30k_speech/asr1]=multi30k)
# The mini profiles in two lanes side by side, one thread each: most of a mini run is process
# start-up, which uses one core. multi30k_speech reads the modules of multi30k/mt1's mini run, so
# it follows it; AN4 runs beside them. Each recipe's output goes to exp/run_all/<recipe>.log.
lanes=("multi30k/mt1")
[ -x egs2/multi30k_speech/asr1/run.sh ] && lanes[0]+=" multi30k_speech/asr1"
[ -d "$data/an4" ] && [ -x egs2/an4/asr1/run.sh ] && lanes+=("an4/asr1")
mkdir -p exp/run_all
mini_run() {
  local recipe=$1 log="exp/run_all/${1//\//_}.log" start=$SECONDS
  echo "=== egs2/$recipe (mini) started ==="
  if (cd "egs2/$recipe" && OMP_NUM_THREADS=1 ./run.sh --mini true --data_root "$data/${corpus[$recipe]}") > "$log" 2>&1; then
    echo "=== egs2/$recipe (mini) done in $((SECONDS - start)) s (log: $log) ==="
  else
    echo "=== egs2/$recipe (mini) FAILED after $((SECONDS - start)) s; the end of $log: ==="
    tail -n 20 "$log"
    return 1
  fi
}
mini_lane() { local recipe; for recipe in $1; do mini_run "$recipe" || return 1; done; }
jobs_started=()
for lane in "${lanes[@]}"; do mini_lane "$lane" & jobs_started+=($!); done
failed=0
for pid in "${jobs_started[@]}"; do wait "$pid" || failed=1; done
[ "$failed" = 0 ] || { echo "run_all.sh: a mini run failed (above)" >&2; exit 1; }

recipes=(${lanes[@]})
for recipe in "${recipes[@]}"; do
  echo; echo "### SMOKE RUN of egs2/$recipe (--mini: tiny models, 2 epochs; its numbers say nothing about quality)"
  cat "egs2/$recipe/mini/RESULTS.md"
done
