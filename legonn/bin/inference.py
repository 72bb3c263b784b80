"""Decode a test set with a trained LegoNN model (beam search over the decoder module, greedy
CTC over every module interface).

    python -m legonn.bin.inference --task mt --train_config exp/x/config.yaml \
        --model_file exp/x/valid.acc.best.pth \
        --data_path_and_name_and_type dump/test/src_text,src_text,text --output_dir DIR

Writes Kaldi-style files in DIR: text, token, score, nbest, and interface{i}/text (plus
interface{i}/marginals.{ark,scp} with --write_marginals true), and search.yaml (the search
options used). Every file appears complete or not at all. Paper settings: beam 5 / length penalty
0.6 for MT, beam 20 / 1.0 for ASR (the defaults). Progress (with total and ETA) goes to stderr.

    python -m legonn.bin.inference --task asr --print_inference_tag true \
        --default_search "--beam_size 10 --penalty 1.0" --beam_size 20
prints the tag of a search (beam20_lp1.0; nothing for the default search), which legonn.sh
uses to name its decoding directory decode_<set>_<tag>.
"""
import argparse
import json
import logging
import shlex
import sys
import time
from pathlib import Path

import yaml
from espnet2.utils.types import str2bool, str2triple_str

from legonn.inference import PAPER_SEARCH, Decoded, LegoNNInference, MarginalsWriter, SearchOptions
from legonn.progress import progress
from legonn.recipe.data_dir import check_data_files, read_entries
from legonn.tokenizer import Tokenizer
from legonn.utils import write_lines

PROG = "python -m legonn.bin.inference"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--task", required=True, choices=sorted(PAPER_SEARCH))
    # Required unless --print_inference_tag (checked in main).
    parser.add_argument("--train_config", help="config.yaml written by training (required)")
    parser.add_argument("--model_file", help="trained weights (*.pth) (required)")
    parser.add_argument("--data_path_and_name_and_type", type=str2triple_str, action="append",
                        help="e.g. dump/test/src_text,src_text,text (repeatable; required)")
    parser.add_argument("--output_dir", help="(required)")
    parser.add_argument("--key_file", default=None, help="decode only these utterances")
    parser.add_argument("--allow_variable_data_keys", type=str2bool, default=False,
                        help="accept data keys the task does not read (e.g. a reference text)")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--num_workers", type=int, default=1)
    parser.add_argument("--beam_size", type=int, default=None, help="default: 5 (mt), 20 (asr)")
    parser.add_argument("--length_penalty", "--penalty", dest="length_penalty", type=float, default=None,
                        help="score / length**length_penalty; default 0.6 (mt), 1.0 (asr) "
                             "(--penalty: its former name)")
    parser.add_argument("--maxlenratio_a", type=float, default=1.5,
                        help="max output length = a * decoder memory length + b")
    parser.add_argument("--maxlenratio_b", type=int, default=10)
    parser.add_argument("--nbest", type=int, default=1)
    parser.add_argument("--stop_when_beam_finished", type=str2bool, default=False,
                        help="fairseq's rule: end an utterance once `beam` hypotheses ended "
                             "(default: once its n-best can no longer change)")
    parser.add_argument("--blank_penalty", type=float, default=0.0,
                        help="subtracted from the blank's log-probability in every interface's greedy "
                             "CTC reading (an encoder-only model's hypotheses too); tune it on a "
                             "validation set. What the next module reads is unchanged")
    parser.add_argument("--ctc_weight", type=float, default=0.0,
                        help="joint CTC/attention search (ESPnet's hybrid decoding): hypotheses score "
                             "(1 - w) * decoder + w * CTC prefix score of the last interface, which "
                             "must be the output vocabulary; 0 (default): the decoder alone")
    parser.add_argument("--write_marginals", type=str2bool, default=False,
                        help="also write each interface's CTC log-marginals (K x V float32)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--print_inference_tag", type=str2bool, default=False,
                        help="print the tag of these search options (nothing when they are "
                             "--default_search's) and exit")
    parser.add_argument("--default_search", default="",
                        help="the recipe's default search options, for --print_inference_tag "
                             "(default: the paper's)")
    parser.add_argument("--log_level", default="INFO")
    return parser


