"""RESULTS.md for the Multi30k recipe: one table per claim of the paper (Tables I, III, IX, X,
Fig. 4), filled from exp/*/decode_*/score*/score.json; n/a = that run has not happened yet."""
import argparse

from legonn.recipe.results import (
    bleu,
    distinct_hypotheses,
    environment,
    fmt,
    score,
    search_used,
    table,
    train_logs,
    train_minutes,
    train_updates,
)

DE_MODELS = [("de_encdec", "Baseline enc-dec"), ("de_encdec_seed2", "Baseline enc-dec, seed 2"),
             ("de_legonn_wemb", "LegoNN WEmb"), ("de_legonn_wemb_seed2", "LegoNN WEmb, seed 2"),
             ("de_legonn_wemb_kd", "LegoNN WEmb, CTC targets distilled from the enc-dec (beyond the paper)"),
             ("de_legonn_beamconv", "LegoNN BeamConv"), ("de_ctc", "LegoNN encoder only (CTC)"),
             ("de_legonn_nogrounding", "WEmb without CTC grounding / OLC (Table X)")]
# trained only when run.sh names them (beyond the paper): their rows and table appear once they are
BEYOND_DEFAULTS = {"de_legonn_wemb_kd"}
SWAPS = [("seed swap", "de_legonn_wemb", "de_legonn_wemb_seed2"),
         ("seed swap", "de_legonn_wemb_seed2", "de_legonn_wemb"),
         ("architecture swap", "de_legonn_wemb", "de_legonn_beamconv"),
         ("architecture swap", "de_legonn_beamconv", "de_legonn_wemb"),
         ("decoder plug", "de_ctc", "de_legonn_wemb"),
         ("decoder plug", "de_ctc", "de_legonn_beamconv"),
         ("seed swap, enc-dec baseline", "de_encdec", "de_encdec_seed2"),
         ("seed swap, enc-dec baseline", "de_encdec_seed2", "de_encdec"),
         ("seed swap, no CTC grounding (Table X)", "de_legonn_nogrounding", "de_legonn_nogrounding_seed2")]


def interface_brevity(exp, tag: str, test_set: str, encoder_only: bool = False) -> float | None:
    numbers = score(exp, tag, test_set, "score_bleu" if encoder_only or tag.endswith("_ctc") else "score_interface0")
    return None if numbers is None else numbers["detokenized"]["brevity_penalty"]


def de_en_table(exp) -> list:
    baseline = bleu(exp, "de_encdec", "test_de")
    rows = []
    for tag, what in DE_MODELS:
        own = bleu(exp, tag, "test_de")
        if own is None and tag in BEYOND_DEFAULTS:
            continue
        has_interface = "encdec" not in tag and "nogrounding" not in tag
        interface = bleu(exp, tag, "test_de", "score_bleu" if tag == "de_ctc" else "score_interface0")
        rows.append([what, f"`{tag}`", fmt(own),
                     fmt(None if own is None or baseline is None else own - baseline, 1) if tag != "de_encdec" else "-",
                     fmt(bleu(exp, tag, "test_de", kind="tokenized")),
                     fmt(interface) if has_interface else "-",
                     fmt(interface_brevity(exp, tag, "test_de"), 2) if has_interface else "-",
                     distinct_hypotheses(exp, tag, "test_de") or "n/a",
                     train_updates(exp, tag) or "n/a", fmt(train_minutes(exp, tag)),
                     search_used(exp, tag, "test_de") or "n/a"])
    return ["## De-En: LegoNN against its baseline (Tables I, IX)", "",
            "Enc. BLEU and Enc. BP: the greedy CTC output of the encoder module at its English "
            "interface, and its brevity penalty (below 1: the interface writes too few words); "
            "bp<P>: read with a blank penalty P.", "",
            table(["model", "exp", "BLEU", "vs enc-dec", "tok. BLEU", "Enc. BLEU", "Enc. BP", "distinct",
                   "epochs / updates", "train min", "search"], rows), ""]


