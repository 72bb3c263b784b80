"""Fault injection: bad inputs, broken files and interrupted runs against the real command-line
tools and the recipe pipeline (legonn.sh). Every case must end in a clear error (naming the file
or utterance, what is wrong, what to do) or in a counted skip with a summary; never in a
traceback from inside torch or ESPnet, never in a NaN loss.

The cases form a table (CASES: id, group, command, check). Each run records what it observed;
at the end the table is written to $LEGONN_FAULTS_TABLE (default: a file in the test's temporary
directory). docs/faults.md is that table:

    LEGONN_FAULTS_TABLE=docs/faults.md tools/venv/bin/python -m pytest -q test/test_faults.py

CPU-light: tiny toy data and models; the CLIs run in-process (main(argv)) except where a real
process is the point: legonn.sh, and kill -9 (forked children, so ESPnet is imported once).
"""
import contextlib
import errno
import io
import logging
import os
import re
import signal
import subprocess
import sys
import time
import traceback
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List

import kaldiio
import numpy as np
import pytest
import soundfile
import torch
import yaml

from legonn import utils as legonn_utils
from legonn.bin import align as align_cli
from legonn.bin import asr_train, compose, export_modules, inference, make_fbank, make_interface, mt_train
from legonn.nets.interface import BLANK, SOS_EOS, UNK, Interface
from legonn.recipe import data_dir
from legonn.tasks.asr import ASRTask
from legonn.tasks.mt import MTTask
from legonn.tasks.trainer import LegoNNTrainer
from test.toy import SRC_WORDS, TGT_WORDS

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "egs2" / "TEMPLATE" / "legonn1"
MULTI30K = REPO / "egs2" / "multi30k" / "mt1"

TINY = {
    "encoder_conf": {"dim": 16, "heads": 2, "ffn_dim": 32, "layers": 1, "dropout": 0.0,
                     "olc": {"ratio": 2.0, "max_len": 40, "layers": 1}},
    "ingestor": "wemb", "ingestor_conf": {"layers": 1, "heads": 2, "ffn_dim": 32, "dropout": 0.0},
    "decoder_conf": {"dim": 16, "heads": 2, "ffn_dim": 32, "layers": 1, "dropout": 0.0},
    "optim": "adam", "optim_conf": {"lr": 0.002}, "batch_type": "unsorted", "batch_size": 8,
    "max_epoch": 2, "best_model_criterion": [["valid", "acc", "max"]], "keep_nbest_models": 1,
    "num_att_plot": 0, "num_workers": 0, "use_tensorboard": False, "use_matplotlib": False,
}


# --- running a command and judging its outcome -------------------------------------------------

@dataclass
class Result:
    code: int
    out: str
    err: str
    exc: BaseException = None


@contextlib.contextmanager
def captured():
    """stdout, stderr and log records (INFO and up) of in-process commands, as text."""
    out, err = io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(err)
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            yield out, err
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def call(main: Callable, argv: List[str]) -> Result:
    """Runs a command's main(argv) in-process, as its command line would."""
    with captured() as (out, err):
        exc = None
        try:
            code = main(argv)
            code = code if isinstance(code, int) else 0
        except SystemExit as stop:
            if isinstance(stop.code, str):
                print(stop.code, file=sys.stderr)
            code = stop.code if isinstance(stop.code, int) else 1
        except Exception as error:  # judged by clear_error
            code, exc = 1, error
    return Result(code, out.getvalue(), err.getvalue(), exc)


def shell(command: List[str], cwd: Path, timeout=300) -> Result:
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return Result(proc.returncode, proc.stdout, proc.stderr)


OBSERVED: Dict[str, str] = {}  # case id -> what the last run of the case showed
CURRENT = {"id": None}


def observe(text: str) -> str:
    OBSERVED[CURRENT["id"]] = text
    return text


def clear_error(result: Result, *patterns: str) -> str:
    """The command failed with a message matching every pattern, raised by legonn code (or
    printed as a one-line error), not by torch or ESPnet internals. Returns the message."""
    if result.exc is not None:
        frames = traceback.extract_tb(result.exc.__traceback__)
        origin = frames[-1].filename if frames else ""
        message = f"{type(result.exc).__name__}: {result.exc}"
        observe(message)
        assert origin.startswith(str(REPO / "legonn")), f"raised inside {origin}:\n{message}"
    else:
        lines = [line for line in result.err.strip().splitlines() if line.strip()]
        errors = [i for i, line in enumerate(lines) if "error:" in line]  # argparse: usage, then the error
        message = "\n".join(lines[errors[-1]:] if errors else lines[-3:])
        shown = message if result.code else \
            f"exit 0; stdout: {result.out.strip()[-200:]}; stderr: {message[-200:] or '(empty)'}"
        observe(shown or f"exit {result.code}, no message")
        assert "Traceback" not in result.err, result.err
    assert result.code != 0, f"exit status 0:\n{result.out}\n{result.err}"
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in:\n{message}"
    return message


def succeeded(result: Result, *patterns: str) -> str:
    text = result.out + result.err
    observe(text.strip()[-400:])
    assert result.code == 0 and result.exc is None, f"{result.exc!r}\n{text}"
    for pattern in patterns:
        assert re.search(pattern, text), f"{pattern!r} not in:\n{text}"
    return text


# --- the toy recipe ------------------------------------------------------------------------------

