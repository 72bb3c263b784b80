import os
import subprocess
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
# The corpora, where run_all.sh looks for them: LEGONN_DATA, or ../shared/data beside the clone.
SHARED_DATA = Path(os.environ.get("LEGONN_DATA", REPO.parent / "shared" / "data"))


def _activated_environment() -> dict:
    """The variables tools/activate.sh sets (NLTK_DATA, thread policy...), the one place the
    recipes and ./test/run.sh take them from; a pytest started directly gets the same."""
    shell = f". {REPO / 'tools' / 'activate.sh'} && env -0"
    output = subprocess.run(["bash", "-c", shell], capture_output=True, check=True).stdout
    variables = dict(item.split("=", 1) for item in output.decode().split("\0") if "=" in item)
    return {name: value for name, value in variables.items()
            if os.environ.get(name) != value and name not in ("_", "SHLVL", "PWD", "OLDPWD")}


os.environ.update(_activated_environment())
# ./test/run.sh runs the suite on one pytest-xdist worker per core: each worker's processes (and
# the recipes they start) get one thread, so that the workers do not contend for the cores.
WORKER_THREADS = 1 if "PYTEST_XDIST_WORKER" in os.environ else 2
if WORKER_THREADS == 1:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
# As in legonn's commands, ESPnet's typeguard instrumentation is skipped (legonn/bin/__init__.py).
import legonn.bin  # noqa: E402,F401

# The files whose module fixtures run whole mini recipes, longest first: under pytest-xdist they
# start first, so that the short files fill the other workers' time instead of trailing them.
LONGEST_FIRST = ["test_recipe_mt", "test_recipe_an4", "test_recipe_multi30k_speech", "test_ddp"]


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups marked here
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (--dist loadgroup), a file's tests run on one worker, so that its module
    fixtures (a recipe run) are built once, and the fault-injection files share one worker: one
    toy recipe and one faults table for all of them (test/faults_common.py). Groups are handed
    out in the order of the items: the longest first."""
    for item in items:
        name = item.path.stem
        item.add_marker(pytest.mark.xdist_group("faults" if name.startswith("test_faults_") else name))
    rank = {name: position for position, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))  # stable: file order otherwise


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)
    torch.set_num_threads(WORKER_THREADS)


@pytest.fixture(scope="session")
def fault_toy(tmp_path_factory):
    """The toy recipe every case of test/test_faults_*.py runs in, built once a session (the
    faults table is written when the session ends); see test/faults_common.py."""
    from test.faults_common import toy_session

    yield from toy_session(tmp_path_factory)
