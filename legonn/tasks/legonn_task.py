"""Shared AbsTask for LegoNN models; MT and ASR differ only in their input (see mt.py, asr.py)."""
import argparse
import inspect
from collections.abc import Callable

import yaml
from espnet2.tasks.abs_task import AbsTask, optim_classes
from espnet2.train.collate_fn import CommonCollateFn
from espnet2.utils.nested_dict_action import NestedDictAction
from espnet2.utils.types import str_or_none

from legonn.build import build_decoder_module, build_first_encoder, build_middle_encoder, ingestor_choices
from legonn.model import IGNORE_ID, LegoNNModel
from legonn.nets.interface import Interface
from legonn.tasks.preprocessor import LegoNNPreprocessor
from legonn.tasks.trainer import LegoNNTrainer, readable_init_param_errors


def yaml_list(value: str):
    parsed = yaml.safe_load(value)
    return parsed if isinstance(parsed, list) else [parsed]


class LegoNNTask(AbsTask):
    num_optimizers = 1
    # --ingestor {wemb, beamconv, none} and --ingestor_conf.
    class_choices_list = [ingestor_choices]
    trainer = LegoNNTrainer
    input_key = "src_text"
    frontend = "embedding"  # a key of legonn.build.frontend_choices

    @classmethod
    def add_task_arguments(cls, parser: argparse.ArgumentParser):
        group = parser.add_argument_group(description="LegoNN modules and interfaces")
        group.add_argument("--interfaces", type=yaml_list, default=[],
                           help="interface.yaml of every encoder module's CTC output, in chain order")
        group.add_argument("--ctc_targets", type=yaml_list, default=["text"],
                           help="data key whose text is the CTC target of each interface")
        group.add_argument("--output_interface", type=str_or_none, default=None,
                           help="interface.yaml of the decoder's output vocabulary "
                                "(default: the last interface)")
        group.add_argument("--encoder_conf", action=NestedDictAction, default={},
                           help="first encoder module: dim, heads, ffn_dim, layers, dropout, olc")
        group.add_argument("--middle_modules", type=yaml_list, default=[],
                           help="list of {ingestor, ingestor_conf, encoder_conf}, one per middle module")
        for choices in cls.class_choices_list:  # as ESPnet's own tasks add theirs
            choices.add_arguments(group)
        group.add_argument("--decoder", type=str_or_none, default="transformer",
                           help="transformer, or none for an encoder-only CTC model")
        group.add_argument("--decoder_conf", action=NestedDictAction, default={})
        group.add_argument("--model_conf", action=NestedDictAction, default={},
                           help="ctc_weights (one per interface), ce_weight, lsm_weight")
        group.add_argument("--use_preprocessor", type=bool, default=True)
        cls.add_input_arguments(group)

    @classmethod
    def add_input_arguments(cls, group):
        raise NotImplementedError

    @classmethod
    def architecture_args(cls) -> list[str]:
        """The options that say which model is built (a checkpoint belongs to one such model)."""
        choices = [name for c in cls.class_choices_list for name in (c.name, f"{c.name}_conf")]
        return ["encoder_conf", "middle_modules", *choices, "decoder", "decoder_conf"]

    @classmethod
    def main_worker(cls, args: argparse.Namespace):
        if args.ngpu == 0 and args.dist_backend == "nccl":
            args.dist_backend = "gloo"  # NCCL, ESPnet's default, needs GPUs
        # ESPnet loads --init_param here, before LegoNNTrainer runs: the one place to make its
        # errors readable (scoped to this run; importing legonn patches nothing).
        with readable_init_param_errors():
            super().main_worker(args)

    @classmethod
    def build_optimizers(cls, args: argparse.Namespace, model):
        # On CPU torch steps Adam, AdamW and Adagrad in a Python loop over the parameters unless
        # asked for their fused kernel (its default picks foreach or fused on GPUs only):
        # ESPnet's optim_step_time for issue 14's 128-dim model goes from 6 to 2 ms of a 0.14-0.3 s
        # step (bench/recipe_training.sh). --optim_conf fused=false keeps the loop; a config that
        # picks foreach is left as it is (torch takes one of the two).
        optim_class = optim_classes.get(args.optim)
        if (optim_class is not None and "fused" in inspect.signature(optim_class).parameters
                and not {"fused", "foreach"} & set(args.optim_conf) and all(p.is_cpu for p in model.parameters())):
            args = argparse.Namespace(**{**vars(args), "optim_conf": {**args.optim_conf, "fused": True}})
        return super().build_optimizers(args, model)

    @classmethod
    def build_collate_fn(cls, args, train: bool) -> Callable:
        return CommonCollateFn(float_pad_value=0.0, int_pad_value=IGNORE_ID)

    @classmethod
    def load_interfaces(cls, args):
        interfaces = [Interface.load(path) for path in args.interfaces]
        if args.output_interface:
            output = Interface.load(args.output_interface)
        elif interfaces:
            output = interfaces[-1]
        else:
            raise ValueError("--output_interface is required for a model without interfaces")
        if len(args.ctc_targets) != len(interfaces):
            raise ValueError(f"--ctc_targets {args.ctc_targets} needs one data key per interface "
                             f"({len(interfaces)} interfaces)")
        return interfaces, output

    @classmethod
    def input_interface(cls, args) -> Interface | None:
        return None

    @classmethod
    def build_preprocess_fn(cls, args, train: bool) -> Callable | None:
        if not args.use_preprocessor:
            return None
        interfaces, output = cls.load_interfaces(args)
        return LegoNNPreprocessor(train, cls.input_key, output, interfaces, args.ctc_targets,
                                  cls.input_interface(args))

    @classmethod
    def required_data_names(cls, train: bool = True, inference: bool = False) -> tuple[str, ...]:
        return (cls.input_key,) if inference else (cls.input_key, "text")

    @classmethod
    def optional_data_names(cls, train: bool = True, inference: bool = False) -> tuple[str, ...]:
        # CTC targets other than the output text: g2p phones, a teacher's distilled translations
        # (the enc-dec's: text_kd; the LegoNN WEmb model's: text_kd_wemb).
        return ("phones", "text_kd", "text_kd_wemb")

    @classmethod
    def input_size(cls, args) -> int:
        """What the first encoder module's frontend (cls.frontend) reads: feature dimension or
        source vocabulary size."""
        raise NotImplementedError

    @classmethod
    def build_first_encoder(cls, args, interface_size):
        return build_first_encoder(args.encoder_conf, cls.frontend, cls.input_size(args), interface_size)

    @classmethod
    def build_input_layers(cls, args) -> dict:
        """Extra LegoNNModel arguments (feature normalization, augmentation)."""
        return {}

    @classmethod
    def build_model(cls, args) -> LegoNNModel:
        interfaces, output = cls.load_interfaces(args)
        sizes = [interface.size for interface in interfaces]
        encoders = [cls.build_first_encoder(args, sizes[0] if sizes else None)]
        if len(args.middle_modules) != max(len(interfaces) - 1, 0):
            raise ValueError(f"{len(interfaces)} interfaces need {len(interfaces) - 1} middle modules, "
                             f"got {len(args.middle_modules)}")
        for i, conf in enumerate(args.middle_modules):
            encoders.append(build_middle_encoder(conf, sizes[i], sizes[i + 1]))
        decoder = None
        if args.decoder is not None and args.decoder != "none":
            ingestor = None if args.ingestor in (None, "none") or not interfaces else args.ingestor
            decoder = build_decoder_module(args.decoder_conf, output.size, ingestor,
                                           args.ingestor_conf, sizes[-1] if sizes else None)
        return LegoNNModel(encoders, decoder, interfaces, output, input_key=cls.input_key,
                           **args.model_conf, **cls.build_input_layers(args))
