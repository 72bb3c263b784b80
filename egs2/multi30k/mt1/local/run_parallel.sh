#!/usr/bin/env bash
# run.sh's table (stages 1-8) with its experiments side by side, for a machine with many cores
# and a GPU: every De-En model, every low-resource slice and every swap is its own ./run.sh,
# started as soon as what it needs exists. The models are the ones ./run.sh trains.
#
#   local/run_parallel.sh [--train_minutes M] [--de_models "..."] [--low_srcs "..."]
#                         [--prepare_data false] [--ship false] [run.sh options, e.g. --ngpu 1]
#
# --train_minutes M: the De-En trainings share M minutes. Once each has two epochs, the slowest
#   one's epoch time says how many epochs fit; if that is fewer than max_epoch, all of them are
#   stopped and resumed from their checkpoints with that many (run.sh --epochs N trains the same
#   models), and the log says so. 0: the configs' max_epoch.
# --low_srcs "": no slices (the De-En models and their swaps only).
# --prepare_data false: data/ and dump/ are there already (carried from another machine), skip stage 1.
# --ship false: RESULTS.md only, pretrained/ untouched (stage 7, not 8).
# Logs: exp/parallel/<experiment>.log; the last line of each says how it ended.
set -euo pipefail
train_minutes=0
de_models="encdec legonn_wemb ctc legonn_beamconv legonn_wemb_seed2 encdec_seed2 legonn_nogrounding legonn_nogrounding_seed2"
low_sizes="4000 2000 1000 500"   # largest first: the shipped Fr encoder comes from 4000
low_srcs="fr cs"
low_from_de=true   # run.sh's default: the slice encoders start from the De-En WEmb encoder
prepare_data=true
last_stage=8
run_opts=()
while [ $# -gt 0 ]; do
  case $1 in
    --train_minutes) train_minutes=$2; shift 2 ;;
    --de_models) de_models=$2; shift 2 ;;   # legonn_wemb_kd is not among them: its teacher
                                            # decodes all 25000 training sentences first
    --low_from_de) low_from_de=$2; run_opts+=("$1" "$2"); shift 2 ;;
    --mini) run_opts+=("$1" "$2"); [ "$2" = true ] && { low_sizes=100; low_srcs=fr; }; shift 2 ;;
    --low_srcs) low_srcs=$2; shift 2 ;;
    --prepare_data) prepare_data=$2; shift 2 ;;
    --ship) if [ "$2" = true ]; then last_stage=8; else last_stage=7; fi; shift 2 ;;
    --low_sizes|--stage|--stop_stage|--epochs)
      echo "$0: $1 is set by this script" >&2; exit 1 ;;
    *) run_opts+=("$1" "$2"); shift 2 ;;
  esac