def modularity_table(exp) -> list:
    rows = []
    for test, encoder, decoder in SWAPS:
        swapped = bleu(exp, f"swap_{encoder}+{decoder}", "test_de")
        reference, shipped = bleu(exp, decoder, "test_de"), ""
        if reference is None:  # a swap under --de_wemb shipped read the shipped float16 copy of this decoder
            reference = bleu(exp, f"{decoder}_shipped", "test_de")
            shipped = f" (`{decoder}_shipped`)" if reference is not None else ""
        percent = None if swapped is None or not reference else 100 * swapped / reference
        rows.append([test, f"`{encoder}`", f"`{decoder}`", fmt(swapped), fmt(reference) + shipped, fmt(percent),
                     distinct_hypotheses(exp, f"swap_{encoder}+{decoder}", "test_de") or "n/a"])
    return ["## Modularity on De-En (Fig. 4, Table X)", "",
            "The encoder module of one model under the decoder module of another, no fine-tuning; "
            "reference: the decoder's own model (where this exp/ has only its shipped modules, their "
            "composition). distinct: different translations of the test "
            "sentences (a decoder that ignores its input keeps its BLEU with few).", "",
            table(["test", "encoder from", "decoder from", "BLEU", "reference BLEU", "% of reference",
                   "distinct"], rows), ""]


FURTHER_TRAINED = [("the encoder module, by CTC alone", "the references", "de_wemb_encoder_ref"),
                   ("the encoder module, by CTC alone", "the WEmb model's translations (distilled)",
                    "de_wemb_encoder_kd"),
                   ("the whole model, by CE on the references and CTC", "the references", "finetune_de_wemb_ref"),
                   ("the whole model, by CE on the references and CTC", "the WEmb model's translations (distilled)",
                    "finetune_de_wemb_kd")]


def further_training_table(exp) -> list:
    if not any(score(exp, tag, "test_de") for *_, tag in FURTHER_TRAINED):
        return []  # trained only when named
    start = next((tag for tag in ("de_legonn_wemb", "de_legonn_wemb_shipped") if score(exp, tag, "test_de")),
                 "de_legonn_wemb")
    rows = [["nothing (the WEmb model as trained)", "-", f"`{start}`",
             fmt(bleu(exp, start, "test_de", "score_interface0")), fmt(interface_brevity(exp, start, "test_de"), 2),
             fmt(bleu(exp, start, "test_de")), "-", "-"]]
    for trained, targets, tag in FURTHER_TRAINED:
        encoder_only = tag.startswith("de_wemb_encoder")
        # an encoder module alone is read under the WEmb model's decoder module (run.sh: plug_<tag>+...)
        translated = f"plug_{tag}+de_legonn_wemb" if encoder_only else tag
        rows.append([trained, targets, f"`{tag}`",
                     fmt(bleu(exp, tag, "test_de", "score_bleu" if encoder_only else "score_interface0")),
                     fmt(interface_brevity(exp, tag, "test_de", encoder_only), 2),
                     fmt(bleu(exp, translated, "test_de")),
                     train_updates(exp, tag) or "n/a", fmt(train_minutes(exp, tag))])
    return ["## De-En: the WEmb model trained further with CTC targets it distilled (beyond the paper)", "",
            "The De-En LegoNN WEmb model, trained on for a few epochs of the same sentences with its "
            "own translations of them as the CTC targets (sequence-level knowledge distillation), "
            "against the same with the references. Enc. BLEU / BP: greedy CTC output at the "
            "interface (blank penalty as in the De-En table); BLEU: through the WEmb model's "
            "decoder module (an encoder module trained alone: under the unchanged decoder, no "
            "fine-tuning).", "",
            table(["what was trained", "CTC targets", "exp", "Enc. BLEU", "Enc. BP", "BLEU", "epochs / updates",
                   "train min"], rows), ""]


