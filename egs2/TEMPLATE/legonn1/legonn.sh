#!/usr/bin/env bash
# The LegoNN recipe pipeline shared by every corpus (MT and ASR).
# A corpus recipe provides local/data.sh, conf/*.yaml and a run.sh that sets the options below.
#
#  stage 1  data preparation   local/data.sh --data_root DIR            -> data/<set>/
#  stage 2  interfaces         vocabularies (bpe, phone, char, word)    -> data/interfaces/<name>/
#  stage 3  dump               MT: filtered text; ASR: fbank features   -> dump/<set>/
#  stage 4  collect stats      shapes and feature statistics            -> exp/<tag>/stats/
#                              (shared by experiments on the same data: exp/shared_stats/<key>/)
#  stage 5  train              ESPnet trainer (resumes; kept when done) -> exp/<tag>/
#  stage 6  decode             beam search in nj jobs (kept when done)  -> exp/<tag>/decode_<set>/
#                              (another search than the default: exp/<tag>/decode_<set>_<inference tag>/)
#  stage 7  score              BLEU or WER, also at every interface     -> .../score*/
#  stage 8  export modules     one archive per module                   -> exp/<tag>/modules/
#  stage 9  compose            build exp/<tag> from other models' modules (then run 6-7 on it)
#
# Usage: ./legonn.sh --stage N --stop_stage M [--option value ...]   (--help lists options)
# Jobs run through cmd.sh's train_cmd (stages 4-5) and decode_cmd (stages 3 and 6).
# Each stage prints its elapsed time when it ends; jobs log their progress (total, ETA) to their logs.
set -euo pipefail

stage=1                  # first stage to run (1-9)
stop_stage=9             # last stage to run (1-9)
task=mt                  # mt or asr
data_root=               # corpus location handed to local/data.sh
data_opts=               # extra options for local/data.sh
train_set=train          # data/<set> to train on
valid_set=valid          # data/<set> to validate on (and to draw --num_att_plot pictures of)
test_sets="test"         # data/<set> names to decode and score, space-separated
nj=4                     # parallel decoding / feature jobs
ngpu=0                   # GPUs for training and decoding (0: CPU)
use_amp=auto             # mixed precision in training (ESPnet's --use_amp; on CPU, bfloat16 autocast): true, false,
                         # or auto: true when training on a CPU with AVX-512 bfloat16 instructions (2x faster there)
train_cmd="utils/run_jobs.sh --backend local"    # runner of stages 4-5; cmd.sh sets it (Slurm there)
decode_cmd="utils/run_jobs.sh --backend local"   # runner of stages 3 and 6; cmd.sh sets it
cmd=                     # one runner for every stage, replacing train_cmd and decode_cmd
train_launcher=          # DDP: "torchrun --standalone --nproc_per_node 2 --no-python" (over gloo when --ngpu 0)
# Interfaces: "name=kind:size:text_files[,more]" built here, or "name=copy:DIR" from another recipe.
interfaces=              # space-separated "name=kind:size:files" (kind bpe/phone/char/word) or "name=copy:DIR"
input_interface=         # MT source vocabulary (interface name)
ctc_interfaces=          # interface names of the encoder modules' CTC outputs, in chain order
ctc_targets=text         # data key holding each interface's CTC target text
output_interface=        # decoder vocabulary (default: last ctc interface)
max_len=250              # dump filter: longest source/target text, in words
tag=                     # experiment name (default: train config name)
train_config=            # training config (conf/*.yaml), required from stage 4; names exp/<tag>
train_args=              # extra trainer options, e.g. "--seed 2 --max_epoch 20"
init_param=              # e.g. exp/compose_x/model.pth to fine-tune a composed model
inference_model=         # default: valid.acc.ave.pth, or valid.loss.ave.pth for encoder-only models
inference_args=          # e.g. "--beam_size 10 --batch_size 32"; default: the paper's search (MT beam 5 lp 0.6, ASR beam 20 lp 1.0)
default_inference_args=  # the recipe's default search (default: the paper's); it decodes into decode_<set>/,
                         # another search into decode_<set>_<inference tag>/, both kept
inference_tag=           # that tag (default: made from the search options, e.g. beam10_lp1.0)
metric=bleu              # bleu, wer or cer
fbank_opts=              # extra make_fbank options, e.g. "--resample" for 8 kHz audio
compose_modules=         # archives (encoder middle... decoder) for stage 9
finetune_config=         # stage 9 also writes exp/<tag>/finetune.yaml from this

