"""A module interface (paper III-A): the designer-defined vocabulary a module's CTC softmax is
over. Saved with every module; two modules connect only if their interfaces' checksums match."""
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

BLANK, UNK, SOS_EOS = "<blank>", "<unk>", "<sos/eos>"
KINDS = ("bpe", "phone", "char", "word")


class InterfaceMismatch(ValueError):
    """Raised when two modules that do not share a vocabulary are connected."""


@dataclass
class Interface:
    """Token list in ESPnet order: <blank>=0, <unk>=1, ..., <sos/eos> last."""

    name: str
    kind: str
    tokens: list[str]
    bpemodel: bytes | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"interface {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}")
        if len(self.tokens) < 3:
            raise ValueError(f"interface {self.name!r}: needs at least {BLANK}, {UNK} and {SOS_EOS}, "
                             f"got {len(self.tokens)} token(s)")
        expected = {0: BLANK, 1: UNK, len(self.tokens) - 1: SOS_EOS}
        for index, token in expected.items():
            if self.tokens[index] != token:
                raise ValueError(
                    f"interface {self.name!r}: token {index} must be {token!r}, got {self.tokens[index]!r}")
        if len(set(self.tokens)) != len(self.tokens):
            raise ValueError(f"interface {self.name!r}: token list has duplicates")
        if self.kind == "bpe" and self.bpemodel is None:
            raise ValueError(f"interface {self.name!r}: a bpe interface needs its sentencepiece model")

    @property
    def size(self) -> int:
        return len(self.tokens)

    blank_id = 0
    unk_id = 1

    @property
    def sos_eos_id(self) -> int:
        return len(self.tokens) - 1

    @property
    def checksum(self) -> str:
        digest = hashlib.sha256(self.kind.encode())
        digest.update("\n".join(self.tokens).encode())
        digest.update(self.bpemodel or b"")
        return digest.hexdigest()[:16]

    def describe(self) -> str:
        return f"{self.name!r} ({self.kind}, {self.size} tokens, checksum {self.checksum})"

    def require_same(self, other: "Interface", where: str) -> None:
        if self.checksum != other.checksum:
            raise InterfaceMismatch(
                f"{where}: interface mismatch: {self.describe()} vs {other.describe()}; "
                "modules can only be connected through the same vocabulary")

    # --- persistence: a directory with interface.yaml, tokens.txt and (for bpe) bpe.model ---
    def save(self, directory) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "tokens.txt").write_text("\n".join(self.tokens) + "\n", encoding="utf-8")
        meta = {"name": self.name, "kind": self.kind, "size": self.size, "checksum": self.checksum,
                "tokens": "tokens.txt"}
        if self.bpemodel is not None:
            (directory / "bpe.model").write_bytes(self.bpemodel)
            meta["bpemodel"] = "bpe.model"
        path = directory / "interface.yaml"
        path.write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path) -> "Interface":
        path = Path(path)
        path = path / "interface.yaml" if path.is_dir() else path
        if not path.exists():
            raise FileNotFoundError(f"interface file {path} does not exist")
        try:
            meta = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, yaml.YAMLError) as error:
            raise ValueError(f"{path}: not a readable interface file ({type(error).__name__}); "
                             "re-create it with legonn.bin.make_interface") from None
        missing = [key for key in ("name", "kind", "tokens") if key not in (meta if isinstance(meta, dict) else {})]
        if missing:
            raise ValueError(f"{path}: not an interface file (no {', '.join(missing)}); "
                             "re-create it with legonn.bin.make_interface")
        tokens = (path.parent / meta["tokens"]).read_text(encoding="utf-8").splitlines()
        bpemodel = (path.parent / meta["bpemodel"]).read_bytes() if meta.get("bpemodel") else None
        interface = cls(meta["name"], meta["kind"], tokens, bpemodel)
        if meta.get("checksum") not in (None, interface.checksum):
            raise InterfaceMismatch(
                f"{path}: stored checksum {meta['checksum']} does not match its files "
                f"({interface.checksum}); the token list or bpe model was modified")
        return interface

    def to_dict(self) -> dict:
        """Self-contained form stored inside module checkpoints."""
        return {"name": self.name, "kind": self.kind, "tokens": self.tokens,
                "bpemodel": self.bpemodel, "checksum": self.checksum}

    @classmethod
    def from_dict(cls, d: dict) -> "Interface":
        return cls(d["name"], d["kind"], list(d["tokens"]), d.get("bpemodel"))
