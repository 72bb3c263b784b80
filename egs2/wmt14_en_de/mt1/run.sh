#!/usr/bin/env bash
# WMT14 En->De at full scale (paper IV-B, Table I, Fig. 4, Tables VII-X): 4.5M pairs, one
# shared 32K BPE vocabulary (input, CTC interface and output). Trained on GPUs (the paper: 8
# V100s); set ngpu and the launcher (README.md: DDP, Slurm) before running stage 2.
#
#  stage 1  data (local/data.sh, db.sh: WMT14_EN_DE), interfaces, dump
#  stage 2  baseline enc-dec, LegoNN WEmb and BeamConv, encoder-only CTC, no-grounding
#           ablation (Table X), second seeds; every model decoded on newstest2011-2016
#           (tokenized and detokenized BLEU: Tables I, VII, VIII) and cut into modules
#  stage 3  modularity tests (Fig. 4): seed swap, architecture swap, decoder plug, Table X swap
set -euo pipefail
stage=1
stop_stage=3
ngpu=8                   # GPUs per node, one process each (ESPnet's multiprocessing_distributed)
train_launcher=          # or a launcher, e.g. "torchrun --no-python --standalone --nproc_per_node 8"
                         # (then --ngpu 1: one GPU per process; see README.md for multi-node)
extra_train_args=        # added to every training, e.g. "--use_amp true" (mixed precision on a GPU) or "--use_amp false" (float32 on a CPU with bfloat16)
nj=8                     # decoding jobs
bpe_size=32000
. utils/parse_options.sh

tests="test test_newstest2011 test_newstest2012 test_newstest2014 test_newstest2015 test_newstest2016"
common=(--ngpu "$ngpu" --nj "$nj" --train_set train --valid_set valid --test_sets "$tests"
        --metric bleu --max_len 250 --inference_args "--beam_size 5 --penalty 0.6"
        --input_interface bpe --ctc_interfaces bpe --output_interface bpe)
[ -n "$train_launcher" ] && common+=(--train_launcher "$train_launcher")
dist=""; [ "$ngpu" -gt 1 ] && dist="--multiprocessing_distributed true"

. utils/experiments.sh   # lego_train, lego_compose (../../TEMPLATE/legonn1/README.md)
lego_common=("${common[@]}") lego_train_args="$dist${extra_train_args:+ $extra_train_args}"
# swap <encoder model> <decoder model>: their modules composed, decoded and scored, no training
swap() { lego_compose "swap_$1+$2" "exp/$1/modules/encoder0.zip" "exp/$2/modules/decoder.zip"; }
no_interface=(--ctc_interfaces "" --ctc_targets "")

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  ./legonn.sh "${common[@]}" --interfaces "bpe=bpe:$bpe_size:data/train/src_text,data/train/text" \
    --stage 1 --stop_stage 3
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  lego_train --seed 1 legonn_wemb train_legonn_wemb 4-8
  lego_train --seed 1 legonn_beamconv train_legonn_beamconv 4-8
  lego_train --seed 1 ctc train_ctc 4-8 --inference_model valid.loss.ave.pth   # no decoder: no accuracy
  lego_train --seed 2 legonn_wemb_seed2 train_legonn_wemb 4-8
  lego_train --seed 1 legonn_nogrounding train_legonn_nogrounding 4-8
  lego_train --seed 2 legonn_nogrounding_seed2 train_legonn_nogrounding 4-8
  lego_train --seed 1 encdec train_encdec 4-8 "${no_interface[@]}"
  lego_train --seed 2 encdec_seed2 train_encdec 4-8 "${no_interface[@]}"
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  swap legonn_wemb legonn_wemb_seed2; swap legonn_wemb_seed2 legonn_wemb      # seed swap
  swap encdec encdec_seed2                                                     # (no interface)
  swap legonn_wemb legonn_beamconv; swap legonn_beamconv legonn_wemb          # architecture swap
  swap ctc legonn_wemb; swap ctc legonn_beamconv                              # decoder plug
  swap legonn_nogrounding legonn_nogrounding_seed2                            # Table X
fi
