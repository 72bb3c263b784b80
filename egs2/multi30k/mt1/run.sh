#!/usr/bin/env bash
# Multi30k {de,fr,cs} -> en with one English BPE interface shared by every model: the paper's
# MT claims (sections V-A..D) at Multi30k scale.
#
#  stage 1  data, interfaces, dump for each language pair
#  stage 2  De-En: enc-dec baseline, LegoNN WEmb, encoder-only CTC, LegoNN BeamConv, WEmb seed 2,
#           and the models only the modularity tests need (enc-dec seed 2, WEmb without CTC
#           grounding x 2 seeds) (each trained, decoded, scored and exported as modules); when
#           named, beyond the paper: WEmb with CTC targets distilled from the enc-dec, the WEmb
#           model trained further (its encoder module alone, by CTC; or all of it) with the
#           references or its own translations as CTC targets
#  stage 3  Fr-En and Cs-En on low-resource slices: encoder-only modules (--low_from_de) and
#           enc-dec baselines (--low_models)
#  stage 4  module transfer: Fr/Cs encoder modules + the De-En decoders, no fine-tuning (Table III)
#  stage 5  modularity tests (Fig. 4, Table X): seed swap, architecture swap, decoder plug
#  stage 6  fine-tune the composed Fr-En and Cs-En models end-to-end (Table VI)
#  stage 7  write RESULTS.md from the score files
#  stage 8  ship modules: the De-En WEmb encoder and decoder and the Fr encoder of the largest
#           slice, at half precision, into pretrained/ (committed with the recipe)
#  stage 9  shipped modules only: compose pretrained/ modules, decode and score test_de and
#           test_fr, no training (needs stage 1: ./run.sh --stage 1 --stop_stage 1 first)
set -euo pipefail
stage=1
stop_stage=8
data_root=../../../../shared/data/multi30k   # raw Multi30k (train.en.gz, ...)
mini=false               # true: a few hundred sentences and 2 epochs (CI, ./run_all.sh)
nj=2
ngpu=0                   # GPUs for training and decoding (0: CPU)
extra_train_args=        # added to every training, e.g. "--use_amp true" (mixed precision on a GPU) or "--use_amp false" (float32 on a CPU with bfloat16)
bpe_size=1000            # English interface and each source vocabulary
train_size=25000         # De-En training sentences (Multi30k has 29000; the rest feed the slices)
low_sizes="500 1000 2000 4000"   # Fr-En / Cs-En low-resource slices: nested, disjoint from De-En
eval_size=0              # valid and test sentences (0: all, 1014 / 1000)
epochs=                  # override max_epoch of every De-En config (default: the configs')
low_srcs="fr cs"         # source languages of the slices (stages 3, 4, 6)
low_models="ctc encdec"  # stage 3, per slice: the encoder-only CTC module, the enc-dec baseline
low_passes=60000         # sentences seen in training on a Fr/Cs slice: a slice of n sentences
                         # trains for low_passes / n epochs
de_wemb=trained          # the De-En LegoNN WEmb modules stages 3, 4 and 6 reuse: trained (exp/de_legonn_wemb, stage 2)
                         # or shipped (pretrained/, their float16 archives: the slices need no De-En training)
low_from_de=true         # the slice encoder modules start from the De-En LegoNN WEmb encoder with a
                         # new source embedding, the only part they train (beyond the paper: README),
                         # as <src>_low<n>_ctc_from_de; false: from random weights, every parameter
                         # trained (the paper's), as <src>_low<n>_ctc
finetune_passes=20000    # sentences seen in fine-tuning a composition on its slice (stage 6): it
                         # starts converged, and valid accuracy levels off within 2-3 epochs (README)
blank_penalty=1.0        # subtracted from the blank's log-probability in the interfaces' greedy CTC
                         # readings (beyond the paper, tuned on valid_de: README); 0: the paper's
length_penalty=1.0       # the decoder's beam search: score / length ** length_penalty (the paper's
                         # 0.6 wrote short translations for WEmb on valid_de: README)
declare default_search="--blank_penalty $blank_penalty --length_penalty $length_penalty"   # (declare: not an option) the search of decode_<set>/
# stage 5: encoder+decoder pairs: seed swaps, architecture swaps, decoder plugs (encoder-only CTC
# model + a decoder), the enc-dec seed swap (no interface) and the no-grounding swap (Table X)
swaps="de_legonn_wemb+de_legonn_wemb_seed2 de_legonn_wemb_seed2+de_legonn_wemb
       de_legonn_wemb+de_legonn_beamconv de_legonn_beamconv+de_legonn_wemb
       de_ctc+de_legonn_wemb de_ctc+de_legonn_beamconv
       de_encdec+de_encdec_seed2 de_encdec_seed2+de_encdec
       de_legonn_nogrounding+de_legonn_nogrounding_seed2"
