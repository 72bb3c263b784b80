"""Model zoo: load a packed LegoNN model (or an experiment directory) and decode with it.

    from legonn.zoo import LegoNNInference, load_model
    model, train_args = load_model("wmt14_legonn_wemb.zip")        # or "exp/legonn_wemb"
    translate = LegoNNInference("wmt14_legonn_wemb.zip", beam_size=5, penalty=0.6)
    translate("ein kleiner Test")[0].text

Archives are written by `python -m legonn.bin.pack model ...` in ESPnet's pack format (meta.yaml,
the training config with its file paths rewritten, the weights, every interface and the feature
statistics), so espnet2.main_funcs.pack_funcs.unpack and espnet_model_zoo open them too.
"""
import argparse
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import yaml

# Config keys that name files the model needs (interfaces, feature statistics).
PATH_KEYS = ("interfaces", "input_interface", "output_interface", "normalize_stats")
MODEL_FILES = ("valid.acc.ave.pth", "valid.loss.ave.pth", "latest.pth", "model.pth")
DEFAULT_CACHE = Path(os.environ.get("LEGONN_CACHE", Path.home() / ".cache" / "legonn"))


def task_of(config: dict) -> str:
    """'asr' when the model reads speech features (its config has input_size), else 'mt'."""
    return "asr" if "input_size" in config else "mt"


def task_class(task: str):
    if task == "asr":
        from legonn.tasks.asr import ASRTask

        return ASRTask
    from legonn.tasks.mt import MTTask

    return MTTask


def resolve_path(value: str, bases: Sequence[Path]) -> Path:
    """A config path as the training run saw it: relative to its working directory, which was
    the recipe directory; tried against each of `bases` in turn."""
    path = Path(value)
    if path.is_absolute():
        if path.exists():
            return path
    else:
        for base in bases:
            if (base / path).exists():
                return (base / path).resolve()
    raise FileNotFoundError(f"{value} (named in the training config) not found; tried "
                            + (str(path) if path.is_absolute() else ", ".join(str(b / path) for b in bases)))


def config_bases(config_path: Path) -> List[Path]:
    """Where relative config paths may start: the working directory, then the recipe directory
    (exp/<tag>/config.yaml -> ../..), then the config's own folder."""
    config_path = Path(config_path).resolve()
    return [Path.cwd(), config_path.parent.parent.parent, config_path.parent]


def resolved_config(config_path: Path) -> dict:
    """The config with every path of PATH_KEYS made absolute."""
    config = yaml.safe_load(Path(config_path).read_text(encoding="utf-8"))
    bases = config_bases(config_path)
    for key in PATH_KEYS:
        value = config.get(key)
        if isinstance(value, list):
            config[key] = [str(resolve_path(v, bases)) for v in value]
        elif value:
            config[key] = str(resolve_path(value, bases))
    return config


