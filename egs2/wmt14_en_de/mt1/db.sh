# Corpus locations for this recipe (empty = not downloaded yet; local/data.sh then says what
# is missing and where to get it). Also settable per run: local/data.sh --data_root DIR.
#
# WMT14 En-De, the "standard 4.5M" training set of Vaswani et al. / Ott et al. (europarl v7 +
# commoncrawl + news-commentary v11) and newstest2011-2016, from https://www.statmt.org/wmt14/
# and /wmt16/translation-task.html. Unpack these into one folder (keep their sub-folders):
#   training-parallel-europarl-v7.tgz  training-parallel-commoncrawl.tgz
#   training-parallel-nc-v11.tgz (WMT16)  dev.tgz (WMT16: newstest2011-2015 sgm)
#   test-full.tgz (WMT14: newstest2014 full)  test.tgz (WMT16: newstest2016 sgm)
WMT14_EN_DE=