de_models="encdec legonn_wemb ctc legonn_beamconv legonn_wemb_seed2 encdec_seed2 legonn_nogrounding
           legonn_nogrounding_seed2"   # stage 2, in order
# (not among them, trained only when named: beyond the paper, legonn_wemb_kd, wemb_encoder_ref,
#  wemb_encoder_kd, wemb_ref and wemb_kd (README, "self-distilled"); the explorations
#  legonn_wemb_enc4, legonn_wemb_olc3 and the baseline encdec_enc6 (README, "two more blocks where
#  the interface is written"), and two cheaper steps (README, "a cheaper interface"): legonn_wemb_olc15,
#  the OLC upsampling by 1.5, and legonn_wemb_ffn256, narrower feed-forward layers where K = 2T)
. utils/parse_options.sh
. ./path.sh              # the legonn environment (local/results.py runs here too)

data_root=$(readlink -f "$data_root" || echo "$data_root")
if [ "$mini" = true ]; then . utils/enter_mini.sh; fi
search="--blank_penalty $blank_penalty --length_penalty $length_penalty"
data_opts="--max_train $train_size --low_sizes ${low_sizes// /,} --max_eval $eval_size"
train_args=""
if [ "$mini" = true ]; then  # same architectures, narrower, so the whole recipe runs in minutes
  low_sizes=100; low_srcs=fr; data_opts="--max_train 300 --low_sizes 100 --max_eval 60"; bpe_size=300; epochs=${epochs:-2}
  # attention plots (tested in test/test_images.py) would be a third of a mini training's time
  train_args="--num_att_plot 0 --batch_bins 3000 --ingestor_conf ffn_dim=128 --ingestor_conf heads=2"
  # 2-epoch models write until the max length (1.5 x decoder memory + 10; WEmb's memory is twice the
  # source): a beam of 2 and a third of that length decode them 6x faster (README, run_all.sh)
  search+=" --beam_size 2 --maxlenratio_a 0.5"; default_search=$search
  for part in encoder_conf decoder_conf; do
    train_args+=" --$part dim=64 --$part ffn_dim=128 --$part heads=2"
  done
fi
[ -n "$epochs" ] && train_args+=" --max_epoch $epochs"
[ -n "$extra_train_args" ] && train_args+=" $extra_train_args"
# epochs_for <passes> <n>: epochs in which a slice of n sentences is seen <passes> times in all
epochs_for() { if [ "$mini" = true ]; then echo "$epochs"; else echo $(( ($1 + $2 - 1) / $2 )); fi; }
common=(--nj "$nj" --ngpu "$ngpu" --train_set "train_@" --test_sets "test_@" --valid_set "valid_@"
        --metric bleu --input_interface "@" --ctc_interfaces en --output_interface en
        --inference_args "$search" --default_inference_args "$default_search")
. utils/experiments.sh   # lego_train, lego_compose, lego_finetune (egs2/TEMPLATE/legonn1/README.md)
lego_train_args=$train_args
for_source() { lego_common=("${common[@]//@/$1}"); }   # the experiments of source language $1
no_interface=(--ctc_interfaces "" --ctc_targets "")
with_valid=(--test_sets "valid_de test_de")   # decoded on valid_de as well as test_de
slice_ctc=ctc; [ "$low_from_de" = true ] && slice_ctc=ctc_from_de   # slice encoders: exp/<src>_low<n>_$slice_ctc
# distill <teacher> <key> <sets...>: sequence-level knowledge distillation (Kim & Rush 2016; beyond
# the paper): the translations of each set by exp/<teacher> become dump/<set>/<key>, a CTC target.
distill() {
  local teacher=$1 key=$2 set; shift 2
  for set in "$@"; do
    [ -s "dump/$set/$key" ] && continue
    lego_train "$teacher" "exp/$teacher/config.yaml" 6 --test_sets "$set"
    # Where the teacher wrote nothing, the reference stays the target (counted).
    awk 'NR == FNR { reference[$1] = $0; next }
         NF < 2 { print reference[$1]; kept++; next } { print }
         END { if (kept) printf "distill: %d empty translations of %s replaced by the reference\n", kept, FILENAME > "/dev/stderr" }' \
      "dump/$set/text" "exp/$teacher/decode_$set/text" > "dump/$set/$key.tmp"
    mv "dump/$set/$key.tmp" "dump/$set/$key"
  done
}
# distill_by_wemb: the De-En WEmb model's translations of train_de and valid_de, as text_kd_wemb
distill_by_wemb() {
  # (shipped: the two archives composed, decoded and scored on test_de as the starting point)
  [ "$de_wemb" = shipped ] && lego_compose "$de_wemb_model" "$de_wemb_encoder" "$de_wemb_decoder"
  distill "$de_wemb_model" text_kd_wemb train_de valid_de
}
m=modules
case $de_wemb in
  trained) de_wemb_encoder=exp/de_legonn_wemb/$m/encoder0.zip de_wemb_decoder=exp/de_legonn_wemb/$m/decoder.zip
           de_wemb_model=de_legonn_wemb ;;
  shipped) de_wemb_encoder=pretrained/de_en_wemb_encoder.zip de_wemb_decoder=pretrained/de_en_wemb_decoder.zip
           de_wemb_model=de_legonn_wemb_shipped ;;   # exp/: the two composed (stage 2, distill_by_wemb)
  *) echo "run.sh: --de_wemb: trained or shipped, not '$de_wemb'" >&2; exit 1 ;;
