#!/usr/bin/env bash
# The test suite: installs the environment if needed, then runs pytest.
#   ./test/run.sh                 default suite (well under 30 minutes on 2 CPUs)
#   ./test/run.sh -m slow         the longer quality runs only
#   ./test/run.sh -n 0            on one process (default: one pytest-xdist worker per core;
#                                 a file's tests stay together, see test/conftest.py)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash tools/install.sh
. tools/activate.sh
marker=(-m "not slow")
for arg in "$@"; do [ "$arg" = "-m" ] && marker=(); done
exec python -m pytest -q -p no:cacheprovider -n "$(nproc)" --dist loadgroup "${marker[@]}" "$@" test
