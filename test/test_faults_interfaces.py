"""Interfaces: vocabularies, kinds, tampered tokens or checksums of module archives.

One group of the fault-injection suite; test/faults_common.py holds the cases' machinery, the
shared toy recipe and the table (docs/faults.md)."""
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import yaml

from legonn.bin import export_modules, mt_train
from legonn.nets.interface import BLANK, SOS_EOS, UNK, Interface
from legonn.tasks.mt import MTTask
from test.faults_common import (
    Case,
    Toy,
    call,
    case,
    cases_of,
    clear_error,
    compose_with,
    run_case,
)

GROUP = "interfaces (compose)"

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


def rewrite_zip(source: Path, target: Path, member: str, change: Callable[[bytes], bytes]) -> Path:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        assert member in old.namelist(), old.namelist()
        for item in old.infolist():
            data = old.read(item.filename)
            new.writestr(item, change(data) if item.filename == member else data)
    return target


@case("compose-vocabulary-mismatch", GROUP, "python -m legonn.bin.compose --encoder encoder0.zip --decoder other/decoder.zip --out_dir O")
def _(toy, tmp):
    other = Interface("other_en", "word", [BLANK, UNK, "x", "y", "z", SOS_EOS]).save(tmp / "other")
    modules = random_mt_model(toy, tmp / "other_model", other)
    return clear_error(compose_with(toy, tmp, modules / "decoder.zip"),
                       r"interface mismatch: 'tgt' \(word, \d+ tokens.*\) vs 'other_en' \(word, 6 tokens")


@case("compose-kind-mismatch", GROUP, "python -m legonn.bin.compose ... (same tokens, kind char instead of word)")
def _(toy, tmp):
    words = Interface.load(toy.tgt)
    as_chars = Interface("tgt", "char", words.tokens).save(tmp / "tgt_char")
    modules = random_mt_model(toy, tmp / "char_model", as_chars)
    return clear_error(compose_with(toy, tmp, modules / "decoder.zip"),
                       r"interface mismatch: 'tgt' \(word, .*\) vs 'tgt' \(char, ")


@case("compose-tampered-tokens", GROUP, "python -m legonn.bin.compose ... (tokens.txt edited inside decoder.zip)")
def _(toy, tmp):
    def swap_two(data):
        lines = data.decode().splitlines()
        lines[2], lines[3] = lines[3], lines[2]
        return ("\n".join(lines) + "\n").encode()
    tampered = rewrite_zip(toy.modules / "decoder.zip", tmp / "decoder.zip", "input_interface/tokens.txt", swap_two)
    return clear_error(compose_with(toy, tmp, tampered),
                       r"decoder.zip: input_interface: .*stored checksum \w+ does not match its files",
                       r"token list or bpe model was modified; re-export the module")


@case("compose-tampered-interface-yaml", GROUP, "python -m legonn.bin.compose ... (interface.yaml kind edited, checksum recomputed)")
def _(toy, tmp):
    def recast(data):
        meta = yaml.safe_load(data)
        tokens = Interface.load(toy.tgt).tokens
        meta.update(kind="char", checksum=Interface("tgt", "char", tokens).checksum)
        return yaml.safe_dump(meta).encode()
    tampered = rewrite_zip(toy.modules / "decoder.zip", tmp / "decoder.zip", "input_interface/interface.yaml", recast)
    return clear_error(compose_with(toy, tmp, tampered), r"decoder.zip: input_interface files do not match the recorded checksum")


@case("compose-garbage-interface-yaml", GROUP, "python -m legonn.bin.compose ... (interface.yaml inside decoder.zip is not YAML)")
def _(toy, tmp):
    tampered = rewrite_zip(toy.modules / "decoder.zip", tmp / "decoder.zip", "input_interface/interface.yaml",
                           lambda data: b"{{{ not: yaml ::")
    return clear_error(compose_with(toy, tmp, tampered), r"decoder.zip: input_interface: .*not a readable interface file")


@case("train-tampered-tokens", GROUP, "python -m legonn.bin.mt_train --interfaces [tgt/interface.yaml] ... (tokens.txt edited)")
def _(toy, tmp):
    copy = tmp / "tgt"
    Interface.load(toy.tgt).save(copy)
    tokens = (copy / "tokens.txt").read_text().splitlines()
    (copy / "tokens.txt").write_text("\n".join(tokens[:-1] + ["t_new", tokens[-1]]) + "\n")
    argv = toy.train_argv(tmp / "exp")
    argv[argv.index("--interfaces") + 1] = f"[{copy / 'interface.yaml'}]"
    return clear_error(call(mt_train.main, argv), r"tgt/interface.yaml: stored checksum \w+ does not match its files",
                       r"token list or bpe model was modified")


@pytest.mark.parametrize("fault", cases_of(GROUP), ids=lambda fault: fault.id)
def test_fault(fault: Case, fault_toy, tmp_path):
    run_case(fault, fault_toy, tmp_path)
