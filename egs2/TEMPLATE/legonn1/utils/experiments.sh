# Sourced by a corpus's run.sh (`. utils/experiments.sh`): the steps its list of experiments is
# made of, so that run.sh holds only the corpus's settings and that list. Every step is one or two
# ./legonn.sh calls; README.md (this directory) documents them with examples.
#
#   lego_train [--seed N] [--abs_stats] [--train_args "..."] TAG CONFIG STAGES [legonn.sh options]
#       Train one experiment: legonn.sh stages STAGES ("4-8": stats, train, decode, score,
#       export; "4-7": no export; "6": decode only) of exp/TAG with CONFIG (a name in conf/:
#       train_ctc -> conf/train_ctc.yaml; or a path, e.g. exp/X/finetune.yaml).
#   lego_finetune [lego_train options] COMPOSED [legonn.sh options]
#       Fine-tune a composition end-to-end (stages 4-7): exp/finetune_COMPOSED, trained from
#       exp/COMPOSED/model.pth with exp/COMPOSED/finetune.yaml (lego_compose --finetune_config).
#   lego_compose [--finetune_config FILE] [--if_trained] [--compose_only] TAG ARCHIVE... [-- legonn.sh options]
#       Compose, decode, score: stage 9 (exp/TAG from module archives in chain order: encoder,
#       middle..., decoder; FILE also gives exp/TAG/finetune.yaml), then stages 6-7.
#       --if_trained: a missing archive skips the composition with a message (status 0), for
#       tables built over several sittings. --compose_only: stage 9 alone.
#   lego_init [--into PREFIX] PARAMS EXCLUDES [HINT]
#       Sets lego_init_param=(--init_param PARAMS::PREFIX:EXCLUDES): a training given
#       "${lego_init_param[@]}" starts from another experiment's parameters, all but those whose
#       names start with one of the comma-separated EXCLUDES (ESPnet's init_param
#       path:src_key:dst_key:excludes; "" excludes nothing). PARAMS may be a module archive (.zip, e.g. a shipped one):
#       its weights, copied once into exp/init/, start the model's part PREFIX (e.g. encoders.0;
#       EXCLUDES then name the module's own keys). Exits naming PARAMS (and HINT, what to run
#       first) when that experiment is not trained yet. An encoder module's archive also sets
#       lego_init_arch=" --encoder_conf {...}": its architecture (e.g. whether its OLC copies), for
#       the training's --train_args, so that the weights start the model they came from.
#   lego_carry KEY SET...
#       Copies data/SET/KEY (e.g. phones, a CTC target) into dump/SET/KEY for the utterances
#       stage 3 kept: the dump carries only the standard data files.
#
# Settings, read at each call (set them in run.sh before the first one):
#   lego_common=(...)       legonn.sh options of every call (task, sets, interfaces, search)
#   lego_train_args="..."   trainer options of every training (e.g. narrow mini models, or
#                           "--multiprocessing_distributed true"); one call may override it:
#                           lego_train_args="..." lego_train ...
# The trainer options (legonn.sh --train_args) are "$lego_train_args", then, each after one
# space and in this order: --seed N, --normalize_stats $PWD/exp/TAG/stats/train/feats_stats.npz
# (--abs_stats: an absolute path, as module export copies the statistics from elsewhere), and
# the given --train_args. legonn.sh keeps a finished training while these stay the same.

[ -n "${lego_common+set}" ] || lego_common=()
lego_train_args=${lego_train_args:-}

_lego_stages() {  # "4-8" -> --stage 4 --stop_stage 8; "6" -> --stage 6 --stop_stage 6
  echo "--stage ${1%-*} --stop_stage ${1#*-}"
}

