# Source me: puts legonn's venv first on PATH and sets what its tools need offline.
legonn_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$legonn_root/tools/venv/bin:$PATH"
export PYTHONUNBUFFERED=1
# g2p_en downloads NLTK data at import unless it finds it; use the copy among the corpora (the
# data folder run_all.sh reads: LEGONN_DATA, or ../shared/data beside the clone) when present.
legonn_data=${LEGONN_DATA:-$legonn_root/../shared/data}
if [ -z "${NLTK_DATA:-}" ] && [ -d "$legonn_data/nltk_data" ]; then
  export NLTK_DATA=$(cd "$legonn_data/nltk_data" && pwd)
fi
# Spinning OpenMP threads collapse under oversubscription (parallel jobs on few cores): ~10x
# slower training steps were measured here with the default policy.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
