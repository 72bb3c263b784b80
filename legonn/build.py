"""Builds modules from plain config dicts: the same dicts a packed module carries, so a module
can be rebuilt without the model it was trained in."""
from typing import Optional

from torch import nn

from legonn.model import DecoderModule
from legonn.nets.decoder import TransformerDecoder
from legonn.nets.encoder import Conv2dSubsampling, LegoNNEncoder, TokenEmbedding
from legonn.nets.ingestor import BeamConvIngestor, WEmbIngestor

INGESTORS = {"wemb": WEmbIngestor, "beamconv": BeamConvIngestor}
ENCODER_KEYS = {"dim", "heads", "ffn_dim", "layers", "dropout", "attention_dropout", "olc"}


def _split(conf: dict, allowed: set, where: str) -> dict:
    unknown = set(conf) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    return dict(conf)


def build_ingestor(name: str, conf: dict, interface_size: int, dim: int) -> nn.Module:
    if name not in INGESTORS:
        raise ValueError(f"unknown ingestor {name!r}; choose one of {sorted(INGESTORS)}")
    return INGESTORS[name](interface_size, dim, **conf)


def build_first_encoder(conf: dict, input_kind: str, input_size: int,
                        interface_size: Optional[int]) -> LegoNNEncoder:
    """input_kind 'speech': input_size = feature dim; 'text': input_size = source vocab size."""
    conf = _split(conf, ENCODER_KEYS | {"conv_channels"}, "encoder_conf")
    dim = conf.setdefault("dim", 256)
    if input_kind == "speech":
        frontend = Conv2dSubsampling(input_size, dim, tuple(conf.pop("conv_channels", (64, 128))))
    elif input_kind == "text":
        conf.pop("conv_channels", None)
        frontend = TokenEmbedding(input_size, dim)
    else:
        raise ValueError(f"input kind must be 'speech' or 'text', got {input_kind!r}")
    return LegoNNEncoder(frontend, interface_size=interface_size, **conf)


def build_middle_encoder(conf: dict, input_interface_size: int, interface_size: int) -> LegoNNEncoder:
    """A module that ingests the previous interface's marginals (e.g. a pronunciation model)."""
    conf = _split(conf, {"ingestor", "ingestor_conf", "encoder_conf"}, "middle module")
    encoder_conf = _split(conf.get("encoder_conf", {}), ENCODER_KEYS, "middle module encoder_conf")
    dim = encoder_conf.setdefault("dim", 256)
    ingestor = build_ingestor(conf.get("ingestor", "wemb"), conf.get("ingestor_conf", {}),
                              input_interface_size, dim)
    # The ingestor already re-encodes positions (eq. 17).
    return LegoNNEncoder(ingestor, interface_size=interface_size, add_positions=False, **encoder_conf)


def build_decoder_module(decoder_conf: dict, vocab_size: int, ingestor: Optional[str],
                         ingestor_conf: Optional[dict], interface_size: Optional[int]) -> DecoderModule:
    decoder_conf = _split(decoder_conf, {"dim", "heads", "ffn_dim", "layers", "dropout",
                                         "attention_dropout", "tie_embeddings"}, "decoder_conf")
    dim = decoder_conf.setdefault("dim", 256)
    decoder = TransformerDecoder(vocab_size, **decoder_conf)
    if ingestor is None:
        return DecoderModule(decoder)
    ingestor_conf = dict(ingestor_conf or {})
    if ingestor_conf.pop("share_embedding", False):  # paper IV-B: one table for WEmb and decoder
        if ingestor != "wemb" or interface_size != vocab_size:
            raise ValueError(f"ingestor_conf share_embedding needs the wemb ingestor and an interface "
                             f"equal to the output vocabulary, got {ingestor!r} over {interface_size} "
                             f"tokens and {vocab_size} output tokens")
        ingestor_conf["shared_embedding"] = decoder.embed
    return DecoderModule(decoder, build_ingestor(ingestor, ingestor_conf, interface_size, dim))
