#!/usr/bin/env bash
# English ASR on SYNTHETIC speech (espeak-ng) of Multi30k captions, reusing the Multi30k MT
# recipe's De-En decoder module: the paper's ASR <- MT transfer (section V-C, Tables IV-VI,
# App. A-B) at a size that trains on 2 CPUs. Needs ../../multi30k/mt1 run first: stage 1 for
# the English interface (the decoder module is the one it ships; with --mt_wemb trained, its
# stage 2's); with --mini true, that recipe's mini profile (../../multi30k/mt1/mini).
#
#  stage 1  synthesize data, interfaces (English BPE copied from the MT recipe, phones), dump
#  stage 2  speech enc-dec baseline, LegoNN WEmb (English BPE interface), phoneme recognizer
#           (encoder-only CTC over phones), 3-module LegoNN (phones -> English BPE -> decoder),
#           and a sanity baseline outside the paper (enc-dec with joint CTC);
#           decoded, scored (WER, and at every interface), modules exported
#  stage 3  transfer: the speech encoder module + the MT De-En decoder module, no fine-tuning
#           (Table IV), then the composed model fine-tuned end-to-end (Table VI)
#  stage 4  3-module composition: phoneme recognizer + the 3-module model's pronunciation
#           module + the MT De-En decoder module, no fine-tuning (Table V)
#  stage 5  a pronunciation module trained from text alone (g2p phones -> English BPE, no
#           audio), composed with the phoneme recognizer and the MT De-En decoder module
#  stage 6  write RESULTS.md from the score files
set -euo pipefail
stage=1
stop_stage=6
data_root=../../../../shared/data/multi30k   # raw Multi30k (train.en.gz, val.en.gz, test_2016_flickr.en.gz)
mt_dir=../../multi30k/mt1    # the MT recipe (its mini/ with --mini true)
mt_wemb=                     # the MT De-En WEmb decoder module reused here: shipped (the MT recipe's
                             # pretrained/ archive: no MT training needed; the default) or trained
                             # (its exp/$mt_tag; the default with --mini true)
mt_tag=de_legonn_wemb        # MT experiment whose decoder module is reused with --mt_wemb trained
num_train=10000          # synthesized training utterances: at 2000, BPE CTC did not learn (README)
train_offset=10000       # first training caption (0 with --num_train 29000: all of Multi30k train; README)
num_text=25000           # captions (the MT recipe's English training side, all of it) for the text-only pronunciation module
mini=false               # true: 60 training utterances, 2 epochs, narrow models, in mini/ (CI)
nj=2
ngpu=0                   # GPUs for training and decoding (0: CPU)
train_launcher=          # e.g. "torchrun --no-python --standalone --nproc_per_node 2": one training on
                         # both CPU cores (DDP over gloo; README)
extra_train_args=        # added to every training, e.g. "--use_amp true" (mixed precision on a GPU) or "--use_amp false" (float32 on a CPU with bfloat16)
epochs=                  # override max_epoch of every config (default: the configs')
beam_size=10             # paper: 20 (CPU decoding here: 10)
ctc_weight=0.5           # joint CTC/attention search where the last interface is the output vocabulary
                         # (ESPnet's hybrid decoding, as the AN4 recipe; beyond the paper, chosen on
                         # valid: README): 0: the decoder alone, the paper's search
models=                  # stage 2 experiments (default: phone_ctc encdec legonn_wemb legonn_3module
                         # encdec_ctc; with --mini true, all but encdec_ctc)
phone_init=true          # encdec, legonn_wemb and encdec_ctc start from the phoneme recognizer's
                         # acoustic encoder (frontend and transformer layers; beyond the paper):
                         # from random weights, their English BPE CTC and attention stayed on the
                         # plateau (README)
declare default_beam_size=$beam_size default_ctc_weight=$ctc_weight   # (declare: not options) the search of decode_<set>/
. utils/parse_options.sh
. ./path.sh              # the legonn environment (local/*.py run here too)

