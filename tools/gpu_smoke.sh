#!/usr/bin/env bash
# One training epoch and one decoding of the Multi30k mini recipe on a CUDA GPU, with timings:
# checks that --ngpu reaches training and decoding and that --use_amp trains. For a machine with
# a GPU; the test suite cannot run it (the project's CI machines have none).
#
#   tools/gpu_smoke.sh [--use_amp true] [--data_root DIR]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
use_amp=false
data_root=${LEGONN_DATA:-$root/../shared/data}/multi30k
while [ $# -gt 0 ]; do
  case $1 in
    --use_amp) use_amp=$2; shift 2 ;;
    --data_root) data_root=$2; shift 2 ;;
    *) echo "usage: $0 [--use_amp true|false] [--data_root DIR]" >&2; exit 1 ;;
  esac
done
bash "$root/tools/install.sh"
. "$root/tools/activate.sh"
python -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'gpu_smoke.sh: no CUDA device visible to torch')"
python -c "import torch; print('device:', torch.cuda.get_device_name(0))"

cd "$root/egs2/multi30k/mt1"
./run.sh --mini true --data_root "$data_root" --stage 1 --stop_stage 1 > /dev/null
cd mini
common=(--nj 1 --ngpu 1 --train_set train_de --valid_set valid_de --test_sets test_de --metric bleu
        --input_interface de --ctc_interfaces en --output_interface en
        --tag gpu_smoke --train_config conf/train_legonn_wemb.yaml)
rm -rf exp/gpu_smoke
start=$SECONDS
./legonn.sh "${common[@]}" --train_args "--max_epoch 1 --use_amp $use_amp" --stage 4 --stop_stage 5
train_s=$((SECONDS - start))
start=$SECONDS
./legonn.sh "${common[@]}" --stage 6 --stop_stage 7
decode_s=$((SECONDS - start))
grep -h "decoded .* utterances on" exp/gpu_smoke/decode_test_de/log/decode.1.log || true
echo "gpu_smoke: 1 epoch of LegoNN WEmb (use_amp=$use_amp) in ${train_s} s, decoding test_de in ${decode_s} s"
