"""Fault injection, shared by test/test_faults_<group>.py (one file per fault group): bad inputs, broken files and interrupted runs against the real command-line
tools and the recipe pipeline (legonn.sh). Every case must end in a clear error (naming the file
or utterance, what is wrong, what to do) or in a counted skip with a summary; never in a
traceback from inside torch or ESPnet, never in a NaN loss.

The cases form a table (CASES: id, group, command, check). Each run records what it observed;
at the end the table is written to $LEGONN_FAULTS_TABLE (default: a file in the test's temporary
directory). docs/faults.md is that table:

    LEGONN_FAULTS_TABLE=docs/faults.md tools/venv/bin/python -m pytest -q test/test_faults*.py

CPU-light: tiny toy data and models; the CLIs run in-process (main(argv)) except where a real
process is the point: legonn.sh, and kill -9 (forked children, so ESPnet is imported once).
"""
import contextlib
import importlib
import io
import logging
import os
import re
import subprocess
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import kaldiio
import numpy as np
import soundfile
import torch
import yaml

from legonn.bin import compose, export_modules, make_fbank, mt_train
from test.toy import SRC_WORDS, TGT_WORDS

REPO = Path(__file__).resolve().parents[1]
# The fault groups, each a file test/test_faults_<file>.py, in the table's order.
GROUPS = {"audio (make_fbank)": "audio", "transcripts": "transcripts", "tokens": "tokens",
          "data loading": "data_loading", "alignment (legonn.bin.align)": "alignment",
          "interfaces (compose)": "interfaces", "archives and checkpoints": "archives",
          "configuration": "configuration", "pipeline (legonn.sh)": "pipeline",
          "interrupted runs": "interrupted", "re-running stages": "rerun"}
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


def call(main: Callable, argv: list[str]) -> Result:
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


def shell(command: list[str], cwd: Path, timeout=300) -> Result:
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return Result(proc.returncode, proc.stdout, proc.stderr)


OBSERVED: dict[str, str] = {}  # case id -> what the last run of the case showed
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

def write_kaldi(path: Path, entries: dict[str, str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{u} {v}".rstrip() + "\n" for u, v in entries.items()), encoding="utf-8")
    return path


def toy_split(directory: Path, count: int, seed: int, extra: dict[str, tuple] = ()) -> None:
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

    def train_argv(self, out: Path, config: Path = None, data: dict[str, Path] = None, *extra: str) -> list[str]:
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

    def decode_argv(self, source: Path, out: Path, *extra: str, model_file=None) -> list[str]:
        return ["--task", "mt", "--train_config", str(self.exp / "config.yaml"),
                "--model_file", str(model_file or self.model_file), "--beam_size", "2",
                "--data_path_and_name_and_type", f"{source},src_text,text", "--output_dir", str(out), *extra]


def toy_session(tmp_path_factory):
    """The `fault_toy` fixture (test/conftest.py: one toy recipe for every fault file of the
    session); the table is written when the session ends."""
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


CASES: list[Case] = []
ROWS: dict[str, tuple] = {}


def case(id, group, command):
    assert group in GROUPS, f"{group!r}: add the group to GROUPS"

    def register(check):
        CASES.append(Case(id, group, command, check))
        return check
    return register


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


def corrupt_wav(path):
    path.write_bytes(b"RIFF" + os.urandom(200))
    return path


def compose_with(toy: Toy, tmp: Path, decoder: Path, encoder: Path = None) -> Result:
    return call(compose.main, ["--encoder", str(encoder or toy.modules / "encoder0.zip"), "--decoder", str(decoder),
                               "--out_dir", str(tmp / "composed")])



# --- the test and the table ------------------------------------------------------------------

def cases_of(group: str) -> list[Case]:
    """The group's cases (each group file parametrizes its test_fault with them)."""
    return [c for c in CASES if c.group == group]


def all_cases() -> list[Case]:
    """Every group's cases in the table's order (imports the group files not imported yet)."""
    for name in GROUPS.values():
        importlib.import_module(f"test.test_faults_{name}")
    order = list(GROUPS)
    return sorted(CASES, key=lambda c: order.index(c.group))  # stable: file order within a group


def run_case(fault: Case, toy, tmp_path) -> None:
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
    cases = all_cases()
    complete = len(ROWS) == len(cases)
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
        "Every row comes from a run of `test/test_faults_*.py` (regenerate this file with",
        "`LEGONN_FAULTS_TABLE=docs/faults.md tools/venv/bin/python -m pytest -q test/test_faults*.py`).",
        "Outcome is the error message (or the skip summary) the command printed; $TMP is the test's",
        "temporary directory.",
        "",
        f"{sum(status == 'ok' for _, status, _ in ROWS.values())} of {len(ROWS)} cases ok.",
        "",
        "| # | case | group | command | status | outcome |",
        "|---|------|-------|---------|--------|---------|",
    ]
    for number, fault in enumerate((c for c in cases if c.id in ROWS), 1):
        _, status, outcome = ROWS[fault.id]
        lines.append(f"| {number} | `{fault.id}` | {fault.group} | `{cell(fault.command, 200)}` | {cell(status)} | {cell(outcome)} |")
    lines += ["", "## Known limits", ""] + [f"- {limit}" for limit in KNOWN_LIMITS]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
