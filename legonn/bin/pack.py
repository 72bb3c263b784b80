"""Pack a trained LegoNN model, or one of its modules, into an archive for the model zoo.

  python -m legonn.bin.pack model --train_config exp/x/config.yaml \\
      --model_file exp/x/valid.acc.ave.pth --outpath x.zip
      the whole model: its config, its weights and every file the config names (interfaces,
      feature statistics), with the config's paths rewritten to the archived copies. ESPnet's
      pack format: espnet2.main_funcs.pack_funcs.unpack (or espnet_model_zoo) opens it and
      gives {"mt_train_config" | "asr_train_config": ..., "mt_model_file" | "asr_model_file": ...};
      legonn.inference.LegoNNInference.from_pretrained loads it.

  python -m legonn.bin.pack module --train_config exp/x/config.yaml \\
      --model_file exp/x/valid.acc.ave.pth --module decoder --outpath x_decoder.zip
      one module (encoder0, middle1..., decoder), as legonn.bin.export_modules writes them,
      for legonn.bin.compose.

Every archive carries a README.md model card in the layout of ESPnet's Hugging Face uploads
(task, interfaces and vocabulary sizes, training data, config, how to compose it), with the
experiment's scores when --results names the recipe's RESULTS.md; an unpacked archive can be
uploaded as it is (egs2/TEMPLATE/legonn1/README.md shows how).

Relative paths in the config are taken from the working directory, else from the recipe
directory (two levels above config.yaml), as training saw them.
"""
import argparse
import contextlib
import io
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

from legonn.inference import config_bases, resolve_path, resolved_config
from legonn.modelcard import model_card, module_card
from legonn.tasks import task_of
from legonn.utils import atomic_path


def stage_model(train_config: Path, model_file: Path, stage: Path) -> dict:
    """Copies everything into `stage` under archive names; returns pack()'s arguments."""
    config = yaml.safe_load(train_config.read_text(encoding="utf-8"))
    task = task_of(config)
    tag = train_config.resolve().parent.name or "model"
    bases = config_bases(train_config)
    option, staged = [], {}

    def stage_interface(value: str) -> str:
        source = resolve_path(value, bases)
        if source in staged:
            return staged[source]
        meta = yaml.safe_load(source.read_text(encoding="utf-8"))
        folder = Path("data") / "interfaces" / f"{len(staged)}_{meta.get('name', 'interface')}"
        (stage / folder).mkdir(parents=True)
        for name in [source.name] + [meta[k] for k in ("tokens", "bpemodel") if meta.get(k)]:
            shutil.copy(source.parent / name, stage / folder / name)
            option.append(str(folder / name))
        staged[source] = str(folder / source.name)
        return staged[source]

    for key in ("interfaces", "input_interface", "output_interface"):
        value = config.get(key)
        if isinstance(value, list):
            config[key] = [stage_interface(v) for v in value]
        elif value:
            config[key] = stage_interface(value)
    if config.get("normalize_stats"):
        name = str(Path("exp") / tag / "feats_stats.npz")
        (stage / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(resolve_path(config["normalize_stats"], bases), stage / name)
        config["normalize_stats"] = name
        option.append(name)
    config_name, model_name = Path("exp") / tag / "config.yaml", Path("exp") / tag / model_file.name
    (stage / config_name).parent.mkdir(parents=True, exist_ok=True)
    (stage / config_name).write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    shutil.copy(model_file, stage / model_name)
    return {"files": {f"{task}_model_file": str(model_name)},
            "yaml_files": {f"{task}_train_config": str(config_name)}, "option": option}


def pack_model(train_config, model_file, outpath, results=None) -> Path:
    from espnet2.main_funcs.pack_funcs import pack

    train_config, model_file, outpath = Path(train_config), Path(model_file), Path(outpath).resolve()
    results = Path(results).resolve() if results else None  # read from inside the stage
    recipe_config = train_config.resolve()
    outpath.parent.mkdir(parents=True, exist_ok=True)
    # Staged under archive names; the archive is built beside its destination and moved into
    # place, so a crash leaves no half-written archive.
    # pack() picks the format from the name's suffixes, so the partial name keeps them.
    with tempfile.TemporaryDirectory() as stage, atomic_path(outpath, suffix="", prefix="partial_") as partial:
        arguments = stage_model(train_config.resolve(), model_file.resolve(), Path(stage))
        with contextlib.chdir(stage):  # the staged config's paths are relative to the stage
            (task, config_name), = arguments["yaml_files"].items()
            config = yaml.safe_load(Path(config_name).read_text(encoding="utf-8"))
            (model_name,) = arguments["files"].values()
            card = model_card(config, task.split("_")[0], outpath.name.split(".")[0], recipe_config,
                              config_name, model_name, results)
            Path("README.md").write_text(card, encoding="utf-8")
            arguments["option"].append("README.md")
            with contextlib.redirect_stdout(io.StringIO()):  # pack() prints
                pack(outpath=partial, **arguments)
    return outpath


def pack_module(train_config, model_file, module_name, outpath, results=None) -> Path:
    from legonn.modules import split_model, write_module

    train_config = Path(train_config)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.yaml"  # the paths made absolute for split_model
        config.write_text(yaml.safe_dump(resolved_config(train_config), sort_keys=False), encoding="utf-8")
        modules = {m.name: m for m in split_model(config, Path(model_file))}
    if module_name not in modules:
        raise ValueError(f"{train_config} has modules {', '.join(modules)}; not {module_name!r}")
    source = f"{train_config} + {model_file}"
    card = module_card(modules[module_name], Path(outpath).name.split(".")[0], source,
                       Path(results) if results else None)
    return write_module(modules[module_name], outpath, source=source, readme=card)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m legonn.bin.pack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="what", required=True)
    for what in ("model", "module"):
        sub = commands.add_parser(what, help=f"pack a whole {what}" if what == "model" else "pack one module")
        sub.add_argument("--train_config", required=True, help="config.yaml written by training")
        sub.add_argument("--model_file", required=True, help="weights, e.g. valid.acc.ave.pth")
        sub.add_argument("--outpath", required=True, help="archive to write (.zip, .tar.gz, .tgz)")
        sub.add_argument("--results", help="the recipe's RESULTS.md: the model card quotes this "
                         "experiment's rows")
        if what == "module":
            sub.add_argument("--module", required=True, help="encoder0, middle1, ..., or decoder")
    return parser


def main(argv=None) -> Path:
    args = build_parser().parse_args(argv)
    for path in (args.train_config, args.model_file) + ((args.results,) if args.results else ()):
        if not Path(path).exists():
            sys.exit(f"pack: {path} does not exist")
    try:
        if args.what == "model":
            out = pack_model(args.train_config, args.model_file, args.outpath, args.results)
        else:
            out = pack_module(args.train_config, args.model_file, args.module, args.outpath, args.results)
    except (FileNotFoundError, ValueError) as error:
        sys.exit(f"pack: {error}")
    print(f"pack: wrote {out}")
    return out


if __name__ == "__main__":
    main()
