"""Turns a data-loader example (raw text, features) into token-id arrays, one per vocabulary:
model input (MT source), decoder output, and the CTC target of every module interface."""
import logging
from collections.abc import Sequence

import numpy as np
from espnet2.train.preprocessor import AbsPreprocessor

from legonn.nets.interface import Interface
from legonn.tokenizer import Tokenizer

UNKNOWN_WARNINGS = 5  # utterances with <unk> pieces named in the log, per vocabulary


class BadExample(ValueError):
    """An utterance that cannot be used; the message names it and says what is wrong."""


class LegoNNPreprocessor(AbsPreprocessor):
    def __init__(self, train: bool, input_key: str, output_interface: Interface | None,
                 interfaces: Sequence[Interface], ctc_targets: Sequence[str],
                 input_interface: Interface | None = None):
        super().__init__(train)
        self.input_key = input_key
        self.input_tokenizer = Tokenizer(input_interface) if input_interface else None
        self.output_tokenizer = Tokenizer(output_interface) if output_interface else None
        self.ctc_tokenizers = [Tokenizer(interface) for interface in interfaces]
        self.ctc_targets = list(ctc_targets)

    @staticmethod
    def tokenize(uid: str, key: str, text, tokenizer: Tokenizer) -> np.ndarray:
        if not isinstance(text, str):
            raise BadExample(f"utterance {uid!r}: '{key}' must be text, got {type(text).__name__}")
        before = tokenizer.texts_with_unknown
        ids = tokenizer.encode(text)
        if before < tokenizer.texts_with_unknown <= UNKNOWN_WARNINGS:
            unknown = [p for p in tokenizer.pieces(text) if p not in tokenizer.index]
            logging.warning(f"utterance {uid!r}: '{key}' pieces {unknown} are not in "
                            f"{tokenizer.interface.describe()}; mapped to <unk>"
                            + (" (further utterances are only counted)"
                               if tokenizer.texts_with_unknown == UNKNOWN_WARNINGS else ""))
        if not ids:
            raise BadExample(f"utterance {uid!r}: '{key}' is empty after tokenization "
                             f"with {tokenizer.interface.describe()}")
        return np.asarray(ids, dtype=np.int64)

    def __call__(self, uid: str, data: dict) -> dict[str, np.ndarray]:
        out = {}
        if self.input_key in data:
            value = data[self.input_key]
            if self.input_tokenizer is not None:
                value = self.tokenize(uid, self.input_key, value, self.input_tokenizer)
            else:
                value = np.asarray(value, dtype=np.float32)
                if value.ndim != 2 or value.shape[0] == 0 or not np.isfinite(value).all():
                    raise BadExample(f"utterance {uid!r}: '{self.input_key}' must be a non-empty "
                                     f"finite (frames, dims) matrix, got shape {value.shape}")
            out[self.input_key] = value
        if "text" in data and self.output_tokenizer is not None:
            out["text"] = self.tokenize(uid, "text", data["text"], self.output_tokenizer)
        for i, (key, tokenizer) in enumerate(zip(self.ctc_targets, self.ctc_tokenizers)):
            if key in data:
                out[f"ctc{i}"] = self.tokenize(uid, key, data[key], tokenizer)
        return out
