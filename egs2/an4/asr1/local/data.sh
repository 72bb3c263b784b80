#!/usr/bin/env bash
# CMU AN4 (real read speech, 16 kHz Sphere): data/{train,valid,test} with wav.scp, text
# (lower-cased), utt2spk, spk2utt and phones (g2p_en, stress digits stripped).
# valid = the training utterances of 6 held-out speakers (valid and train share no speaker);
# test = the official AN4 test set (130 utterances, 10 speakers).
set -euo pipefail
data_root=../../../../shared/data/an4           # folder with etc/an4_train.transcription, wav/...
valid_speakers="fejs fnsv mdxs mewl mmkw msjr"   # held out of train for validation (2 f, 4 m)
mini=0                                           # >0: keep only this many training utterances
. utils/parse_options.sh

for f in etc/an4_train.transcription etc/an4_train.fileids etc/an4_test.transcription etc/an4_test.fileids wav/an4_clstk; do
  if [ ! -e "$data_root/$f" ]; then
    echo "local/data.sh: CMU AN4 not found at '$data_root' (missing $f)." >&2
    echo "Expected layout: DIR/etc/an4_{train,test}.{transcription,fileids} and" \
         "DIR/wav/{an4_clstk,an4test_clstk}/<speaker>/<utt>.sph (NIST Sphere, 16 kHz)." >&2
    echo "Get it from http://www.speech.cs.cmu.edu/databases/an4/ (an4_sphere.tar.gz, the copy" \
         "ESPnet's an4 recipe downloads) and pass --data_root DIR." >&2
    exit 1
  fi
done
python local/prepare_an4.py --data_root "$data_root" --valid_speakers $valid_speakers --mini "$mini" --out data
python -m legonn.recipe.g2p data/train/text data/train/phones data/valid/text data/valid/phones \
  data/test/text data/test/phones
