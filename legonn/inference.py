"""Decoding with a trained LegoNN model: the one class every caller uses (the inference and
alignment CLIs, the model zoo, notebooks), like ESPnet's Speech2Text / Text2Text.

    from legonn.inference import LegoNNInference
    translate = LegoNNInference.from_pretrained("wmt14_legonn_wemb.zip", beam_size=5)
    translate("ein kleiner Test")[0].text            # n-best list of Results
    translate.decode_batch(inputs, lengths)          # padded batch -> one Decoded per utterance

`from_pretrained` takes an experiment directory (config.yaml + a model file), a composed model's
directory (what `python -m legonn.bin.compose` writes), a packed model archive (`python -m
legonn.bin.pack model`, unpacked once into a cache) or a folder such an archive was unpacked
into; `from_files` takes a training config and a model file; `from_modules` composes a model
from module archives in memory (`python -m legonn.bin.pack module` / `export_modules` output),
checking their interfaces as `python -m legonn.bin.compose` does. `from_pretrained` given a list of
module archives (or a single one) composes them the same way.

A Decoded utterance holds the decoder's n-best hypotheses (an encoder-only model: the greedy CTC
reading of its last interface) and the greedy CTC reading of every module interface.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import kaldiio
import numpy as np
import torch
import yaml

from legonn.nets.layers import padding_mask
from legonn.search import beam_search
from legonn.search.ctc_prefix_score import CTCPrefixScorer
from legonn.tasks import task_class, task_of
from legonn.tokenizer import Tokenizer
from legonn.utils import atomic_path, greedy_ctc, write_lines

# Config keys that name files the model needs (interfaces, feature statistics).
PATH_KEYS = ("interfaces", "input_interface", "output_interface", "normalize_stats")
# Model files of an experiment directory, best first (model.pth: a composed model).
MODEL_FILES = ("valid.acc.ave.pth", "valid.loss.ave.pth", "latest.pth", "model.pth")
# CTC prefix scores cost positions x hypotheses x tokens per step: a vocabulary of characters or
# phones is scored whole; a larger one (BPE) only at the decoder's 1.5 x beam best next tokens
# (ESPnet's pre-beam), 6x faster on Multi30k's 1000 BPE units (egs2/multi30k/mt1/README.md).
PRE_BEAM_RATIO, SCORED_WHOLE_UP_TO = 1.5, 100
DEFAULT_CACHE = Path(os.environ.get("LEGONN_CACHE", Path.home() / ".cache" / "legonn"))


@dataclass(frozen=True)
class SearchOptions:
    beam_size: int
    length_penalty: float  # hypothesis score / length ** length_penalty
    nbest: int = 1
    maxlenratio_a: float = 1.5  # max output length = a * decoder memory length + b
    maxlenratio_b: int = 10
    stop_when_beam_finished: bool = False  # fairseq's rule: stop once `beam` hypotheses ended
    # subtracted from the blank's log-probability in the interfaces' greedy CTC readings (beyond
    # the paper); what the next module reads is unchanged
    blank_penalty: float = 0.0
    # joint CTC/attention search (beyond the paper; ESPnet's hybrid decoding): hypotheses score
    # (1 - w) * decoder + w * CTC prefix score of the last interface, when it is the output vocabulary
    ctc_weight: float = 0.0

    def __post_init__(self):
        if not 1 <= self.nbest <= self.beam_size:
            raise ValueError(f"--nbest {self.nbest} must be between 1 and --beam_size {self.beam_size}")
        if not 0.0 <= self.ctc_weight < 1.0:
            raise ValueError(f"--ctc_weight {self.ctc_weight} must be at least 0 and below 1")

    def tag(self) -> str:
        """A name for these options (ESPnet's inference_tag), e.g. beam10_lp1.0: recipes decode a
        non-default search into decode_<set>_<tag>/, beside the default one."""
        parts = [f"beam{self.beam_size}", f"lp{self.length_penalty}"]
        if self.nbest != 1:
            parts.append(f"nbest{self.nbest}")
        if (self.maxlenratio_a, self.maxlenratio_b) != (1.5, 10):
            parts.append(f"maxlen{self.maxlenratio_a}x{self.maxlenratio_b}")
        if self.stop_when_beam_finished:
            parts.append("stopfinished")
        if self.blank_penalty:
            parts.append(f"bp{self.blank_penalty}")
        if self.ctc_weight:
            parts.append(f"ctc{self.ctc_weight}")
        return "_".join(parts)

    def describe(self) -> str:
        """How RESULTS tables name a search: 'beam 10, lp 1.0' (+ the options that differ)."""
        return ", ".join([f"beam {self.beam_size}", f"lp {self.length_penalty}"] + self.tag().split("_")[2:])


# The paper's settings: beam 5 / length penalty 0.6 for MT, beam 20 / 1.0 for ASR.
PAPER_SEARCH = {"mt": SearchOptions(beam_size=5, length_penalty=0.6),
                "asr": SearchOptions(beam_size=20, length_penalty=1.0)}


@dataclass
class Result:
    """One hypothesis."""
    text: str
    tokens: list[str]
    score: float  # length-normalized log-probability (the CTC path score for encoder-only models)
    interfaces: list[str]  # greedy CTC reading of every module interface, in chain order
    token_ids: list[int] = field(default_factory=list)


@dataclass
class Decoded:
    """One utterance: its n-best hypotheses and what each module interface reads."""
    nbest: list[Result]
    interface_ids: list[list[int]]  # greedy CTC token ids per interface
    marginals: list[torch.Tensor]  # (K_i, V_i) log-marginals per interface, padding removed


# --- where a model's files are -----------------------------------------------------------------

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


def config_bases(config_path: Path) -> list[Path]:
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


def _cache_dir(archive: Path, cache_dir: Path | None) -> Path:
    stat = archive.stat()
    key = hashlib.sha1(f"{archive.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    return Path(cache_dir or DEFAULT_CACHE) / f"{archive.name.split('.')[0]}_{key}"


def locate(source, cache_dir=None) -> tuple[Path, Path]:
    """(train config, model file) of a packed archive (unpacked into the cache), of a folder an
    archive was unpacked into, or of an experiment or composed-model directory."""
    source = Path(source)
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


def is_module_archive(source) -> bool:
    """A module archive (module.yaml inside), as opposed to a packed whole model."""
    import tarfile
    import zipfile

    source = Path(source)
    if not source.is_file():
        return False
    try:
        if zipfile.is_zipfile(source):
            with zipfile.ZipFile(source) as archive:
                names = archive.namelist()
        else:
            with tarfile.open(source) as archive:
                names = archive.getnames()
    except (OSError, tarfile.TarError):
        return False  # locate() names what is wrong with it
    return any(Path(name).name == "module.yaml" for name in names)


def load_model(train_config, model_file, device: str = "cpu", weights_only: bool = True):
    """(model in eval mode, training args). Strict: ESPnet's loader ignores missing weights,
    which would silently decode with random ones after a config/checkpoint mix-up."""
    if not Path(model_file).is_file():
        raise FileNotFoundError(f"--model_file {model_file} does not exist")
    args = argparse.Namespace(**resolved_config(train_config))
    model = task_class(task_of(vars(args))).build_model(args).to(device)
    try:
        state = torch.load(model_file, map_location=device, weights_only=weights_only)
    except Exception as err:  # a damaged file raises almost anything
        first = (str(err).strip().splitlines() or [""])[0].split(". ")[0]
        raise ValueError(f"--model_file {model_file} is not a readable checkpoint "
                         f"({type(err).__name__}: {first}); "
                         "it may be cut off (killed or disk full while saving): use another "
                         "epoch's file or re-run training") from None
    try:
        model.load_state_dict(state.get("module", state), strict=True)
    except RuntimeError as err:
        raise ValueError(f"{model_file} does not fit the model of {train_config}: {err}") from None
    return model.eval(), args


# --- decoding ------------------------------------------------------------------------------------

class LegoNNInference:
    """A trained model, its tokenizers and search options. MT: call with a sentence (str). ASR:
    call with fbank features (frames x input_size, as `python -m legonn.bin.make_fbank` computes
    them) or a 16 kHz waveform (1-D array). A call returns the n-best list of Results; a list of
    inputs gives one n-best list each."""

    def __init__(self, model, train_args: argparse.Namespace, device: str = "cpu",
                 search: SearchOptions | None = None, write_marginals: bool = False):
        self.model, self.train_args, self.device = model, train_args, device
        self.task = task_of(vars(train_args))
        self.task_class = task_class(self.task)
        self.search = search or PAPER_SEARCH[self.task]
        self.keep_marginals = write_marginals
        self.output_tokenizer = Tokenizer(model.output_interface)
        self.interface_tokenizers = [Tokenizer(interface) for interface in model.interfaces]
        input_interface = self.task_class.input_interface(train_args)
        self.input_tokenizer = Tokenizer(input_interface) if input_interface else None
        if model.decoder is None and not model.interfaces:
            raise ValueError("the model has neither a decoder nor a CTC interface to decode with")
        if self.search.ctc_weight:
            self.check_joint_search()

    def check_joint_search(self) -> None:
        """Joint CTC/attention search needs a decoder and a last interface over its vocabulary."""
        model = self.model
        if model.decoder is None or not model.interfaces:
            raise ValueError("--ctc_weight needs a model with a decoder and a CTC interface "
                             "(an encoder-only model is read by greedy CTC)")
        last, output = model.interfaces[-1], model.output_interface
        if last.tokens != output.tokens:
            raise ValueError(f"--ctc_weight: the last interface ({last.describe()}) is not the decoder's "
                             f"output vocabulary ({output.describe()}), so CTC cannot score its hypotheses")

    def pre_beam(self) -> int | None:
        if self.model.output_interface.size <= SCORED_WHOLE_UP_TO:
            return None
        return int(PRE_BEAM_RATIO * self.search.beam_size)

    @staticmethod
    def search_options(task: str, beam_size: int | None = None, length_penalty: float | None = None,
                       **options) -> SearchOptions:
        """The paper's search settings for `task`, with the options given (None: the default)."""
        paper = PAPER_SEARCH[task]
        return replace(paper, beam_size=beam_size or paper.beam_size,
                       length_penalty=paper.length_penalty if length_penalty is None else length_penalty,
                       **{k: v for k, v in options.items() if v is not None})

    @classmethod
    def from_files(cls, train_config, model_file, device: str = "cpu", weights_only: bool = True,
                   write_marginals: bool = False, **search) -> LegoNNInference:
        model, train_args = load_model(train_config, model_file, device, weights_only)
        options = cls.search_options(task_of(vars(train_args)), **search)
        return cls(model, train_args, device, options, write_marginals)

    @classmethod
    def from_pretrained(cls, source, device: str = "cpu", cache_dir=None, **search) -> LegoNNInference:
        """`source`: an experiment or composed-model directory, a packed archive or an unpacked
        one. Archives are unpacked once into `cache_dir` (default ~/.cache/legonn or $LEGONN_CACHE)."""
        if isinstance(source, (list, tuple)) or is_module_archive(source):
            return cls.from_modules(source if isinstance(source, (list, tuple)) else [source],
                                    device, cache_dir, **search)
        return cls.from_files(*locate(source, cache_dir), device=device, **search)

    @classmethod
    def from_modules(cls, archives: Sequence, device: str = "cpu", cache_dir=None, **search) -> LegoNNInference:
        """The model composed of module archives in chain order (encoder, middle..., [decoder]),
        built in memory: interfaces checked (InterfaceMismatch names both vocabularies), weights
        loaded strictly. Archives are unpacked into `cache_dir` (the interfaces stay there)."""
        from legonn.modules import compose, read_module

        archives = [Path(a) for a in archives]
        if not archives:
            raise ValueError("no module archives given")
        for archive in archives:
            if not archive.is_file():
                raise FileNotFoundError(f"module archive {archive} does not exist")
        key = hashlib.sha1("|".join(str(_cache_dir(a, cache_dir)) for a in archives).encode()).hexdigest()[:12]
        where = Path(cache_dir or DEFAULT_CACHE) / f"composed_{key}"
        modules = [read_module(archive, where / f"module{i}") for i, archive in enumerate(archives)]
        composed = compose(modules, where / "interfaces")
        # What legonn.bin.compose writes into a composed model's config.yaml.
        train_args = argparse.Namespace(**{"model_conf": {}, "use_preprocessor": True, **composed.config})
        model = task_class(composed.task).build_model(train_args).to(device)
        model.load_state_dict(composed.state, strict=True)
        return cls(model.eval(), train_args, device, cls.search_options(composed.task, **search))

    def data_loader(self, data_path_and_name_and_type, key_file=None, batch_size: int = 16,
                    num_workers: int = 1, allow_variable_data_keys: bool = False):
        """ESPnet's streaming iterator over Kaldi-style data, with this model's preprocessing:
        yields (utterance ids, padded batch)."""
        task = self.task_class
        return task.build_streaming_iterator(
            data_path_and_name_and_type,
            preprocess_fn=task.build_preprocess_fn(self.train_args, False),
            collate_fn=task.build_collate_fn(self.train_args, False),
            key_file=key_file, batch_size=batch_size, dtype="float32", num_workers=num_workers,
            allow_variable_data_keys=allow_variable_data_keys, inference=True)

    @property
    def input_key(self) -> str:
        return self.task_class.input_key

    def features(self, item) -> torch.Tensor:
        """Model input of one raw item: source token ids (MT) or fbank features (ASR)."""
        if self.input_tokenizer is not None:
            if not isinstance(item, str):
                raise TypeError(f"an MT model translates text, got {type(item).__name__}")
            ids = self.input_tokenizer.encode(item)
            if not ids:
                raise ValueError(f"{item!r} has no tokens in the source vocabulary")
            return torch.tensor(ids, dtype=torch.long)
        array = np.asarray(item, dtype=np.float32)
        input_size = self.train_args.input_size
        if array.ndim == 1:  # a waveform: the same fbank as the recipes' dump stage
            from legonn.features import compute_fbank

            array = compute_fbank(array, 16000, num_mel_bins=input_size, sample_rate=16000)
        if array.ndim != 2 or array.shape[1] != input_size:
            raise ValueError(f"expected features of shape (frames, {input_size}) or "
                             f"a 1-D 16 kHz waveform, got shape {array.shape}")
        return torch.from_numpy(array)

    @torch.no_grad()
    def __call__(self, inputs: str | np.ndarray | torch.Tensor | list):
        single = not isinstance(inputs, list)
        items = [self.features(x) for x in ([inputs] if single else inputs)]
        lengths = torch.tensor([len(x) for x in items])
        batch = torch.nn.utils.rnn.pad_sequence(items, batch_first=True, padding_value=0)
        nbests = [decoded.nbest for decoded in self.decode_batch(batch, lengths)]
        return nbests[0] if single else nbests

    @torch.no_grad()
    def decode_batch(self, inputs: torch.Tensor, lengths: torch.Tensor) -> list[Decoded]:
        """A padded batch of model inputs -> one Decoded per utterance."""
        model = self.model
        encoded = model.encode(inputs.to(self.device), lengths.to(self.device))
        # An enc-dec baseline's encoder has no CTC head: no interface to read.
        interfaces = [output for output in encoded if output.log_probs is not None]
        nbests = None
        if model.decoder is not None:
            memory, memory_lengths = model.decoder_memory(encoded)
            search = self.search
            scorers = []
            if search.ctc_weight:
                last = interfaces[-1]
                ctc = CTCPrefixScorer(last.log_probs, last.lengths, model.interfaces[-1].blank_id, model.sos_eos)
                # The decoder keeps weight 1: (1 - w) : w, scaled, ranks hypotheses the same.
                scorers.append((ctc, search.ctc_weight / (1.0 - search.ctc_weight)))
            nbests = beam_search(model.decoder.decoder, memory, padding_mask(memory_lengths, memory.size(1)),
                                 model.sos_eos, model.sos_eos, beam_size=search.beam_size,
                                 length_penalty=search.length_penalty, max_len_a=search.maxlenratio_a,
                                 max_len_b=search.maxlenratio_b, nbest=search.nbest, scorers=scorers,
                                 pre_beam=self.pre_beam() if scorers else None,
                                 stop_when_beam_finished=search.stop_when_beam_finished)
        utterances = []
        for b in range(len(inputs)):
            lengths_b = [int(output.lengths[b]) for output in interfaces]
            ids = [greedy_ctc(output.log_probs[b], n, blank_penalty=self.search.blank_penalty)
                   for output, n in zip(interfaces, lengths_b)]
            readings = [tok.decode(i) for tok, i in zip(self.interface_tokenizers, ids)]
            marginals = ([output.log_probs[b, :n].float().cpu() for output, n in zip(interfaces, lengths_b)]
                         if self.keep_marginals else [])
            if nbests is not None:
                vocabulary = model.output_interface.tokens
                nbest = [Result(self.output_tokenizer.decode(h.tokens), [vocabulary[t] for t in h.tokens],
                                h.normalized_score, readings, list(h.tokens)) for h in nbests[b]]
            else:  # encoder-only: the last interface's greedy reading, scored by its best path
                last = encoded[-1]
                path_score = float(last.log_probs[b, :lengths_b[-1]].max(-1).values.sum())
                vocabulary = model.interfaces[-1].tokens
                nbest = [Result(readings[-1], [vocabulary[t] for t in ids[-1]], path_score, readings, ids[-1])]
            utterances.append(Decoded(nbest, ids, marginals))
        return utterances


class MarginalsWriter:
    """Streams K x V log-marginals into an ark (too large to hold in memory); the ark and its
    scp get their final names only in close(), scp last, so a present scp means a whole ark."""

    def __init__(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        self.ark, self.scp = directory / "marginals.ark", directory / "marginals.scp"
        self._closing = contextlib.ExitStack()
        self.file = self._closing.enter_context(atomic_path(self.ark)).open("wb")
        self.index: list[str] = []

    def write(self, key: str, matrix: np.ndarray) -> None:
        offset = self.file.tell() + len(key.encode("utf-8")) + 1  # past "key "
        kaldiio.save_ark(self.file, {key: np.asarray(matrix, dtype=np.float32)})
        self.index.append(f"{key} {self.ark.resolve()}:{offset}")

    def close(self) -> None:
        self.file.close()
        self._closing.close()  # the ark gets its final name
        write_lines(self.scp, self.index)
