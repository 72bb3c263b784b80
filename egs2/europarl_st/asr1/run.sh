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
extra_train_args=        # added to every training, e.g. "--use_amp true" (mixed precision on a GPU) or "--use_amp false" (float32 on a CPU with bfloat16)
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
. utils/experiments.sh   # lego_train, lego_compose, lego_finetune, lego_carry (../../TEMPLATE/legonn1/README.md)
lego_common=("${common[@]}") lego_train_args="$dist${extra_train_args:+ $extra_train_args}"
ft=(--finetune_config conf/finetune.yaml)   # every composition can be fine-tuned (stage 5)

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  ./legonn.sh "${common[@]}" --stage 1 --stop_stage 3 \
    --interfaces "en_ep2000=bpe:2000:data/train/text phones=phone:0:data/local/phone_inventory"
  lego_carry phones train valid test   # the phone targets (the dump keeps only standard files)
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  lego_train --seed 1 ep_encdec train_encdec 4-7 --ctc_interfaces "" --ctc_targets ""
  lego_train --seed 1 ep_ctc train_ctc 4-8
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  for ingestor in wemb beamconv; do
    lego_compose "${ft[@]}" "ep_ctc+deen_$ingestor" exp/ep_ctc/modules/encoder0.zip \
      "$de_en/exp/deen_ep2000_legonn_$ingestor/modules/decoder.zip"
  done
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  ./legonn.sh --interfaces "en_epted2000=copy:$tedlium/data/interfaces/en_epted2000" --stage 2 --stop_stage 2
  lego_train --seed 1 ep_phone_ctc train_phone_ctc 4-8 "${two[@]}"
  lego_compose "${ft[@]}" ted_phone+ted_pron "$ted/encoder0.zip" "$ted/middle1.zip" -- "${two[@]}"
  lego_compose "${ft[@]}" ep_phone+ted_pron exp/ep_phone_ctc/modules/encoder0.zip "$ted/middle1.zip" -- "${two[@]}"
  lego_compose "${ft[@]}" ep_phone+ted_pron+deen_wemb exp/ep_phone_ctc/modules/encoder0.zip "$ted/middle1.zip" \
    "$de_en/exp/deen_epted2000_legonn_wemb/modules/decoder.zip" -- "${two[@]}"
fi

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  lego_finetune ep_ctc+deen_wemb --inference_model valid.loss.best.pth
  lego_finetune ep_phone+ted_pron+deen_wemb "${two[@]}" --inference_model valid.loss.best.pth
fi
