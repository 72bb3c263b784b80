"""Decode a test set with a trained LegoNN model (beam search over the decoder module, greedy
CTC over every module interface).

    python -m legonn.bin.inference --task mt --train_config exp/x/config.yaml \
        --model_file exp/x/valid.acc.best.pth \
        --data_path_and_name_and_type dump/test/src_text,src_text,text --output_dir DIR

Writes Kaldi-style files in DIR: text, token, score, nbest, and interface{i}/text (plus
interface{i}/marginals.{ark,scp} with --write_marginals true). Every file appears complete or not
at all. Paper settings: beam 5 / length penalty 0.6 for MT, beam 20 / 1.0 for ASR (the defaults).
"""
import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import kaldiio
import numpy as np
import torch
from espnet2.torch_utils.device_funcs import to_device
from espnet2.utils.types import str2bool, str2triple_str

from legonn.recipe.data_dir import check_data_files, read_entries
from legonn.search import beam_search
from legonn.tokenizer import Tokenizer

PROG = "python -m legonn.bin.inference"
PAPER_SEARCH = {"mt": {"beam_size": 5, "penalty": 0.6}, "asr": {"beam_size": 20, "penalty": 1.0}}


def task_class(name: str):
    if name == "mt":
        from legonn.tasks.mt import MTTask

        return MTTask
    from legonn.tasks.asr import ASRTask

    return ASRTask


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--task", required=True, choices=sorted(PAPER_SEARCH))
    parser.add_argument("--train_config", required=True, help="config.yaml written by training")
    parser.add_argument("--model_file", required=True, help="trained weights (*.pth)")
    parser.add_argument("--data_path_and_name_and_type", type=str2triple_str, action="append",
                        required=True, help="e.g. dump/test/src_text,src_text,text (repeatable)")
    parser.add_argument("--output_dir", required=True)
    parser.add_argument("--key_file", default=None, help="decode only these utterances")
    parser.add_argument("--allow_variable_data_keys", type=str2bool, default=False,
                        help="accept data keys the task does not read (e.g. a reference text)")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--num_workers", type=int, default=1)
    parser.add_argument("--beam_size", type=int, default=None, help="default: 5 (mt), 20 (asr)")
    parser.add_argument("--penalty", type=float, default=None,
                        help="length penalty: score / length**penalty; default 0.6 (mt), 1.0 (asr)")
    parser.add_argument("--maxlenratio_a", type=float, default=1.5,
                        help="max output length = a * decoder memory length + b")
    parser.add_argument("--maxlenratio_b", type=int, default=10)
    parser.add_argument("--nbest", type=int, default=1)
    parser.add_argument("--stop_when_beam_finished", type=str2bool, default=False,
                        help="fairseq's rule: end an utterance once `beam` hypotheses ended "
                             "(default: once its n-best can no longer change)")
    parser.add_argument("--write_marginals", type=str2bool, default=False,
                        help="also write each interface's CTC log-marginals (K x V float32)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--log_level", default="INFO")
    return parser


def expected_keys(args) -> Optional[List[str]]:
    """Utterance ids to decode (first column of the key file or the first data file), or None
    when the data is not a line-per-utterance file."""
    path = Path(args.key_file or args.data_path_and_name_and_type[0][0])
    if not path.is_file():
        return None
    with path.open(encoding="utf-8", errors="replace") as f:
        return [line.split(maxsplit=1)[0] for line in f if line.strip()]


SEARCH_OPTIONS = ("task", "beam_size", "penalty", "maxlenratio_a", "maxlenratio_b", "nbest",
                  "stop_when_beam_finished")


def decoding_signature(args) -> str:
    """What finished hypotheses depend on: the model file (resolved, with its modification
    time, so a retrained model is decoded afresh) and the search options."""
    model = Path(args.model_file).resolve()
    modified = model.stat().st_mtime_ns if model.is_file() else None
    return json.dumps({"model_file": str(model), "modified": modified,
                       **{name: getattr(args, name) for name in SEARCH_OPTIONS}}, sort_keys=True)


