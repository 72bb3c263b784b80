"""RESULTS.md for the Multi30k recipe: tables in the layout of the paper's Tables I, III, IX,
X and Fig. 4, filled from exp/*/decode_*/score*/score.json (n/a = that run did not happen)."""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))
from legonn.recipe.results import bleu, distinct_hypotheses, fmt, legonn_commit, table, train_minutes, train_updates  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--exp", default="exp")
    exp = parser.parse_args().exp
    out = ["# Multi30k (de/fr/cs -> en) LegoNN results", "",
           "Produced by `local/results.py` (stage 7 of `run.sh`) from the score files in `exp/`. "
           "BLEU on test_2016_flickr: detokenized sacreBLEU (13a) and tokenized (lower-cased, "
           "whitespace tokens of the raw text). Enc. BLEU: greedy CTC output of the encoder module "
           "(Table IX). distinct: how many different translations a system gave for the test "
           "sentences; a decoder with few ignores its input, and swaps that keep its BLEU then say "
           "nothing about modularity.", "",
           "Run: `./run.sh` with its defaults (5000 De-En training sentences, 1000-sentence Fr/Cs "
           "slices, 500 test sentences, 128-dim models: what 2 CPUs allow); epochs / updates: "
           "training passes and optimizer steps, from the trainer's log; train min is the "
           "wall time of each training job. Logs: `exp/<exp>/train.log`, "
           "`exp/<exp>/decode_<set>/log/`, scores: `exp/<exp>/decode_<set>/score_*/score.json`. "
           "These models are far from converged, so the BLEU values are small and the "
           "percentages noisy; they are not comparable to the paper's. n/a: not run in the time "
           "available.", ""]

    rows = []
    for tag, what in [("de_encdec", "Baseline enc-dec"), ("de_encdec_seed2", "Baseline enc-dec, seed 2"),
                      ("de_ctc", "LegoNN encoder only (CTC)"),
                      ("de_legonn_beamconv", "LegoNN BeamConv"), ("de_legonn_wemb", "LegoNN WEmb"),
                      ("de_legonn_wemb_seed2", "LegoNN WEmb, seed 2"),
                      ("de_legonn_nogrounding", "WEmb without CTC grounding / OLC")]:
        enc = "score_bleu" if tag == "de_ctc" else "score_interface0"
        rows.append([what, f"`{tag}`", fmt(bleu(exp, tag, "test_de")),
                     fmt(bleu(exp, tag, "test_de", kind="tokenized")),
                     fmt(bleu(exp, tag, "test_de", enc)) if "encdec" not in tag else "-",
                     distinct_hypotheses(exp, tag, "test_de") or "n/a", train_updates(exp, tag) or "n/a",
                     fmt(train_minutes(exp, tag))])
    out += ["## De-En performance (Table I / IX)", "",
            table(["model", "exp", "BLEU", "tok. BLEU", "Enc. BLEU", "distinct", "epochs / updates",
                   "train min"], rows), ""]

    rows = []
    for src in ("fr", "cs"):
        def row(system, tag):
            return [src, system, f"`{tag}`", fmt(bleu(exp, tag, f"test_{src}")),
                    fmt(bleu(exp, tag, f"test_{src}", kind="tokenized")),
                    distinct_hypotheses(exp, tag, f"test_{src}") or "n/a",
                    train_updates(exp, tag) or "-"]
        rows.append(row("enc-dec trained on the slice", f"{src}_low_encdec"))
        rows.append(row("encoder module only (greedy CTC)", f"{src}_low_ctc"))
        for dec in ("legonn_wemb", "legonn_beamconv"):
            rows.append(row(f"encoder module + De-En {dec} decoder, no fine-tuning",
                            f"transfer_{src}_low_ctc+de_{dec}"))
        rows.append(row("... + fine-tuned end-to-end", f"finetune_transfer_{src}_low_ctc+de_legonn_wemb"))
    out += ["## Module transfer to low-resource pairs (Table III, App. F, Table VI)", "",
            table(["source", "system", "exp", "BLEU", "tok. BLEU", "distinct", "epochs / updates"], rows), ""]

    rows = []
    for test, encoder, decoder in [
            ("seed swap", "de_legonn_wemb", "de_legonn_wemb_seed2"),
            ("seed swap", "de_legonn_wemb_seed2", "de_legonn_wemb"),
            ("seed swap (enc-dec baseline)", "de_encdec", "de_encdec_seed2"),
            ("seed swap (enc-dec baseline)", "de_encdec_seed2", "de_encdec"),
            ("seed swap (no CTC grounding, Table X)", "de_legonn_nogrounding", "de_legonn_nogrounding_seed2"),
            ("architecture swap", "de_legonn_wemb", "de_legonn_beamconv"),
            ("architecture swap", "de_legonn_beamconv", "de_legonn_wemb"),
            ("decoder plug", "de_ctc", "de_legonn_wemb"),
            ("decoder plug", "de_ctc", "de_legonn_beamconv")]:
        swapped = bleu(exp, f"swap_{encoder}+{decoder}", "test_de")
        reference = bleu(exp, decoder, "test_de")
        percent = None if swapped is None or not reference else 100 * swapped / reference
        rows.append([test, f"`{encoder}`", f"`{decoder}`", fmt(swapped), fmt(reference), fmt(percent),
                     distinct_hypotheses(exp, f"swap_{encoder}+{decoder}", "test_de") or "n/a"])
    out += ["## Modularity tests on De-En (Fig. 4; reference = the decoder's own model)", "",
            table(["test", "encoder from", "decoder from", "BLEU", "reference BLEU", "% of reference",
                   "distinct"], rows), ""]
    out += [f"legonn commit: {legonn_commit()}", ""]
    print("\n".join(out))


if __name__ == "__main__":
    main()
