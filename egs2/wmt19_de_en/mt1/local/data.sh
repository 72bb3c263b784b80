#!/usr/bin/env bash
# WMT19 De->En minus ParaCrawl (paper App. A): lower-cased and tokenized (legonn/recipe/text_norm.py,
# our Moses-like tokenizer; sacremoses is not used), training pairs cleaned with length ratio 1.5
# and at most 80 tokens per side (as for Lee et al.'s Ro-En data):
#   data/{train,valid,test}           for the Ro-En transfer (joint 41K BPE with WMT16 Ro-En)
#   data/{train,valid,test}_nopunct   punctuation stripped too, for the ASR transfers (App. A-B)
# valid = newstest2018, test = newstest2019 (the paper does not name them).
#
# Expected layout under --data_root (= WMT19_DE_EN of db.sh); files are found by name at any depth:
#   europarl-v9.de-en.tsv.gz, news-commentary-v14.de-en.tsv.gz, wikititles-v1.de-en.tsv.gz
#       (TSV: German <tab> English, gzipped or not)
#   commoncrawl.de-en.{de,en}, rapid2019.de-en.{de,en}   (line-parallel)
#   newstest2018-deen-{src,ref}.{de,en}.sgm, newstest2019-deen-{src,ref}.{de,en}.sgm
#   (a WMT21-style NAME.de-en.xml or plain NAME.de + NAME.en also works for a test set)
set -euo pipefail
[ -f ./db.sh ] && . ./db.sh
data_root=${WMT19_DE_EN:-}   # WMT19 De-En folder (see above)
train_corpora="commoncrawl.de-en europarl-v9.de-en news-commentary-v14.de-en rapid2019.de-en wikititles-v1.de-en"
valid=newstest2018
test_sets=newstest2019
ratio=1.5                    # training pairs: max length ratio
max_len=80                   # training pairs: max tokens per side
max_train=0                  # >0: only this many pairs per corpus (quick runs)
. utils/parse_options.sh

get="Get WMT19 De-En (all training corpora but ParaCrawl, dev.tgz, test.tgz) from
https://www.statmt.org/wmt19/translation-task.html, unpack them into one folder and set
WMT19_DE_EN in db.sh (or pass --data_root DIR)."
if [ -z "$data_root" ] || [ ! -d "$data_root" ]; then
  echo "local/data.sh: WMT19 De-En corpus folder not found (data_root='$data_root')." >&2
  echo "$get" >&2
  exit 1
fi
python -m legonn.recipe.wmt --root "$data_root" --src de --tgt en --norm lc_tok --nopunct \
  --train_corpora "$train_corpora" --valid "$valid" --test "$test_sets" \
  --ratio "$ratio" --max_len "$max_len" --max_train "$max_train" --out data --get_help "$get"
