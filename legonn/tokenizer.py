"""Text <-> token ids through an interface's vocabulary (sentencepiece for bpe, spaces for
phones/words, characters for char)."""
from typing import List

from legonn.nets.interface import Interface


class Tokenizer:
    def __init__(self, interface: Interface):
        self.interface = interface
        self.index = {token: i for i, token in enumerate(interface.tokens)}
        self.sentencepiece = None
        if interface.kind == "bpe":
            import sentencepiece

            self.sentencepiece = sentencepiece.SentencePieceProcessor(model_proto=interface.bpemodel)

    def pieces(self, text: str) -> List[str]:
        kind = self.interface.kind
        if kind == "bpe":
            return self.sentencepiece.encode(text, out_type=str)
        if kind == "char":
            return ["<space>" if c == " " else c for c in text.strip()]
        return text.split()

    def encode(self, text: str) -> List[int]:
        unk = self.interface.unk_id
        return [self.index.get(piece, unk) for piece in self.pieces(text)]

    def decode(self, ids) -> str:
        tokens = self.interface.tokens
        special = {self.interface.blank_id, self.interface.sos_eos_id}
        pieces = [tokens[i] for i in ids if i not in special]
        kind = self.interface.kind
        if kind == "bpe":
            return self.sentencepiece.decode_pieces(pieces)
        if kind == "char":
            return "".join(" " if p == "<space>" else p for p in pieces)
        return " ".join(pieces)
