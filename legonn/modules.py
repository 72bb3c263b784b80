"""Modules as artifacts: cut a trained LegoNN model into standalone module archives, and
compose a model from modules trained in different models, checking every interface.

A module is a ModuleSpec: its role in a chain, its architecture, the interfaces it reads and
writes, and its weights. An archive (ESPnet pack format, opened by espnet2's unpack /
espnet_model_zoo) holds module.yaml (the spec without weights and interfaces, plus the
interfaces' file names and checksums), module.pth (its weights only), the interfaces, and for
speech encoders the feature statistics. Archives written before module.yaml carried
`spec_version` hold the same keys and load the same way."""
import contextlib
import dataclasses
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
import yaml
from espnet2.main_funcs.pack_funcs import pack, unpack

from legonn.nets.ingestor import SymbolMarginals
from legonn.nets.interface import Interface, InterfaceMismatch
from legonn.tasks import task_of
from legonn.utils import atomic_path

ROLES = ("encoder", "middle", "decoder")
SPEC_VERSION = 2  # 1: the same keys, no spec_version (archives written before ModuleSpec)
INTERFACE_FIELDS = ("input_interface", "output_interface")


@dataclass
class ModuleSpec:
    """One module of a chain. Which architecture fields are set depends on the role:
    encoder: task and encoder_conf (+ input_size, normalize_stats for speech); middle: conf
    ({ingestor, ingestor_conf, encoder_conf}); decoder: ingestor, ingestor_conf, decoder_conf."""
    role: str
    name: str
    output_interface: Interface | None  # None: hidden states (an enc-dec baseline's cut)
    input_interface: Interface | None = None  # None for a speech encoder
    ctc_target: str | None = None  # data key of the output interface's CTC targets
    task: str | None = None
    encoder_conf: dict | None = None
    input_size: int | None = None
    normalize_stats: str | None = None  # path of feats_stats.npz
    conf: dict | None = None
    ingestor: str | None = None
    ingestor_conf: dict | None = None
    decoder_conf: dict | None = None
    source: str = ""  # what it was exported from
    archive: str | None = None  # where it was read from
    weights: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"module {self.name!r}: role must be one of {ROLES}, got {self.role!r}")

    @property
    def label(self) -> str:
        return self.archive or self.name

    def architecture(self) -> dict:
        """module.yaml's content apart from interfaces and files: the fields that are set."""
        skip = {"weights", "archive", "normalize_stats", *INTERFACE_FIELDS}
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.name not in skip and getattr(self, f.name) is not None}

    @classmethod
    def from_meta(cls, meta: dict, **files) -> "ModuleSpec":
        """From module.yaml (either version) and the objects of the files it names."""
        known = {f.name for f in dataclasses.fields(cls)}
        fields = {k: v for k, v in meta.items() if k in known and k not in INTERFACE_FIELDS
                  and k != "normalize_stats"}
        return cls(**{"output_interface": None, **fields, **files})