def expected_keys(args) -> list[str] | None:
    """Utterance ids to decode (first column of the key file or the first data file), or None
    when the data is not a line-per-utterance file."""
    path = Path(args.key_file or args.data_path_and_name_and_type[0][0])
    if not path.is_file():
        return None
    with path.open(encoding="utf-8", errors="replace") as f:
        return [line.split(maxsplit=1)[0] for line in f if line.strip()]


# Recorded under their former names, so that hypotheses decoded before the rename stay current.
SEARCH_OPTIONS = {"task": "task", "beam_size": "beam_size", "penalty": "length_penalty",
                  "maxlenratio_a": "maxlenratio_a", "maxlenratio_b": "maxlenratio_b", "nbest": "nbest",
                  "stop_when_beam_finished": "stop_when_beam_finished"}
OPTIONS_RECORDED_WHEN_SET = ("blank_penalty", "ctc_weight")


def decoding_signature(args) -> str:
    """What finished hypotheses depend on: the model file (resolved, with its modification
    time, so a retrained model is decoded afresh) and the search options (the later ones only
    when set, so that decodings made before they existed stay current)."""
    model = Path(args.model_file).resolve()
    modified = model.stat().st_mtime_ns if model.is_file() else None
    options = {name: getattr(args, option) for name, option in SEARCH_OPTIONS.items()}
    options.update({name: getattr(args, name) for name in OPTIONS_RECORDED_WHEN_SET if getattr(args, name)})
    return json.dumps({"model_file": str(model), "modified": modified, **options}, sort_keys=True)


def already_decoded(output_dir: Path, keys: list[str] | None, want_marginals: bool,
                    signature: str) -> bool:
    text, decoded_with = output_dir / "text", output_dir / "decoded_with"
    if keys is None or not text.is_file() or not decoded_with.is_file():
        return False
    if decoded_with.read_text(encoding="utf-8") != signature:
        return False
    if want_marginals and not any(output_dir.glob("interface*/marginals.scp")):
        return False
    with text.open(encoding="utf-8") as f:
        done = {line.split(maxsplit=1)[0] for line in f if line.strip()}
    return set(keys) <= done


def kaldi_line(key: str, text: str) -> str:
    return f"{key} {text}" if text else key


def unknown_input_summary(inference: LegoNNInference, args) -> str:
    """Source pieces of the utterances to decode that the input vocabulary lacks (they become
    <unk>); counted here because the preprocessor runs in data-loader workers."""
    if inference.input_key != "src_text":
        return ""
    keys = set(expected_keys(args) or [])
    texts = [e.value for path, name, _ in args.data_path_and_name_and_type if name == "src_text"
             for e in read_entries(path) if e.utt_id in keys]
    return Tokenizer(inference.task_class.input_interface(inference.train_args)).count_unknown(texts)


class Outputs:
    """Collects per-utterance lines for every output file of the decoding directory."""

    def __init__(self, model, output_dir: Path, write_marginals: bool):
        self.output_dir = output_dir
        self.files: dict[str, list[str]] = {}
        self.vocabulary = model.output_interface.tokens
        self.marginals = ([MarginalsWriter(output_dir / f"interface{i}")
                           for i in range(len(model.interfaces))] if write_marginals else [])

    def add(self, name: str, line: str) -> None:
        self.files.setdefault(name, []).append(line)

    def add_utterance(self, key: str, decoded: Decoded) -> None:
        best = decoded.nbest[0]
        for i, reading in enumerate(best.interfaces):
            self.add(f"interface{i}/text", kaldi_line(key, reading))
        for writer, matrix in zip(self.marginals, decoded.marginals):
            writer.write(key, matrix.numpy())
        self.add("text", kaldi_line(key, best.text))
        self.add("token", kaldi_line(key, " ".join(best.tokens)))
        self.add("score", f"{key} {best.score:.6f}")
        for rank, hyp in enumerate(decoded.nbest, 1):
            self.add("nbest", kaldi_line(f"{key} {rank} {hyp.score:.6f}", hyp.text))

    def finish(self) -> None:
        for writer in self.marginals:
            writer.close()
        # `text` goes last: its presence marks the whole directory as decoded.
        for name in sorted(self.files, key=lambda name: name == "text"):
            write_lines(self.output_dir / name, self.files[name])