esac
# module_archive <model> <encoder0|decoder>: a De-En model's module; de_legonn_wemb's follows --de_wemb
module_archive() {
  case $1:$2 in
    de_legonn_wemb:encoder0) echo "$de_wemb_encoder" ;;
    de_legonn_wemb:decoder) echo "$de_wemb_decoder" ;;
    *) echo "exp/$1/$m/$2.zip" ;;
  esac
}

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  ./legonn.sh --stage 1 --stop_stage 1 --data_root "$data_root" --data_opts "$data_opts" \
    --train_set train_de --valid_set valid_de --test_sets "test_de test_fr test_cs"
  ifaces="en=bpe:$bpe_size:data/train_de/text"
  for src in de fr cs; do ifaces+=" $src=bpe:$bpe_size:data/train_$src/src_text"; done
  ./legonn.sh --stage 2 --stop_stage 2 --interfaces "$ifaces"
  for src in de fr cs; do  # the low-resource slices are dumped like test sets
    ./legonn.sh --stage 3 --stop_stage 3 --train_set "train_$src" --valid_set "valid_$src" \
      --test_sets "test_$src $(for n in $low_sizes; do echo "train_${src}_low$n"; done)"
  done
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  for_source de
  for model in $de_models; do
    case $model in
      legonn_wemb_seed2) lego_train --seed 2 "de_$model" train_legonn_wemb 4-8 ;;
      encdec_seed2) lego_train --seed 2 "de_$model" train_encdec 4-8 "${no_interface[@]}" ;;
      legonn_nogrounding_seed2) lego_train --seed 2 "de_$model" train_legonn_nogrounding 4-8 ;;
      legonn_wemb_kd) distill de_encdec text_kd train_de valid_de   # test_de: scored against its reference
                      lego_train --seed 1 "de_$model" train_legonn_wemb 4-8 --ctc_targets text_kd ;;
      wemb_encoder_ref|wemb_encoder_kd)   # the De-En WEmb encoder module, trained further by CTC alone
        targets=text
        if [ "$model" = wemb_encoder_kd ]; then distill_by_wemb; targets=text_kd_wemb; fi
        lego_init --into encoders.0 "$de_wemb_encoder" "" "train --de_models legonn_wemb first, or --de_wemb shipped"
        lego_train --seed 1 --train_args "$lego_init_arch" "de_$model" train_ctc_further 4-8 --ctc_targets "$targets" \
          "${lego_init_param[@]}"
        # its interface under the WEmb model's own decoder module, no fine-tuning
        lego_compose "plug_de_$model+de_legonn_wemb" "exp/de_$model/$m/encoder0.zip" "$de_wemb_decoder" ;;
      wemb_ref|wemb_kd)   # the whole De-En WEmb model trained further: CE on the references, CTC on
        targets=text      # the references or on what the model translates
        if [ "$model" = wemb_kd ]; then distill_by_wemb; targets=text_kd_wemb; fi
        lego_compose --compose_only --finetune_config conf/finetune.yaml "de_$model" "$de_wemb_encoder" "$de_wemb_decoder"
        # (a composed config names its CTC targets: --train_args overrides them, --ctc_targets loads the data)
        lego_finetune --train_args "--max_epoch 2 --batch_bins 4000 --ctc_targets [$targets]" "de_$model" \
          --ctc_targets "$targets"
        lego_train "finetune_de_$model" "exp/de_$model/finetune.yaml" 8 ;;   # its module archives
      # read on valid_de too: the configs (and the explorations beside them) were chosen there
      encdec|encdec_enc6) lego_train --seed 1 "de_$model" "train_$model" 4-8 "${no_interface[@]}" "${with_valid[@]}" ;;
      legonn_wemb|legonn_beamconv|legonn_wemb_enc4|legonn_wemb_olc3|legonn_wemb_olc15|legonn_wemb_ffn256)
        lego_train --seed 1 "de_$model" "train_$model" 4-8 "${with_valid[@]}" ;;
      *) lego_train --seed 1 "de_$model" "train_$model" 4-8 ;;
    esac
  done
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  lego_init_param=() lego_init_arch="" frozen=""
  if [ "$low_from_de" = true ]; then
    lego_init --into encoders.0 "$de_wemb_encoder" frontend.embed \
      "train the De-En LegoNN WEmb model first (--stage 2 --stop_stage 2 --de_models legonn_wemb), or --de_wemb shipped"
    frozen=" --freeze_param encoders.0.blocks encoders.0.olc encoders.0.ctc_head"   # all but the new embedding
  fi
  for n in $low_sizes; do
    for src in $low_srcs; do
      for_source "$src"
      slice=(--train_set "train_${src}_low$n")
      epochs_arg="--max_epoch $(epochs_for "$low_passes" "$n")"
      for model in $low_models; do
        case $model in
          ctc) lego_train --seed 1 --train_args "$epochs_arg$frozen$lego_init_arch" "${src}_low${n}_$slice_ctc" train_ctc 4-8 \
                 "${slice[@]}" "${lego_init_param[@]}" ;;
          encdec) lego_train --seed 1 --train_args "$epochs_arg" "${src}_low${n}_encdec" train_encdec 4-7 \
                    "${slice[@]}" "${no_interface[@]}" ;;
          *) echo "run.sh: --low_models: unknown model '$model' (ctc, encdec)" >&2; exit 1 ;;
        esac
      done
    done
  done
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  for n in $low_sizes; do
    for src in $low_srcs; do
      for_source "$src"
      lego_compose --if_trained "transfer_${src}_low${n}_$slice_ctc+de_legonn_wemb" \
        "exp/${src}_low${n}_$slice_ctc/$m/encoder0.zip" "$de_wemb_decoder"
      lego_compose --if_trained "transfer_${src}_low${n}_$slice_ctc+de_legonn_beamconv" \
        "exp/${src}_low${n}_$slice_ctc/$m/encoder0.zip" "exp/de_legonn_beamconv/$m/decoder.zip"
    done
  done
