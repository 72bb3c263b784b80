"""Translate sentences read from stdin (one a line) with a LegoNN model; prints one hypothesis a line.

  echo "ein kleiner hund läuft" | python -m legonn.bin.translate exp/de_legonn_wemb
  python -m legonn.bin.translate de_en.zip --beam_size 10 < sentences.txt
  python -m legonn.bin.translate --modules fr_encoder0.zip de_decoder.zip --show_interface < fr.txt
  python -m legonn.bin.translate fr_encoder0.zip de_decoder.zip < fr.txt

MODEL: a packed model (`python -m legonn.bin.pack model`), an experiment or composed-model
directory, or module archives in chain order (encoder, middle..., decoder), composed in memory
with their interfaces checked. --show_interface prints, before each hypothesis, every interface's
greedy CTC reading as a line starting with '#' (`grep -v '^#'` leaves the hypotheses).
Default search: the paper's (MT beam 5, length penalty 0.6; ASR beam 20, 1.0).
"""
import argparse
import sys

from legonn.inference import LegoNNInference, Result
from legonn.nets.interface import InterfaceMismatch

PROG = "python -m legonn.bin.translate"


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """MODEL and search options, shared with legonn.bin.transcribe."""
    parser.add_argument("--modules", nargs="+", default=[],
                        help="module archives in chain order, composed in memory (instead of MODEL)")
    parser.add_argument("--show_interface", action="store_true",
                        help="also print each interface's greedy CTC reading ('# interface<i> ...' lines)")
    parser.add_argument("--beam_size", type=int, default=None, help="default: 5 (mt), 20 (asr)")
    parser.add_argument("--length_penalty", type=float, default=None, help="default: 0.6 (mt), 1.0 (asr)")
    parser.add_argument("--blank_penalty", type=float, default=0.0,
                        help="subtracted from the blank's log-probability in the interfaces' greedy CTC "
                             "readings (an encoder-only model's hypotheses too); the decoder's input is unchanged")
    parser.add_argument("--ctc_weight", type=float, default=0.0,
                        help="joint CTC/attention search: (1 - w) decoder + w CTC prefix score of the "
                             "last interface (it must be the output vocabulary); 0: the decoder alone")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--cache_dir", default=None,
                        help="where archives are unpacked (default ~/.cache/legonn or $LEGONN_CACHE)")


def load(prog: str, sources: list[str], args, task: str) -> LegoNNInference:
    """The model of MODEL / --modules, or exit with what is wrong."""
    if not sources:
        sys.exit(f"{prog}: error: give MODEL (a packed model, an exp directory or module archives) or --modules")
    try:
        inference = LegoNNInference.from_pretrained(
            sources if len(sources) > 1 else sources[0], device=args.device, cache_dir=args.cache_dir,
            beam_size=args.beam_size, length_penalty=args.length_penalty, blank_penalty=args.blank_penalty,
            ctc_weight=args.ctc_weight)
    except (OSError, ValueError, InterfaceMismatch) as error:  # InterfaceMismatch: modules that do not fit
        sys.exit(f"{prog}: error: {error}")
    if inference.task != task:
        other = {"mt": "translate", "asr": "transcribe"}[inference.task]
        sys.exit(f"{prog}: error: {' '.join(sources)} is an {inference.task} model; "
                 f"use python -m legonn.bin.{other}")
    return inference


def interface_lines(inference: LegoNNInference, result: Result) -> list[str]:
    model = inference.model
    return [f"# interface{i} {iface.name} ({iface.kind}, {iface.size}): {reading}"
            for i, (iface, reading) in enumerate(zip(model.interfaces, result.interfaces))]


def print_hypothesis(inference, result: Result | None, show_interface: bool, prefix: str = "") -> None:
    if result is not None and show_interface:
        print("\n".join(interface_lines(inference, result)))
    print(prefix + (result.text if result is not None else ""), flush=True)


def translate_batch(inference: LegoNNInference, sentences: list[str]) -> list[Result | None]:
    """Best hypothesis per sentence; None (with a warning) for one the model cannot read."""
    readable = []
    for n, sentence in enumerate(sentences):
        if not sentence:
            continue  # an empty line stays an empty line
        try:
            inference.features(sentence)
            readable.append(n)
        except ValueError as error:
            print(f"{PROG}: warning: {error}; printing an empty line", file=sys.stderr)
    results: list[Result | None] = [None] * len(sentences)
    if readable:
        for n, nbest in zip(readable, inference([sentences[n] for n in readable])):
            results[n] = nbest[0]
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="*", metavar="MODEL",
                        help="packed model, exp directory, or module archives in chain order")
    add_model_arguments(parser)
    args = parser.parse_args(argv)
    inference = load(PROG, args.modules or args.model, args, "mt")
    # On a terminal every line is translated as it is typed; a pipe is read in batches.
    batch_size = 1 if sys.stdin.isatty() else args.batch_size
    batch: list[str] = []

    def flush():
        for result in translate_batch(inference, batch):
            print_hypothesis(inference, result, args.show_interface)
        batch.clear()

    for line in sys.stdin:
        batch.append(line.strip())
        if len(batch) >= batch_size:
            flush()
    flush()


if __name__ == "__main__":
    main()
