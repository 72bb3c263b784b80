# Corpus locations for this recipe (empty = not downloaded yet; local/data.sh then says what
# is missing and where to get it). Also settable per run: local/data.sh --data_root DIR.
#
# Europarl-ST v1.1 (Iranzo-Sanchez et al., ICASSP 2020): https://www.mllp.upv.es/europarl-st/
# (v1.1.tar.gz), unpacked: the folder holding en/audios/*.m4a and en/<tgt>/{train,dev,test}/.
EUROPARL_ST=
