"""RESULTS.md for the AN4 recipe: WER of every model on the AN4 test set in the layout of the
paper's Table II, plus the encoder-only error rate at each module interface (greedy CTC), from
exp/*/decode_test/score*/score.json (n/a = that run did not happen); --inference_tag TAG reads
another search's decodings (exp/*/decode_test_TAG/). The search column names the search used."""
import argparse
import re
from pathlib import Path

from legonn.recipe.results import (
    environment,
    error_rate,
    fmt,
    score,
    search_used,
    table,
    train_logs,
    train_minutes,
    train_updates,
)

MODELS = [  # tag, description, CTC loss, CE loss
    ("encdec", "Baseline enc-dec", "no", "yes"),
    ("ctc", "LegoNN encoder only (CTC over characters)", "yes", "no"),
    ("legonn_beamconv", "LegoNN encoder + BeamConv decoder", "yes", "yes"),
    ("legonn_wemb", "LegoNN encoder + WEmb decoder", "yes", "yes"),
    ("encdec_ctc", "Sanity baseline (not in the paper): enc-dec + joint CTC, as ESPnet's reference", "0.3", "0.7"),
]


def encoder_start(exp, tag) -> str:
    """The experiment whose parameters the model started from (its --init_param), or random."""
    logs = train_logs(exp, tag)
    if not logs:
        return "n/a"
    start = re.search(r"--init_param (\S+)", logs[0].split("\n", 1)[0])  # the first run's command
    return f"`{Path(start.group(1)).parent.name}`" if start else "random"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--exp", default="exp")
    parser.add_argument("--test_set", default="test")
    parser.add_argument("--inference_tag", default="", help="another search's decodings (decode_<set>_TAG)")
    args = parser.parse_args()
    exp, test, itag = args.exp, args.test_set, args.inference_tag
    size = next((f"{n['num_sentences']} utterances, {n['num_ref']} words" for tag, *_ in MODELS
                 if (n := score(exp, tag, test, "score_wer", itag))), "not decoded yet")
    out = ["# CMU AN4 LegoNN ASR results", "",
           "Produced by `local/results.py` (stage 3 of `run.sh`) from the score files in `exp/`. "
           f"Test set: `{test}` (AN4 test: {size}; lower-cased). "
           "WER: beam search over the decoder module (greedy CTC for encoder-only models); where "
           "the search column says ctc<w>, jointly with the CTC prefix scores of the last interface "
           "at weight w (ESPnet's hybrid decoding, as in its reference; beyond the paper, which "
           "decodes with the decoder alone: `./run.sh --ctc_weight 0`). "
           "Enc. WER: greedy CTC output of the encoder module at its character interface. "
           "epochs / updates: training passes and optimizer steps, from the trainer's log. "
           "Sanity reference for the baseline: ESPnet's published AN4 transformer "
           "(`egs2/an4/asr1/README.md` in espnet/espnet, 2021: BPE 30, speed perturbation, "
           "CTC weight 0.3, beam 10, no LM) has 7.6% WER on the same 130 utterances / 773 words. "
           "vs sanity: WER relative to the enc-dec + joint CTC baseline (`encdec_ctc`), in % of its WER. "
           "Training data: `data/train_sp` (speed perturbation 0.9/1.0/1.1) unless the run was made "
           "with `--speed_perturb \"\"`. encoder start: the experiment whose parameters a model's "
           "encoder started from (`phone_ctc`: the phone recognizer's, for the models `--phone_init` lists; "
           "beyond the paper), or random weights.", "", "## Environment", "", *environment(), ""]
    sanity = error_rate(exp, "encdec_ctc", test, inference_tag=itag)
    rows = []
    for tag, what, ctc, ce in MODELS:
        wer = error_rate(exp, tag, test, inference_tag=itag)
        encoder = wer if tag == "ctc" else error_rate(exp, tag, test, "score_interface0", itag)
        rel = f"{100 * (wer - sanity) / sanity:+.1f}" if wer is not None and sanity and tag != "encdec_ctc" else "-"
        rows.append([what, f"`{tag}`", ctc, ce, fmt(wer), rel, fmt(encoder) if ctc != "no" else "-",
                     train_updates(exp, tag) or "n/a", fmt(train_minutes(exp, tag)),
                     search_used(exp, tag, test, itag) or "n/a", encoder_start(exp, tag)])
    out += ["## Test WER (paper Table II, AN4 scale)", "",
            table(["model", "exp", "CTC", "CE", "WER %", "vs sanity %", "Enc. WER %", "epochs / updates", "train min", "search",
                   "encoder start"],
                  rows), ""]
    rows = [["Phoneme recognizer (encoder only, CTC over g2p_en phones)", "`phone_ctc`",
             fmt(error_rate(exp, "phone_ctc", test, "score_interface0", itag)),
             train_updates(exp, "phone_ctc") or "n/a", fmt(train_minutes(exp, "phone_ctc")),
             search_used(exp, "phone_ctc", test, itag) or "n/a"]]
    out += ["## Phone interface", "",
            table(["model", "exp", "PER %", "epochs / updates", "train min", "search"], rows), ""]
    print("\n".join(out))


if __name__ == "__main__":
    main()