fi

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  for_source de
  for pair in $swaps; do
    lego_compose --if_trained "swap_$pair" "$(module_archive "${pair%+*}" encoder0)" "$(module_archive "${pair#*+}" decoder)"
  done
fi

if [ "$stage" -le 6 ] && [ "$stop_stage" -ge 6 ]; then
  for n in $low_sizes; do
    for src in $low_srcs; do
      for_source "$src"
      composed=transfer_${src}_low${n}_$slice_ctc+de_legonn_wemb
      lego_compose --compose_only --finetune_config conf/finetune.yaml "$composed" \
        "exp/${src}_low${n}_$slice_ctc/$m/encoder0.zip" "$de_wemb_decoder"
      lego_finetune --train_args "--max_epoch $(epochs_for "$finetune_passes" "$n")" "$composed" --train_set "train_${src}_low$n"
    done
  done
fi

if [ "$stage" -le 7 ] && [ "$stop_stage" -ge 7 ]; then
  python local/results.py --exp exp --low_sizes "$low_sizes" > RESULTS.md.tmp && mv RESULTS.md.tmp RESULTS.md   # mini/RESULTS.md for --mini
  cat RESULTS.md
fi

ship_fr=fr_low${low_sizes##* }_$slice_ctc   # the Fr encoder module of the largest slice
if [ "$stage" -le 8 ] && [ "$stop_stage" -ge 8 ]; then
  python local/ship_modules.py --out_dir pretrained \
    --module de_en_wemb_encoder=exp/de_legonn_wemb/$m/encoder0.zip \
    --module de_en_wemb_decoder=exp/de_legonn_wemb/$m/decoder.zip \
    --module fr_en_ctc_encoder=exp/$ship_fr/$m/encoder0.zip \
    --reference de_en_wemb_encoder+de_en_wemb_decoder=exp/de_legonn_wemb/decode_test_de \
    --reference fr_en_ctc_encoder+de_en_wemb_decoder=exp/transfer_$ship_fr+de_legonn_wemb/decode_test_fr
fi

if [ "$stage" -le 9 ] && [ "$stop_stage" -ge 9 ]; then
  shipped=$(cd pretrained && pwd)
  for_source de
  lego_compose shipped_de_en "$shipped/de_en_wemb_encoder.zip" "$shipped/de_en_wemb_decoder.zip"
  for_source fr
  lego_compose shipped_fr_en "$shipped/fr_en_ctc_encoder.zip" "$shipped/de_en_wemb_decoder.zip"
fi
