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
