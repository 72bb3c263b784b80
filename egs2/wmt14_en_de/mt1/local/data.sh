#!/usr/bin/env bash
# WMT14 En->De (paper IV-B): data/train (4.5M pairs, cleaned with length ratio 1.5 and at most
# 250 tokens per side), data/valid (newstest2013), data/test_newstestYYYY for 2011, 2012, 2014
# (full), 2015, 2016, and data/test (all five). Raw, true-cased text: the shared 32K vocabulary is
# learned on it in stage 2.
#
# Expected layout under --data_root (= WMT14_EN_DE of db.sh); files are found by name at any depth:
#   training/europarl-v7.de-en.{de,en}             training-parallel-europarl-v7.tgz
#   commoncrawl.de-en.{de,en}                       training-parallel-commoncrawl.tgz
#   training-parallel-nc-v11/news-commentary-v11.de-en.{de,en}   training-parallel-nc-v11.tgz
#   dev/newstest{2011,2012,2013}-{src,ref}.{en,de}.sgm           dev.tgz
#   test-full/newstest2014-deen-{src,ref}.{en,de}.sgm            test-full.tgz (WMT14)
#   dev/newstest2015-ende-{src,ref}.{en,de}.sgm, test/newstest2016-ende-{src,ref}.{en,de}.sgm
# (a WMT21-style NAME.en-de.xml or plain NAME.en + NAME.de also works for a test set).
set -euo pipefail
[ -f ./db.sh ] && . ./db.sh
data_root=${WMT14_EN_DE:-}   # WMT14 En-De folder (see above)
train_corpora="europarl-v7.de-en commoncrawl.de-en news-commentary-v11.de-en"
valid=newstest2013
test_sets="newstest2011 newstest2012 newstest2014 newstest2015 newstest2016"
ratio=1.5                    # training pairs: max length ratio (clean-corpus-n.perl -ratio)
max_len=250                  # training pairs: max tokens per side
max_train=0                  # >0: only this many pairs per corpus (quick runs)
. utils/parse_options.sh

get="Get WMT14 En-De from https://www.statmt.org/wmt14/translation-task.html (europarl v7, commoncrawl,
test-full) and https://www.statmt.org/wmt16/translation-task.html (news-commentary v11, dev.tgz,
test.tgz), unpack them into one folder and set WMT14_EN_DE in db.sh (or pass --data_root DIR)."
if [ -z "$data_root" ] || [ ! -d "$data_root" ]; then
  echo "local/data.sh: WMT14 En-De corpus folder not found (data_root='$data_root')." >&2
  echo "$get" >&2
  exit 1
fi
python -m legonn.recipe.wmt --root "$data_root" --src en --tgt de --norm none \
  --train_corpora "$train_corpora" --valid "$valid" --test "$test_sets" \
  --ratio "$ratio" --max_len "$max_len" --max_train "$max_train" --out data --get_help "$get"
