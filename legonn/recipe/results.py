"""Reads score files and run logs of a recipe's exp/ dir into Markdown tables (RESULTS.md).

A decoding's numbers are read from exp/<tag>/decode_<set>/ (the recipe's default search) or,
with `inference_tag`, from exp/<tag>/decode_<set>_<inference_tag>/ (another search, decoded
beside it); `search_used` names the search a number comes from, for a table column."""
import json
import os
import platform
import re
from collections.abc import Sequence
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def decode_dir(exp, tag: str, test_set: str, inference_tag: str = "") -> Path:
    """exp/<tag>/decode_<test_set>[_<inference_tag>] (legonn.sh stage 6's naming)."""
    return Path(exp) / tag / (f"decode_{test_set}" + (f"_{inference_tag}" if inference_tag else ""))


def score(exp, tag: str, test_set: str, where: str = "score_bleu", inference_tag: str = "") -> dict | None:
    """score.json of exp/<tag>/decode_<test_set>/<where>, or None if that run did not happen."""
    path = decode_dir(exp, tag, test_set, inference_tag) / where / "score.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def bleu(exp, tag, test_set, where="score_bleu", kind="detokenized", inference_tag="") -> float | None:
    numbers = score(exp, tag, test_set, where, inference_tag)
    return None if numbers is None else numbers[kind]["score"]


def error_rate(exp, tag, test_set, where="score_wer", inference_tag="") -> float | None:
    numbers = score(exp, tag, test_set, where, inference_tag)
    return None if numbers is None else numbers["rate"]


def search_options(exp, tag: str, test_set: str, inference_tag: str = "") -> dict | None:
    """The search options of a decoding: its search.yaml, or for a decoding made before
    search.yaml existed, what its first split recorded (split/1/decoded_with); None if neither."""
    folder = decode_dir(exp, tag, test_set, inference_tag)
    if (folder / "search.yaml").is_file():
        import yaml

        return yaml.safe_load((folder / "search.yaml").read_text(encoding="utf-8"))
    recorded = folder / "split" / "1" / "decoded_with"
    if recorded.is_file():
        options = json.loads(recorded.read_text(encoding="utf-8"))
        options["length_penalty"] = options.pop("penalty", None)  # recorded under its former name
        return options
    return None


def search_used(exp, tag: str, test_set: str, inference_tag: str = "") -> str | None:
    """How a table names the search behind a number: 'beam 10, lp 1.0' (plus options that
    differ from the defaults, e.g. 'nbest5'), 'greedy CTC' for a model without a decoder (the
    beam options do not apply), None when the decoding did not happen."""
    options = search_options(exp, tag, test_set, inference_tag)
    if options is None:
        return None
    config = Path(exp) / tag / "config.yaml"
    # ESPnet writes a model without a decoder as "decoder: null" (the user's config: "none").
    if config.is_file() and re.search(r"^decoder: (none|null)$", config.read_text(encoding="utf-8"), re.M):
        return "greedy CTC"
    from legonn.inference import SearchOptions

    known = {f: options[f] for f in SearchOptions.__dataclass_fields__ if options.get(f) is not None}
    return SearchOptions(**known).describe()


def distinct_hypotheses(exp, tag: str, test_set: str) -> str | None:
    """'N/M': how many different outputs a system gave for M test inputs. A decoder that ignores
    its input (an undertrained one falls back on a few generic sentences) has a small N, and then
    a swap that keeps its BLEU says nothing about modularity."""
    path = Path(exp) / tag / f"decode_{test_set}" / "text"
    if not path.exists():
        return None
    outputs = [line.partition(" ")[2] for line in path.read_text(encoding="utf-8").splitlines()]
    return f"{len(set(outputs))}/{len(outputs)}"


def train_logs(exp, tag) -> list[str]:
    """exp/<tag>/train.log and the logs of earlier runs the job runner kept (train.log.N),
    oldest first: a resumed training spreads over several."""
    folder = Path(exp) / tag
    earlier = sorted((p for p in folder.glob("train.log.*") if p.suffix[1:].isdigit()), key=lambda p: int(p.suffix[1:]))
    logs = earlier + ([folder / "train.log"] if (folder / "train.log").exists() else [])
    return [p.read_text(encoding="utf-8", errors="replace") for p in logs]


def train_minutes(exp, tag) -> float | None:
    """Wall time of training, summed over every run: the job runner's footer, or for a run that
    was killed (no footer), its start header to its last timestamped line."""
    seconds = [log_seconds(log) for log in train_logs(exp, tag)]
    found = [s for s in seconds if s is not None]
    return sum(found) / 60 if found else None


def log_seconds(log: str) -> float | None:
    footer = re.findall(r"elapsed ([0-9.]+) s", log)
    if footer:
        return float(footer[-1])
    start = re.search(r"^# Started at \w+ (\w+ +\d+ [\d:]+ \d+)", log, re.M)
    stamps = re.findall(r"^\[[^\]]+\] (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", log, re.M)
    if not (start and stamps):
        return None
    began = datetime.strptime(" ".join(start.group(1).split()), "%b %d %H:%M:%S %Y")
    return (datetime.strptime(stamps[-1], "%Y-%m-%d %H:%M:%S") - began).total_seconds()


def train_updates(exp, tag) -> str | None:
    """"epochs / updates" of a training, from the trainer's latest epoch summary (ESPnet's
    total_count of training batches carries over a resume)."""
    found = [m for log in train_logs(exp, tag)
             for m in re.findall(r"(\d+)epoch results: \[train\].*?total_count=(\d+)", log)]
    return f"{found[-1][0]} / {found[-1][1]}" if found else None


def legonn_commit() -> str:
    """Short hash of the legonn checkout's HEAD, read from .git (no git process needed)."""
    git = Path(__file__).resolve().parents[2] / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head[:7]
        ref = head[5:]
        if (git / ref).is_file():
            return (git / ref).read_text().strip()[:7]
        for line in (git / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return line[:7]
    except OSError:
        pass
    return "unknown"


def training_environment(exp, tag) -> str | None:
    """The torch build and device of a training, as its trainer logged them (ESPnet's
    "pytorch.version=..., cuda.available=..." line): the table may be made on another machine."""
    for log in reversed(train_logs(exp, tag)):
        found = re.search(r"pytorch\.version=[^,\n]+, cuda\.available=\w+", log)
        if found:
            return found.group(0)
    return None


def environment(exp=None, tag: str | None = None) -> list[str]:
    """ESPnet's environment block: when the table was made, with what, on what; with `exp` and
    `tag`, also how that experiment was trained."""
    import torch

    def installed(package):
        try:
            return version(package)
        except PackageNotFoundError:
            return "not installed"

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    trained = training_environment(exp, tag) if tag else None
    return [f"- date: `{datetime.now():%a %b %d %H:%M:%S %Y}`",
            f"- python version: `{platform.python_version()}`",
            f"- espnet version: `espnet {installed('espnet')}`",
            f"- pytorch version: `pytorch {torch.__version__}`",
            f"- sacrebleu version: `{installed('sacrebleu')}`",
            f"- legonn commit: `{legonn_commit()}`",
            f"- machine: {os.cpu_count()} CPUs, GPU: {gpu}",
            *([f"- training of `{tag}`: `{trained}`"] if trained else [])]


def fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def table(header: Sequence[str], rows: list[Sequence]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
