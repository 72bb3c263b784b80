"""Score a decoded Kaldi text file against its reference.

    python -m legonn.bin.score --ref data/test/text --hyp exp/x/decode/text \
        --metric bleu|wer|cer --output_dir exp/x/decode/score

Prints one summary line; writes ``score.json`` (and ``result.txt`` for wer/cer).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from legonn.scoring import read_kaldi_text

PROG = "python -m legonn.bin.score"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--ref", required=True, help="reference text (utt_id text per line)")
    parser.add_argument("--hyp", required=True, help="hypothesis text (utt_id text per line)")
    parser.add_argument("--metric", required=True, choices=["bleu", "wer", "cer"])
    parser.add_argument("--output_dir", "--out_dir", dest="output_dir", required=True, help="where score.json (and result.txt) go")
    parser.add_argument(
        "--tokenized_case_sensitive",
        action="store_true",
        help="bleu: keep case for the tokenized BLEU (WMT En-De setup) instead of lower-casing",
    )
    return parser


def main(argv: list[str] | None = None) -> str:
    """Run the scoring; returns the summary line it printed."""
    args = build_parser().parse_args(argv)
    refs = read_kaldi_text(args.ref)
    hyps = read_kaldi_text(args.hyp)
    out_dir = Path(args.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.metric == "bleu":
        from legonn.scoring.bleu import corpus_bleu

        report = corpus_bleu(hyps, refs, lowercase_tokenized=not args.tokenized_case_sensitive)
        summary = report.summary()
        numbers = {"metric": "bleu", **report.to_dict()}
    else:
        from legonn.scoring.wer import error_rate

        report = error_rate(hyps, refs, unit="word" if args.metric == "wer" else "char")
        summary = report.write(out_dir)
        numbers = report.to_dict()
    numbers.update(ref=str(args.ref), hyp=str(args.hyp), summary=summary)
    (out_dir / "score.json").write_text(json.dumps(numbers, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(summary)
    return summary


if __name__ == "__main__":
    try:
        main()
    except (OSError, ValueError) as err:
        sys.exit(f"{PROG}: error: {err}")
