"""Specification of the project's own files: one version, a license, no machine paths, and the
test suite's scheduling."""
import os
import re
import subprocess
from pathlib import Path

import pytest

import legonn

REPO = Path(__file__).resolve().parents[1]


def test_the_version_is_written_once_in_setup_py():
    written = re.findall(r'version="([^"]+)"', (REPO / "setup.py").read_text())
    assert len(written) == 1 and legonn.__version__ == written[0]
    assert not re.search(r'__version__ = "\d', (REPO / "legonn" / "__init__.py").read_text())  # no second copy
    assert f"## {written[0]} " in (REPO / "CHANGELOG.md").read_text()


def test_license_is_apache_2():
    assert "Apache License\n                           Version 2.0" in (REPO / "LICENSE").read_text()


def test_documents_name_no_file_of_one_machine():
    # Logs in a temporary folder, or the checkout's absolute path, mean nothing in another clone.
    tracked = subprocess.run(["git", "ls-files", "*.md"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split()
    pattern = re.compile(r"/tmp/|on that machine|on the machine\b|" + re.escape(str(REPO)))
    found = [f"{path}:{n}" for path in tracked
             for n, line in enumerate((REPO / path).read_text(encoding="utf-8").splitlines(), 1)
             if pattern.search(line)]
    assert not found, found


def test_under_xdist_a_files_tests_form_one_group_so_its_module_fixtures_are_built_once(request):
    # ./test/run.sh uses --dist loadgroup: xdist schedules by the group test/conftest.py marks,
    # which it reads from the node id; unmarked tests would be spread one by one over the workers.
    if "PYTEST_XDIST_WORKER" not in os.environ:
        pytest.skip("only under pytest-xdist")
    assert request.node.nodeid.endswith("@test_project")
