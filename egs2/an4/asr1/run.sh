#!/usr/bin/env bash
# CMU AN4 English ASR (real speech, 0.7 h of training audio): the paper's ASR models
# (section IV-A) at a size that trains on 2 CPUs, with a character interface and a phone
# interface (g2p_en phones, App. A-B).
#
#  stage 1  data (held-out speakers for valid), speed perturbation of train (data/train_sp),
#           interfaces (char, phone, from the unperturbed transcripts), fbank dump
#  stage 2  enc-dec baseline, LegoNN WEmb and BeamConv, encoder-only CTC over characters,
#           encoder-only phone recognizer, and a sanity baseline outside the paper (the enc-dec
#           with joint CTC, as ESPnet trains its AN4 reference); each decoded and scored (WER,
#           and WER/PER of every module interface: the encoder-only output), modules exported
#  stage 3  write RESULTS.md from the score files
set -euo pipefail
stage=1
stop_stage=3
data_root=../../../../shared/data/an4   # CMU AN4 (etc/, wav/); see local/data.sh
mini=false               # true: 100 training utterances, 2 epochs, narrow models, in mini/ (CI)
nj=2
ngpu=0                   # GPUs for training and decoding (0: CPU)
extra_train_args=        # added to every training, e.g. "--use_amp true" (mixed precision on a GPU) or "--use_amp false" (float32 on a CPU with bfloat16)
speed_perturb="0.9 1.0 1.1"   # speed factors of the training data (ESPnet's AN4 recipe); "": none
text_unit=char           # the text interface: char, or bpe (then --bpe_size)
bpe_size=100
epochs=                  # override max_epoch of every config (default: the configs')
beam_size=10             # paper: 20 (CPU decoding here: 10)
test_sets=test           # sets to decode and score (valid: to tune the search on)
penalty=1.0              # length penalty of the search: score / length**penalty (paper: 1.0)
ctc_weight=0.3           # joint CTC/attention search where the last interface is the output vocabulary
                         # (ESPnet's hybrid decoding, as its AN4 reference; beyond the paper): 0: decoder alone
phone_init="legonn_wemb legonn_beamconv"   # models whose encoders start from the phone recognizer's (beyond
                         # the paper; phone_ctc is trained first), of encdec encdec_ctc legonn_wemb legonn_beamconv;
                         # the others start from random weights. Chosen on valid (README); "": none
models=                  # stage 2 experiments (default: phone_ctc encdec legonn_wemb legonn_beamconv ctc encdec_ctc;
                         # with --mini true: phone_ctc legonn_wemb)
declare default_beam_size=$beam_size default_penalty=$penalty default_ctc_weight=$ctc_weight   # (declare: not options) the search of decode_<set>/
. utils/parse_options.sh
. ./path.sh              # the legonn environment (local/*.py run here too)

data_root=$(readlink -f "$data_root" || echo "$data_root")
if [ "$mini" = true ]; then . utils/enter_mini.sh; fi
[ "$mini" = true ] && speed_perturb=""   # the CI smoke profile trains on 100 plain utterances
train_set=train; [ -n "$speed_perturb" ] && train_set=train_sp
data_opts=""
train_args=""
decoder_search="--beam_size $beam_size --penalty $penalty"
# The recipe's default search decodes into exp/<tag>/decode_<set>/ (RESULTS.md); another --beam_size
# (or --penalty, --ctc_weight) into exp/<tag>/decode_<set>_beam<N>_lp<P>[_ctc<W>]/ beside it.
default_decoder_search="--beam_size $default_beam_size --penalty $default_penalty"
if [ "$mini" = true ]; then  # same architectures, narrower and shallower: the recipe runs in minutes
  data_opts="--mini 100"; epochs=${epochs:-2}
  decoder_search="--beam_size 2 --penalty 1.0"; default_decoder_search=$decoder_search; default_ctc_weight=$ctc_weight
  # attention plots (tested in test/test_images.py) would be a third of a mini training's time
  train_args="--num_att_plot 0 --batch_bins 400000 --encoder_conf conv_channels=[8,16] --encoder_conf layers=1"
  train_args+=" --ingestor_conf layers=1 --decoder_conf layers=1"
  train_args+=" --ingestor_conf ffn_dim=64 --ingestor_conf heads=2"   # ingestor dim = decoder dim
  for part in encoder_conf decoder_conf; do
    train_args+=" --$part dim=32 --$part ffn_dim=64 --$part heads=2"
  done
