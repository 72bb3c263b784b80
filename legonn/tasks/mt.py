"""LegoNN machine translation: source text -> encoder module(s) -> decoder module."""
from espnet2.utils.nested_dict_action import NestedDictAction
from espnet2.utils.types import str_or_none

from legonn.build import build_middle_encoder
from legonn.nets.ingestor import SymbolMarginals
from legonn.nets.interface import Interface
from legonn.tasks.legonn_task import LegoNNTask


class MTTask(LegoNNTask):
    input_key = "src_text"
    frontend = "embedding"

    @classmethod
    def add_input_arguments(cls, group):
        group.add_argument("--input_interface", type=str_or_none, default=None,
                           help="interface.yaml of the source vocabulary")
        group.add_argument("--input_marginals", action=NestedDictAction, default=None,
                           help="train a middle module from text: {ingestor, ingestor_conf, "
                                "encoder_conf, smoothing, confusion, stretch}; the source symbols (e.g. "
                                "g2p phones) are fed as marginals over --input_interface")

    @classmethod
    def input_interface(cls, args):
        if not args.input_interface:
            raise ValueError("MT needs --input_interface (the source vocabulary)")
        return Interface.load(args.input_interface)

    @classmethod
    def input_size(cls, args) -> int:
        return cls.input_interface(args).size

    @classmethod
    def build_first_encoder(cls, args, interface_size):
        if not getattr(args, "input_marginals", None):
            return super().build_first_encoder(args, interface_size)
        return build_middle_encoder(SymbolMarginals.module_conf(args.input_marginals),
                                    cls.input_interface(args).size, interface_size)

    @classmethod
    def build_input_layers(cls, args):
        if not getattr(args, "input_marginals", None):
            return {}
        return {"input_marginals": SymbolMarginals.from_conf(cls.input_interface(args).size, args.input_marginals)}
