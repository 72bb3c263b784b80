"""Text <-> token ids through an interface's vocabulary (sentencepiece for bpe, spaces for
phones/words, characters for char). Pieces not in the vocabulary become <unk> and are counted."""
from collections import Counter
from collections.abc import Iterable

from legonn.nets.interface import Interface


class Tokenizer:
    def __init__(self, interface: Interface):
        self.interface = interface
        self.index = {token: i for i, token in enumerate(interface.tokens)}
        self.unknown = Counter()  # pieces mapped to <unk>
        self.texts_with_unknown = 0
        self.sentencepiece = None
        if interface.kind == "bpe":
            import sentencepiece

            self.sentencepiece = sentencepiece.SentencePieceProcessor(model_proto=interface.bpemodel)

    def pieces(self, text: str) -> list[str]:
        kind = self.interface.kind
        if kind == "bpe":
            return self.sentencepiece.encode(text, out_type=str)
        if kind == "char":
            return ["<space>" if c == " " else c for c in text.strip()]
        return text.split()

    def encode(self, text: str) -> list[int]:
        pieces = self.pieces(text)
        ids = [self.index.get(piece, self.interface.unk_id) for piece in pieces]
        unknown = [piece for piece in pieces if piece not in self.index]
        if unknown:
            self.unknown.update(unknown)
            self.texts_with_unknown += 1
        return ids

    def count_unknown(self, texts: Iterable[str]) -> str:
        """Encodes `texts`; returns unknown_summary()."""
        for text in texts:
            self.encode(text)
        return self.unknown_summary()

    def unknown_summary(self) -> str:
        """'' if every piece so far was in the vocabulary, else how many were not, most frequent first."""
        if not self.unknown:
            return ""
        shown = ", ".join(f"{piece!r} x{n}" for piece, n in self.unknown.most_common(5))
        more = f", ... ({len(self.unknown)} distinct)" if len(self.unknown) > 5 else ""
        return (f"{sum(self.unknown.values())} piece(s) in {self.texts_with_unknown} text(s) are not in "
                f"{self.interface.describe()} and became <unk>: {shown}{more}")

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
