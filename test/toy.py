"""A toy translation task (word-for-word mapping) small enough to train in seconds."""
import argparse
import random
from pathlib import Path

from legonn.nets.interface import BLANK, SOS_EOS, UNK, Interface

SRC_WORDS = [f"s{i}" for i in range(12)]
TGT_WORDS = [f"t{i}" for i in range(12)]


def word_interface(name, words, root: Path) -> str:
    return str(Interface(name, "word", [BLANK, UNK] + words + [SOS_EOS]).save(root / name))


def write_split(directory: Path, count: int, seed: int, src_words=SRC_WORDS):
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "src_text", "w") as src, open(directory / "text", "w") as tgt:
        for i in range(count):
            idx = [rng.randrange(len(TGT_WORDS)) for _ in range(rng.randint(2, 6))]
            src.write(f"utt{i:04d} {' '.join(src_words[j] for j in idx)}\n")
            tgt.write(f"utt{i:04d} {' '.join(TGT_WORDS[j] for j in idx)}\n")


def model_args(root: Path, grounded=True, **overrides):
    """argparse.Namespace as MTTask.build_model receives it, for a tiny LegoNN model
    (grounded=False: the enc-dec baseline, no interface)."""
    interfaces = grounded
    args = dict(
        input_interface=word_interface("src", SRC_WORDS, root),
        interfaces=[word_interface("tgt", TGT_WORDS, root)] if interfaces else [],
        ctc_targets=["text"] if interfaces else [],
        output_interface=word_interface("tgt", TGT_WORDS, root),
        encoder_conf={"dim": 32, "heads": 2, "ffn_dim": 64, "layers": 1, "dropout": 0.0,
                      "olc": {"ratio": 2.0, "max_len": 40, "layers": 1} if interfaces else None},
        middle_modules=[], ingestor="wemb",
        ingestor_conf={"layers": 1, "heads": 2, "ffn_dim": 64, "dropout": 0.0},
        decoder="transformer", decoder_conf={"dim": 32, "heads": 2, "ffn_dim": 64, "layers": 1, "dropout": 0.0},
        model_conf={}, use_preprocessor=True, input_marginals=None)
    args.update(overrides)
    return argparse.Namespace(**args)
