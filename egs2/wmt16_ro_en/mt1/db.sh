# Corpus locations for this recipe (empty = not downloaded yet; local/data.sh then says what
# is missing and where to get it). Also settable per run: local/data.sh --data_root DIR.
#
# WMT16 Ro-En as prepared by Lee et al. (2018), "Deterministic non-autoregressive neural sequence
# modeling by iterative refinement" (tokenized, lower-cased, BPE): wmt16.tar.gz from
# https://github.com/nyu-dl/dl4mt-nonauto (Google Drive id 1YrAwCEuktG-iDVxtEW-FE72uFTLc5QMl),
# unpacked: wmt16/en-ro/{train/corpus,dev/dev,test/test}.bpe.{en,ro}
WMT16_RO_EN=
