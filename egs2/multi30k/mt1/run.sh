#!/usr/bin/env bash
# Multi30k {de,fr,cs} -> en with one English BPE interface shared by every model: the paper's
# MT claims (sections V-A..D) at Multi30k scale.
#
#  stage 1  data, interfaces, dump for each language pair
#  stage 2  De-En: LegoNN WEmb, encoder-only CTC, LegoNN BeamConv, WEmb seed 2, enc-dec baseline
#           (each trained, decoded, scored and exported as modules)
#  stage 3  Fr-En and Cs-En on low-resource slices: encoder-only modules and enc-dec baselines
#  stage 4  module transfer: Fr/Cs encoder modules + the De-En decoders, no fine-tuning (Table III)
#  stage 5  modularity tests (Fig. 4, Table X): seed swap, architecture swap, decoder plug, and the
#           models only those need (enc-dec seed 2, WEmb without CTC grounding x 2 seeds)
#  stage 6  fine-tune the composed Fr-En and Cs-En models end-to-end (Table VI)
#  stage 7  write RESULTS.md from the score files
set -euo pipefail
stage=1
stop_stage=7
data_root=../../../../shared/data/multi30k   # raw Multi30k (train.en.gz, ...)
mini=false               # true: a few hundred sentences and 2 epochs (CI, ./run_all.sh)
nj=2
bpe_size=1000            # English interface and each source vocabulary
train_size=5000          # De-En training sentences (Multi30k has 29000; 2 CPUs set the size)
low_size=1000            # Fr-En / Cs-En low-resource slices, disjoint from those
eval_size=500            # valid and test sentences (Multi30k has 1014 / 1000)
epochs=                  # override max_epoch of every De-En config (default: the configs')
low_epochs=20            # epochs on the Fr/Cs slices and fine-tuning there: a fifth of the
                         # De-En data needs more passes for a comparable number of updates
. utils/parse_options.sh
. ./path.sh              # the legonn environment (local/results.py runs here too)

data_root=$(readlink -f "$data_root" || echo "$data_root")
if [ "$mini" = true ]; then . utils/enter_mini.sh; fi
data_opts="--max_train $train_size --low_size $low_size --max_eval $eval_size"
train_args=""
if [ "$mini" = true ]; then  # same architectures, narrower, so the whole recipe runs in minutes
  data_opts="--max_train 300 --low_size 100 --max_eval 60"; bpe_size=300; epochs=${epochs:-2}
  train_args="--batch_bins 3000 --ingestor_conf ffn_dim=128 --ingestor_conf heads=2"
  for part in encoder_conf decoder_conf; do
    train_args+=" --$part dim=64 --$part ffn_dim=128 --$part heads=2"
  done
fi
[ -n "$epochs" ] && train_args+=" --max_epoch $epochs"
[ "$mini" = true ] && low_epochs=$epochs
low="--max_epoch $low_epochs"
common=(--nj "$nj" --test_sets "test_@" --valid_set "valid_@" --metric bleu
        --input_interface "@" --ctc_interfaces en --output_interface en)