data_root=$(readlink -f "$data_root" || echo "$data_root")
mt_dir=$(readlink -f "$mt_dir" || echo "$mt_dir")
if [ "$mini" = true ]; then . utils/enter_mini.sh; fi
data_opts="--num_train $num_train --train_offset $train_offset --nj $nj"
train_args=""
decoder_search="--beam_size $beam_size --penalty 1.0"
# The recipe's default search decodes into exp/<tag>/decode_<set>/ (RESULTS.md); another --beam_size
# or --ctc_weight into exp/<tag>/decode_<set>_beam<N>_lp1.0[_ctc<W>]/ beside it.
default_decoder_search="--beam_size $default_beam_size --penalty 1.0"
three_module_args=""
pron_args=""             # text-only pronunciation module
finetune_args=""         # fine-tuning keeps the composed modules' architecture: no size overrides
if [ "$mini" = true ]; then  # same architectures, narrower and shallower: the recipe runs in minutes
  mt_dir=$mt_dir/mini
  data_opts="--mini 60 --nj $nj"; epochs=${epochs:-2}
  decoder_search="--beam_size 2 --penalty 1.0"; default_decoder_search=$decoder_search; default_ctc_weight=$ctc_weight
  # attention plots (tested in test/test_images.py) would be a third of a mini training's time
  train_args="--num_att_plot 0 --batch_bins 400000 --encoder_conf conv_channels=[8,16] --encoder_conf layers=1"
  train_args+=" --ingestor_conf layers=1 --ingestor_conf ffn_dim=64 --ingestor_conf heads=2"
  for part in encoder_conf decoder_conf; do
    train_args+=" --$part dim=32 --$part ffn_dim=64 --$part heads=2 --$part layers=1"
  done
  # middle_modules is a list (no key=value overrides): the whole module, as JSON without spaces.
  three_module_args='--middle_modules [{"ingestor":"wemb","ingestor_conf":{"rf":5,"heads":2,"ffn_dim":64,"layers":1},'
  three_module_args+='"encoder_conf":{"dim":32,"heads":2,"ffn_dim":64,"layers":1,"olc":{"ratio":0.6,"max_len":160,"layers":1}}}]'
  finetune_args="--num_att_plot 0 --batch_bins 400000"
  num_text=200
  pron_args="--num_att_plot 0"
  for part in encoder_conf.dim=32 encoder_conf.ffn_dim=64 encoder_conf.heads=2 encoder_conf.layers=1 \
              ingestor_conf.ffn_dim=64 ingestor_conf.heads=2; do
    pron_args+=" --input_marginals $part"
  done
fi
if [ -z "$models" ]; then
  models="phone_ctc encdec legonn_wemb legonn_3module encdec_ctc"
  [ "$mini" = true ] && models="phone_ctc encdec legonn_wemb legonn_3module"
fi
inference_args="$decoder_search --ctc_weight $ctc_weight"
default_inference_args="$default_decoder_search --ctc_weight $default_ctc_weight"
# Models with no CTC over the output vocabulary search without it (encoder-only ones: greedy CTC).
no_joint=(--inference_args "$decoder_search" --default_inference_args "$default_decoder_search")
for v in train_args finetune_args pron_args; do  # every training: --epochs, then --extra_train_args
  printf -v "$v" '%s' "${!v}${epochs:+ --max_epoch $epochs}${extra_train_args:+ $extra_train_args}"
done
mt_interface=$mt_dir/data/interfaces/en
[ "$mini" = true ] && [ -z "$mt_wemb" ] && mt_wemb=trained   # the mini MT interface is not the shipped one
case ${mt_wemb:-shipped} in
  shipped) [ "$mini" = true ] && { echo "run.sh: --mt_wemb shipped needs the full MT recipe's interface, not --mini true" >&2; exit 1; }
           mt_decoder=$mt_dir/pretrained/de_en_wemb_decoder.zip ;;
  trained) mt_decoder=$mt_dir/exp/$mt_tag/modules/decoder.zip ;;
  *) echo "run.sh: --mt_wemb: shipped or trained, not '$mt_wemb'" >&2; exit 1 ;;
esac
common=(--task asr --metric wer --nj "$nj" --ngpu "$ngpu" --train_launcher "$train_launcher" --train_set train --valid_set valid --test_sets test
        --ctc_interfaces en --ctc_targets text --output_interface en --inference_args "$inference_args"
        --default_inference_args "$default_inference_args")
