"""Builds modules from plain config dicts: the same dicts a packed module carries, so a module
can be rebuilt without the model it was trained in.

Ingestors and input frontends are ESPnet ClassChoices registries: `ingestor: wemb` with
`ingestor_conf` is the same mechanism as ESPnet's `encoder: ...` with `encoder_conf`. Every
`*_conf` is checked against the constructor it is passed to, so the allowed keys cannot drift
from the code."""
import inspect
from collections.abc import Iterable

from espnet2.train.class_choices import ClassChoices
from torch import nn

from legonn.model import DecoderModule
from legonn.nets.decoder import TransformerDecoder
from legonn.nets.encoder import Conv2dSubsampling, LegoNNEncoder, TokenEmbedding
from legonn.nets.ingestor import BeamConvIngestor, Ingestor, WEmbIngestor

ingestor_choices = ClassChoices("ingestor", classes=dict(wemb=WEmbIngestor, beamconv=BeamConvIngestor),
                                type_check=Ingestor, default="wemb", optional=True)
# The first encoder module's input layer; each task names its own (MT: embedding, ASR: conv2d).
frontend_choices = ClassChoices("frontend", classes=dict(conv2d=Conv2dSubsampling, embedding=TokenEmbedding),
                                type_check=nn.Module, default="embedding")
# The input kinds this function took before the registry (bench/ scripts still pass them).
FORMER_FRONTEND_NAMES = {"text": "embedding", "speech": "conv2d"}
# Arguments legonn passes itself: sizes fixed by interfaces and the chain, not by a config.
SUPPLIED = {"frontend", "interface_size", "add_positions", "vocab_size", "input_dim",
            "shared_embedding"}
# A speech encoder's encoder_conf may set its frontend's channels (the configs always did).
FRONTEND_KEYS_IN_ENCODER_CONF = {"conv_channels": "channels"}


def allowed_keys(cls: type, supplied: Iterable[str] = SUPPLIED) -> set:
    parameters = inspect.signature(cls.__init__).parameters
    return {name for name in parameters if name != "self"} - set(supplied)


def checked_conf(conf: dict | None, cls: type, where: str, extra: Iterable[str] = ()) -> dict:
    """A copy of `conf`; a key `cls`'s constructor does not take is an error naming it."""
    conf = dict(conf or {})
    allowed = allowed_keys(cls) | set(extra)
    unknown = set(conf) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    return conf


def build_ingestor(name: str, conf: dict, interface_size: int, dim: int, **supplied) -> nn.Module:
    cls = ingestor_choices.get_class(name)
    if cls is None:
        raise ValueError(f"an ingestor is needed here; choose one of {sorted(ingestor_choices.classes)}")
    return cls(interface_size, dim, **checked_conf(conf, cls, "ingestor_conf"), **supplied)


def build_first_encoder(conf: dict, frontend: str, input_size: int,
                        interface_size: int | None) -> LegoNNEncoder:
    """frontend 'conv2d': input_size = feature dim; 'embedding': input_size = source vocab size."""
    frontend_class = frontend_choices.get_class(FORMER_FRONTEND_NAMES.get(frontend, frontend))
    conf = checked_conf(conf, LegoNNEncoder, "encoder_conf", FRONTEND_KEYS_IN_ENCODER_CONF)
    frontend_conf = {FRONTEND_KEYS_IN_ENCODER_CONF[k]: tuple(conf.pop(k)) for k in list(conf)
                     if k in FRONTEND_KEYS_IN_ENCODER_CONF}
    frontend_conf = {k: v for k, v in frontend_conf.items() if k in allowed_keys(frontend_class)}
    dim = conf.setdefault("dim", 256)
    return LegoNNEncoder(frontend_class(input_size, dim, **frontend_conf), interface_size=interface_size, **conf)


def build_middle_encoder(conf: dict, input_interface_size: int, interface_size: int) -> LegoNNEncoder:
    """A module that ingests the previous interface's marginals (e.g. a pronunciation model)."""
    conf = dict(conf)
    unknown = set(conf) - {"ingestor", "ingestor_conf", "encoder_conf"}
    if unknown:
        raise ValueError(f"middle module: unknown keys {sorted(unknown)}; allowed: "
                         "['encoder_conf', 'ingestor', 'ingestor_conf']")
    encoder_conf = checked_conf(conf.get("encoder_conf"), LegoNNEncoder, "middle module encoder_conf")
    dim = encoder_conf.setdefault("dim", 256)
    ingestor = build_ingestor(conf.get("ingestor", "wemb"), conf.get("ingestor_conf", {}),
                              input_interface_size, dim)
    # The ingestor already re-encodes positions (eq. 17).
    return LegoNNEncoder(ingestor, interface_size=interface_size, add_positions=False, **encoder_conf)


def build_decoder_module(decoder_conf: dict, vocab_size: int, ingestor: str | None,
                         ingestor_conf: dict | None, interface_size: int | None) -> DecoderModule:
    decoder_conf = checked_conf(decoder_conf, TransformerDecoder, "decoder_conf")
    dim = decoder_conf.setdefault("dim", 256)
    decoder = TransformerDecoder(vocab_size, **decoder_conf)
    if ingestor is None:
        return DecoderModule(decoder)
    ingestor_conf = dict(ingestor_conf or {})
    supplied = {}
    if ingestor_conf.pop("share_embedding", False):  # paper IV-B: one table for WEmb and decoder
        if ingestor != "wemb" or interface_size != vocab_size:
            raise ValueError(f"ingestor_conf share_embedding needs the wemb ingestor and an interface "
                             f"equal to the output vocabulary, got {ingestor!r} over {interface_size} "
                             f"tokens and {vocab_size} output tokens")
        supplied["shared_embedding"] = decoder.embed
    return DecoderModule(decoder, build_ingestor(ingestor, ingestor_conf, interface_size, dim, **supplied))