# lego <src> <train_set> <tag> <config> <stages> "<training options>" [legonn.sh options]: one experiment
lego() {
  local src=$1 train=$2 tag=$3 config=$4 stages=$5 options=$6; shift 6
  ./legonn.sh "${common[@]//@/$src}" --train_set "$train" --tag "$tag" \
    --train_config "conf/$config.yaml" --train_args "$train_args $options" \
    --stage "${stages%-*}" --stop_stage "${stages#*-}" "$@"
}
# compose <tag> <src> <archives...>: a model built from modules, decoded and scored, no training
compose() {
  local tag=$1 src=$2; shift 2
  ./legonn.sh "${common[@]//@/$src}" --tag "$tag" --compose_modules "$*" --stage 9 --stop_stage 9
  ./legonn.sh "${common[@]//@/$src}" --tag "$tag" --stage 6 --stop_stage 7
}
no_interface=(--ctc_interfaces "" --ctc_targets "")
m=modules

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  ./legonn.sh --stage 1 --stop_stage 1 --data_root "$data_root" --data_opts "$data_opts" \
    --train_set train_de --valid_set valid_de --test_sets "test_de test_fr test_cs"
  ifaces="en=bpe:$bpe_size:data/train_de/text"
  for src in de fr cs; do ifaces+=" $src=bpe:$bpe_size:data/train_$src/src_text"; done
  ./legonn.sh --stage 2 --stop_stage 2 --interfaces "$ifaces"
  for src in de fr cs; do  # the low-resource slice is dumped like a test set
    ./legonn.sh --stage 3 --stop_stage 3 --train_set "train_$src" --valid_set "valid_$src" \
      --test_sets "test_$src train_${src}_low"
  done
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  lego de train_de de_legonn_wemb train_legonn_wemb 4-8 "--seed 1"
  lego de train_de de_ctc train_ctc 4-8 "--seed 1"
  lego de train_de de_legonn_beamconv train_legonn_beamconv 4-8 "--seed 1"
  lego de train_de de_legonn_wemb_seed2 train_legonn_wemb 4-8 "--seed 2"
  lego de train_de de_encdec train_encdec 4-8 "--seed 1" "${no_interface[@]}"
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  for src in fr cs; do
    lego "$src" "train_${src}_low" "${src}_low_ctc" train_ctc 4-8 "--seed 1 $low"
    lego "$src" "train_${src}_low" "${src}_low_encdec" train_encdec 4-7 "--seed 1 $low" "${no_interface[@]}"
  done
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  for src in fr cs; do
    for dec in legonn_wemb legonn_beamconv; do
      compose "transfer_${src}_low_ctc+de_$dec" "$src" \
        "exp/${src}_low_ctc/$m/encoder0.zip" "exp/de_$dec/$m/decoder.zip"
    done
  done
fi

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  swap() { compose "swap_$1+$2" de "exp/$1/$m/encoder0.zip" "exp/$2/$m/decoder.zip"; }
  swap de_legonn_wemb de_legonn_wemb_seed2                    # seed swap
  swap de_legonn_wemb_seed2 de_legonn_wemb
  swap de_legonn_wemb de_legonn_beamconv                      # architecture swap
  swap de_legonn_beamconv de_legonn_wemb
  swap de_ctc de_legonn_wemb                                  # decoder plug
  swap de_ctc de_legonn_beamconv
  lego de train_de de_encdec_seed2 train_encdec 4-8 "--seed 2" "${no_interface[@]}"
  swap de_encdec de_encdec_seed2                              # seed swap, no interface
  swap de_encdec_seed2 de_encdec
  lego de train_de de_legonn_nogrounding train_legonn_nogrounding 4-8 "--seed 1"
  lego de train_de de_legonn_nogrounding_seed2 train_legonn_nogrounding 4-8 "--seed 2"
  swap de_legonn_nogrounding de_legonn_nogrounding_seed2      # Table X: no CTC grounding
fi

if [ "$stage" -le 6 ] && [ "$stop_stage" -ge 6 ]; then
  for src in fr cs; do
    composed=exp/transfer_${src}_low_ctc+de_legonn_wemb
    ./legonn.sh "${common[@]//@/$src}" --tag "$(basename $composed)" --stage 9 --stop_stage 9 \
      --compose_modules "exp/${src}_low_ctc/$m/encoder0.zip exp/de_legonn_wemb/$m/decoder.zip" \
      --finetune_config conf/finetune.yaml
    ./legonn.sh "${common[@]//@/$src}" --train_set "train_${src}_low" --tag "finetune_$(basename $composed)" \
      --train_config "$composed/finetune.yaml" --init_param "$composed/model.pth" \
      --train_args "$train_args $low" --stage 4 --stop_stage 7
  done
fi

if [ "$stage" -le 7 ] && [ "$stop_stage" -ge 7 ]; then
  python local/results.py --exp exp > RESULTS.md.tmp && mv RESULTS.md.tmp RESULTS.md   # mini/RESULTS.md for --mini
  cat RESULTS.md
fi