done
work=.; for ((i = 0; i < ${#run_opts[@]}; i += 2)); do
  [ "${run_opts[i]}" = --mini ] && [ "${run_opts[i+1]}" = true ] && work=mini
done
logs=$work/exp/parallel
mkdir -p "$logs"
say() { echo "$(date +%T) $*" | tee -a "$logs/summary.log"; }

declare -A job
start() {  # start NAME RUN.SH-OPTIONS...: one ./run.sh in its own process group
  local name=$1; shift
  setsid ./run.sh "${run_opts[@]}" "$@" > "$logs/$name.log" 2>&1 &
  job[$name]=$!
}
chain() {  # chain NAME "RUN.SH-OPTIONS" "RUN.SH-OPTIONS"...: ./run.sh calls one after another
  local name=$1 step script="set -e"; shift
  for step; do script+="; ./run.sh ${run_opts[*]@Q} $step"; done
  setsid bash -c "$script" > "$logs/$name.log" 2>&1 &
  job[$name]=$!
}
finish() {  # finish NAME...: wait for each and record how it ended
  local name
  for name; do
    if wait "${job[$name]}"; then say "$name: done"; else say "$name: FAILED (see $logs/$name.log)"; fi
  done
}
mtime() { stat -c %Y "$1" 2>/dev/null || echo 0; }

# Stops the De-En trainings and resumes them with the number of epochs that fits the budget.
fit_epochs() {
  local deadline=$1 m seconds slowest=0 max_epoch
  max_epoch=$(sed -n 's/^max_epoch: *//p' conf/train_legonn_wemb.yaml)
  for m in $de_models; do  # each needs two epochs, or has ended
    while [ ! -f "$work/exp/de_$m/2epoch.pth" ] && kill -0 "${job[de_$m]}" 2>/dev/null; do sleep 5; done
    # a training trained before (its early epochs averaged away) says nothing about this one
    [ -f "$work/exp/de_$m/1epoch.pth" ] && [ -f "$work/exp/de_$m/2epoch.pth" ] || continue
    seconds=$(( $(mtime "$work/exp/de_$m/2epoch.pth") - $(mtime "$work/exp/de_$m/1epoch.pth") ))
    [ "$seconds" -gt "$slowest" ] && slowest=$seconds
  done
  [ "$slowest" -gt 0 ] || return 0
  local fits=$(( 2 + (deadline - $(date +%s)) / slowest ))
  say "De-En: ${slowest} s per epoch (slowest); $fits of $max_epoch epochs fit in $train_minutes min"
  [ "$fits" -lt "$max_epoch" ] || return 0
  [ "$fits" -ge 2 ] || fits=2   # the two it has
  for m in $de_models; do
    kill -0 "${job[de_$m]}" 2>/dev/null || continue
    # not while it writes its checkpoint
    while [ $(( $(date +%s) - $(mtime "$work/exp/de_$m/checkpoint.pth") )) -lt 3 ]; do sleep 1; done
    kill -- "-${job[de_$m]}" 2>/dev/null || true
    wait "${job[de_$m]}" 2>/dev/null || true
    start "de_$m" --stage 2 --stop_stage 2 --de_models "$m" --epochs "$fits"
  done
  say "De-En: resumed with --epochs $fits"
}

SECONDS=0
if [ "$prepare_data" = true ]; then
  ./run.sh "${run_opts[@]}" --stage 1 --stop_stage 1 > "$logs/data.log" 2>&1 || { say "data: FAILED (see $logs/data.log)"; exit 1; }
  say "data: done"
fi

budget_end=$(( $(date +%s) + $(awk "BEGIN { print int($train_minutes * 60) }") ))
for m in $de_models; do start "de_$m" --stage 2 --stop_stage 2 --de_models "$m"; done
[ "$train_minutes" = 0 ] || fit_epochs "$budget_end"
# With --low_from_de true the slice encoders start from the De-En WEmb encoder: they wait for it.
wait_for_wemb=false
[ "$low_from_de" = true ] && [ -n "${job[de_legonn_wemb]:-}" ] && wait_for_wemb=true
[ "$wait_for_wemb" = true ] && finish de_legonn_wemb
slices=()
for n in $low_sizes; do
  for src in $low_srcs; do
    slices+=("${src}_low$n")
    start "${src}_low$n" --stage 3 --stop_stage 3 --low_srcs "$src" --low_sizes "$n"
  done
done
for m in $de_models; do
  [ "$m" = legonn_wemb ] && [ "$wait_for_wemb" = true ] && continue   # finished above
  finish "de_$m"
done

for pair in $(sed -n '/^swaps="/,/"$/p' run.sh | tr -d '"' | sed 's/^swaps=//'); do
  start "swap_$pair" --stage 5 --stop_stage 5 --swaps "$pair"
done
for slice in "${slices[@]}"; do  # transfer, then fine-tune, as each slice's models are ready
  finish "$slice"
  src=${slice%%_*} n=${slice##*low}
  chain "transfer_$slice" "--stage 4 --stop_stage 4 --low_srcs $src --low_sizes $n" \
                          "--stage 6 --stop_stage 6 --low_srcs $src --low_sizes $n"
done
for name in "${!job[@]}"; do [[ $name == swap_* || $name == transfer_* ]] && finish "$name"; done

./run.sh "${run_opts[@]}" --stage 7 --stop_stage $last_stage > "$logs/results.log" 2>&1 || say "results: FAILED (see $logs/results.log)"
say "all done in $((SECONDS / 60)) min $((SECONDS % 60)) s"