log() { echo "[legonn.sh $(date '+%H:%M:%S')] $*"; }
fail() { echo "[legonn.sh] stage ${current_stage:-?} failed: $*" >&2
         echo "[legonn.sh] fix it and resume with: $0 --stage ${current_stage:-?} ..." >&2; exit 1; }
hms() { printf '%d:%02d:%02d' $(($1 / 3600)) $(($1 % 3600 / 60)) $(($1 % 60)); }
# $running: the stage that runs now, since $began ($SECONDS); unset between stages.
stage_ended() { if [ -n "${running:-}" ]; then log "stage $running: done in $(hms $((SECONDS - began)))"; running=; fi; }
run_stage() {
  stage_ended; current_stage=$1
  [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ] && { running=$1; began=$SECONDS; }
}

[ -f cmd.sh ] && . ./cmd.sh
. utils/parse_options.sh
if [ $# -gt 0 ]; then  # parse_options.sh stops at the first word that is not an option
  hint=""; [[ $1 =~ ^[0-9]+$ ]] && hint=" (for a stage: --stage $1 --stop_stage $1)"
  echo "legonn.sh: unexpected argument '$1'$hint; options are --name value, --help lists them" >&2
  exit 1
fi
[ -f path.sh ] && . ./path.sh
for v in stage stop_stage; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "legonn.sh: --$v must be a stage number (1-9), got '${!v}'" >&2; exit 1; }
done
[ "$stage" -le 9 ] || { echo "legonn.sh: --stage $stage: no such stage (stages are 1-9)" >&2; exit 1; }
[ "$stage" -le "$stop_stage" ] || { echo "legonn.sh: --stage $stage is after --stop_stage $stop_stage" >&2; exit 1; }
if [ -n "$cmd" ]; then train_cmd=$cmd; decode_cmd=$cmd; fi
# eval keeps quoted runner options (e.g. --slurm_opts '...') whole.
eval "train_runner=($train_cmd)"; eval "decode_runner=($decode_cmd)"
[ -n "$tag" ] || tag=$(basename "${train_config:-model}" .yaml)
exp=exp/$tag
ctc_interfaces_list=($ctc_interfaces); ctc_targets_list=($ctc_targets)
ctc_targets_list=("${ctc_targets_list[@]:0:${#ctc_interfaces_list[@]}}")
if [ -z "$output_interface" ] && [ -n "$ctc_interfaces" ]; then
  output_interface=${ctc_interfaces_list[${#ctc_interfaces_list[@]}-1]}
fi
iface() { echo "data/interfaces/$1/interface.yaml"; }
yaml_list() { local out=""; for x in "$@"; do out+="${out:+,}$x"; done; echo "[$out]"; }  # one word
if [ "$task" = mt ]; then input_file=src_text; input_name=src_text; input_type=text
else input_file=feats.scp; input_name=speech; input_type=kaldi_ark; fi

if run_stage 1; then
  log "stage 1: data preparation"
  local/data.sh ${data_root:+--data_root "$data_root"} $data_opts || fail "local/data.sh"
  for set in $train_set $valid_set $test_sets; do
    python -m legonn.recipe.data_dir validate "data/$set" || fail "data/$set is not a valid data dir"
  done
fi

if run_stage 2; then
  log "stage 2: interfaces"
  for spec in $interfaces; do
    name=${spec%%=*}; IFS=: read -r kind size files <<< "${spec#*=}"
    out=data/interfaces/$name
    if [ -f "$out/interface.yaml" ]; then log "  $name exists, kept"; continue; fi
    if [ "$kind" = copy ]; then
      [ -f "$size/interface.yaml" ] || fail "interface $name: $size/interface.yaml not found (run that recipe's stage 2 first)"
      mkdir -p "$out"; cp "$size"/* "$out"/
    else
      python -m legonn.bin.make_interface --kind "$kind" --name "$name" --vocab_size "$size" \
        --text ${files//,/ } --out_dir "$out" || fail "interface $name"
    fi
  done
fi

if run_stage 3; then
  log "stage 3: dump ($task)"
  for set in $train_set $valid_set $test_sets; do
    out=dump/$set
    [ -f "$out/.done" ] && continue
    mkdir -p "$out"
    if [ "$task" = mt ]; then
      python -m legonn.recipe.data_dir filter "data/$set" "$out" --max_tokens "$max_len" || fail "dump $set"
    else
      mkdir -p "$out/log"
      python -m legonn.recipe.data_dir split "data/$set/wav.scp" "$nj" "$out/log"
      OMP_NUM_THREADS=1 "${decode_runner[@]}" JOB=1:"$nj" "$out/log/fbank.JOB.log" python -m legonn.bin.make_fbank $fbank_opts \
        --data_dir "data/$set" --key_file "$out/log/keys.JOB" --out_dir "$out/fbank/JOB" || fail "fbank $set"
      # Utterances whose audio was skipped drop out here: filter keeps ids present in every file.
      mkdir -p "$out/all"; cp data/"$set"/* "$out/all/"
      for n in $(seq "$nj"); do cat "$out/fbank/$n/feats.scp"; done > "$out/all/feats.scp"
      python -m legonn.recipe.data_dir filter "$out/all" "$out" --max_tokens "$max_len" || fail "dump $set"
      for n in $(seq "$nj"); do cat "$out/fbank/$n/skipped"; done > "$out/skipped_audio"
    fi
    touch "$out/.done"
  done
fi

data_args() {  # data_args <train|valid> <set>
  local args="--${1}_data_path_and_name_and_type dump/$2/$input_file,$input_name,$input_type"
  args+=" --${1}_data_path_and_name_and_type dump/$2/text,text,text"
  for key in $(printf '%s\n' "${ctc_targets_list[@]}" | sort -u); do
    [ "$key" = text ] || args+=" --${1}_data_path_and_name_and_type dump/$2/$key,$key,text"
  done
  echo "$args"
}
model_args() {
  # A composed model's config already names its interfaces (with checksums); keep those.
  if grep -q '^interfaces:' "$train_config" 2>/dev/null; then return; fi
  local ifaces=(); for n in "${ctc_interfaces_list[@]}"; do ifaces+=("$(iface "$n")"); done
  local args="--interfaces $(yaml_list "${ifaces[@]}") --ctc_targets $(yaml_list "${ctc_targets_list[@]}")"
  [ -n "$output_interface" ] && args+=" --output_interface $(iface "$output_interface")"
  [ -n "$input_interface" ] && args+=" --input_interface $(iface "$input_interface")"
  echo "$args"
}
train_py=legonn.bin.${task}_train

# Statistics (lengths; ASR: feature mean and variance) depend on the data and its interfaces, not
# on the model, so the experiments on the same data share one computation: this key names it.
stats_key() {
  local margs; margs=$(model_args)
  { echo "$task $margs $(data_args train "$train_set") $(data_args valid "$valid_set")"
    [ -n "$margs" ] || cat "$train_config"   # a composed model's interfaces are in its config
    for n in $ctc_interfaces $output_interface $input_interface; do cat "$(iface "$n")"; done
    stat -c '%n %s %Y' "dump/$train_set"/* "dump/$valid_set"/*; true
  } 2>/dev/null | md5sum | cut -c1-16   # what is missing fails in collect stats, with its message
}

if run_stage 4; then
  log "stage 4: collect stats -> $exp/stats"
  [ -n "$train_config" ] || fail "--train_config is required"
  mkdir -p "$exp"
  if [ ! -f "$exp/stats/.done" ]; then
    shared=exp/shared_stats/$(stats_key); rm -rf "$exp/stats" "$exp/stats.tmp"
    if [ -f "$shared/.done" ]; then
      log "  the same data's statistics exist: copied from $shared"
      cp -r "$shared" "$exp/stats.tmp" && mv "$exp/stats.tmp" "$exp/stats"
    else
      "${train_runner[@]}" "$exp/stats.log" python -m "$train_py" --collect_stats true --config "$train_config" \
        $(model_args) $(data_args train "$train_set") $(data_args valid "$valid_set") \
        --train_shape_file "dump/$train_set/text" --valid_shape_file "dump/$valid_set/text" \
        --output_dir "$exp/stats" --ngpu 0 || fail "collect stats (see $exp/stats.log)"
      touch "$exp/stats/.done"
      mkdir -p exp/shared_stats; tmp=$(mktemp -d "$shared.XXXX")   # published whole or not at all
      cp -r "$exp/stats/." "$tmp/" && { mv -T "$tmp" "$shared" 2>/dev/null || rm -rf "$tmp"; }
    fi
  fi
fi

if run_stage 5; then
  log "stage 5: train -> $exp (log: $exp/train.log)"
  stats=$exp/stats
  extra=""
  [ "$task" = asr ] && extra+=" --normalize_stats $stats/train/feats_stats.npz"
  # A training belongs to the parameters it started from: when they change (a module trained
  # further, a composition rebuilt), or an earlier run started from none or from some and this
  # one from none, the old run moves aside and training starts again.
  init_file="" init_sum=random   # $exp/.init: the checksum of the --init_param file of the run
  if [ -n "$init_param" ]; then
    extra+=" --init_param $init_param"
    init_file=${init_param%%:*}
    init_sum=$(md5sum < "$init_file" | cut -d' ' -f1) || fail "--init_param: cannot read $init_file"
  fi
  started_from=$init_sum   # nothing trained yet
  if [ -f "$exp/.init" ]; then started_from=$(cat "$exp/.init")
  elif compgen -G "$exp/train.log*" > /dev/null; then   # a run from before $exp/.init was kept: its logged commands
    if [ -n "$init_file" ]; then
      grep -qF -- "--init_param $init_file" "$exp"/train.log* || started_from=other
    elif grep -qF -- "--init_param " "$exp"/train.log*; then
      started_from=other
    fi
  fi
  # (moved aside: all but the statistics, into $exp/stale_<time>)
  move_aside() {
    local stale; stale=$exp/stale_$(date +%Y%m%d_%H%M%S)
    mkdir "$stale"
    find "$exp" -mindepth 1 -maxdepth 1 ! -name stats ! -name 'stale_*' -exec mv -t "$stale" {} +
    log "stage 5: $1: that run is kept in $stale; training again"
  }
  if [ "$started_from" != "$init_sum" ]; then
    move_aside "$exp started from other parameters than ${init_file:-random weights}${init_file:+ holds now}"
  fi
  # A finished training is kept while its settings stay the same (the precision is not one: it
  # changes how the model is computed, not which); changed ones (e.g. a higher --max_epoch) resume
  # from the checkpoint, unless the model they build is another one (its config's architecture
  # changed): ESPnet would load the old weights wherever the shapes agree.
  settings=$(cat "$train_config"; echo "$(model_args) $train_set $valid_set $extra $train_args")
  settings=$(echo "$settings" | md5sum | cut -d' ' -f1)
  if [ -f "$exp/.trained" ] && [ "$(cat "$exp/.trained")" = "$settings" ]; then
    log "stage 5: $exp is trained with these settings, kept"
  else
    rm -f "$exp/.trained"
    if [ -f "$exp/checkpoint.pth" ] && [ -f "$exp/config.yaml" ]; then
      # shellcheck disable=SC2046,SC2086  # options, split into words as the trainer gets them
      changed=$(python -m legonn.bin.architecture --task "$task" --previous "$exp/config.yaml" \
        --config "$train_config" $(model_args) $extra $train_args) || fail "comparing $exp/config.yaml with $train_config"
      [ -z "$changed" ] || move_aside "$exp holds a model of another architecture (${changed//$'\n'/; })"
    fi
    if [ -n "$init_file" ]; then echo "$init_sum" > "$exp/.init"; fi
    if [ "$use_amp" = auto ]; then
      use_amp=false
      if [ "$ngpu" -eq 0 ] && python -c "from legonn.utils import cpu_has_bfloat16; exit(not cpu_has_bfloat16())"; then
        use_amp=true
      fi
    fi
    "${train_runner[@]}" "$exp/train.log" $train_launcher python -m "$train_py" --config "$train_config" \
      $(model_args) $(data_args train "$train_set") $(data_args valid "$valid_set") \
      --train_shape_file "$stats/train/${input_name}_shape" --train_shape_file "$stats/train/text_shape" \
      --valid_shape_file "$stats/valid/${input_name}_shape" --valid_shape_file "$stats/valid/text_shape" \
      --resume true --output_dir "$exp" --ngpu "$ngpu" --use_amp "$use_amp" $extra $train_args \
      || fail "training (see $exp/train.log)"
    echo "$settings" > "$exp/.trained"
  fi
fi

trained_model() {  # the checkpoint stages 6 and 8 use
  if [ -n "$inference_model" ]; then echo "$exp/$inference_model"
  elif [ -f "$exp/model.pth" ]; then echo "$exp/model.pth"                 # composed
  elif [ -f "$exp/valid.acc.ave.pth" ]; then echo "$exp/valid.acc.ave.pth"
  else echo "$exp/valid.loss.ave.pth"; fi                                  # no decoder, no accuracy
}

# A search other than the recipe's default decodes beside it: decode_<set>_<inference tag>/ (the
# default's own options, spelled the same, need no tag).
if [ "$stage" -le 7 ] && [ "$stop_stage" -ge 6 ] && [ -z "$inference_tag" ] && \
   [ "$inference_args" != "$default_inference_args" ]; then
  current_stage=6
  inference_tag=$(python -m legonn.bin.inference --task "$task" --print_inference_tag true \
    --default_search "$default_inference_args" $inference_args) || fail "--inference_args '$inference_args'"
fi
decode_dir() { echo "$exp/decode_$1${inference_tag:+_$inference_tag}"; }

if run_stage 6; then
  decode_device=cpu; [ "$ngpu" -gt 0 ] && decode_device=cuda  # the nj jobs share the GPU
  model_file=$(trained_model)
  [ -f "$model_file" ] || fail "$model_file not found"
  for set in $test_sets; do
    dir=$(decode_dir "$set")
    # Finished decodings are kept until the model or the search options change.
    done_as="$model_file $inference_args"
    if [ -f "$dir/.done" ] && [ "$dir/.done" -nt "$model_file" ] && [ "$(cat "$dir/.done")" = "$done_as" ]; then
      log "stage 6: $dir is up to date, kept"; continue
    fi
    log "stage 6: decode $set -> $dir"
    # Splits an interrupted decoding finished are kept: legonn.bin.inference skips a split whose
    # hypotheses come from this model file and these search options.
    rm -f "$dir/.done"; mkdir -p "$dir/log"
    python -m legonn.recipe.data_dir split "dump/$set/$input_file" "$nj" "$dir/log"
    OMP_NUM_THREADS=1 "${decode_runner[@]}" JOB=1:"$nj" "$dir/log/decode.JOB.log" python -m legonn.bin.inference --task "$task" \
      --train_config "$exp/config.yaml" --model_file "$model_file" --key_file "$dir/log/keys.JOB" \
      --data_path_and_name_and_type "dump/$set/$input_file,$input_name,$input_type" \
      --output_dir "$dir/split/JOB" --device "$decode_device" $inference_args || fail "decoding $set (logs: $dir/log)"
    for f in $(cd "$dir/split/1" && find . -name text -o -name token -o -name score -o -name nbest | sort); do
      mkdir -p "$dir/$(dirname "$f")"; cat "$dir"/split/*/"$f" | sort > "$dir/$f"
    done
    [ -f "$dir/split/1/search.yaml" ] && cp "$dir/split/1/search.yaml" "$dir/search.yaml"  # for RESULTS tables
    echo "$done_as" > "$dir/.done"
  done
fi

if run_stage 7; then
  for set in $test_sets; do
    dir=$(decode_dir "$set"); log "stage 7: score $set${inference_tag:+ ($inference_tag)}"
    python -m legonn.bin.score --metric "$metric" --ref "dump/$set/text" --hyp "$dir/text" \
      --out_dir "$dir/score_$metric" || fail "scoring $dir"
    for i in "${!ctc_targets_list[@]}"; do
      [ -f "$dir/interface$i/text" ] || continue
      key=${ctc_targets_list[$i]}; m=$metric; [[ $key == text* ]] || m=wer
      # A variant of the text as CTC target (text_kd: distilled) exists for the training sets;
      # a test set's interface is scored against its reference.
      [[ $key == text_* && ! -f dump/$set/$key ]] && key=text
      python -m legonn.bin.score --metric "$m" --ref "dump/$set/$key" --hyp "$dir/interface$i/text" \
        --out_dir "$dir/score_interface$i" || fail "scoring interface $i of $dir"
    done
  done
fi

if run_stage 8; then
  log "stage 8: export modules -> $exp/modules"
  python -m legonn.bin.export_modules --train_config "$exp/config.yaml" \
    --model_file "$(trained_model)" --out_dir "$exp/modules" || fail "export"
fi

if run_stage 9; then
  log "stage 9: compose $compose_modules -> $exp"
  [ -n "$compose_modules" ] || fail "--compose_modules is required"
  python -m legonn.bin.compose --modules $compose_modules --out_dir "$exp" \
    ${finetune_config:+--finetune_config "$finetune_config"} || fail "compose"
fi
stage_ended
log "done: stages $stage-$stop_stage of $exp in $(hms $SECONDS)"