def _cache_dir(archive: Path, cache_dir: Optional[Path]) -> Path:
    stat = archive.stat()
    key = hashlib.sha1(f"{archive.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    return Path(cache_dir or DEFAULT_CACHE) / f"{archive.name.split('.')[0]}_{key}"


def locate(archive_or_dir, cache_dir=None) -> Tuple[Path, Path]:
    """(train config, model file) of an archive (unpacked into the cache), of a folder an archive
    was unpacked into, or of an experiment directory (config.yaml + a model file)."""
    source = Path(archive_or_dir)
    if source.is_file():
        from espnet2.main_funcs.pack_funcs import unpack

        files = unpack(source, _cache_dir(source, cache_dir))
    elif (source / "meta.yaml").is_file():
        meta = yaml.safe_load((source / "meta.yaml").read_text(encoding="utf-8"))
        files = {k: str(source / v) for k, v in {**meta["yaml_files"], **meta["files"]}.items()}
    elif (source / "config.yaml").is_file():
        for name in MODEL_FILES:
            if (source / name).exists():
                return source / "config.yaml", source / name
        raise FileNotFoundError(f"{source} has config.yaml but none of {', '.join(MODEL_FILES)}")
    else:
        raise FileNotFoundError(f"{source} is neither a model archive nor a directory with config.yaml")
    config = next((v for k, v in files.items() if k.endswith("train_config")), None)
    model = next((v for k, v in files.items() if k.endswith("model_file")), None)
    if config is None or model is None:
        raise ValueError(f"{source}: the archive holds {sorted(files)}, not a *_train_config and a "
                         "*_model_file; was it written by `python -m legonn.bin.pack model`?")
    return Path(config), Path(model)


def load_model(archive_or_dir, device: str = "cpu", cache_dir=None):
    """(model in eval mode, training args) of a packed model or an experiment directory.
    Archives are unpacked once into `cache_dir` (default ~/.cache/legonn, or $LEGONN_CACHE)."""
    config_path, model_file = locate(archive_or_dir, cache_dir)
    config = resolved_config(config_path)
    args = argparse.Namespace(**config)
    model = task_class(task_of(config)).build_model(args).to(device)
    state = torch.load(model_file, map_location=device, weights_only=True)
    try:  # strict: a config/weights mix-up must not decode with random weights
        model.load_state_dict(state.get("module", state), strict=True)
    except RuntimeError as error:
        raise ValueError(f"{model_file} does not fit the model of {config_path}: {error}") from None
    return model.eval(), args


@dataclass
class Result:
    text: str
    tokens: List[str]
    score: float  # length-normalized log-probability (the CTC path score for encoder-only models)
    interfaces: List[str]  # greedy CTC reading of every module interface, in chain order


class LegoNNInference:
    """Speech2Text / Text2Text-like decoding with a packed model.

    MT: call with a sentence (str). ASR: call with fbank features (frames x input_size, as
    `python -m legonn.bin.make_fbank` computes them) or a 16 kHz waveform (1-D array).
    Returns the n-best list of Results; a list of inputs gives one n-best list each."""

    def __init__(self, archive_or_dir, device: str = "cpu", beam_size: Optional[int] = None,
                 penalty: Optional[float] = None, nbest: int = 1, maxlenratio_a: float = 1.5,
                 maxlenratio_b: int = 10, cache_dir=None):
        from legonn.bin.inference import PAPER_SEARCH
        from legonn.nets.interface import Interface
        from legonn.tokenizer import Tokenizer

        self.model, self.train_args = load_model(archive_or_dir, device, cache_dir)
        self.task = task_of(vars(self.train_args))
        self.device = device
        defaults = PAPER_SEARCH[self.task]
        self.beam_size = beam_size or defaults["beam_size"]
        self.penalty = defaults["penalty"] if penalty is None else penalty
        self.nbest, self.maxlenratio_a, self.maxlenratio_b = nbest, maxlenratio_a, maxlenratio_b
        self.input_tokenizer = (Tokenizer(Interface.load(self.train_args.input_interface))
                                if self.task == "mt" else None)
        self.output_tokenizer = Tokenizer(self.model.output_interface)
        self.interface_tokenizers = [Tokenizer(i) for i in self.model.interfaces]

    def features(self, item) -> torch.Tensor:
        if self.task == "mt":
            if not isinstance(item, str):
                raise TypeError(f"an MT model translates text, got {type(item).__name__}")
            ids = self.input_tokenizer.encode(item)
            if not ids:
                raise ValueError(f"{item!r} has no tokens in the source vocabulary")
            return torch.tensor(ids, dtype=torch.long)
        array = np.asarray(item, dtype=np.float32)
        if array.ndim == 1:  # a waveform: the same fbank as the recipes' dump stage
            from legonn.bin.make_fbank import compute_fbank

            options = argparse.Namespace(num_mel_bins=self.train_args.input_size, sample_rate=16000,
                                         resample=False)
            array = compute_fbank(array, 16000, options)
        if array.ndim != 2 or array.shape[1] != self.train_args.input_size:
            raise ValueError(f"expected features of shape (frames, {self.train_args.input_size}) or "
                             f"a 1-D 16 kHz waveform, got shape {array.shape}")
        return torch.from_numpy(array)

    @torch.no_grad()
    def __call__(self, inputs: Union[str, np.ndarray, torch.Tensor, list]):
        single = not isinstance(inputs, list)
        items = [self.features(x) for x in ([inputs] if single else inputs)]
        lengths = torch.tensor([len(x) for x in items])
        pad = 0 if self.task == "mt" else 0.0
        batch = torch.nn.utils.rnn.pad_sequence(items, batch_first=True, padding_value=pad)
        results = self.decode(batch.to(self.device), lengths.to(self.device))
        return results[0] if single else results

    def decode(self, batch: torch.Tensor, lengths: torch.Tensor) -> List[List[Result]]:
        from legonn.bin.inference import greedy_ctc
        from legonn.search.beam_search import beam_search

        model = self.model
        encoded = model.encode(batch, lengths)
        readings = [[tok.decode(greedy_ctc(out.log_probs[b], int(out.lengths[b])))
                     for out, tok in zip(encoded, self.interface_tokenizers)]
                    for b in range(len(batch))]
        if model.decoder is None:  # encoder-only: the last interface's greedy reading
            last = encoded[-1]
            results = []
            for b in range(len(batch)):
                ids = greedy_ctc(last.log_probs[b], int(last.lengths[b]))
                score = float(last.log_probs[b, :int(last.lengths[b])].max(-1).values.sum())
                tokens = [model.interfaces[-1].tokens[i] for i in ids]
                results.append([Result(readings[b][-1], tokens, score, readings[b])])
            return results
        memory, memory_lengths = model.decoder_memory(encoded)
        mask = torch.arange(memory.size(1), device=memory.device)[None] < memory_lengths[:, None]
        nbests = beam_search(model.decoder.decoder, memory, mask, model.sos_eos, model.sos_eos,
                             beam_size=self.beam_size, length_penalty=self.penalty,
                             max_len_a=self.maxlenratio_a, max_len_b=self.maxlenratio_b,
                             nbest=self.nbest)
        vocabulary = model.output_interface.tokens
        return [[Result(self.output_tokenizer.decode(h.tokens), [vocabulary[t] for t in h.tokens],
                        h.normalized_score, readings[b]) for h in hyps]
                for b, hyps in enumerate(nbests)]
