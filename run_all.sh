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

mkdir -p exp/run_all
rm -f exp/run_all/*.log
# First, LegoNN working rather than only running: the Multi30k recipe's shipped modules (trained
# there, committed at half precision) composed and decoded on the real test sets, no training.
# The decoding runs beside the mini runs and prints its scores as soon as it ends.
shipped=egs2/multi30k/mt1/pretrained/scores.json
shipped_scores() {
  for pair in de_en fr_en; do
    score=egs2/multi30k/mt1/exp/shipped_$pair/decode_test_${pair%_en}/score_bleu/score.json
    echo "shipped $pair: $(python -c "import json, sys; print(json.load(open(sys.argv[1]))['summary'])" "$score")"
  done
}
if [ -f "$shipped" ]; then
  echo "=== egs2/multi30k/mt1: shipped modules, no training, started (log: exp/run_all/shipped.log) ==="
  (start=$SECONDS
   if (cd egs2/multi30k/mt1 && ./run.sh --data_root "$data/multi30k" --stage 1 --stop_stage 1 &&
       ./run.sh --stage 9 --stop_stage 9) > exp/run_all/shipped.log 2>&1; then
     shipped_scores; echo "=== shipped modules done in $((SECONDS - start)) s ==="
   else
     echo "run_all.sh: decoding the shipped modules failed; the end of exp/run_all/shipped.log:" >&2
     tail -n 20 exp/run_all/shipped.log >&2; exit 1
   fi) & shipped_job=$!
fi

declare -A corpus=([multi30k/mt1]=multi30k [an4/asr1]=an4 [multi30k_speech/asr1]=multi30k)
# The mini profiles in two lanes side by side, one thread each: most of a mini run is process
# start-up, which uses one core. multi30k_speech reads multi30k/mt1's English interface and its
# de_legonn_wemb decoder module, so those are made first; then the rest of multi30k/mt1 runs in
# one lane and AN4 and multi30k_speech in the other. Output: exp/run_all/<recipe>.log.
# One decoding job per experiment (--nj 1): the lanes keep both cores busy, and a mini decoding
# is mostly start-up, which a second job would pay again.
mini_run() {  # mini_run RECIPE [run.sh options]
  local recipe=$1 log="exp/run_all/${1//\//_}.log" start=$SECONDS; shift
  echo "=== egs2/$recipe (mini${*:+ $*}) started ==="
  if (cd "egs2/$recipe" && OMP_NUM_THREADS=1 ./run.sh --mini true --nj 1 --data_root "$data/${corpus[$recipe]}" "$@") >> "$log" 2>&1; then
    echo "=== egs2/$recipe (mini${*:+ $*}) done in $((SECONDS - start)) s (log: $log) ==="
  else
    echo "=== egs2/$recipe (mini${*:+ $*}) FAILED after $((SECONDS - start)) s; the end of $log: ==="
    tail -n 20 "$log"
    return 1
  fi
}
others=()   # the second lane
[ -d "$data/an4" ] && [ -x egs2/an4/asr1/run.sh ] && others+=(an4/asr1)
mt_rest=()
if [ -x egs2/multi30k_speech/asr1/run.sh ]; then
  mini_run multi30k/mt1 --stage 1 --stop_stage 2 --de_models legonn_wemb
  mt_rest=(--stage 2)   # stage 1 is done; de_legonn_wemb is kept
  others+=(multi30k_speech/asr1)
fi
mini_run multi30k/mt1 "${mt_rest[@]}" & first_lane=$!
(for recipe in "${others[@]}"; do mini_run "$recipe" || exit 1; done) & second_lane=$!
failed=0
wait "$first_lane" || failed=1
wait "$second_lane" || failed=1
[ -z "${shipped_job:-}" ] || wait "$shipped_job" || failed=1
[ "$failed" = 0 ] || { echo "run_all.sh: a run failed (above)" >&2; exit 1; }

recipes=(multi30k/mt1 "${others[@]}")
for recipe in "${recipes[@]}"; do
  echo; echo "### SMOKE RUN of egs2/$recipe (--mini: tiny models, 2 epochs; its numbers say nothing about quality)"
  cat "egs2/$recipe/mini/RESULTS.md"
done