def write_kaldi(path: Path, entries: Dict[str, str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{u} {v}".rstrip() + "\n" for u, v in entries.items()), encoding="utf-8")
    return path


def toy_split(directory: Path, count: int, seed: int, extra: Dict[str, tuple] = ()) -> None:
    """Word-for-word toy translation (test.toy's vocabulary), plus `extra` (src, tgt) pairs."""
    rng = np.random.default_rng(seed)
    src, tgt = {}, {}
    for i in range(count):
        idx = rng.integers(len(TGT_WORDS), size=rng.integers(2, 6))
        src[f"utt{i:04d}"] = " ".join(SRC_WORDS[j] for j in idx)
        tgt[f"utt{i:04d}"] = " ".join(TGT_WORDS[j] for j in idx)
    for uid, (s, t) in dict(extra).items():
        src[uid], tgt[uid] = s, t
    write_kaldi(directory / "src_text", dict(sorted(src.items())))
    write_kaldi(directory / "text", dict(sorted(tgt.items())))


def link_recipe(recipe: Path, local: Path = None) -> Path:
    recipe.mkdir(parents=True, exist_ok=True)
    for name in ("legonn.sh", "utils", "path.sh", "cmd.sh"):
        (recipe / name).symlink_to(TEMPLATE / name)
    if local is not None:
        (recipe / "local").symlink_to(local)
    return recipe


def legonn_sh(recipe: Path, *options: str) -> Result:
    return shell(["./legonn.sh", *options], cwd=recipe)


class Toy:
    """A recipe directory: data/, interfaces and dump/ made by legonn.sh stages 2-3, and a tiny
    MT model trained for 2 epochs by the real trainer (exp/toy)."""

    def __init__(self, root: Path):
        self.root = root
        self.recipe = link_recipe(root / "recipe")
        data = self.recipe / "data"
        # utt9000: a target far longer than the interface allows (2 frames for 9 tokens);
        # utt9001 in valid: a target word the vocabulary lacks.
        toy_split(data / "train", 16, 0, {"utt9000": ("s1", " ".join(TGT_WORDS[:9]))})
        toy_split(data / "valid", 4, 1, {"utt9001": ("s2 s3", "t2 t99")})
        toy_split(data / "test", 6, 2)
        self.stage23 = ["--stage", "2", "--stop_stage", "3", "--train_set", "train", "--valid_set", "valid",
                        "--test_sets", "test", "--interfaces",
                        "src=word:0:data/train/src_text tgt=word:0:data/train/text"]
        self.prepared = legonn_sh(self.recipe, *self.stage23)
        assert self.prepared.code == 0, self.prepared.err
        self.src = self.recipe / "data/interfaces/src/interface.yaml"
        self.tgt = self.recipe / "data/interfaces/tgt/interface.yaml"
        self.config = self.write_config("train.yaml")
        self.exp = self.recipe / "exp" / "toy"
        self.trained = self.train(self.exp)
        assert self.trained.code == 0 and self.trained.exc is None, f"{self.trained.exc!r}\n{self.trained.err}"
        self.model_file = self.exp / "valid.acc.ave.pth"
        self.modules = root / "modules"
        assert call(export_modules.main, ["--train_config", str(self.exp / "config.yaml"), "--model_file",
                                          str(self.model_file), "--out_dir", str(self.modules)]).code == 0

    def write_config(self, name: str, **changes) -> Path:
        config = yaml.safe_load(yaml.safe_dump(TINY))
        for key, value in changes.items():
            if isinstance(value, dict) and isinstance(config.get(key), dict):
                config[key].update(value)
            else:
                config[key] = value
        path = self.root / "conf" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(yaml.safe_dump(config))
        return path

    def train_argv(self, out: Path, config: Path = None, data: Dict[str, Path] = None, *extra: str) -> List[str]:
        dump = self.recipe / "dump"
        data = data or {"train": dump / "train", "valid": dump / "valid"}
        argv = ["--config", str(config or self.config), "--interfaces", f"[{self.tgt}]", "--ctc_targets", "[text]",
                "--output_interface", str(self.tgt), "--input_interface", str(self.src),
                "--output_dir", str(out), "--ngpu", "0", "--resume", "true"]
        for mode, directory in data.items():
            argv += [f"--{mode}_data_path_and_name_and_type", f"{directory}/src_text,src_text,text",
                     f"--{mode}_data_path_and_name_and_type", f"{directory}/text,text,text",
                     f"--{mode}_shape_file", f"{directory}/src_text"]
        return argv + list(extra)

    def train(self, out: Path, *extra: str, config: Path = None, data=None) -> Result:
        return call(mt_train.main, self.train_argv(out, config, data, *extra))

    def decode_argv(self, source: Path, out: Path, *extra: str, model_file=None) -> List[str]:
        return ["--task", "mt", "--train_config", str(self.exp / "config.yaml"),
                "--model_file", str(model_file or self.model_file), "--beam_size", "2",
                "--data_path_and_name_and_type", f"{source},src_text,text", "--output_dir", str(out), *extra]


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    toy = Toy(tmp_path_factory.mktemp("faults"))
    yield toy
    write_table(toy.root)


def reporter_of(checkpoint: Path) -> dict:
    return torch.load(checkpoint, map_location="cpu", weights_only=False)["reporter"]


# --- the cases --------------------------------------------------------------------------------

@dataclass
class Case:
    id: str
    group: str
    command: str
    check: Callable


CASES: List[Case] = []
ROWS: Dict[str, tuple] = {}


def case(id, group, command):
    def register(check):
        CASES.append(Case(id, group, command, check))
        return check
    return register


# make_fbank: every bad recording is skipped with a reason and counted; a good one is kept.

def write_wav(path: Path, seconds=0.3, rate=16000, channels=1, silent=False, subtype="PCM_16", samples=None):
    if samples is None:
        shape = (int(seconds * rate), channels)
        samples = np.zeros(shape) if silent else np.random.default_rng(0).uniform(-0.3, 0.3, shape)
    soundfile.write(path, samples, rate, subtype=subtype)
    return path


def fbank_case(tmp: Path, make_bad: Callable[[Path], object], *patterns: str, bad_only=False) -> str:
    audio = tmp / "audio"
    audio.mkdir()
    wav = {"bad": str(make_bad(audio / "bad.wav"))}
    if not bad_only:
        wav["good"] = str(write_wav(audio / "good.wav"))
    write_kaldi(tmp / "data" / "wav.scp", dict(sorted(wav.items())))
    result = call(make_fbank.main, ["--data_dir", str(tmp / "data"), "--out_dir", str(tmp / "fbank")])
    if bad_only:
        return clear_error(result, *patterns)
    text = succeeded(result, r"kept \d, skipped \d", *patterns)
    assert np.isfinite(kaldiio.load_scp(str(tmp / "fbank" / "feats.scp"))["good"]).all()
    return observe(next(line for line in text.splitlines() if line.startswith("make_fbank ")))


def truncated_wav(path):
    write_wav(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def corrupt_wav(path):
    path.write_bytes(b"RIFF" + os.urandom(200))
    return path


def empty_file(path):
    path.write_bytes(b"")
    return path


def nan_wav(path):
    samples = np.random.default_rng(0).uniform(-0.3, 0.3, 4800)
    samples[100:200] = np.nan
    return write_wav(path, samples=samples, subtype="FLOAT")


for _id, _make, _patterns in [
    ("audio-empty-file", empty_file, [r"empty file: 1"]),
    ("audio-header-only", lambda p: write_wav(p, samples=np.zeros(0)), [r"empty audio: 1"]),
    ("audio-truncated", truncated_wav, [r"truncated file: 1"]),
    ("audio-corrupt", corrupt_wav, [r"unreadable: 1"]),
    ("audio-wrong-rate", lambda p: write_wav(p, rate=8000), [r"wrong sample rate: 1"]),
    ("audio-silent", lambda p: write_wav(p, silent=True), [r"silent: 1"]),
    ("audio-nan-samples", nan_wav, [r"non-finite features: 1"]),
    ("audio-missing-file", lambda p: p, [r"missing file: 1"]),
]:
    case(_id, "audio (make_fbank)", "python -m legonn.bin.make_fbank --data_dir D --out_dir O")(
        lambda toy, tmp, make=_make, patterns=_patterns: fbank_case(tmp, make, *patterns))


@case("audio-multi-channel", "audio (make_fbank)", "python -m legonn.bin.make_fbank --data_dir D --out_dir O")
def _(toy, tmp):
    text = fbank_case(tmp, lambda p: write_wav(p, channels=2), r"multi-channel \(used channel 0\): 1")
    assert "kept 2, skipped 0" in text
    return text


@case("audio-wrong-rate-detail", "audio (make_fbank)", "make_fbank (8 kHz file): the skipped list says what to do")
def _(toy, tmp):
    fbank_case(tmp, lambda p: write_wav(p, rate=8000))
    reason = (tmp / "fbank" / "skipped").read_text().strip()
    assert re.fullmatch(r"bad wrong sample rate: 8000 Hz, expected 16000 Hz \(add --resample\)", reason), reason
    return observe(reason)


@case("audio-nothing-kept", "audio (make_fbank)", "make_fbank on a data dir whose only recording is corrupt")
def _(toy, tmp):
    return fbank_case(tmp, corrupt_wav, r"error: no utterance was kept; see .*skipped for why", bad_only=True)


# Transcripts: data_dir validate / filter and make_interface.

def text_dir(tmp: Path, text: bytes) -> Path:
    (tmp / "d").mkdir()
    (tmp / "d" / "text").write_bytes(text)
    return tmp / "d"


@case("text-non-utf8-validate", "transcripts", "python -m legonn.recipe.data_dir validate D")
def _(toy, tmp):
    d = text_dir(tmp, b"u1 hello\nu2 caf\xe9\n")
    return clear_error(call(data_dir.main, ["validate", str(d)]), r"text:2: not valid UTF-8", r"iconv -t UTF-8")


@case("text-non-utf8-interface", "transcripts", "python -m legonn.bin.make_interface --kind char --text T ...")
def _(toy, tmp):
    d = text_dir(tmp, b"u1 hello\nu2 caf\xe9\n")
    result = call(make_interface.main, ["--kind", "char", "--name", "x", "--text", str(d / "text"), "--out_dir", str(tmp / "i")])
    return clear_error(result, r"text:2: not valid UTF-8", r"re-encode")


@case("text-empty-validate", "transcripts", "python -m legonn.recipe.data_dir validate D")
def _(toy, tmp):
    d = text_dir(tmp, b"u1 hello\nu2\nu3 world\n")
    return clear_error(call(data_dir.main, ["validate", str(d)]), r"1 empty transcript\(s\): u2", r"data_dir filter")


@case("text-empty-filter", "transcripts", "python -m legonn.recipe.data_dir filter D O --max_tokens 50")
def _(toy, tmp):
    d = text_dir(tmp, b"u1 hello\nu2\nu3 world\n")
    text = succeeded(call(data_dir.main, ["filter", str(d), str(tmp / "o"), "--max_tokens", "50"]),
                     r"kept 2 of 3 utterances, skipped 1 \(empty text: 1\)")
    assert (tmp / "o" / "skipped").read_text() == "u2 empty text\n"
    return text


@case("text-very-long-filter", "transcripts", "python -m legonn.recipe.data_dir filter D O --max_tokens 50")
def _(toy, tmp):
    d = text_dir(tmp, ("u1 hello\nu2 " + "word " * 5000 + "\nu3 world\n").encode())
    return succeeded(call(data_dir.main, ["filter", str(d), str(tmp / "o"), "--max_tokens", "50"]),
                     r"kept 2 of 3 utterances, skipped 1 \(text longer than 50 words: 1\)")


@case("text-all-empty-interface", "transcripts", "python -m legonn.bin.make_interface --kind bpe --text T ...")
def _(toy, tmp):
    d = text_dir(tmp, b"u1\nu2\n")
    result = call(make_interface.main, ["--kind", "bpe", "--vocab_size", "20", "--name", "x", "--text", str(d / "text"),
                                        "--out_dir", str(tmp / "i")])
    return clear_error(result, r"no text to build the bpe vocabulary from", r"2 transcript\(s\), all empty")


@case("text-very-long-interface", "transcripts", "python -m legonn.bin.make_interface --kind bpe --text T ...")
def _(toy, tmp):
    lines = [f"u{i} a small dog sees a big cat number {i}" for i in range(20)] + ["u99 " + "ab " * 3000]
    d = text_dir(tmp, ("\n".join(lines) + "\n").encode())
    result = call(make_interface.main, ["--kind", "bpe", "--vocab_size", "30", "--name", "x", "--text", str(d / "text"),
                                        "--out_dir", str(tmp / "i")])
    text = succeeded(result, r"skipped 1 transcript\(s\) longer than 4192 bytes", r"text:u99", r"wrote .*interface.yaml")
    return observe(" / ".join(line for line in text.splitlines() if "skipped" in line or "wrote" in line))


# OOV, and targets longer than the CTC interface allows (both seen in the toy training run).

@case("oov-source-words-inference", "tokens", "python -m legonn.bin.inference --task mt ... (source words not in the vocabulary)")
def _(toy, tmp):
    source = write_kaldi(tmp / "src_text", {"a": "s1 s2", "b": "s1 zz s3 qq zz"})
    text = succeeded(call(inference.main, toy.decode_argv(source, tmp / "out")),
                     r"3 piece\(s\) in 1 text\(s\) are not in 'src' .* became <unk>: 'zz' x2, 'qq' x1")
    assert data_dir.read_keys(tmp / "out" / "text") == ["a", "b"]
    return observe(next(line for line in text.splitlines() if "became <unk>" in line))


@case("oov-target-word-training", "tokens", "python -m legonn.bin.mt_train ... (valid text has a word not in the vocabulary)")
def _(toy, tmp):
    log = toy.trained.err
    match = re.search(r"utterance 'utt9001': 'text' pieces \['t99'\] are not in 'tgt' .*; mapped to <unk>", log)
    assert match, log[-3000:]
    return observe(match.group(0))


@case("ctc-target-longer-than-interface", "tokens", "python -m legonn.bin.mt_train ... (a 9-token target, 2 interface frames)")
def _(toy, tmp):
    stats = reporter_of(toy.exp / "checkpoint.pth")["stats"]
    for epoch in (1, 2):
        assert stats[epoch]["train"]["ctc0_infeasible"] > 0
        assert all(np.isfinite(stats[epoch][mode]["loss"]) for mode in ("train", "valid"))
    train = stats[2]["train"]
    return observe(f"trained; epoch 2 train ctc0_infeasible={train['ctc0_infeasible']:.3f} (per batch), "
                   f"loss_ctc0={train['loss_ctc0']:.2f}, loss={train['loss']:.2f} (finite)")


# Data files the loaders read: a clear error naming the utterance and file, before any loading.

def asr_experiment(tmp: Path):
    """A random tiny ASR model (no training needed to check loading) and features for 3 utterances."""
    phones = Interface("phones", "phone", [BLANK, UNK, *"AA B K S T".split(), SOS_EOS])
    interface = phones.save(tmp / "phones")
    config = tmp / "asr.yaml"
    config.write_text(yaml.safe_dump({**TINY, "input_size": 8, "decoder": "none", "ingestor": None,
                                      "encoder_conf": {"dim": 16, "heads": 2, "ffn_dim": 32, "layers": 1,
                                                       "conv_channels": [4, 4]}}))
    options = ["--config", str(config), "--interfaces", f"[{interface}]", "--ctc_targets", "[text]"]
    args = ASRTask.get_parser().parse_args(options)
    model = ASRTask.build_model(args)
    (tmp / "exp").mkdir()
    (tmp / "exp" / "config.yaml").write_text(yaml.safe_dump(vars(args)))
    torch.save(model.state_dict(), tmp / "exp" / "model.pth")
    with kaldiio.WriteHelper(f"ark,scp:{tmp}/feats.ark,{tmp}/feats.scp") as writer:
        for i in range(3):
            writer(f"u{i}", np.random.default_rng(i).standard_normal((30, 8)).astype(np.float32))
    write_kaldi(tmp / "text", {f"u{i}": "AA B K" for i in range(3)})
    return options, tmp / "feats.scp"


def decode_asr(tmp: Path, scp: Path) -> Result:
    return call(inference.main, ["--task", "asr", "--train_config", str(tmp / "exp" / "config.yaml"),
                                 "--model_file", str(tmp / "exp" / "model.pth"), "--output_dir", str(tmp / "out"),
                                 "--data_path_and_name_and_type", f"{scp},speech,kaldi_ark"])


def bad_scp(tmp: Path, scp: Path, change: Callable[[str, str], str]) -> Path:
    lines = scp.read_text().splitlines()
    lines[1] = change(*lines[1].split(" ", 1))
    bad = tmp / "bad.scp"
    bad.write_text("\n".join(lines) + "\n")
    return bad


@case("feats-scp-missing-ark-inference", "data loading", "python -m legonn.bin.inference --task asr ... (feats.scp -> missing ark)")
def _(toy, tmp):
    _, scp = asr_experiment(tmp)
    scp = bad_scp(tmp, scp, lambda uid, where: f"{uid} /nowhere/feats.ark:{where.split(':')[1]}")
    return clear_error(decode_asr(tmp, scp), r"bad.scp: 1 utterance\(s\) point to a missing ark: u1 -> /nowhere/feats.ark",
                       r"re-run the feature dump stage")


@case("feats-scp-offset-past-end", "data loading", "python -m legonn.bin.inference --task asr ... (offset past the ark's end)")
def _(toy, tmp):
    _, scp = asr_experiment(tmp)
    scp = bad_scp(tmp, scp, lambda uid, where: f"{uid} {where.split(':')[0]}:999999")
    return clear_error(decode_asr(tmp, scp), r"point past the end of their ark: u1 -> .*feats.ark:999999")


@case("feats-ark-truncated", "data loading", "python -m legonn.bin.inference --task asr ... (ark cut off)")
def _(toy, tmp):
    _, scp = asr_experiment(tmp)
    ark = tmp / "feats.ark"
    os.truncate(ark, ark.stat().st_size - 100)
    return clear_error(decode_asr(tmp, scp), r"1 utterance\(s\) cut off: u2 \(30x8 at .*feats.ark", r"truncated")


@case("feats-scp-missing-ark-training", "data loading", "python -m legonn.bin.asr_train ... (train feats.scp -> missing ark)")
def _(toy, tmp):
    options, scp = asr_experiment(tmp)
    scp = bad_scp(tmp, scp, lambda uid, where: f"{uid} /nowhere/feats.ark:{where.split(':')[1]}")
    data = []
    for mode in ("train", "valid"):
        data += [f"--{mode}_data_path_and_name_and_type", f"{scp},speech,kaldi_ark",
                 f"--{mode}_data_path_and_name_and_type", f"{tmp / 'text'},text,text", f"--{mode}_shape_file", str(scp)]
    result = call(asr_train.main, options + data + ["--output_dir", str(tmp / "train"), "--ngpu", "0"])
    return clear_error(result, r"--train_data_path_and_name_and_type", r"u1 -> /nowhere/feats.ark")


@case("data-ids-missing-training", "data loading", "python -m legonn.bin.mt_train ... (text lacks an utterance of src_text)")
def _(toy, tmp):
    d = tmp / "train"
    d.mkdir()
    (d / "src_text").write_text((toy.recipe / "dump/train/src_text").read_text())
    (d / "text").write_text("".join((toy.recipe / "dump/train/text").read_text().splitlines(True)[1:]))
    result = toy.train(tmp / "exp", data={"train": d, "valid": toy.recipe / "dump/valid"})
    return clear_error(result, r"train/text lacks 1 utterance\(s\) of .*src_text: utt0000", r"data_dir subset")


@case("data-file-missing-inference", "data loading", "python -m legonn.bin.inference ... --data_path_and_name_and_type /nowhere/src_text,src_text,text")
def _(toy, tmp):
    result = call(inference.main, toy.decode_argv(tmp / "nowhere" / "src_text", tmp / "out"))
    return clear_error(result, r"nowhere/src_text \(the src_text data\) does not exist")


@case("data-empty-source-inference", "data loading", "python -m legonn.bin.inference ... (a source line with no text)")
def _(toy, tmp):
    source = write_kaldi(tmp / "src_text", {"a": "s1 s2", "b": "", "c": "s3"})
    return clear_error(call(inference.main, toy.decode_argv(source, tmp / "out")),
                       r"1 utterance\(s\) with empty src_text: b", r"data_dir filter")


@case("data-non-utf8-inference", "data loading", "python -m legonn.bin.inference ... (source file not UTF-8)")
def _(toy, tmp):
    source = tmp / "src_text"
    source.write_bytes(b"a s1 s2\nb s1 caf\xe9\n")
    return clear_error(call(inference.main, toy.decode_argv(source, tmp / "out")), r"src_text:2: not valid UTF-8")


# CTC alignment of a broken model: NaN marginals are flagged per utterance, never aligned.

@case("align-nan-marginals", "alignment (legonn.bin.align)", "python -m legonn.bin.align --task mt ... (a source word's embedding is NaN)")
def _(toy, tmp):
    state = torch.load(toy.model_file, map_location="cpu")
    state["encoders.0.frontend.embed.weight"][Interface.load(toy.src).tokens.index("s3")] = float("nan")
    torch.save(state, tmp / "nan.pth")
    source = write_kaldi(tmp / "src_text", {"a": "s1 s2", "b": "s1 s3", "c": "s4"})
    target = write_kaldi(tmp / "text", {"a": "t1 t2", "b": "t1 t3", "c": "t4"})
    result = call(align_cli.main, ["--task", "mt", "--train_config", str(toy.exp / "config.yaml"),
                                   "--model_file", str(tmp / "nan.pth"), "--output_dir", str(tmp / "align"),
                                   "--data_path_and_name_and_type", f"{source},src_text,text",
                                   "--data_path_and_name_and_type", f"{target},text,text", "--num_workers", "0"])
    text = succeeded(result, r"aligned 2, infeasible 0, not finite 1 \(NaN/\+inf marginals")
    (listed,) = (tmp / "align" / "infeasible").read_text().splitlines()
    assert listed.startswith("b marginals are not finite (NaN or +inf) from output position 0; not aligned")
    summary = next(line for line in text.splitlines() if "not finite" in line)
    return observe(f"{summary} / infeasible: {listed}")


# Module interfaces and archives (compose).

def random_mt_model(toy: Toy, directory: Path, tgt: Path) -> Path:
    """A random model whose decoder and CTC interface are `tgt`; exported as modules."""
    args = MTTask.get_parser().parse_args(["--config", str(toy.config), "--input_interface", str(toy.src),
                                           "--interfaces", f"[{tgt}]", "--ctc_targets", "[text]"])
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.yaml").write_text(yaml.safe_dump(vars(args)))
    torch.save(MTTask.build_model(args).state_dict(), directory / "model.pth")
    assert call(export_modules.main, ["--train_config", str(directory / "config.yaml"), "--model_file",
                                      str(directory / "model.pth"), "--out_dir", str(directory / "modules")]).code == 0
    return directory / "modules"


def compose_with(toy: Toy, tmp: Path, decoder: Path, encoder: Path = None) -> Result:
    return call(compose.main, ["--encoder", str(encoder or toy.modules / "encoder0.zip"), "--decoder", str(decoder),
                               "--out_dir", str(tmp / "composed")])


def rewrite_zip(source: Path, target: Path, member: str, change: Callable[[bytes], bytes]) -> Path:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        assert member in old.namelist(), old.namelist()
        for item in old.infolist():
            data = old.read(item.filename)
            new.writestr(item, change(data) if item.filename == member else data)
    return target


@case("compose-vocabulary-mismatch", "interfaces (compose)", "python -m legonn.bin.compose --encoder encoder0.zip --decoder other/decoder.zip --out_dir O")
def _(toy, tmp):
    other = Interface("other_en", "word", [BLANK, UNK, "x", "y", "z", SOS_EOS]).save(tmp / "other")
    modules = random_mt_model(toy, tmp / "other_model", other)
    return clear_error(compose_with(toy, tmp, modules / "decoder.zip"),
                       r"interface mismatch: 'tgt' \(word, \d+ tokens.*\) vs 'other_en' \(word, 6 tokens")


@case("compose-kind-mismatch", "interfaces (compose)", "python -m legonn.bin.compose ... (same tokens, kind char instead of word)")
def _(toy, tmp):
    words = Interface.load(toy.tgt)
    as_chars = Interface("tgt", "char", words.tokens).save(tmp / "tgt_char")
    modules = random_mt_model(toy, tmp / "char_model", as_chars)
    return clear_error(compose_with(toy, tmp, modules / "decoder.zip"),
                       r"interface mismatch: 'tgt' \(word, .*\) vs 'tgt' \(char, ")


@case("compose-tampered-tokens", "interfaces (compose)", "python -m legonn.bin.compose ... (tokens.txt edited inside decoder.zip)")
def _(toy, tmp):
    def swap_two(data):
        lines = data.decode().splitlines()
        lines[2], lines[3] = lines[3], lines[2]
        return ("\n".join(lines) + "\n").encode()
    tampered = rewrite_zip(toy.modules / "decoder.zip", tmp / "decoder.zip", "input_interface/tokens.txt", swap_two)
    return clear_error(compose_with(toy, tmp, tampered),
                       r"decoder.zip: input_interface: .*stored checksum \w+ does not match its files",
                       r"token list or bpe model was modified; re-export the module")


@case("compose-tampered-interface-yaml", "interfaces (compose)", "python -m legonn.bin.compose ... (interface.yaml kind edited, checksum recomputed)")
def _(toy, tmp):
    def recast(data):
        meta = yaml.safe_load(data)
        tokens = Interface.load(toy.tgt).tokens
        meta.update(kind="char", checksum=Interface("tgt", "char", tokens).checksum)
        return yaml.safe_dump(meta).encode()
    tampered = rewrite_zip(toy.modules / "decoder.zip", tmp / "decoder.zip", "input_interface/interface.yaml", recast)
    return clear_error(compose_with(toy, tmp, tampered), r"decoder.zip: input_interface files do not match the recorded checksum")


@case("compose-garbage-interface-yaml", "interfaces (compose)", "python -m legonn.bin.compose ... (interface.yaml inside decoder.zip is not YAML)")
def _(toy, tmp):
    tampered = rewrite_zip(toy.modules / "decoder.zip", tmp / "decoder.zip", "input_interface/interface.yaml",
                           lambda data: b"{{{ not: yaml ::")
    return clear_error(compose_with(toy, tmp, tampered), r"decoder.zip: input_interface: .*not a readable interface file")


@case("train-tampered-tokens", "interfaces (compose)", "python -m legonn.bin.mt_train --interfaces [tgt/interface.yaml] ... (tokens.txt edited)")
def _(toy, tmp):
    copy = tmp / "tgt"
    Interface.load(toy.tgt).save(copy)
    tokens = (copy / "tokens.txt").read_text().splitlines()
    (copy / "tokens.txt").write_text("\n".join(tokens[:-1] + ["t_new", tokens[-1]]) + "\n")
    argv = toy.train_argv(tmp / "exp")
    argv[argv.index("--interfaces") + 1] = f"[{copy / 'interface.yaml'}]"
    return clear_error(call(mt_train.main, argv), r"tgt/interface.yaml: stored checksum \w+ does not match its files",
                       r"token list or bpe model was modified")


@case("compose-corrupt-archive", "archives and checkpoints", "python -m legonn.bin.compose --encoder encoder0.zip --decoder junk.zip ...")
def _(toy, tmp):
    (tmp / "decoder.zip").write_bytes(np.random.default_rng(0).bytes(3000))
    return clear_error(compose_with(toy, tmp, tmp / "decoder.zip"), r"decoder.zip: not a readable legonn module archive", r"re-export")


@case("compose-truncated-archive", "archives and checkpoints", "python -m legonn.bin.compose --encoder encoder0.zip --decoder decoder.zip(cut in half) ...")
def _(toy, tmp):
    data = (toy.modules / "decoder.zip").read_bytes()
    (tmp / "decoder.zip").write_bytes(data[: len(data) // 2])
    return clear_error(compose_with(toy, tmp, tmp / "decoder.zip"), r"decoder.zip: not a readable legonn module archive")


@case("compose-missing-archive", "archives and checkpoints", "python -m legonn.bin.compose --encoder encoder0.zip --decoder /nowhere/decoder.zip ...")
def _(toy, tmp):
    return clear_error(compose_with(toy, tmp, tmp / "nowhere" / "decoder.zip"), r"nowhere/decoder.zip does not exist")


@case("compose-wrong-order", "archives and checkpoints", "python -m legonn.bin.compose --encoder decoder.zip --decoder encoder0.zip ...")
def _(toy, tmp):
    result = compose_with(toy, tmp, toy.modules / "encoder0.zip", encoder=toy.modules / "decoder.zip")
    return clear_error(result, r"modules must be: encoder, middle\.\.\., \[decoder\]; got \['decoder', 'encoder'\]")


def damaged_copy(source: Path, target: Path, how: str) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: len(data) // 2] if how == "truncated" else np.random.default_rng(0).bytes(len(data)))
    return target


for _how in ("corrupt", "truncated"):
    @case(f"inference-{_how}-model", "archives and checkpoints", f"python -m legonn.bin.inference ... --model_file {_how}.pth")
    def _(toy, tmp, how=_how):
        model = damaged_copy(toy.model_file, tmp / f"{how}.pth", how)
        result = call(inference.main, toy.decode_argv(toy.recipe / "dump/test/src_text", tmp / "out", model_file=model))
        return clear_error(result, rf"--model_file .*{how}.pth is not a readable checkpoint", r"use another epoch's file")

    @case(f"init-param-{_how}", "archives and checkpoints", f"python -m legonn.bin.mt_train ... --init_param {_how}.pth")
    def _(toy, tmp, how=_how):
        model = damaged_copy(toy.model_file, tmp / f"{how}.pth", how)
        return clear_error(toy.train(tmp / "exp", "--init_param", str(model)),
                           rf"--init_param .*{how}.pth: not a readable model file", r"re-create it")


@case("inference-missing-model", "archives and checkpoints", "python -m legonn.bin.inference ... --model_file /nowhere/model.pth")
def _(toy, tmp):
    result = call(inference.main, toy.decode_argv(toy.recipe / "dump/test/src_text", tmp / "out",
                                                  model_file=tmp / "nowhere" / "model.pth"))
    return clear_error(result, r"--model_file .*nowhere/model.pth does not exist")


@case("resume-truncated-checkpoint", "archives and checkpoints", "python -m legonn.bin.mt_train ... --resume true (checkpoint.pth cut off by a non-atomic writer)")
def _(toy, tmp):
    (tmp / "exp").mkdir()
    damaged_copy(toy.exp / "checkpoint.pth", tmp / "exp" / "checkpoint.pth", "truncated")
    return clear_error(toy.train(tmp / "exp"), r"--resume: .*checkpoint.pth cannot be read",
                       r"Delete it to start over from epoch 1")


# Configuration keys.

@case("config-unknown-key", "configuration", "python -m legonn.bin.mt_train --config train.yaml (with max_epochs: 3)")
def _(toy, tmp):
    config = toy.write_config("typo.yaml", max_epochs=3)
    return clear_error(toy.train(tmp / "exp", config=config), r"unrecognized arguments: max_epochs \(from .*typo.yaml\)")


for _part, _key, _pattern in [
    ("encoder_conf", "layer", r"encoder_conf: unknown keys \['layer'\]; allowed: \[.*'layers'"),
    ("decoder_conf", "head", r"decoder_conf: unknown keys \['head'\]; allowed: \[.*'heads'"),
    ("ingestor_conf", "rff", r"ingestor_conf: unknown keys \['rff'\]; allowed: \[.*'rf'"),
    ("model_conf", "ctc_weight", r"unexpected keyword argument 'ctc_weight'"),
]:
    @case(f"config-unknown-{_part.replace('_', '-')}-key", "configuration",
          f"python -m legonn.bin.mt_train --config train.yaml ({_part}: {{{_key}: 2}})")
    def _(toy, tmp, part=_part, key=_key, pattern=_pattern):
        config = toy.write_config("typo.yaml", **{part: {key: 2}})
        return clear_error(toy.train(tmp / "exp", config=config), pattern)


# The pipeline script.

@case("legonn-sh-unknown-option", "pipeline (legonn.sh)", "./legonn.sh --stgae 3")
def _(toy, tmp):
    return clear_error(legonn_sh(toy.recipe, "--stgae", "3"), r"unknown option --stgae; valid options: --stage --stop_stage")


@case("legonn-sh-stage-not-a-number", "pipeline (legonn.sh)", "./legonn.sh --stage two")
def _(toy, tmp):
    return clear_error(legonn_sh(toy.recipe, "--stage", "two"), r"--stage")


@case("legonn-sh-unknown-stage", "pipeline (legonn.sh)", "./legonn.sh --stage 42")
def _(toy, tmp):
    return clear_error(legonn_sh(toy.recipe, "--stage", "42"), r"--stage")


@case("legonn-sh-stage-after-stop-stage", "pipeline (legonn.sh)", "./legonn.sh --stage 5 --stop_stage 3")
def _(toy, tmp):
    return clear_error(legonn_sh(toy.recipe, "--stage", "5", "--stop_stage", "3"), r"stop_stage")


@case("legonn-sh-stray-argument", "pipeline (legonn.sh)", "./legonn.sh 3")
def _(toy, tmp):
    result = legonn_sh(toy.recipe, "3")
    assert "stage 1" not in result.out  # nothing ran
    return clear_error(result, r"unexpected argument '3' \(for a stage: --stage 3 --stop_stage 3\)")


@case("multi30k-missing-corpus", "pipeline (legonn.sh)", "egs2/multi30k/mt1: ./legonn.sh --stage 1 --stop_stage 1 --data_root /nowhere/multi30k")
def _(toy, tmp):
    recipe = link_recipe(tmp / "mt1", local=MULTI30K / "local")
    result = legonn_sh(recipe, "--stage", "1", "--stop_stage", "1", "--data_root", str(tmp / "nowhere" / "multi30k"))
    clear_error(result, r"stage 1 failed: local/data.sh", r"resume with: ./legonn.sh --stage 1")
    assert re.search(r"Multi30k not found at '.*nowhere/multi30k'.*pass --data_root DIR", result.err, re.DOTALL)
    return observe(" / ".join(result.err.strip().splitlines()))


# Interrupted runs.

def in_child(target: Callable, kill_when: Callable[[], bool] = None, timeout=180) -> int:
    """Runs target() in a forked process (ESPnet already imported); kill -9 it once kill_when()
    holds, unless it dies first. Returns the child's wait status."""
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        code = 1
        try:
            torch.set_num_threads(1)
            with captured():
                target()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if kill_when is not None and kill_when():
            os.kill(pid, signal.SIGKILL)
            return os.waitpid(pid, 0)[1]
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError("the child never reached the point where it was to be killed")
        time.sleep(0.05)


def killed(status: int) -> bool:
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


class KillingFile(io.FileIO):
    """A checkpoint being written when the process gets kill -9 (or the disk fills up)."""

    def __init__(self, path, limit, action):
        super().__init__(path, "wb")
        self.written, self.limit, self.action = 0, limit, action

    def write(self, data):
        if self.written + len(data) > self.limit:
            super().write(bytes(data)[: self.limit - self.written])
            self.flush()
            self.action()
        self.written += len(data)
        return super().write(data)


def fail_on(name: str, occurrence: int, action: Callable[[], None], limit=2000):
    """A replacement for legonn.utils._open_partial: the `occurrence`-th save of `name`
    runs `action` after `limit` bytes."""
    seen = {"n": 0}

    def open_partial(path):
        if path.name == name + ".partial":
            seen["n"] += 1
            if seen["n"] == occurrence:
                return KillingFile(path, limit, action)
        return open(path, "wb")
    return open_partial


def kill_self():
    os.kill(os.getpid(), signal.SIGKILL)


@case("kill-9-mid-epoch", "interrupted runs", "kill -9 mid-epoch 3 of mt_train, then mt_train ... --resume true")
def _(toy, tmp):
    out, marker = tmp / "exp", tmp / "epoch3_running"
    original = LegoNNTrainer.train_one_epoch.__func__

    def stalls_in_epoch_3():
        def train_one_epoch(cls, *args, iterator, reporter, **kwargs):
            def batches():
                for i, batch in enumerate(iterator):
                    if reporter.epoch == 3 and i == 1:  # one update of epoch 3 done
                        marker.touch()
                        time.sleep(600)
                    yield batch
            return original(cls, *args, iterator=batches(), reporter=reporter, **kwargs)
        LegoNNTrainer.train_one_epoch = classmethod(train_one_epoch)
        mt_train.main(toy.train_argv(out, None, None, "--max_epoch", "3"))

    assert killed(in_child(stalls_in_epoch_3, kill_when=marker.exists))
    before = reporter_of(out / "checkpoint.pth")
    assert before["epoch"] == 2 and sorted(before["stats"]) == [1, 2]
    result = toy.train(out, "--max_epoch", "3")
    text = succeeded(result, r"resumed using .*checkpoint.pth", r"3/3epoch started")
    assert not re.search(r"[12]/3epoch started", text)
    after = reporter_of(out / "checkpoint.pth")
    assert after["epoch"] == 3 and all(after["stats"][e] == before["stats"][e] for e in (1, 2))
    return observe("killed (SIGKILL) during epoch 3; checkpoint.pth held epoch 2; resume: "
                   "'The training was resumed using .../checkpoint.pth', '3/3epoch started', "
                   "epochs 1-2 kept unchanged, training finished at epoch 3")


@case("kill-9-while-saving-checkpoint", "interrupted runs", "kill -9 while checkpoint.pth of epoch 2 is being written, then --resume true")
def _(toy, tmp):
    out = tmp / "exp"

    def dies_while_saving():
        legonn_utils._open_partial = fail_on("checkpoint.pth", 2, kill_self)
        mt_train.main(toy.train_argv(out))

    assert killed(in_child(dies_while_saving))
    assert (out / "checkpoint.pth.partial").stat().st_size == 2000  # the cut-off write
    assert reporter_of(out / "checkpoint.pth")["epoch"] == 1  # the previous one, whole
    succeeded(toy.train(out), r"resumed using", r"2/2epoch started")
    assert reporter_of(out / "checkpoint.pth")["epoch"] == 2
    return observe("killed 2000 bytes into checkpoint.pth.partial; checkpoint.pth still loads (epoch 1); "
                   "resume trains epoch 2 only")


@case("kill-9-between-checkpoint-and-epoch-file", "interrupted runs", "kill -9 after checkpoint.pth but before 2epoch.pth is saved, then --resume true")
def _(toy, tmp):
    out = tmp / "exp"

    def dies_before_epoch_file():
        legonn_utils._open_partial = fail_on("2epoch.pth", 1, kill_self, limit=0)
        mt_train.main(toy.train_argv(out))

    assert killed(in_child(dies_before_epoch_file))
    assert reporter_of(out / "checkpoint.pth")["epoch"] == 2 and not (out / "2epoch.pth").exists()
    text = succeeded(toy.train(out), r"2epoch.pth was missing \(run interrupted while saving\); rewrote it from")
    assert (out / "2epoch.pth").is_file() and (out / "valid.acc.ave.pth").exists()
    return observe(re.search(r"\S*2epoch.pth was missing.*", text).group(0))


@case("disk-full-while-saving-checkpoint", "interrupted runs", "mt_train with the disk full (ENOSPC) while writing checkpoint.pth of epoch 2")
def _(toy, tmp):
    out = tmp / "exp"

    def disk_full():
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(legonn_utils, "_open_partial", fail_on("checkpoint.pth", 2, disk_full))
        message = clear_error(toy.train(out), r"could not save .*checkpoint.pth \(No space left on device\)",
                              r"previous checkpoint.pth is unchanged", r"resume with --resume true")
    assert reporter_of(out / "checkpoint.pth")["epoch"] == 1 and not list(out.glob("*.partial"))
    succeeded(toy.train(out), r"2/2epoch started")
    return message


@case("kill-9-during-decoding", "interrupted runs", "kill -9 decoding job 2 of 2, then ./legonn.sh --stage 6 --stop_stage 6 --nj 2")
def _(toy, tmp):
    recipe, decode = toy.recipe, toy.recipe / "exp/toy/decode_test"
    split = lambda job: decode / "split" / str(job)
    assert data_dir.main(["split", str(recipe / "dump/test/src_text"), "2", str(decode / "log")]) == 0
    keys = lambda job: ["--key_file", str(decode / "log" / f"keys.{job}")]
    succeeded(call(inference.main, toy.decode_argv(recipe / "dump/test/src_text", split(1), *keys(1))))

    def dies_while_finishing():
        write = inference.write_lines
        inference.write_lines = lambda path, lines: kill_self() if path == split(2) / "text" else write(path, lines)
        inference.main(toy.decode_argv(recipe / "dump/test/src_text", split(2), *keys(2)))

    assert killed(in_child(dies_while_finishing))
    assert (split(2) / "token").is_file() and not (split(2) / "text").exists()
    done_before = (split(1) / "text").stat().st_mtime_ns
    stage6 = ["--stage", "6", "--stop_stage", "6", "--nj", "2", "--tag", "toy", "--test_sets", "test",
              "--inference_model", "valid.acc.ave.pth", "--inference_args", "--beam_size 2",
              "--default_inference_args", "--beam_size 2"]
    result = legonn_sh(recipe, *stage6)
    assert result.code == 0, result.err
    log1, log2 = ((decode / "log" / f"decode.{job}.log").read_text() for job in (1, 2))
    assert "already has every utterance; skipping" in log1 and "decoded 3 utterances" in log2
    assert (split(1) / "text").stat().st_mtime_ns == done_before
    assert data_dir.read_keys(decode / "text") == data_dir.read_keys(recipe / "dump/test/src_text")
    line = lambda log, text: next(line for line in log.splitlines() if text in line).split(": ", 1)[-1]
    return observe(f"job 1: {line(log1, 'already has')} / job 2: {line(log2, 'decoded 3')}"
                   + f" / decode_test/text has all {len(data_dir.read_keys(decode / 'text'))} utterances")


@case("rerun-stage-6", "re-running stages", "./legonn.sh --stage 6 --stop_stage 6 --nj 2 again")
def _(toy, tmp):
    decode = toy.recipe / "exp/toy/decode_test"
    if not (decode / "text").exists():
        pytest.skip("needs kill-9-during-decoding")
    before = (decode / "text").read_text()
    logs_before = sorted((decode / "log").iterdir())
    result = legonn_sh(toy.recipe, "--stage", "6", "--stop_stage", "6", "--nj", "2", "--tag", "toy", "--test_sets", "test",
                       "--inference_args", "--beam_size 2", "--default_inference_args", "--beam_size 2")
    kept = succeeded(result, r"exp/toy/decode_test is up to date, kept")
    assert sorted((decode / "log").iterdir()) == logs_before, "no decoding job should have run"
    assert (decode / "text").read_text() == before
    message = next(line for line in kept.splitlines() if "up to date" in line).split("] ", 1)[-1]
    return observe(f"{message}; no job ran; decode_test/text unchanged")


@case("rerun-stages-2-3", "re-running stages", "./legonn.sh --stage 2 --stop_stage 3 ... again")
def _(toy, tmp):
    files = sorted(p for p in (toy.recipe / "data/interfaces").rglob("*") if p.is_file()) + \
        sorted(p for p in (toy.recipe / "dump").rglob("*") if p.is_file())
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}
    result = legonn_sh(toy.recipe, *toy.stage23)
    text = succeeded(result, r"src exists, kept", r"tgt exists, kept")
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files} == before
    return observe(" / ".join(line.split("] ", 1)[-1] for line in text.splitlines()) + f" ({len(files)} files untouched)")


@case("rerun-training", "re-running stages", "python -m legonn.bin.mt_train ... --resume true on a finished run")
def _(toy, tmp):
    checkpoint = toy.exp / "checkpoint.pth"
    before = checkpoint.read_bytes()
    text = succeeded(toy.train(toy.exp), r"already reached at max_epoch: 3")
    assert checkpoint.read_bytes() == before and "epoch started" not in text
    return observe("The training has already reached at max_epoch: 3 (ESPnet names the next epoch); "
                   "no epoch started, checkpoint.pth unchanged")


@case("rerun-make-fbank", "re-running stages", "python -m legonn.bin.make_fbank ... twice")
def _(toy, tmp):
    fbank_case(tmp, corrupt_wav)
    feats = (tmp / "fbank" / "feats.ark").read_bytes()
    result = call(make_fbank.main, ["--data_dir", str(tmp / "data"), "--out_dir", str(tmp / "fbank")])
    text = succeeded(result, r"already done for these 2 utterances; skipping")
    assert (tmp / "fbank" / "feats.ark").read_bytes() == feats
    return observe(text.strip())


@case("rerun-export-and-compose", "re-running stages", "export_modules then compose, twice")
def _(toy, tmp):
    outputs = []
    for _ in range(2):
        assert call(export_modules.main, ["--train_config", str(toy.exp / "config.yaml"), "--model_file",
                                          str(toy.model_file), "--out_dir", str(tmp / "modules")]).code == 0
        result = compose_with(toy, tmp, tmp / "modules" / "decoder.zip", encoder=tmp / "modules" / "encoder0.zip")
        succeeded(result, r"composed encoder \+ decoder \(mt\)")
        state = torch.load(tmp / "composed" / "model.pth", weights_only=True)
        outputs.append(((tmp / "composed" / "config.yaml").read_text(), state))
    (config1, state1), (config2, state2) = outputs
    assert config1 == config2 and state1.keys() == state2.keys()
    assert all(torch.equal(state1[k], state2[k]) for k in state1)
    return observe("same composed config.yaml and weights both times")


# --- the test and the table ------------------------------------------------------------------

@pytest.mark.parametrize("fault", CASES, ids=[c.id for c in CASES])
def test_fault(fault: Case, toy, tmp_path):
    CURRENT["id"] = fault.id
    OBSERVED.pop(fault.id, None)
    try:
        outcome = fault.check(toy, tmp_path)
    except AssertionError:
        ROWS[fault.id] = (fault, "FAILED", OBSERVED.get(fault.id, ""))
        raise
    ROWS[fault.id] = (fault, "ok", outcome)


KNOWN_LIMITS = [
    "ESPnet replaces `latest.pth` and `*.best.pth` symlinks by unlink + symlink: a kill between the two "
    "leaves the link missing until the next epoch (or the end of a resumed run) recreates it.",
    "With `LegoNNTrainer` as the task's trainer, ESPnet refuses `--use_deepspeed` (it accepts only its "
    "default trainer there); nothing in this project uses DeepSpeed.",
    "A feats.scp entry is checked for a whole matrix only for uncompressed float/double matrices "
    "(what make_fbank writes); other entries are checked for their ark's existence and size only.",
]


def write_table(tmp_root: Path) -> None:
    if not ROWS:
        return
    # Only a run of every case may replace the documented table.
    complete = len(ROWS) == len(CASES)
    target = os.environ.get("LEGONN_FAULTS_TABLE") if complete else None
    path = Path(target or tmp_root / "faults.md")

    def cell(text: str, limit=420) -> str:
        text = text.replace(str(tmp_root), "$TMP").replace(str(REPO), "$REPO")
        text = re.sub(r"/tmp/pytest-of-[^/\s]+/pytest-\d+/[^/\s]+\d", "$TMP", text)
        text = " ".join(text.split())
        text = text if len(text) <= limit else text[:limit] + " ..."
        return text.replace("|", "\\|")

    lines = [
        "# Fault injection: bad inputs and interrupted runs",
        "",
        "Every row comes from a run of `test/test_faults.py` (regenerate this file with",
        "`LEGONN_FAULTS_TABLE=docs/faults.md tools/venv/bin/python -m pytest -q test/test_faults.py`).",
        "Outcome is the error message (or the skip summary) the command printed; $TMP is the test's",
        "temporary directory.",
        "",
        f"{sum(status == 'ok' for _, status, _ in ROWS.values())} of {len(ROWS)} cases ok.",
        "",
        "| # | case | group | command | status | outcome |",
        "|---|------|-------|---------|--------|---------|",
    ]
    for number, fault in enumerate((c for c in CASES if c.id in ROWS), 1):
        _, status, outcome = ROWS[fault.id]
        lines.append(f"| {number} | `{fault.id}` | {fault.group} | `{cell(fault.command, 200)}` | {cell(status)} | {cell(outcome)} |")
    lines += ["", "## Known limits", ""] + [f"- {limit}" for limit in KNOWN_LIMITS]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_docs_table_lists_every_case():
    """docs/faults.md is this suite's table; regenerate it (see the module docstring) when the
    cases change."""
    table = (REPO / "docs" / "faults.md").read_text(encoding="utf-8")
    missing = [c.id for c in CASES if f"`{c.id}`" not in table]
    assert not missing, f"docs/faults.md lacks {missing}: regenerate it with LEGONN_FAULTS_TABLE=docs/faults.md"
