"""Force-align each utterance's reference to one interface's CTC marginals (paper Appendix D).

    python -m legonn.bin.align --task asr --train_config exp/x/config.yaml \
        --model_file exp/x/valid.acc.best.pth \
        --data_path_and_name_and_type dump/test/feats.scp,speech,kaldi_ark \
        --data_path_and_name_and_type dump/test/text,text,text \
        --interface 0 --output_dir DIR [--write_marginals true]

The reference of interface i is the data key ``ctc_targets[i]`` of the training config (e.g.
``text``, ``phones``), tokenized with that interface's vocabulary. Writes in DIR:

    alignment    utt_id tok_id start end         per token, output positions, end exclusive
                                                  (what plot_marginals --alignment reads)
    token_times  utt_id token start duration      seconds for speech, output positions for MT
    scores       utt_id log_prob                  log-probability of the best CTC path
    infeasible   utt_id reason                    references longer than the interface allows, and
                                                  utterances whose marginals hold a NaN/+inf (not aligned)
    marginals.{ark,scp}                           with --write_marginals true (K x V log-probs)

For speech, one output position lasts input_frame_shift x input frames / output positions of
that utterance (conv subsampling and OLC ratio together), unless --frame_shift_ms fixes it.
"""
import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np
import torch
from espnet2.torch_utils.device_funcs import to_device
from espnet2.utils.types import str2bool, str2triple_str

from legonn.ctc.align import forced_align
from legonn.inference import LegoNNInference, MarginalsWriter
from legonn.utils import write_lines

PROG = "python -m legonn.bin.align"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--task", required=True, choices=["asr", "mt"])
    parser.add_argument("--train_config", required=True, help="config.yaml written by training")
    parser.add_argument("--model_file", required=True, help="trained weights (*.pth)")
    parser.add_argument("--data_path_and_name_and_type", type=str2triple_str, action="append",
                        required=True, help="model input and the interface's reference text, "
                        "e.g. dump/test/text,text,text (repeatable)")
    parser.add_argument("--interface", type=int, default=0,
                        help="index of the interface to align (0 = first encoder module)")
    parser.add_argument("--output_dir", required=True)
    parser.add_argument("--key_file", default=None, help="align only these utterances")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--num_workers", type=int, default=1)
    parser.add_argument("--input_frame_shift_ms", type=float, default=10.0,
                        help="frame shift of the speech features (ASR)")
    parser.add_argument("--frame_shift_ms", type=float, default=None,
                        help="fixed duration of one output position (ASR); default: derived per "
                             "utterance as input_frame_shift_ms x input frames / output positions")
    parser.add_argument("--write_marginals", type=str2bool, default=False,
                        help="also write the interface's CTC log-marginals (K x V float32)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--log_level", default="INFO")
    return parser


def positions_needed(ids: np.ndarray) -> int:
    """A CTC path needs a position per token plus a blank between equal neighbours."""
    return int(len(ids) + (ids[1:] == ids[:-1]).sum())


class Alignments:
    """Collects the lines of every output file."""

    def __init__(self, interface, output_dir: Path, speech: bool, args):
        self.tokens = interface.tokens
        self.output_dir = output_dir
        self.speech = speech
        self.input_shift = args.input_frame_shift_ms / 1000.0
        self.fixed_shift = None if args.frame_shift_ms is None else args.frame_shift_ms / 1000.0
        self.files: dict[str, list[str]] = {n: [] for n in
                                            ("alignment", "token_times", "scores", "infeasible")}
        self.aligned = 0
        self.non_finite = 0
        self.marginals = MarginalsWriter(output_dir) if args.write_marginals else None

    def seconds_per_position(self, input_length: int, output_length: int) -> float:
        if self.fixed_shift is not None:
            return self.fixed_shift
        return self.input_shift * input_length / max(output_length, 1)

    def add(self, key: str, spans, score: float, input_length: int, output_length: int) -> None:
        self.aligned += 1
        self.files["scores"].append(f"{key} {score:.6f}")
        step = self.seconds_per_position(input_length, output_length) if self.speech else None
        for tok, start, end in spans:
            self.files["alignment"].append(f"{key} {tok} {start} {end}")
            if step is None:
                self.files["token_times"].append(f"{key} {self.tokens[tok]} {start} {end - start}")
            else:
                self.files["token_times"].append(
                    f"{key} {self.tokens[tok]} {start * step:.3f} {(end - start) * step:.3f}")

    def add_infeasible(self, key: str, needed: int, available: int) -> None:
        self.files["infeasible"].append(
            f"{key} target needs {needed} positions, interface has {available}")

    def add_non_finite(self, key: str, position: int) -> None:
        self.non_finite += 1
        self.files["infeasible"].append(
            f"{key} marginals are not finite (NaN or +inf) from output position {position}; "
            "not aligned: the model produced them (check its weights and this utterance's input)")

    def finish(self) -> None:
        if self.marginals is not None:
            self.marginals.close()
        # `alignment` goes last: its presence marks the directory as complete.
        for name in sorted(self.files, key=lambda name: name == "alignment"):
            write_lines(self.output_dir / name, self.files[name])


