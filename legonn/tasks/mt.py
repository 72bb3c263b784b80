"""LegoNN machine translation: source text -> encoder module(s) -> decoder module."""
from espnet2.utils.types import str_or_none

from legonn.nets.interface import Interface
from legonn.tasks.legonn_task import LegoNNTask


class MTTask(LegoNNTask):
    input_key = "src_text"

    @classmethod
    def add_input_arguments(cls, group):
        group.add_argument("--input_interface", type=str_or_none, default=None,
                           help="interface.yaml of the source vocabulary")

    @classmethod
    def input_interface(cls, args):
        if not args.input_interface:
            raise ValueError("MT needs --input_interface (the source vocabulary)")
        return Interface.load(args.input_interface)

    @classmethod
    def build_input_frontend(cls, args):
        return "text", cls.input_interface(args).size
