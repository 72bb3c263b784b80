# Corpus locations for this recipe (empty = not downloaded yet; local/data.sh then says what
# is missing and where to get it). Also settable per run: local/data.sh --data_root DIR.
#
# TED-LIUM release 3 (Hernandez et al. 2018): https://www.openslr.org/51/ (TEDLIUM_release-3.tgz),
# unpacked: the TEDLIUM_release-3 folder (data/{stm,sph}/, legacy/{dev,test}/{stm,sph}/).
TEDLIUM3=
