"""Modules as artifacts: cut a trained LegoNN model into standalone module archives, and
compose a model from modules trained in different models, checking every interface.

An archive (ESPnet pack format, opened by espnet2's unpack / espnet_model_zoo) holds
module.yaml (role, architecture, interface checksums), module.pth (its weights only),
the interfaces it reads and writes, and for speech encoders the feature statistics."""
import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Dict, List, Sequence

import torch
import yaml
from espnet2.main_funcs.pack_funcs import pack, unpack

from legonn.nets.ingestor import SymbolMarginals
from legonn.nets.interface import Interface, InterfaceMismatch
from legonn.utils import atomic_path

ROLES = ("encoder", "middle", "decoder")


@contextlib.contextmanager
def _working_directory(path):
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def _load_train_config(path) -> dict:
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def split_model(train_config, model_file) -> List[dict]:
    """Describes each module of a trained model: role, config, interfaces, weights."""
    args = _load_train_config(train_config)
    state = torch.load(model_file, map_location="cpu", weights_only=True)
    # An enc-dec baseline has no interface: its cut point is the hidden states (interface None),
    # which lets the modularity tests show what a swap does without one.
    interfaces = [Interface.load(path) for path in args["interfaces"]] or [None]
    task = "asr" if "input_size" in args else "mt"
    take = lambda prefix: {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}

    first = {"role": "encoder", "name": "encoder0", "task": task,
             "encoder_conf": args["encoder_conf"], "output_interface": interfaces[0],
             "ctc_target": (args["ctc_targets"] or ["text"])[0],
             "weights": take("encoders.0.")}
    if args.get("input_marginals"):  # trained from text: it reads marginals, a middle module
        first = {"role": "middle", "name": "middle0", "conf": SymbolMarginals.module_conf(args["input_marginals"]),
                 "ctc_target": first["ctc_target"], "input_interface": Interface.load(args["input_interface"]),
                 "output_interface": interfaces[0], "weights": first["weights"]}
    elif task == "mt":
        first["input_interface"] = Interface.load(args["input_interface"])
    else:
        first["input_size"] = args["input_size"]
        stats = args.get("normalize_stats")
        first["normalize_stats"] = str(Path(stats).resolve()) if stats else None
        first["weights"].update({f"normalize.{k}": v for k, v in take("normalize.").items()})
    modules = [first]
    for i, conf in enumerate(args["middle_modules"], start=1):
        modules.append({"role": "middle", "name": f"middle{i}", "conf": conf,
                        "ctc_target": args["ctc_targets"][i],
                        "input_interface": interfaces[i - 1], "output_interface": interfaces[i],
                        "weights": take(f"encoders.{i}.")})
    if args.get("decoder") not in (None, "none"):
        output = Interface.load(args["output_interface"]) if args.get("output_interface") else interfaces[-1]
        ingestor = None if interfaces[-1] is None else args["ingestor"]
        modules.append({"role": "decoder", "name": "decoder", "ingestor": ingestor,
                        "ingestor_conf": args["ingestor_conf"], "decoder_conf": args["decoder_conf"],
                        "input_interface": interfaces[-1], "output_interface": output,
                        "weights": take("decoder.")})
    return modules


def write_module(module: dict, archive, source: str = "") -> Path:
    """Packs one module; written to a temporary name first so a crash leaves no half archive."""
    archive = Path(archive).resolve()
    with tempfile.TemporaryDirectory() as stage, _working_directory(stage):
        meta = {k: v for k, v in module.items() if k != "weights" and not k.endswith("interface")
                and k != "normalize_stats"}
        meta["source"] = source
        options = []
        for key in ("input_interface", "output_interface"):
            if module.get(key) is not None:
                interface = module[key]
                meta[key] = {"path": str(interface.save(f"{key}")), "checksum": interface.checksum}
                options.append(key)
        if module.get("normalize_stats"):
            shutil.copy(module["normalize_stats"], "feats_stats.npz")
            meta["normalize_stats"] = "feats_stats.npz"
            options.append("feats_stats.npz")
        torch.save(module["weights"], "module.pth")
        Path("module.yaml").write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
        # pack() picks the format from the name's suffixes, so the partial name keeps them.
        with atomic_path(archive, suffix="", prefix="partial_") as partial, \
                contextlib.redirect_stdout(open(os.devnull, "w")):
            pack(files={"module_file": "module.pth"}, yaml_files={"module_config": "module.yaml"},
                 outpath=partial, option=options)
    return archive