@torch.no_grad()
def align(model, loader, out: Alignments, args, input_key: str, target_key: str,
          target_name: str) -> None:
    i = args.interface
    for keys, batch in loader:
        if target_key not in batch:
            raise ValueError(f"interface {i} is aligned to data key {target_name!r} (ctc_targets "
                             f"in the training config); pass it with --data_path_and_name_and_type "
                             f"PATH,{target_name},text")
        batch = to_device(batch, args.device)
        inputs, input_lengths = batch[input_key], batch[f"{input_key}_lengths"]
        encoded = model.encode(inputs, input_lengths)[i]
        log_probs = encoded.log_probs.float().cpu()
        lengths = encoded.lengths.cpu()
        targets = batch[target_key].cpu()
        target_lengths = batch[f"{target_key}_lengths"].cpu()
        result = forced_align(log_probs, lengths, targets.clamp(min=0), target_lengths,
                              blank=0)
        infeasible = set(result.infeasible)
        for b, key in enumerate(keys):
            length = int(lengths[b])
            if out.marginals is not None:
                out.marginals.write(key, log_probs[b, :length].numpy())
            if b in result.non_finite:
                out.add_non_finite(key, result.non_finite[b])
                continue
            if b in infeasible:
                ids = targets[b, :int(target_lengths[b])].numpy()
                out.add_infeasible(key, positions_needed(ids), length)
                continue
            out.add(key, result.token_spans[b], float(result.scores[b]), int(input_lengths[b]),
                    length)
        logging.info(f"aligned {out.aligned} utterances, {len(out.files['infeasible'])} infeasible"
                     + (f" ({out.non_finite} with non-finite marginals)" if out.non_finite else ""))


def main(argv: list[str] | None = None) -> Path:
    """Align; returns the output directory."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level,
                        format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s")
    # weights_only=False: the recipe's own checkpoints, loaded as ESPnet loads them.
    inference = LegoNNInference.from_files(args.train_config, args.model_file, args.device, weights_only=False)
    model, train_args = inference.model, inference.train_args
    if not model.interfaces:
        raise ValueError(f"{args.train_config}: the model has no CTC interface to align to")
    if not 0 <= args.interface < len(model.interfaces):
        raise ValueError(f"--interface {args.interface}: the model has {len(model.interfaces)} "
                         f"interface(s), 0..{len(model.interfaces) - 1}")
    target_name = train_args.ctc_targets[args.interface]
    if target_name not in {name for _, name, _ in args.data_path_and_name_and_type}:
        raise ValueError(f"interface {args.interface} is aligned to data key {target_name!r} "
                         f"(ctc_targets in {args.train_config}); pass it with "
                         f"--data_path_and_name_and_type PATH,{target_name},text")
    loader = inference.data_loader(args.data_path_and_name_and_type, args.key_file, args.batch_size,
                                   args.num_workers, allow_variable_data_keys=True)
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    interface = model.interfaces[args.interface]
    out = Alignments(interface, output_dir, inference.input_key == "speech", args)
    start = time.perf_counter()
    align(model, loader, out, args, inference.input_key, f"ctc{args.interface}", target_name)
    out.finish()
    infeasible = len(out.files["infeasible"]) - out.non_finite
    print(f"{PROG}: interface {args.interface} ({interface.name}): aligned {out.aligned}, "
          f"infeasible {infeasible}"
          + (f", not finite {out.non_finite} (NaN/+inf marginals, see {output_dir / 'infeasible'})"
             if out.non_finite else "")
          + f" in {time.perf_counter() - start:.1f} s -> {output_dir}")
    return output_dir


if __name__ == "__main__":
    try:
        main()
    except (OSError, ValueError) as err:
        sys.exit(f"{PROG}: error: {err}")
