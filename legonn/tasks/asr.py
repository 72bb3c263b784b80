"""LegoNN speech recognition: filterbank features -> conv subsampling -> encoder module(s) ->
decoder module. Features come precomputed (kaldi ark) and are normalized with global MVN."""
from espnet2.asr.specaug.specaug import SpecAug
from espnet2.layers.global_mvn import GlobalMVN
from espnet2.utils.nested_dict_action import NestedDictAction
from espnet2.utils.types import str_or_none

from legonn.tasks.legonn_task import LegoNNTask


class ASRTask(LegoNNTask):
    input_key = "speech"
    frontend = "conv2d"

    @classmethod
    def add_input_arguments(cls, group):
        group.add_argument("--input_size", type=int, default=80, help="feature dimension")
        group.add_argument("--normalize_stats", type=str_or_none, default=None,
                           help="feats_stats.npz from --collect_stats for global MVN")
        group.add_argument("--specaug_conf", action=NestedDictAction, default=None,
                           help="ESPnet SpecAug arguments; unset = no augmentation")

    @classmethod
    def input_size(cls, args) -> int:
        return args.input_size

    @classmethod
    def build_input_layers(cls, args):
        normalize = GlobalMVN(args.normalize_stats) if args.normalize_stats else None
        # A composed model's config has no augmentation key: modules carry none.
        specaug_conf = getattr(args, "specaug_conf", None)
        specaug = SpecAug(**specaug_conf) if specaug_conf else None
        return {"normalize": normalize, "specaug": specaug}