lego_train() {
  local seed="" abs_stats=false extra="" has_extra=false
  while [ $# -gt 0 ]; do
    case $1 in
      --seed) seed=$2; shift 2 ;;
      --abs_stats) abs_stats=true; shift ;;
      --train_args) extra=$2; has_extra=true; shift 2 ;;
      *) break ;;
    esac
  done
  if [ $# -lt 3 ]; then
    echo "lego_train: usage: lego_train [--seed N] [--abs_stats] [--train_args ARGS] TAG CONFIG STAGES [legonn.sh options]" >&2
    return 1
  fi
  local tag=$1 config=$2 stages=$3; shift 3
  [[ $config == */* ]] || config=conf/$config.yaml
  local args=$lego_train_args
  [ -n "$seed" ] && args+=" --seed $seed"
  [ "$abs_stats" = true ] && args+=" --normalize_stats $PWD/exp/$tag/stats/train/feats_stats.npz"
  [ "$has_extra" = true ] && args+=" $extra"
  # shellcheck disable=SC2046  # _lego_stages prints four words
  ./legonn.sh "${lego_common[@]}" --tag "$tag" --train_config "$config" --train_args "$args" \
    $(_lego_stages "$stages") "$@"
}

lego_finetune() {
  local options=()
  while [ $# -gt 0 ]; do
    case $1 in
      --seed|--train_args) options+=("$1" "$2"); shift 2 ;;
      --abs_stats) options+=("$1"); shift ;;
      *) break ;;
    esac
  done
  if [ $# -lt 1 ]; then
    echo "lego_finetune: usage: lego_finetune [lego_train options] COMPOSED [legonn.sh options]" >&2
    return 1
  fi
  local composed=$1; shift
  lego_train "${options[@]}" "finetune_$composed" "exp/$composed/finetune.yaml" 4-7 \
    --init_param "exp/$composed/model.pth" "$@"
}

lego_compose() {
  local finetune_config="" if_trained=false compose_only=false
  while [ $# -gt 0 ]; do
    case $1 in
      --finetune_config) finetune_config=$2; shift 2 ;;
      --if_trained) if_trained=true; shift ;;
      --compose_only) compose_only=true; shift ;;
      *) break ;;
    esac
  done
  local tag=${1:-} archives=() archive
  [ $# -gt 0 ] && shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do archives+=("$1"); shift; done
  [ $# -gt 0 ] && shift  # the --
  if [ -z "$tag" ] || [ ${#archives[@]} -eq 0 ]; then
    echo "lego_compose: usage: lego_compose [--finetune_config FILE] [--if_trained] [--compose_only] TAG ARCHIVE... [-- legonn.sh options]" >&2
    return 1
  fi
  if [ "$if_trained" = true ]; then
    for archive in "${archives[@]}"; do
      [ -f "$archive" ] || { echo "run.sh: $tag skipped: $archive not trained yet"; return 0; }
    done
  fi
  ./legonn.sh "${lego_common[@]}" "$@" --tag "$tag" --compose_modules "${archives[*]}" \
    ${finetune_config:+--finetune_config "$finetune_config"} --stage 9 --stop_stage 9
  [ "$compose_only" = true ] && return 0
  ./legonn.sh "${lego_common[@]}" "$@" --tag "$tag" --stage 6 --stop_stage 7
}

lego_init() {
  local into=""
  [ "${1:-}" = --into ] && { into=$2; shift 2; }
  if [ ! -s "$1" ]; then
    echo "run.sh: $1 not found: ${3:-train that experiment first}" >&2
    exit 1
  fi
  local params=$1
  lego_init_arch=""
  if [[ $params == *.zip ]]; then  # ESPnet's --init_param reads a weights file, not an archive
    params=exp/init/$(tr / _ <<< "${1%.zip}").pth
    if [ ! "$params" -nt "$1" ] || [ ! "$params.arch" -nt "$1" ]; then
      mkdir -p exp/init
      python - "$1" "$params.tmp" "$params.arch.tmp" <<'PY' || exit 1
import json, sys, zipfile

import yaml

archive, out, arch_out = sys.argv[1:]
try:
    with zipfile.ZipFile(archive) as zipped:
        weights, card = zipped.read("module.pth"), yaml.safe_load(zipped.read("module.yaml"))
except (zipfile.BadZipFile, KeyError) as error:
    sys.exit(f"run.sh: {archive}: not a legonn module archive ({error})")
# One word (ESPnet's --encoder_conf takes a dict and replaces each key it names: a nested olc whole)
arch = json.dumps(card.get("encoder_conf") or {}, separators=(",", ":")) if card.get("role") == "encoder" else ""
if " " in arch:
    sys.exit(f"run.sh: {archive}: its encoder_conf has a value with a space, which --train_args cannot carry")
open(out, "wb").write(weights)
open(arch_out, "w").write(f" --encoder_conf {arch}" if arch else "")
PY
      mv "$params.tmp" "$params"
      mv "$params.arch.tmp" "$params.arch"
    fi
    lego_init_arch=$(cat "$params.arch")
  fi
  # ESPnet drops every key that starts with an exclude, so an empty EXCLUDES (keep all) names none.
  lego_init_param=(--init_param "$params::$into${2:+:$2}")
}

lego_carry() {
  local key=$1 set; shift
  for set in "$@"; do
    awk 'NR == FNR { keep[$1]; next } $1 in keep' "dump/$set/text" "data/$set/$key" > "dump/$set/$key.tmp"
    mv "dump/$set/$key.tmp" "dump/$set/$key"
  done
}
