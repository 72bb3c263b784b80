# Corpus locations for this recipe (empty = not downloaded yet; local/data.sh then says what
# is missing and where to get it). Also settable per run: local/data.sh --data_root DIR.
#
# WMT19 De-En without ParaCrawl (7.4M pairs, paper App. A-A), from
# https://www.statmt.org/wmt19/translation-task.html, all in one folder (sub-folders kept):
#   europarl-v9.de-en.tsv.gz  news-commentary-v14.de-en.tsv.gz  wikititles-v1.de-en.tsv.gz
#   training-parallel-commoncrawl.tgz (commoncrawl.de-en.{de,en})
#   rapid-2019.de-en.zip (rapid2019.de-en.{de,en})
#   dev.tgz (dev/newstest2018-deen-{src,ref}.{de,en}.sgm)  test.tgz (sgm/newstest2019-deen-*.sgm)
WMT19_DE_EN=
