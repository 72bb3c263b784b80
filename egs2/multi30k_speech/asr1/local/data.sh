#!/usr/bin/env bash
# SYNTHETIC English speech for Multi30k captions (espeak-ng, several accents and voice
# variants, random rate and pitch, light colored noise at a random SNR), 16 kHz wav files in
# db/wav/<set>/, Kaldi data dirs data/{train,valid,test} with text (the raw English caption),
# utt2spk (the voice), wav.scp and phones (g2p_en, stress digits stripped).
# No voice speaks in both train and valid/test (see below).
set -euo pipefail
data_root=../../../../shared/data/multi30k   # raw Multi30k: train.en.gz, val.en.gz, test_2016_flickr.en.gz
num_train=10000          # training captions to synthesize
train_offset=10000       # first training caption (among the MT recipe's 25000 De-En training captions)
num_eval=500             # valid and test captions (the MT recipe's eval_size; 0 = all)
mini=0                   # >0: this many training captions and a fifth as many valid/test (min 10)
nj=2                     # parallel synthesis jobs
# espeak-ng voices (accent+variant): every English accent in all sets, the variants disjoint, so
# valid and test voices are unseen in training. Disjoint accent lists test unseen accents (README).
train_accents="en-us en-gb en-gb-x-rp en-029 en-gb-scotland en-gb-x-gbclan en-gb-x-gbcwmd en-us-nyc"
train_variants="m1 m3 m4 f1 f2 f4"
test_accents=$train_accents
test_variants="m2 m5 f3 f5"
. utils/parse_options.sh

if [ ! -f "$data_root/train.en.gz" ]; then
  echo "local/data.sh: Multi30k not found at '$data_root' (expected train.en.gz, val.en.gz and" \
       "test_2016_flickr.en.gz)." >&2
  echo "Get it from the multi30k/dataset repository (data/task1/raw) and pass --data_root DIR." >&2
  exit 1
fi
if ! command -v espeak-ng > /dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    echo "local/data.sh: espeak-ng not found; installing it with apt-get" >&2
    mkdir -p db/log
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y espeak-ng; } > db/log/apt.log 2>&1 \
      || { echo "local/data.sh: apt-get install espeak-ng failed (see db/log/apt.log)" >&2; exit 1; }
  else
    echo "local/data.sh: espeak-ng is needed to synthesize the speech and is not installed." >&2
    echo "Install it (Debian/Ubuntu: sudo apt-get install espeak-ng; macOS: brew install espeak-ng)" \
         "and run again." >&2
    exit 1
  fi
fi
# espeak-ng exits 0 for an unknown voice (it prints an error and no audio): check each one.
for voice in $(printf "%s\n" $train_accents $test_accents | sort -u); do
  [ "$(espeak-ng -v "$voice" --stdout test 2> /dev/null | wc -c)" -gt 1000 ] \
    || { echo "local/data.sh: espeak-ng has no voice '$voice' (see espeak-ng --voices=en)" >&2; exit 1; }
done
variants=$(espeak-ng --voices=variant | awk 'NR > 1 { sub(".*/", "", $5); print $5 }')
for variant in $train_variants $test_variants; do
  grep -qx -- "$variant" <<< "$variants" \
    || { echo "local/data.sh: espeak-ng has no voice variant '$variant' (see espeak-ng --voices=variant)" >&2; exit 1; }
done

if [ "$mini" -gt 0 ]; then
  num_train=$mini; num_eval=$(( mini / 5 > 10 ? mini / 5 : 10 ))
fi
python local/prepare_speech.py --data_root "$data_root" --num_train "$num_train" \
  --train_offset "$train_offset" --num_eval "$num_eval" \
  --train_accents "$train_accents" --train_variants "$train_variants" \
  --test_accents "$test_accents" --test_variants "$test_variants" --out data --db db
cmd=${cmd:-utils/run_jobs.sh --backend local}
for set in train valid test; do
  $cmd JOB=1:"$nj" "db/log/synth_$set.JOB.log" python local/synthesize.py --plan "db/plan/$set" \
    --text "data/$set/text" --wav_dir "db/wav/$set" --job JOB --nj "$nj" \
    || { echo "local/data.sh: synthesis of $set failed (logs: db/log/synth_$set.*.log)" >&2; exit 1; }
done
python -m legonn.recipe.g2p data/train/text data/train/phones data/valid/text data/valid/phones \
  data/test/text data/test/phones