def decode(inference: LegoNNInference, loader, outputs: Outputs, total: int | None = None) -> int:
    count, key = 0, inference.input_key
    with progress(total=total, desc="decode") as bar:
        for keys, batch in loader:
            for utt_id, decoded in zip(keys, inference.decode_batch(batch[key], batch[f"{key}_lengths"])):
                outputs.add_utterance(utt_id, decoded)
            count += len(keys)
            bar.update(len(keys))
    return count


def search_of(args) -> SearchOptions:
    return LegoNNInference.search_options(
        args.task, args.beam_size, args.length_penalty, nbest=args.nbest, maxlenratio_a=args.maxlenratio_a,
        maxlenratio_b=args.maxlenratio_b, stop_when_beam_finished=args.stop_when_beam_finished,
        blank_penalty=args.blank_penalty, ctc_weight=args.ctc_weight)


def inference_tag(args) -> str:
    """'' for the default search (--default_search, else the paper's), else the options' tag."""
    default = build_parser().parse_args(["--task", args.task, *shlex.split(args.default_search)])
    search = search_of(args)
    return "" if search == search_of(default) else search.tag()


def write_search(output_dir: Path, args, search) -> None:
    """search.yaml: the search options a decoding used, for RESULTS tables to name it."""
    record = {"task": args.task, **vars(search), "inference_tag": search.tag(), "model_file": str(args.model_file)}
    write_lines(output_dir / "search.yaml", yaml.safe_dump(record, sort_keys=False).splitlines())


def main(argv: list[str] | None = None) -> Path:
    """Decode; returns the output directory."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.print_inference_tag:
        print(inference_tag(args))
        return None
    missing = [name for name in ("train_config", "model_file", "data_path_and_name_and_type", "output_dir")
               if not getattr(args, name)]
    if missing:
        parser.error("the following arguments are required: " + ", ".join(f"--{name}" for name in missing))
    logging.basicConfig(level=args.log_level,
                        format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s")
    search = search_of(args)
    args.beam_size, args.length_penalty = search.beam_size, search.length_penalty
    output_dir = Path(args.output_dir)
    signature = decoding_signature(args)
    if already_decoded(output_dir, expected_keys(args), args.write_marginals, signature):
        print(f"{PROG}: {output_dir / 'text'} already has every utterance; skipping")
        if not (output_dir / "search.yaml").is_file():  # decoded before search.yaml existed
            write_search(output_dir, args, search)
        return output_dir
    check_data_files(args.data_path_and_name_and_type)

    # weights_only=False: the recipe's own checkpoints, loaded as ESPnet loads them.
    inference = LegoNNInference.from_files(args.train_config, args.model_file, args.device,
                                           weights_only=False, write_marginals=args.write_marginals,
                                           **vars(search))
    loader = inference.data_loader(args.data_path_and_name_and_type, args.key_file, args.batch_size,
                                   args.num_workers, args.allow_variable_data_keys)
    output_dir.mkdir(parents=True, exist_ok=True)
    outputs = Outputs(inference.model, output_dir, args.write_marginals)
    start = time.perf_counter()
    keys = expected_keys(args)
    count = decode(inference, loader, outputs, len(keys) if keys is not None else None)
    outputs.finish()
    write_search(output_dir, args, search)
    (output_dir / "decoded_with").write_text(signature, encoding="utf-8")  # after the hypotheses
    seconds = time.perf_counter() - start
    print(f"{PROG}: decoded {count} utterances on {args.device} in {seconds:.1f} s "
          f"(beam {args.beam_size}, length penalty {args.length_penalty}) -> {output_dir}")
    unknown = unknown_input_summary(inference, args)
    if unknown:
        print(f"{PROG}: {unknown}")
    return output_dir


if __name__ == "__main__":
    try:
        main()
    except (OSError, ValueError) as err:
        sys.exit(f"{PROG}: error: {err}")