# (what, tag, blocks, the enc-dec of as many blocks): where the WEmb model's extra layers go
INTERFACE_EXPLORATIONS = [
    ("Baseline enc-dec", "de_encdec", 7, None),
    ("LegoNN WEmb (the recipe's)", "de_legonn_wemb", 7, "de_encdec"),
    ("LegoNN WEmb, seed 2", "de_legonn_wemb_seed2", 7, "de_encdec"),
    ("LegoNN BeamConv", "de_legonn_beamconv", 7, "de_encdec"),
    ("Baseline enc-dec, 6-layer encoder", "de_encdec_enc6", 9, None),
    ("LegoNN WEmb, 4-layer encoder, no uniform copy", "de_legonn_wemb_enc4", 9, "de_encdec_enc6"),
    ("LegoNN WEmb, 3 OLC layers, no uniform copy", "de_legonn_wemb_olc3", 9, "de_encdec_enc6")]
# valid_de decoded by run.sh (decode_valid_de), or by legonn.sh naming the recipe's search
# explicitly, which names its folder after it
VALID_SEARCHES = ("", "beam5_lp1.0_bp1.0")


def valid_bleu(exp, tag: str, where: str = "score_bleu") -> float | None:
    return next((b for t in VALID_SEARCHES if (b := bleu(exp, tag, "valid_de", where, inference_tag=t)) is not None),
                None)


def interface_gap_table(exp) -> list:
    def minus(a, b):
        return None if a is None or b is None else a - b

    rows = []
    for what, tag, blocks, baseline_tag in INTERFACE_EXPLORATIONS:
        own, interface = bleu(exp, tag, "test_de"), bleu(exp, tag, "test_de", "score_interface0")
        if baseline_tag:  # a LegoNN model: its interface, and both against the enc-dec of its size
            baseline = bleu(exp, baseline_tag, "test_de")
            against = [fmt(minus(own, baseline), 1), fmt(interface), fmt(interface_brevity(exp, tag, "test_de"), 2),
                       fmt(minus(baseline, interface), 1)]
            valid_interface = fmt(valid_bleu(exp, tag, "score_interface0"))
        else:
            against, valid_interface = ["-"] * 4, "-"
        rows.append([what, f"`{tag}`", blocks, fmt(own), *against, fmt(valid_bleu(exp, tag)), valid_interface,
                     train_updates(exp, tag) or "n/a", fmt(train_minutes(exp, tag))])
    return ["## De-En: where the layers go, and the interface's gap (explorations beyond the recipe's configs)", "",
            "The recipe's LegoNN models (encoder 2 layers, OLC 1, ingestor 1, decoder 3: 7 blocks, as "
            "their enc-dec baseline's 4 + 3), and the WEmb model with 2 more blocks before the OLC or "
            "after it, its queries without the uniform copy (`conf/train_legonn_{wemb_enc4,wemb_olc3}.yaml`), "
            "against the enc-dec of as many blocks (`conf/train_encdec_enc6.yaml`). vs enc-dec and Enc. "
            "gap: against the enc-dec of the same number of blocks; valid: valid_de (1014 sentences), "
            "the same search.", "",
            table(["model", "exp", "blocks", "BLEU", "vs enc-dec", "Enc. BLEU", "Enc. BP", "Enc. gap",
                   "valid BLEU", "valid Enc. BLEU", "epochs / updates", "train min"], rows), ""]


SLICE_ENCODERS = [("ctc", "encoder module"),
                  ("ctc_from_de", "De-En encoder module with a new source embedding")]