def read_module(archive, unpack_dir) -> dict:
    """Opens an archive into `unpack_dir`; clear errors for missing, corrupt or foreign files."""
    archive = Path(archive)
    if not archive.exists():
        raise FileNotFoundError(f"module archive {archive} does not exist")
    # Absolute: unpack already prefixes the paths it rewrites with this directory.
    target = (Path(unpack_dir) / archive.name.replace(".zip", "")).resolve()
    try:
        files = unpack(archive, target, use_cache=False)
        meta = _load_train_config(files["module_config"])
        weights = torch.load(files["module_file"], map_location="cpu", weights_only=True)
    except Exception as error:  # zip, yaml and torch raise many types for a damaged file
        raise ValueError(f"{archive}: not a readable legonn module archive "
                         f"({type(error).__name__}: {error}); re-export it") from None
    if meta.get("role") not in ROLES:
        raise ValueError(f"{archive}: module.yaml has no valid role (got {meta.get('role')!r})")
    module = dict(meta, weights=weights, archive=str(archive))
    for key in ("input_interface", "output_interface"):
        module.setdefault(key, None)
        if key in meta:
            try:
                interface = Interface.load(target / meta[key]["path"])
            except (ValueError, FileNotFoundError) as error:  # InterfaceMismatch is a ValueError
                raise type(error)(f"{archive}: {key}: {error}; re-export the module") from None
            if interface.checksum != meta[key]["checksum"]:
                raise InterfaceMismatch(f"{archive}: {key} files do not match the recorded checksum")
            module[key] = interface
    if meta.get("normalize_stats"):
        module["normalize_stats"] = str(target / meta["normalize_stats"])
    return module


def check_chain(modules: Sequence[dict]) -> None:
    roles = [m["role"] for m in modules]
    if roles[0] != "encoder" or any(r != "middle" for r in roles[1:-1]) or \
            (len(roles) > 1 and roles[-1] not in ("middle", "decoder")):
        raise ValueError(f"modules must be: encoder, middle..., [decoder]; got {roles}")
    for left, right in zip(modules, modules[1:]):
        where = f"connecting {left.get('archive', left['name'])} -> {right.get('archive', right['name'])}"
        produced, expected = left["output_interface"], right["input_interface"]
        if produced is None or expected is None:
            if produced is not expected:
                raise InterfaceMismatch(f"{where}: one side has no interface (hidden states of an "
                                        "enc-dec baseline) and the other has a vocabulary")
            continue
        produced.require_same(expected, where)


def compose(modules: Sequence[dict], interface_dir) -> Dict:
    """Task config (model keys only) and state dict of the model made of `modules`."""
    check_chain(modules)
    interface_dir = Path(interface_dir)
    save = lambda interface: str(interface.save(interface_dir / interface.checksum).resolve())
    first = modules[0]
    interfaces = [save(m["output_interface"]) for m in modules
                  if m["role"] != "decoder" and m["output_interface"] is not None]
    config = {"interfaces": interfaces, "encoder_conf": first["encoder_conf"],
              "middle_modules": [m["conf"] for m in modules if m["role"] == "middle"],
              "ctc_targets": [m["ctc_target"] for m in modules if m["role"] != "decoder"][:len(interfaces)]}
    if first["task"] == "mt":
        config["input_interface"] = save(first["input_interface"])
    else:
        config["input_size"] = first["input_size"]
        config["normalize_stats"] = first.get("normalize_stats")
    state = {}
    for key, value in first["weights"].items():
        state[key if key.startswith("normalize.") else f"encoders.0.{key}"] = value
    for i, module in enumerate(modules[1:], start=1):
        prefix = "decoder." if module["role"] == "decoder" else f"encoders.{i}."
        state.update({prefix + k: v for k, v in module["weights"].items()})
    last = modules[-1]
    if last["role"] == "decoder":
        config.update(ingestor=last["ingestor"], ingestor_conf=last["ingestor_conf"],
                      decoder="transformer", decoder_conf=last["decoder_conf"],
                      output_interface=save(last["output_interface"]))
    else:
        config.update(decoder="none", ingestor=None, ingestor_conf={}, decoder_conf={},
                      output_interface=interfaces[-1])
    return {"config": config, "state": state, "task": first["task"]}
