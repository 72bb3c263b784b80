#!/usr/bin/env bash
# Creates (once) the Python environment legonn runs in and links it at tools/venv.
# The venv lives outside the clone, keyed on setup.py, so fresh clones and CI reuse it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
key=$(sha1sum "$root/setup.py" | cut -c1-12)
venv=${LEGONN_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/legonn/venv-$key}

if [ ! -f "$venv/.complete" ]; then
  echo "[install] creating $venv (first time only: about 5 minutes, 5.5 GB)"
  rm -rf "$venv"
  "${PYTHON:-python3}" -m venv "$venv"
  # espnet 202511 has a dependency with a direct-URL requirement that pip >= 25 refuses.
  "$venv/bin/pip" install -q "pip<25" wheel
  "$venv/bin/pip" install -q -e "$root[test]"
  touch "$venv/.complete"
elif ! "$venv/bin/python" -c "import legonn, os, sys; sys.exit(os.path.dirname(legonn.__path__[0]) != '$root')" 2>/dev/null; then
  # Same environment, another clone: point the editable install at this one.
  "$venv/bin/pip" install -q --no-deps -e "$root"
fi
# Test tools not in setup.py, whose hash keys the venv: the linter test/test_style.py runs, and
# pytest-xdist, which ./test/run.sh spreads the suite over the cores with.
[ -x "$venv/bin/ruff" ] || "$venv/bin/pip" install -q "ruff==0.17.6"   # pinned: a new release may add findings
"$venv/bin/python" -c "import xdist" 2>/dev/null || "$venv/bin/pip" install -q "pytest-xdist==3.8.0"
# pytest 9 ignores the node ids that xdist 3.8 marks its groups in: --dist loadgroup would spread a
# file's tests over the workers, each building that file's module fixtures (a mini recipe) again.
"$venv/bin/python" -c "import pytest, sys; sys.exit(int(pytest.__version__.split('.')[0]) >= 9)" 2>/dev/null ||
  "$venv/bin/pip" install -q "pytest==8.4.2"
ln -sfn "$venv" "$root/tools/venv"
echo "[install] environment ready: tools/venv -> $venv"