def transfer_tables(exp, sizes) -> list:
    out = ["## Decoder transfer to low-resource pairs (Table III, App. F, Table VI)", "",
           "Per slice size n (Fr/Cs captions held out of De-En training, nested slices): an enc-dec "
           "trained on the slice; the slice's encoder-only CTC module read by greedy CTC; that "
           "module under the De-En decoder modules with no fine-tuning; the WEmb composition "
           "fine-tuned end to end on the slice. The encoder module is trained on the slice from "
           "random weights (the paper's), or starts from the De-En LegoNN WEmb encoder and trains "
           "only a new source embedding (`--low_from_de`, beyond the paper).", ""]
    for src in ("fr", "cs"):
        baseline = ("enc-dec trained on the slice", "{src}_low{n}_encdec")
        variants = [[(f"{what}, greedy CTC", f"{{src}}_low{{n}}_{kind}"),
                     (f"{what} + De-En WEmb decoder, no fine-tuning", f"transfer_{{src}}_low{{n}}_{kind}+de_legonn_wemb"),
                     (f"{what} + De-En BeamConv decoder, no fine-tuning",
                      f"transfer_{{src}}_low{{n}}_{kind}+de_legonn_beamconv"),
                     (f"{what} + De-En WEmb decoder, fine-tuned on the slice",
                      f"finetune_transfer_{{src}}_low{{n}}_{kind}+de_legonn_wemb")] for kind, what in SLICE_ENCODERS]
        systems = [baseline] + [system for variant in variants for system in variant]
        grid = {tag: {n: bleu(exp, tag.format(src=src, n=n), f"test_{src}") for n in sizes} for _, tag in systems}
        rows = [[what] + [fmt(grid[tag][n]) for n in sizes] for what, tag in systems]
        out += [f"### {src.capitalize()}-En, BLEU on test_2016_flickr by slice size", "",
                table(["system"] + [f"n={n}" for n in sizes], rows), ""]
        for (_, what), variant in zip(SLICE_ENCODERS, variants):
            out += [f"Crossing, {what}: " + crossing(grid[baseline[1]], grid[variant[1][1]], grid[variant[3][1]], sizes), ""]
    return out


def crossing(baseline, transfer, finetuned, sizes) -> str:
    """Where the transferred decoder stops beating the slice's own enc-dec."""
    measured = [n for n in sizes if baseline[n] is not None and transfer[n] is not None]
    if not measured:
        return "not measured yet."
    wins = [n for n in measured if transfer[n] > baseline[n]]
    gains = [f"n={n}: {finetuned[n] - baseline[n]:+.1f}" for n in measured if finetuned[n] is not None]
    where = (f"the transferred decoder beats the slice's enc-dec at n = {', '.join(map(str, wins))}"
             if wins else "the slice's enc-dec wins at every measured size")
    return (f"{where} (measured: {', '.join(map(str, measured))}). Fine-tuned minus "
            f"enc-dec: {'; '.join(gains) if gains else 'not measured yet'}.")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--exp", default="exp")
    parser.add_argument("--low_sizes", default="500 1000 2000 4000")
    parser.add_argument("--run", default="", help="how the run was made (a paragraph of its own)")
    args = parser.parse_args()
    sizes = [int(n) for n in args.low_sizes.split()]
    # whose trainer's log tells how this exp/ was trained (an exploration's exp/ may hold only the larger enc-dec)
    trained_baseline = next((tag for tag in ("de_encdec", "de_encdec_enc6") if train_logs(args.exp, tag)), "de_encdec")
    out = ["# Multi30k (de/fr/cs -> en) LegoNN results", "",
           "Produced by `local/results.py` (stage 7 of `run.sh`) from `exp/*/decode_*/score*/score.json`. "
           "BLEU: sacreBLEU (13a, detokenized) on all 1000 sentences of test_2016_flickr; tok. BLEU: "
           "lower-cased whitespace tokens of the raw text. epochs / updates: from the trainer's log; "
           "train min: wall time of the training job(s). n/a: not run yet.", "",
           *([args.run, ""] if args.run else []),
           "## Environment", "", *environment(args.exp, trained_baseline), ""]
    out += (de_en_table(args.exp) + further_training_table(args.exp) + interface_gap_table(args.exp)
            + modularity_table(args.exp)
            + transfer_tables(args.exp, sizes))
    print("\n".join(out))


if __name__ == "__main__":
    main()