three=(--ctc_interfaces "phone en" --ctc_targets "phones text")
. utils/experiments.sh   # lego_train, lego_compose, lego_finetune (../../TEMPLATE/legonn1/README.md)
lego_common=("${common[@]}") lego_train_args=$train_args
# Every speech model: seed 1, absolute feature statistics (module export copies them from elsewhere).
one=(--seed 1 --abs_stats --train_args "")
need_mt() {  # need_mt <file> <mt stage>
  if [ ! -e "$1" ]; then
    local how="$mt_dir/../run.sh --mini true"; [ "$mini" = true ] || how="$mt_dir/run.sh"
    echo "run.sh: $1 not found: run the MT recipe first ($how --stage 1 --stop_stage $2)" >&2
    exit 1
  fi
}
m=modules

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  need_mt "$mt_interface/interface.yaml" 1
  ./legonn.sh "${common[@]}" --stage 1 --stop_stage 1 --data_root "$data_root" --data_opts "$data_opts"
  ./legonn.sh "${common[@]}" --stage 2 --stop_stage 2 \
    --interfaces "en=copy:$mt_interface phone=phone:0:data/train/phones"
  ./legonn.sh "${common[@]}" --stage 3 --stop_stage 3
fi

# With --phone_init true, a model's encoder starts from the phoneme recognizer's, all but its OLC
# and phone CTC head: lego_init_param=(--init_param ...), empty otherwise.
use_phone_recognizer() {
  lego_init_param=()
  [ "$phone_init" = true ] || return 0
  lego_init exp/phone_ctc/valid.loss.ave.pth encoders.0.olc,encoders.0.ctc_head \
    "train the phoneme recognizer first (--models phone_ctc), or --phone_init false"
}

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  for model in $models; do
    case $model in
      encdec) use_phone_recognizer
              lego_train "${one[@]}" encdec train_encdec 4-8 --ctc_interfaces "" --ctc_targets "" "${no_joint[@]}" \
                "${lego_init_param[@]}" ;;
      phone_ctc) lego_train "${one[@]}" phone_ctc train_phone_ctc 4-8 "${no_joint[@]}" --ctc_interfaces phone --ctc_targets phones \
                   --output_interface phone --inference_model valid.loss.ave.pth ;;
      legonn_3module)
        # Work-around: legonn.sh hands two or more interfaces to the trainer as "[a, b]" unquoted, which
        # the shell splits; a config that names its interfaces itself is used as it is.
        mkdir -p exp/conf
        { cat conf/train_legonn_3module.yaml
          echo "interfaces: [data/interfaces/phone/interface.yaml, data/interfaces/en/interface.yaml]"
          echo "ctc_targets: [phones, text]"
          echo "output_interface: data/interfaces/en/interface.yaml"; } > exp/conf/train_legonn_3module.yaml
        lego_train "${one[@]}" --train_args "$three_module_args" legonn_3module exp/conf/train_legonn_3module.yaml 4-8 \
          "${three[@]}" ;;
      *) use_phone_recognizer
         lego_train "${one[@]}" "$model" "train_$model" 4-8 "${lego_init_param[@]}" ;;
    esac
  done
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  need_mt "$mt_decoder" 2
  composed=transfer_legonn_wemb+mt
  lego_compose --finetune_config conf/finetune.yaml "$composed" "exp/legonn_wemb/$m/encoder0.zip" "$mt_decoder"
  lego_train_args=$finetune_args lego_finetune "$composed"
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  need_mt "$mt_decoder" 2
  lego_compose compose3_phone_ctc+legonn_3module+mt "exp/phone_ctc/$m/encoder0.zip" \
    "exp/legonn_3module/$m/middle1.zip" "$mt_decoder" -- "${three[@]}"
  lego_compose compose3_legonn_3module+mt "exp/legonn_3module/$m/encoder0.zip" \
    "exp/legonn_3module/$m/middle1.zip" "$mt_decoder" -- "${three[@]}"
fi

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  python local/prepare_text.py --data_root "$data_root" --num_text "$num_text"
  text=(--task mt --input_interface phone --train_set text_train --valid_set text_valid --test_sets text_test)
  ./legonn.sh "${common[@]}" "${text[@]}" --stage 3 --stop_stage 3
  # (trainer options: "--seed 1 $pron_args", none of the speech models')
  lego_train_args="--seed 1" lego_train --train_args "$pron_args" pron_text train_pron_text 4-8 "${text[@]}" "${no_joint[@]}" \
    --inference_model valid.loss.ave.pth
  need_mt "$mt_decoder" 2
  lego_compose compose3_phone_ctc+pron_text+mt "exp/phone_ctc/$m/encoder0.zip" \
    "exp/pron_text/$m/middle0.zip" "$mt_decoder" -- "${three[@]}"
fi

if [ "$stage" -le 6 ] && [ "$stop_stage" -ge 6 ]; then
  python local/results.py --exp exp --mt_decoder "$mt_decoder" > RESULTS.md.tmp && mv RESULTS.md.tmp RESULTS.md
  cat RESULTS.md
fi
