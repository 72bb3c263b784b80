"""Score a decoded Kaldi text file against its reference.

    python -m legonn.bin.score --ref data/test/text --hyp exp/x/decode/text \
        --metric bleu|wer|cer --output_dir exp/x/decode/score [--utt2group data/test/utt2spk]

Prints one summary line; writes ``score.json`` (and ``result.txt`` for wer/cer). With
``--utt2group`` (wer/cer), also one line per group, e.g. per speaker as sclite reports them, in
``score.json`` under ``groups``.
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
    parser.add_argument(
        "--utt2group",
        help="wer/cer: also the error rate of each group of this Kaldi-style file (utt_id group per line, e.g. utt2spk)",
    )
    return parser


def main(argv: list[str] | None = None) -> str:
    """Run the scoring; returns the summary line it printed."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.utt2group and args.metric == "bleu":
        parser.error("--utt2group splits an error rate (wer, cer), not BLEU")
    group_lines = []
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
        from legonn.scoring.wer import error_rate, error_rate_by_group

        report = error_rate(hyps, refs, unit="word" if args.metric == "wer" else "char")
        summary = report.write(out_dir)
        numbers = report.to_dict()
        if args.utt2group:
            groups = error_rate_by_group(report, read_kaldi_text(args.utt2group))
            numbers["groups"] = {group: part.to_dict() for group, part in groups.items()}
            group_lines = [f"{group}: {part.summary()}" for group, part in groups.items()]
    numbers.update(ref=str(args.ref), hyp=str(args.hyp), summary=summary)
    (out_dir / "score.json").write_text(json.dumps(numbers, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print("\n".join([summary, *group_lines]))
    return summary


if __name__ == "__main__":
    try:
        main()
    except (OSError, ValueError) as err:
        sys.exit(f"{PROG}: error: {err}")
