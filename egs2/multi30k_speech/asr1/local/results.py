"""RESULTS.md for the Multi30k synthetic-speech recipe: WER of the speech models and of the
models composed with the MT recipe's De-En decoder module, in the layout of the paper's
Tables IV-VI, from exp/*/decode_test/score*/score.json (n/a = that run did not happen);
--inference_tag TAG reads another search's decodings (exp/*/decode_test_TAG/). The search
column names the search used.

WER is on the raw captions (case and punctuation count, as the MT decoder writes them);
"norm. WER" lower-cases both sides and strips punctuation (the paper's ASR scoring, App. A-B)."""
import argparse
import os
import re

from legonn.recipe.results import environment, error_rate, fmt, score, search_used, table, train_minutes
from legonn.scoring import read_kaldi_text
from legonn.scoring.wer import error_rate as compute_error_rate

PUNCTUATION = re.compile(r"[^\w\s']|(?<!\w)'|'(?!\w)")


def normalize(text: str) -> str:
    return " ".join(PUNCTUATION.sub(" ", text.lower()).split())


def normalized_wer(exp, tag, test, where="score_wer", inference_tag=""):
    """WER after lower-casing and stripping punctuation, from the files score.json names."""
    numbers = score(exp, tag, test, where, inference_tag)
    if numbers is None:
        return None
    try:
        refs, hyps = read_kaldi_text(numbers["ref"]), read_kaldi_text(numbers["hyp"])
    except (OSError, KeyError):
        return None
    return compute_error_rate({u: normalize(t) for u, t in hyps.items()},
                              {u: normalize(t) for u, t in refs.items()}).rate


def recipe_path(path: str) -> str:
    """`path` relative to the recipe: an absolute one names one machine's checkout."""
    return os.path.relpath(path) if os.path.isabs(path) else path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--exp", default="exp")
    parser.add_argument("--test_set", default="test")
    parser.add_argument("--mt_decoder", default="the MT recipe's decoder module")
    parser.add_argument("--inference_tag", default="", help="another search's decodings (decode_<set>_TAG)")
    args = parser.parse_args()
    exp, test, itag = args.exp, args.test_set, args.inference_tag
    out = ["# Multi30k synthetic English speech: LegoNN ASR and ASR <- MT module transfer", "",
           "**The speech is synthetic** (espeak-ng, see README.md): these numbers show how "
           "modules compose, not how well real speech is recognized.", "",
           "Produced by `local/results.py` (stage 6 of `run.sh`) from the score files in "
           f"`{exp}/`. Test set: `{test}`, captions of Multi30k test_2016_flickr (the MT "
           "recipe's test sentences) spoken by voices unseen in training. WER: beam search "
           "over the decoder module, on the raw captions (where the search column says ctc<w>, "
           "jointly with the CTC prefix scores of the last interface at weight w: ESPnet's hybrid "
           "decoding, beyond the paper; `./run.sh --ctc_weight 0` decodes with the decoder alone); "
           "norm. WER: lower-cased, punctuation "
           "stripped. Enc. WER: greedy CTC output at the English BPE interface; PER: at the "
           f"phone interface. MT decoder module: `{recipe_path(args.mt_decoder)}`.", ""]

    def minutes_and_search(tag, set_name=test):
        """Train minutes (only of a training that reached its scores, not one under way), search."""
        search = search_used(exp, tag, set_name, itag)
        return fmt(train_minutes(exp, tag) if search else None), search or "n/a"

    def row(what, tag, phone=None, english=None):
        return [what, f"`{tag}`", fmt(error_rate(exp, tag, test, inference_tag=itag)),
                fmt(normalized_wer(exp, tag, test, inference_tag=itag)),
                fmt(error_rate(exp, tag, test, english, itag)) if english else "-",
                fmt(error_rate(exp, tag, test, phone, itag)) if phone else "-",
                *minutes_and_search(tag)]

    header = ["system", "exp", "WER %", "norm. WER %", "Enc. WER %", "PER %", "train min", "search"]
    composed = "transfer_legonn_wemb+mt"
    rows = [row("Baseline speech enc-dec", "encdec"),
            row("Sanity baseline (not in the paper): speech enc-dec + joint CTC", "encdec_ctc",
                english="score_interface0"),
            row("LegoNN WEmb speech model (its own decoder)", "legonn_wemb", english="score_interface0"),
            row("its speech encoder module + MT De-En WEmb decoder module, no fine-tuning", composed,
                english="score_interface0"),
            row("... + fine-tuned end-to-end", f"finetune_{composed}", english="score_interface0")]
    out += ["## Speech encoder + MT decoder (paper Tables IV, VI)", "", table(header, rows), ""]

    rows = [["Phoneme recognizer (encoder only, CTC over phones)", "`phone_ctc`", "-", "-", "-",
             fmt(error_rate(exp, "phone_ctc", test, "score_interface0", itag)),
             *minutes_and_search("phone_ctc")],
            row("3-module LegoNN (phones -> English BPE -> its own decoder)", "legonn_3module",
                phone="score_interface0", english="score_interface1"),
            row("its phone + pronunciation modules + MT De-En decoder module", "compose3_legonn_3module+mt",
                phone="score_interface0", english="score_interface1"),
            row("phoneme recognizer + its pronunciation module + MT De-En decoder module, no fine-tuning",
                "compose3_phone_ctc+legonn_3module+mt", phone="score_interface0", english="score_interface1"),
            row("phoneme recognizer + pronunciation module trained from text alone + MT De-En decoder "
                "module, no fine-tuning", "compose3_phone_ctc+pron_text+mt", phone="score_interface0",
                english="score_interface1")]
    out += ["## Three modules from three models (paper Table V)", "", table(header, rows), ""]
    text_test = "text_test"
    rows = [["Pronunciation module trained from text alone (g2p phones -> English BPE)", "`pron_text`",
             fmt(error_rate(exp, "pron_text", text_test, inference_tag=itag)),
             fmt(normalized_wer(exp, "pron_text", text_test, inference_tag=itag)),
             *minutes_and_search("pron_text", text_test)]]
    out += ["## Pronunciation module from text alone (not in the paper)", "",
            f"Its own test: the g2p_en phones of the `{test}` captions, spread as in training, read by "
            "greedy CTC at its English BPE interface (`exp/pron_text/decode_text_test`). No audio is "
            "involved; the row above composes it with the phoneme recognizer instead.", "",
            table(["module", "exp", "WER %", "norm. WER %", "train min", "search"], rows), ""]
    out += ["## Environment", "", *environment(exp, "legonn_wemb"), ""]
    print("\n".join(out))


if __name__ == "__main__":
    main()
