#!/usr/bin/env bash
# Switchboard 300h + HUB5 Eval2000 (paper IV-A, following ESPnet's swbd data preparation, see
# local/prepare_swbd.py): data/train (train_nodup), data/valid (the first 4000 utterances,
# ESPnet's train_dev), data/eval2000 and its SWB and CallHome halves data/eval2000_{swb,ch};
# wav.scp = sph2pipe commands (one conversation side, one segment) upsampled to 16 kHz by sox.
#
# Expected layout (db.sh variables, or --swbd, --swbd_transcriptions, --eval2000_speech,
# --eval2000_transcripts):
#   $SWBD/swb1_d{1,2,3,4}/data/sw0NNNN.sph                       LDC97S62 (any depth)
#   $SWBD_TRANSCRIPTIONS/NN/NNNN/swNNNN{A,B}-ms98-a-trans.text   ISIP ms98 transcripts
#       lines "sw2001A-ms98-a-0001 0.000000 0.977625 [silence]"
#   $EVAL2000_SPEECH/english/{en,sw}_NNNN.sph                    LDC2002S09 (hub5e_00)
#   $EVAL2000_TRANSCRIPTS/reference/hub5e00.english.000405.stm   LDC2002T43
set -euo pipefail
[ -f ./db.sh ] && . ./db.sh
swbd=${SWBD:-}                       # Switchboard-1 LDC97S62 folder
data_root=                           # same as --swbd (legonn.sh --data_root passes it so)
swbd_transcriptions=${SWBD_TRANSCRIPTIONS:-}
eval2000_speech=${EVAL2000_SPEECH:-}
eval2000_transcripts=${EVAL2000_TRANSCRIPTS:-}
sph2pipe=sph2pipe                    # Kaldi's tools/sph2pipe_v2.5/sph2pipe (shorten-compressed sph)
sox=sox                              # upsamples 8 kHz to 16 kHz (ESPnet's swbd recipe does too)
sample_rate=16000                    # 8000: no upsampling (needs make_fbank --sample_rate 8000,
                                     # which legonn.sh stage 3 does not pass yet)
num_valid=4000
. utils/parse_options.sh
[ -n "$data_root" ] && swbd=$data_root
[ -n "$swbd_transcriptions" ] || swbd_transcriptions=$swbd/transcriptions/swb_ms98_transcriptions

problems=()
[ -n "$swbd" ] && [ -d "$swbd" ] || problems+=("Switchboard-1 LDC97S62 (SWBD in db.sh or --swbd: '$swbd'), https://catalog.ldc.upenn.edu/LDC97S62")
[ -d "$swbd_transcriptions" ] || problems+=("ISIP ms98 transcripts (SWBD_TRANSCRIPTIONS or --swbd_transcriptions: '$swbd_transcriptions'), swb_ms98_transcriptions.tar.gz from https://www.openslr.org/resources/5/")
[ -n "$eval2000_speech" ] && [ -d "$eval2000_speech" ] || problems+=("HUB5 Eval2000 speech LDC2002S09 (EVAL2000_SPEECH or --eval2000_speech: '$eval2000_speech'), https://catalog.ldc.upenn.edu/LDC2002S09")
[ -n "$eval2000_transcripts" ] && [ -d "$eval2000_transcripts" ] || problems+=("HUB5 Eval2000 transcripts LDC2002T43 (EVAL2000_TRANSCRIPTS or --eval2000_transcripts: '$eval2000_transcripts'), https://catalog.ldc.upenn.edu/LDC2002T43")
if [ ${#problems[@]} -gt 0 ]; then
  echo "local/data.sh: corpus not found:" >&2
  printf '  - %s\n' "${problems[@]}" >&2
  echo "Set the paths in db.sh (or pass them as options); the expected layout is in local/data.sh." >&2
  exit 1
fi
tools=("$sph2pipe"); [ "$sample_rate" = 16000 ] && tools+=("$sox")
for tool in "${tools[@]}"; do
  if ! command -v "$tool" > /dev/null; then
    echo "local/data.sh: $tool not found: wav.scp needs it (sph2pipe: Kaldi's tools/extras; sox: your" \
         "package manager); install it or pass --sph2pipe/--sox PATH." >&2
    exit 1
  fi
done
python local/prepare_swbd.py --swbd "$swbd" --transcripts "$swbd_transcriptions" \
  --eval2000_speech "$eval2000_speech" --eval2000_transcripts "$eval2000_transcripts" \
  --sph2pipe "$sph2pipe" --sox "$sox" --sample_rate "$sample_rate" --num_valid "$num_valid" --out data