def split_model(train_config, model_file) -> list[ModuleSpec]:
    """The modules of a trained model: role, architecture, interfaces, weights."""
    args = yaml.safe_load(Path(train_config).read_text(encoding="utf-8"))
    state = torch.load(model_file, map_location="cpu", weights_only=True)
    # An enc-dec baseline has no interface: its cut point is the hidden states (interface None),
    # which lets the modularity tests show what a swap does without one.
    interfaces = [Interface.load(path) for path in args["interfaces"]] or [None]
    task = task_of(args)
    take = lambda prefix: {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    ctc_target = (args["ctc_targets"] or ["text"])[0]

    if args.get("input_marginals"):  # trained from text: it reads marginals, a middle module
        first = ModuleSpec("middle", "middle0", interfaces[0], Interface.load(args["input_interface"]),
                           ctc_target, conf=SymbolMarginals.module_conf(args["input_marginals"]),
                           weights=take("encoders.0."))
    elif task == "mt":
        first = ModuleSpec("encoder", "encoder0", interfaces[0], Interface.load(args["input_interface"]),
                           ctc_target, task=task, encoder_conf=args["encoder_conf"], weights=take("encoders.0."))
    else:
        stats = args.get("normalize_stats")
        first = ModuleSpec("encoder", "encoder0", interfaces[0], None, ctc_target, task=task,
                           encoder_conf=args["encoder_conf"], input_size=args["input_size"],
                           normalize_stats=str(Path(stats).resolve()) if stats else None,
                           weights={**take("encoders.0."),
                                    **{f"normalize.{k}": v for k, v in take("normalize.").items()}})
    modules = [first]
    for i, conf in enumerate(args["middle_modules"], start=1):
        modules.append(ModuleSpec("middle", f"middle{i}", interfaces[i], interfaces[i - 1],
                                  args["ctc_targets"][i], conf=conf, weights=take(f"encoders.{i}.")))
    if args.get("decoder") not in (None, "none"):
        output = Interface.load(args["output_interface"]) if args.get("output_interface") else interfaces[-1]
        ingestor = None if interfaces[-1] is None else args["ingestor"]
        modules.append(ModuleSpec("decoder", "decoder", output, interfaces[-1], ingestor=ingestor,
                                  ingestor_conf=args["ingestor_conf"], decoder_conf=args["decoder_conf"],
                                  weights=take("decoder.")))
    return modules


def write_module(module: ModuleSpec, archive, source: str = "", readme: str | None = None) -> Path:
    """Packs one module (with `readme` as its README.md model card); written to a temporary name
    first so a crash leaves no half archive."""
    archive = Path(archive).resolve()
    with tempfile.TemporaryDirectory() as stage, contextlib.chdir(stage):
        meta = {"spec_version": SPEC_VERSION, **module.architecture(), "source": source}
        options = []
        for key in INTERFACE_FIELDS:
            interface = getattr(module, key)
            if interface is not None:
                meta[key] = {"path": str(interface.save(key)), "checksum": interface.checksum}
                options.append(key)
        if module.normalize_stats:
            shutil.copy(module.normalize_stats, "feats_stats.npz")
            meta["normalize_stats"] = "feats_stats.npz"
            options.append("feats_stats.npz")
        if readme is not None:
            Path("README.md").write_text(readme, encoding="utf-8")
            options.append("README.md")
        torch.save(module.weights, "module.pth")
        Path("module.yaml").write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
        # pack() picks the format from the name's suffixes, so the partial name keeps them.
        with atomic_path(archive, suffix="", prefix="partial_") as partial, \
                contextlib.redirect_stdout(open(os.devnull, "w")):
            pack(files={"module_file": "module.pth"}, yaml_files={"module_config": "module.yaml"},
                 outpath=partial, option=options)
    return archive


def read_module(archive, unpack_dir) -> ModuleSpec:
    """Opens an archive into `unpack_dir`; clear errors for missing, corrupt or foreign files."""
    archive = Path(archive)
    if not archive.exists():
        raise FileNotFoundError(f"module archive {archive} does not exist")
    # Absolute: unpack already prefixes the paths it rewrites with this directory.
    target = (Path(unpack_dir) / archive.name.replace(".zip", "")).resolve()
    try:
        files = unpack(archive, target, use_cache=False)
        meta = yaml.safe_load(Path(files["module_config"]).read_text(encoding="utf-8"))
        weights = torch.load(files["module_file"], map_location="cpu", weights_only=True)
    except Exception as error:  # zip, yaml and torch raise many types for a damaged file
        raise ValueError(f"{archive}: not a readable legonn module archive "
                         f"({type(error).__name__}: {error}); re-export it") from None
    if meta.get("role") not in ROLES:
        raise ValueError(f"{archive}: module.yaml has no valid role (got {meta.get('role')!r})")
    if meta.get("spec_version", 1) > SPEC_VERSION:
        raise ValueError(f"{archive}: module.yaml has spec_version {meta['spec_version']}; this legonn "
                         f"reads up to {SPEC_VERSION}: update legonn")
    interfaces = {}
    for key in INTERFACE_FIELDS:
        if key in meta:
            try:
                interface = Interface.load(target / meta[key]["path"])
            except (ValueError, FileNotFoundError) as error:  # InterfaceMismatch is a ValueError
                raise type(error)(f"{archive}: {key}: {error}; re-export the module") from None
            if interface.checksum != meta[key]["checksum"]:
                raise InterfaceMismatch(f"{archive}: {key} files do not match the recorded checksum")
            interfaces[key] = interface
    stats = str(target / meta["normalize_stats"]) if meta.get("normalize_stats") else None
    return ModuleSpec.from_meta(meta, **interfaces, normalize_stats=stats, weights=weights, archive=str(archive))


def check_chain(modules: Sequence[ModuleSpec]) -> None:
    roles = [m.role for m in modules]
    if roles[0] != "encoder" or any(r != "middle" for r in roles[1:-1]) or \
            (len(roles) > 1 and roles[-1] not in ("middle", "decoder")):
        raise ValueError(f"modules must be: encoder, middle..., [decoder]; got {roles}")
    for left, right in zip(modules, modules[1:]):
        where = f"connecting {left.label} -> {right.label}"
        produced, expected = left.output_interface, right.input_interface
        if produced is None or expected is None:
            if produced is not expected:
                raise InterfaceMismatch(f"{where}: one side has no interface (hidden states of an "
                                        "enc-dec baseline) and the other has a vocabulary")
            continue
        produced.require_same(expected, where)


@dataclass
class ComposedModel:
    config: dict  # task config, model keys only
    state: dict[str, torch.Tensor]
    task: str


def compose(modules: Sequence[ModuleSpec], interface_dir) -> ComposedModel:
    """Task config and state dict of the model made of `modules`."""
    check_chain(modules)
    interface_dir = Path(interface_dir)
    save = lambda interface: str(interface.save(interface_dir / interface.checksum).resolve())
    first = modules[0]
    interfaces = [save(m.output_interface) for m in modules
                  if m.role != "decoder" and m.output_interface is not None]
    config = {"interfaces": interfaces, "encoder_conf": first.encoder_conf,
              "middle_modules": [m.conf for m in modules if m.role == "middle"],
              "ctc_targets": [m.ctc_target for m in modules if m.role != "decoder"][:len(interfaces)]}
    if first.task == "mt":
        config["input_interface"] = save(first.input_interface)
    else:
        config["input_size"] = first.input_size
        config["normalize_stats"] = first.normalize_stats
    state = {}
    for key, value in first.weights.items():
        state[key if key.startswith("normalize.") else f"encoders.0.{key}"] = value
    for i, module in enumerate(modules[1:], start=1):
        prefix = "decoder." if module.role == "decoder" else f"encoders.{i}."
        state.update({prefix + k: v for k, v in module.weights.items()})
    last = modules[-1]
    if last.role == "decoder":
        config.update(ingestor=last.ingestor, ingestor_conf=last.ingestor_conf,
                      decoder="transformer", decoder_conf=last.decoder_conf,
                      output_interface=save(last.output_interface))
    else:
        config.update(decoder="none", ingestor=None, ingestor_conf={}, decoder_conf={},
                      output_interface=interfaces[-1])
    return ComposedModel(config, state, first.task)
