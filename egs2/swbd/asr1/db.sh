# Corpus locations for this recipe (empty = not available yet; local/data.sh then says what is
# missing and where to get it). Also settable per run: local/data.sh --swbd DIR ...
#
# Switchboard-1 Release 2 (LDC97S62, https://catalog.ldc.upenn.edu/LDC97S62): the folder
# holding swb1_d1 ... swb1_d4 (each with data/*.sph).
SWBD=
# ISIP ms98 word alignments/transcripts (swb_ms98_transcriptions.tar.gz, the file Kaldi's
# swbd1_data_download.sh fetches from https://www.openslr.org/resources/5/): the
# swb_ms98_transcriptions folder. Empty: $SWBD/transcriptions/swb_ms98_transcriptions.
SWBD_TRANSCRIPTIONS=
# 2000 HUB5 English Evaluation Speech (LDC2002S09): the hub5e_00 folder (english/*.sph).
EVAL2000_SPEECH=
# 2000 HUB5 English Evaluation Transcripts (LDC2002T43): the folder holding
# reference/hub5e00.english.000405.stm.
EVAL2000_TRANSCRIPTS=