def already_decoded(output_dir: Path, keys: Optional[List[str]], want_marginals: bool,
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


def write_atomically(path: Path, lines: Sequence[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    os.replace(partial, path)


def kaldi_line(key: str, text: str) -> str:
    return f"{key} {text}" if text else key


class MarginalsWriter:
    """Streams K x V log-marginals into an ark (too large to hold in memory); the ark and its
    scp get their final names only in close(), scp last, so a present scp means a whole ark."""

    def __init__(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        self.ark, self.scp = directory / "marginals.ark", directory / "marginals.scp"
        self.partial_ark = self.ark.with_name(self.ark.name + ".partial")
        self.file = self.partial_ark.open("wb")
        self.index: List[str] = []

    def write(self, key: str, matrix: np.ndarray) -> None:
        offset = self.file.tell() + len(key.encode("utf-8")) + 1  # past "key "
        kaldiio.save_ark(self.file, {key: matrix.astype(np.float32)})
        self.index.append(f"{key} {self.ark.resolve()}:{offset}")

    def close(self) -> None:
        self.file.close()
        os.replace(self.partial_ark, self.ark)
        write_atomically(self.scp, self.index)


def greedy_ctc(log_probs: torch.Tensor, length: int, blank: int = 0) -> List[int]:
    """Best token per frame, repeats collapsed, blanks dropped."""
    best = log_probs[:length].argmax(-1)
    keep = torch.ones_like(best, dtype=torch.bool)
    keep[1:] = best[1:] != best[:-1]
    return [t for t in best[keep].tolist() if t != blank]


def load_model(task, args):
    """Strict load: ESPnet's loader ignores missing weights, which would silently decode with
    random ones after a config/checkpoint mix-up."""
    if not Path(args.model_file).is_file():
        raise FileNotFoundError(f"--model_file {args.model_file} does not exist")
    model, train_args = task.build_model_from_file(args.train_config, None, args.device)
    try:
        state = torch.load(args.model_file, map_location=args.device, weights_only=False)
    except Exception as err:  # a damaged file raises almost anything
        first = (str(err).strip().splitlines() or [""])[0].split(". ")[0]
        raise ValueError(f"--model_file {args.model_file} is not a readable checkpoint "
                         f"({type(err).__name__}: {first}); "
                         "it may be cut off (killed or disk full while saving): use another "
                         "epoch's file or re-run training") from None
    try:
        model.load_state_dict(state.get("module", state), strict=True)
    except RuntimeError as err:
        raise ValueError(f"{args.model_file} does not fit the model of {args.train_config}: "
                         f"{err}") from None
    return model.eval(), train_args


def unknown_input_summary(task, train_args, args) -> str:
    """Source pieces of the utterances to decode that the input vocabulary lacks (they become
    <unk>); counted here because the preprocessor runs in data-loader workers."""
    if task.input_key != "src_text":
        return ""
    keys = set(expected_keys(args) or [])
    texts = [e.value for path, name, _ in args.data_path_and_name_and_type if name == "src_text"
             for e in read_entries(path) if e.utt_id in keys]
    return Tokenizer(task.input_interface(train_args)).count_unknown(texts)


class Outputs:
    """Collects per-utterance lines for every output file of the decoding directory."""

    def __init__(self, model, output_dir: Path, write_marginals: bool):
        self.model = model
        self.output_dir = output_dir
        self.files: Dict[str, List[str]] = {}
        self.output_tokenizer = Tokenizer(model.output_interface)
        self.interface_tokenizers = [Tokenizer(interface) for interface in model.interfaces]
        self.marginals = ([MarginalsWriter(output_dir / f"interface{i}")
                           for i in range(len(model.interfaces))] if write_marginals else [])

    def add(self, name: str, line: str) -> None:
        self.files.setdefault(name, []).append(line)

    def add_interfaces(self, key: str, encoded, b: int) -> List[int]:
        """Greedy CTC text (and marginals) of every interface; returns the last one's ids."""
        ids: List[int] = []
        for i, (output, tokenizer) in enumerate(zip(encoded, self.interface_tokenizers)):
            length = int(output.lengths[b])
            ids = greedy_ctc(output.log_probs[b], length)
            self.add(f"interface{i}/text", kaldi_line(key, tokenizer.decode(ids)))
            if self.marginals:
                self.marginals[i].write(key, output.log_probs[b, :length].float().cpu().numpy())
        return ids

    def add_hypotheses(self, key: str, hyps) -> None:
        best = hyps[0]
        tokens = self.model.output_interface.tokens
        self.add("text", kaldi_line(key, self.output_tokenizer.decode(best.tokens)))
        self.add("token", kaldi_line(key, " ".join(tokens[t] for t in best.tokens)))
        self.add("score", f"{key} {best.normalized_score:.6f}")
        for rank, hyp in enumerate(hyps, 1):
            text = self.output_tokenizer.decode(hyp.tokens)
            self.add("nbest", kaldi_line(f"{key} {rank} {hyp.normalized_score:.6f}", text))

    def add_ctc_result(self, key: str, ids: List[int], encoded, b: int) -> None:
        """Encoder-only model: the last interface's greedy output is the transcript."""
        last = encoded[-1]
        path_score = float(last.log_probs[b, :int(last.lengths[b])].max(-1).values.sum())
        tokens = self.model.interfaces[-1].tokens
        text = self.interface_tokenizers[-1].decode(ids)
        self.add("text", kaldi_line(key, text))
        self.add("token", kaldi_line(key, " ".join(tokens[t] for t in ids)))
        self.add("score", f"{key} {path_score:.6f}")
        self.add("nbest", kaldi_line(f"{key} 1 {path_score:.6f}", text))

    def finish(self) -> None:
        for writer in self.marginals:
            writer.close()
        # `text` goes last: its presence marks the whole directory as decoded.
        for name in sorted(self.files, key=lambda name: name == "text"):
            write_atomically(self.output_dir / name, self.files[name])


@torch.no_grad()
def decode(model, loader, outputs: Outputs, args, input_key: str) -> int:
    decoder = model.decoder.decoder if model.decoder is not None else None
    count = 0
    for keys, batch in loader:
        batch = to_device(batch, args.device)
        inputs, lengths = batch[input_key], batch[f"{input_key}_lengths"]
        encoded = model.encode(inputs, lengths)
        nbests = None
        if decoder is not None:
            memory, memory_lengths = model.decoder_memory(encoded)
            mask = torch.arange(memory.size(1), device=memory.device)[None] < memory_lengths[:, None]
            nbests = beam_search(decoder, memory, mask, model.sos_eos, model.sos_eos,
                                 beam_size=args.beam_size, length_penalty=args.penalty,
                                 max_len_a=args.maxlenratio_a, max_len_b=args.maxlenratio_b,
                                 nbest=args.nbest,
                                 stop_when_beam_finished=args.stop_when_beam_finished)
        for b, key in enumerate(keys):
            ids = outputs.add_interfaces(key, encoded, b)
            if nbests is not None:
                outputs.add_hypotheses(key, nbests[b])
            else:
                outputs.add_ctc_result(key, ids, encoded, b)
        count += len(keys)
        logging.info(f"decoded {count} utterances")
    return count


def main(argv: Optional[List[str]] = None) -> Path:
    """Decode; returns the output directory."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level,
                        format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s")
    for name, value in PAPER_SEARCH[args.task].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if not 1 <= args.nbest <= args.beam_size:
        raise ValueError(f"--nbest {args.nbest} must be between 1 and --beam_size {args.beam_size}")
    output_dir = Path(args.output_dir)
    signature = decoding_signature(args)
    if already_decoded(output_dir, expected_keys(args), args.write_marginals, signature):
        print(f"{PROG}: {output_dir / 'text'} already has every utterance; skipping")
        return output_dir
    check_data_files(args.data_path_and_name_and_type)

    task = task_class(args.task)
    model, train_args = load_model(task, args)
    if model.decoder is None and not model.interfaces:
        raise ValueError("the model has neither a decoder nor a CTC interface to decode with")
    loader = task.build_streaming_iterator(
        args.data_path_and_name_and_type,
        preprocess_fn=task.build_preprocess_fn(train_args, False),
        collate_fn=task.build_collate_fn(train_args, False),
        key_file=args.key_file, batch_size=args.batch_size, dtype="float32",
        num_workers=args.num_workers, allow_variable_data_keys=args.allow_variable_data_keys,
        inference=True)
    output_dir.mkdir(parents=True, exist_ok=True)
    outputs = Outputs(model, output_dir, args.write_marginals)
    start = time.perf_counter()
    count = decode(model, loader, outputs, args, task.input_key)
    outputs.finish()
    (output_dir / "decoded_with").write_text(signature, encoding="utf-8")  # after the hypotheses
    seconds = time.perf_counter() - start
    print(f"{PROG}: decoded {count} utterances in {seconds:.1f} s "
          f"(beam {args.beam_size}, penalty {args.penalty}) -> {output_dir}")
    unknown = unknown_input_summary(task, train_args, args)
    if unknown:
        print(f"{PROG}: {unknown}")
    return output_dir


if __name__ == "__main__":
    try:
        main()
    except (OSError, ValueError) as err:
        sys.exit(f"{PROG}: error: {err}")
