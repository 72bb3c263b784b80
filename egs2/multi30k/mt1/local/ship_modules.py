"""Copies trained module archives into the recipe's pretrained/ folder at half precision, and
records what each composition of them scored in the recipe, so that users (and the test that
guards the shipped files) can compose and decode them without training.

    python local/ship_modules.py --out_dir pretrained \\
        --module de_en_wemb_decoder=exp/de_legonn_wemb/modules/decoder.zip ... \\
        --reference de_en_wemb_encoder+de_en_wemb_decoder=exp/de_legonn_wemb/decode_test_de

A reference names a composition (shipped module names joined by '+', encoder first) and the
recipe's decoding of it with the full-precision modules; scores.json gets its BLEU on all test
sentences and on the first --first of them, and its search options (what the test re-decodes
from the shipped files, with the same search).
Each shipped archive carries a model card (README.md) with its experiment's RESULTS.md rows.
Weights load back into float32 models unchanged in shape: load_state_dict casts them.
"""
import argparse
import json
import tempfile
from dataclasses import fields, replace
from pathlib import Path

import yaml

from legonn.inference import SearchOptions
from legonn.modelcard import module_card
from legonn.modules import read_module, write_module
from legonn.recipe.results import fmt, table, train_minutes, train_updates
from legonn.scoring.bleu import corpus_bleu
from legonn.utils import atomic_path, read_kaldi_text

SEARCH_FIELDS = [field.name for field in fields(SearchOptions)]


def ship(archive: Path, out: Path, results: Path) -> None:
    """The module of `archive` with float16 weights and a model card (its RESULTS.md rows)."""
    with tempfile.TemporaryDirectory() as tmp:
        module = read_module(archive, tmp)
        module = replace(module, weights={k: v.half() if v.is_floating_point() else v
                                          for k, v in module.weights.items()})
        source = str(archive.parent.parent / "config.yaml")  # exp/<tag>/config.yaml
        write_module(module, out, source=source, readme=module_card(module, out.stem, source, results))


def reference_scores(decode_dir: Path, first: int) -> dict:
    ref_path = json.loads((decode_dir / "score_bleu/score.json").read_text())["ref"]
    hyps, refs = read_kaldi_text(decode_dir / "text"), read_kaldi_text(ref_path)
    search = yaml.safe_load((decode_dir / "search.yaml").read_text())
    ids = sorted(hyps)
    head = set(ids[:first])
    score = lambda keep: corpus_bleu({u: hyps[u] for u in keep}, {u: refs[u] for u in keep}).detokenized.score
    return {"decode_dir": str(decode_dir), "sentences": len(ids), "bleu": round(score(ids), 2),
            f"bleu_first_{first}": round(score(sorted(head)), 2), "first_ids": [ids[0], ids[len(head) - 1]],
            "search": {k: v for k, v in search.items() if k in SEARCH_FIELDS}}


def readme(shipped: dict, scores: dict, first: int) -> str:
    """pretrained/README.md: what each archive is, how it was trained, what it scores."""
    rows = []
    for name, (archive, out) in shipped.items():
        experiment = archive.parent.parent  # exp/<tag>/modules/<module>.zip
        config = yaml.safe_load((experiment / "config.yaml").read_text())["config"]
        rows.append([f"`{name}.zip`", f"`{archive.stem}` of `{experiment.name}`", f"`{config}`",
                     train_updates(experiment.parent, experiment.name) or "n/a",
                     fmt(train_minutes(experiment.parent, experiment.name)), f"{out.stat().st_size / 2**20:.1f}"])
    score_rows = [[" + ".join(f"`{m}`" for m in composition.split("+")), f"`{s['decode_dir']}`",
                   SearchOptions(**s["search"]).describe(),
                   f"{s['bleu']:.1f} ({s['sentences']})", f"{s[f'bleu_first_{first}']:.1f}"]
                  for composition, s in scores.items()]
    return "\n".join([
        "# Shipped LegoNN modules (Multi30k)", "",
        "Written by `local/ship_modules.py` (stage 8 of `run.sh`) from the recipe's own trainings: "
        "module archives with float16 weights (they load into float32 models) and a model card "
        "(README.md inside each archive). Compose them with no training:", "",
        "```bash",
        "python -m legonn.bin.translate --modules pretrained/fr_en_ctc_encoder.zip "
        "pretrained/de_en_wemb_decoder.zip < french_sentences.txt",
        "./run.sh --stage 1 --stop_stage 1 && ./run.sh --stage 9 --stop_stage 9   # decode and score test_de, test_fr",
        "```", "",
        "## Archives", "",
        table(["archive", "module of", "config", "epochs / updates", "train min", "MiB"], rows), "",
        "## Scores", "",
        f"sacreBLEU (13a) on test_2016_flickr, from the recipe's decoding with the float32 modules; "
        f"the first {first} sentences are what `test/test_pretrained_modules.py` decodes again "
        "from these files, with the same search (within 1 BLEU).", "",
        table(["composition", "recipe decoding", "search", "BLEU (sentences)", f"BLEU, first {first}"],
              score_rows), ""])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out_dir", type=Path, required=True)
    parser.add_argument("--module", action="append", default=[], metavar="NAME=ARCHIVE",
                        help="ship ARCHIVE as <out_dir>/NAME.zip")
    parser.add_argument("--reference", action="append", default=[], metavar="A+B=DECODE_DIR",
                        help="the recipe's decoding of the composition of shipped modules A, B")
    parser.add_argument("--results", type=Path, default=Path("RESULTS.md"), help="rows for the model cards")
    parser.add_argument("--first", type=int, default=100, help="sentences the shipped-module test decodes")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    shipped, scores = {}, {}  # name -> (trained archive, shipped archive); composition -> scores
    for spec in args.module:
        name, _, archive = spec.partition("=")
        out = args.out_dir / f"{name}.zip"
        ship(Path(archive), out, args.results)
        shipped[name] = (Path(archive), out)
        print(f"{archive} -> {out} ({out.stat().st_size / 2**20:.1f} MiB, float16)")
    for spec in args.reference:
        composition, _, decode_dir = spec.partition("=")
        missing = [m for m in composition.split("+") if not (args.out_dir / f"{m}.zip").is_file()]
        if missing:
            raise SystemExit(f"--reference {composition}: {missing} not shipped (give them with --module)")
        scores[composition] = reference_scores(Path(decode_dir), args.first)
        print(f"{composition}: {scores[composition]}")
    with atomic_path(args.out_dir / "scores.json") as partial:
        partial.write_text(json.dumps(scores, indent=2) + "\n")
    with atomic_path(args.out_dir / "README.md") as partial:
        partial.write_text(readme(shipped, scores, args.first), encoding="utf-8")


if __name__ == "__main__":
    main()