fi
inference_args="$decoder_search --ctc_weight $ctc_weight"
default_inference_args="$default_decoder_search --ctc_weight $default_ctc_weight"
[ -n "$epochs" ] && train_args+=" --max_epoch $epochs"
[ -n "$extra_train_args" ] && train_args+=" $extra_train_args"
if [ -z "$models" ]; then
  models="phone_ctc encdec legonn_wemb legonn_beamconv ctc encdec_ctc"
  [ "$mini" = true ] && models="phone_ctc legonn_wemb"   # a LegoNN model and an encoder-only one
fi
common=(--task asr --metric wer --nj "$nj" --ngpu "$ngpu" --train_set "$train_set" --valid_set valid --test_sets "$test_sets"
        --ctc_interfaces "$text_unit" --ctc_targets text --output_interface "$text_unit"
        --inference_args "$inference_args"
        --default_inference_args "$default_inference_args")
. utils/experiments.sh   # lego_train (egs2/TEMPLATE/legonn1/README.md)
lego_common=("${common[@]}") lego_train_args=$train_args
# Every model: seed 1, absolute feature statistics (module export copies them from elsewhere).
one=(--seed 1 --abs_stats)
# Models with no CTC over the output vocabulary search without it (encoder-only ones: greedy CTC).
no_joint=(--inference_args "$decoder_search" --default_inference_args "$default_decoder_search")

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  ./legonn.sh "${common[@]}" --train_set train --stage 1 --stop_stage 1 --data_root "$data_root" --data_opts "$data_opts"
  if [ -n "$speed_perturb" ]; then  # data/train_sp: every training utterance at each speed
    python -m legonn.recipe.speed_perturb data/train data/train_sp --factors $speed_perturb
    python -m legonn.recipe.data_dir validate data/train_sp
  fi
  size=0; [ "$text_unit" = bpe ] && size=$bpe_size
  ./legonn.sh "${common[@]}" --stage 2 --stop_stage 2 \
    --interfaces "$text_unit=$text_unit:$size:data/train/text phone=phone:0:data/train/phones"
  ./legonn.sh "${common[@]}" --stage 3 --stop_stage 3
fi

# For the models in --phone_init, the encoder starts from the phone recognizer's (conf/train_ctc.yaml:
# 6 layers), all but its OLC and phone CTC head, and all but its layers 5 and 6 for the LegoNN
# models' 4-layer encoders: lego_init_param=(--init_param ...), empty otherwise.
for model in $phone_init; do
  case $model in
    encdec|encdec_ctc|legonn_wemb|legonn_beamconv) ;;
    *) echo "run.sh: --phone_init: '$model' has no acoustic encoder to start from the phone recognizer's" \
            "(encdec, encdec_ctc, legonn_wemb, legonn_beamconv)" >&2; exit 1 ;;
  esac
done
use_phone_recognizer() {
  lego_init_param=()
  [[ " $phone_init " == *" $1 "* ]] || return 0
  local skip=encoders.0.olc,encoders.0.ctc_head
  [[ $1 == legonn_* ]] && skip+=,encoders.0.blocks.blocks.4,encoders.0.blocks.blocks.5
  lego_init exp/phone_ctc/valid.loss.ave.pth "$skip" \
    "train the phone recognizer first (--models phone_ctc), or --phone_init \"\""
}

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  for model in $models; do
    case $model in
      encdec) use_phone_recognizer encdec
              lego_train "${one[@]}" encdec train_encdec 4-8 --ctc_interfaces "" --ctc_targets "" "${no_joint[@]}" \
                "${lego_init_param[@]}" ;;
      ctc) lego_train "${one[@]}" ctc train_ctc 4-8 --inference_model valid.loss.ave.pth "${no_joint[@]}" ;;
      phone_ctc) lego_train "${one[@]}" phone_ctc train_ctc 4-8 --inference_model valid.loss.ave.pth "${no_joint[@]}" \
                   --ctc_interfaces phone --ctc_targets phones --output_interface phone ;;
      *) use_phone_recognizer "$model"
         lego_train "${one[@]}" "$model" "train_$model" 4-8 "${lego_init_param[@]}" ;;
    esac
  done
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  python local/results.py --exp exp > RESULTS.md.tmp && mv RESULTS.md.tmp RESULTS.md
  cat RESULTS.md
fi
