#!/usr/bin/env bash
# Europarl-ST English ASR: transfer scenarios 3 and 4 of Fig. 3 (paper V-C/D, Tables IV-VI,
# App. A-B). Encoders are trained here; decoders come from ../../wmt19_de_en/mt1 and the
# pronunciation module from ../../tedlium/asr1.
#
#  stage 1  data (local/data.sh, db.sh: EUROPARL_ST), interfaces (en_ep2000: 2000-unit BPE of
#           the Europarl train text; phones: g2p_en), fbank dump
#  stage 2  baseline enc-dec and the encoder-only LegoNN module (CTC over en_ep2000)
#  stage 3  Europarl encoder + De-En WEmb / BeamConv decoder (wmt19 stage 3), no fine-tuning
#           (Table IV)
#  stage 4  (needs tedlium stages 1-2 and wmt19 stage 4) the Europarl phone recognizer of a
#           two-module phone + pronunciation model (CTC over phones and en_epted2000), and
#           Table V: TED phone recognizer + TED pronunciation model; Europarl phone recognizer
#           + TED pronunciation model; the same + De-En decoder (three modules, three datasets)
#  stage 5  fine-tuning of the composed models of Tables IV and V end-to-end (Table VI)
# Order across recipes: this stage 1 -> tedlium 1-2 -> wmt19_de_en 1-4 -> this 2-5.
set -euo pipefail
stage=1
stop_stage=5
ngpu=8                   # GPUs per node, one process each (ESPnet's multiprocessing_distributed)
train_launcher=          # or e.g. "torchrun --no-python --standalone --nproc_per_node 8" (--ngpu 1)
nj=16
de_en=../../wmt19_de_en/mt1
tedlium=../../tedlium/asr1
. utils/parse_options.sh

common=(--task asr --metric wer --ngpu "$ngpu" --nj "$nj" --train_set train --valid_set valid
        --test_sets test --inference_args "--beam_size 20 --penalty 1.0" --inference_model latest.pth
        --ctc_interfaces en_ep2000 --ctc_targets text --output_interface en_ep2000)
[ -n "$train_launcher" ] && common+=(--train_launcher "$train_launcher")
dist=""; [ "$ngpu" -gt 1 ] && dist="--multiprocessing_distributed true"
two=(--ctc_interfaces "phones en_epted2000" --ctc_targets "phones text" --output_interface en_epted2000)
ted=$tedlium/exp/ted_phone_ctc/modules

# lego <tag> <config> <stages> [legonn.sh options]: one experiment
lego() {
  local tag=$1 config=$2 stages=$3; shift 3
  ./legonn.sh "${common[@]}" --tag "$tag" --train_config "conf/$config.yaml" --train_args "$dist --seed 1" \
    --stage "${stages%-*}" --stop_stage "${stages#*-}" "$@"
}
# compose <tag> <archives...> [-- legonn.sh options]: modules composed, decoded, scored
compose() {
  local tag=$1 modules=(); shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do modules+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  ./legonn.sh "${common[@]}" "$@" --tag "$tag" --compose_modules "${modules[*]}" \
    --finetune_config conf/finetune.yaml --stage 9 --stop_stage 9
  ./legonn.sh "${common[@]}" "$@" --tag "$tag" --stage 6 --stop_stage 7
}
# finetune <composed tag> [legonn.sh options]: Table VI
finetune() {
  local name=$1; shift
  ./legonn.sh "${common[@]}" "$@" --tag "finetune_$name" --train_config "exp/$name/finetune.yaml" \
    --init_param "exp/$name/model.pth" --train_args "$dist" --inference_model valid.loss.best.pth \
    --stage 4 --stop_stage 7
}
# The dump keeps only the standard data files: carry the phone targets over (same ids).
carry_phones() {
  for set in train valid test; do
    awk 'NR == FNR { keep[$1]; next } $1 in keep' "dump/$set/text" "data/$set/phones" > "dump/$set/phones"
  done
}

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  ./legonn.sh "${common[@]}" --stage 1 --stop_stage 3 \
    --interfaces "en_ep2000=bpe:2000:data/train/text phones=phone:0:data/local/phone_inventory"
  carry_phones
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  lego ep_encdec train_encdec 4-7 --ctc_interfaces "" --ctc_targets ""
  lego ep_ctc train_ctc 4-8
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  for ingestor in wemb beamconv; do
    compose "ep_ctc+deen_$ingestor" exp/ep_ctc/modules/encoder0.zip \
      "$de_en/exp/deen_ep2000_legonn_$ingestor/modules/decoder.zip"
  done
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  ./legonn.sh --interfaces "en_epted2000=copy:$tedlium/data/interfaces/en_epted2000" --stage 2 --stop_stage 2
  lego ep_phone_ctc train_phone_ctc 4-8 "${two[@]}"
  compose ted_phone+ted_pron "$ted/encoder0.zip" "$ted/middle1.zip" -- "${two[@]}"
  compose ep_phone+ted_pron exp/ep_phone_ctc/modules/encoder0.zip "$ted/middle1.zip" -- "${two[@]}"
  compose ep_phone+ted_pron+deen_wemb exp/ep_phone_ctc/modules/encoder0.zip "$ted/middle1.zip" \
    "$de_en/exp/deen_epted2000_legonn_wemb/modules/decoder.zip" -- "${two[@]}"
fi

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  finetune ep_ctc+deen_wemb
  finetune ep_phone+ted_pron+deen_wemb "${two[@]}"
fi
