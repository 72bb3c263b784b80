# Sourced by legonn.sh: the legonn environment (tools/install.sh creates it).
legonn_tools=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../../../tools" && pwd)
if [ ! -x "$legonn_tools/venv/bin/python" ]; then
  echo "legonn is not installed: run $legonn_tools/install.sh" >&2; exit 1
fi
. "$legonn_tools/activate.sh"
export LC_ALL=C.UTF-8
