"""The documented faults table (docs/faults.md) lists every case of test/test_faults_*.py."""
from test.faults_common import REPO, all_cases


def test_docs_table_lists_every_case():
    """docs/faults.md is this suite's table; regenerate it (see test/faults_common.py) when the
    cases change."""
    table = (REPO / "docs" / "faults.md").read_text(encoding="utf-8")
    missing = [c.id for c in all_cases() if f"`{c.id}`" not in table]
    assert not missing, f"docs/faults.md lacks {missing}: regenerate it with LEGONN_FAULTS_TABLE=docs/faults.md"
