"""Copies a recipe (with the shared TEMPLATE it links to) into a temporary egs2 tree, so tests
run the real scripts without touching the repository's data/, dump/ or exp/."""
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GENERATED = shutil.ignore_patterns("data", "dump", "exp", "mini", "db", "RESULTS*.md")


def copy_recipe(tmp_path: Path, recipe: str) -> Path:
    """recipe like 'multi30k/mt1'; returns the copied recipe directory."""
    egs2 = tmp_path / "egs2"
    shutil.copytree(REPO / "egs2" / "TEMPLATE", egs2 / "TEMPLATE", symlinks=True)
    shutil.copytree(REPO / "egs2" / recipe, egs2 / recipe, symlinks=True, ignore=GENERATED)
    # path.sh finds the environment at ../../../tools from the TEMPLATE.
    (tmp_path / "tools").symlink_to(REPO / "tools")
    return egs2 / recipe


def stub_runner_and_test_set(recipe: Path, runner: str) -> None:
    """What legonn.sh reads around a job, with no real job: ./rec, a stand-in job runner running
    the shell script `runner`; a one-sentence test set; an (empty) model file exp/x/model.pth."""
    (recipe / "rec").write_text(runner)
    (recipe / "rec").chmod(0o755)
    (recipe / "dump" / "test").mkdir(parents=True)
    (recipe / "dump" / "test" / "src_text").write_text("u1 a b\n")
    (recipe / "exp" / "x").mkdir(parents=True)
    (recipe / "exp" / "x" / "model.pth").write_text("")
