"""Build a model from modules trained in different models (no fine-tuning needed).

  python -m legonn.bin.compose --encoder exp/fr_en/modules/encoder0.zip \
      --decoder exp/de_en/modules/decoder.zip --output_dir exp/compose_fr_en_with_de_en_decoder
  python -m legonn.bin.compose --modules phones.zip pronunciation.zip decoder.zip --output_dir DIR

(--modules lists the archives in chain order; --encoder [--middle ...] --decoder names them.)

writes config.yaml + model.pth, decodable with legonn.bin.inference and usable with
`--init_param DIR/model.pth` to fine-tune the composed model end-to-end (paper Table VI).
Modules whose interfaces differ are refused with both vocabularies named. A composition newer
than its archives is kept, so rerunning a recipe does not make the decoding of an unchanged model
stale; --finetune_config then (re)writes only finetune.yaml."""
import argparse
import sys
from pathlib import Path

import yaml

from legonn.modules import compose, read_module
from legonn.nets.interface import InterfaceMismatch
from legonn.utils import atomic_save, write_lines


def current_config(out: Path, archives) -> dict | None:
    """The config of OUT_DIR's composition when it is of these archives and written after each
    of them changed; None when it must be composed (again)."""
    model, config_file = out / "model.pth", out / "config.yaml"
    if not (model.is_file() and config_file.is_file() and all(Path(p).is_file() for p in archives)):
        return None
    config = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
    if config.get("composed_from") != [str(p) for p in archives]:
        return None
    return config if all(Path(p).stat().st_mtime < model.stat().st_mtime for p in archives) else None


def finetune_is_current(out: Path, finetune_config: str) -> bool:
    written = out / "finetune.yaml"
    return written.is_file() and all(
        p.stat().st_mtime < written.stat().st_mtime for p in (Path(finetune_config), out / "config.yaml"))


def write_finetune_config(out: Path, config: dict, finetune_config: str):
    """OUT_DIR/finetune.yaml: the composed architecture with FINETUNE_CONFIG's training options."""
    training = yaml.safe_load(Path(finetune_config).read_text(encoding="utf-8")) or {}
    architecture = {k: v for k, v in config.items() if k != "composed_from"}
    # model_conf (loss weights) and use_preprocessor are the fine-tuning's to set
    clash = sorted(set(training) & (set(architecture) - {"model_conf", "use_preprocessor"}))
    if clash:
        sys.exit(f"compose: {finetune_config} sets {clash}, which the modules define")
    write_lines(out / "finetune.yaml", yaml.safe_dump({**architecture, **training}, sort_keys=False).splitlines())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modules", nargs="+", help="archives in chain order: encoder, middle..., decoder")
    parser.add_argument("--encoder", help="the first encoder module's archive")
    parser.add_argument("--middle", nargs="+", default=[], help="middle modules' archives, in chain order")
    parser.add_argument("--decoder", help="the decoder module's archive (none: an encoder-only model)")
    parser.add_argument("--output_dir", "--out_dir", dest="output_dir", required=True)
    parser.add_argument("--finetune_config", help="training options (optim, epochs...) to merge with "
                        "the composed architecture into OUT_DIR/finetune.yaml")
    args = parser.parse_args(argv)
    if bool(args.modules) == bool(args.encoder):
        parser.error("give either --modules or --encoder [--middle ...] [--decoder]")
    if args.encoder:
        args.modules = [args.encoder, *args.middle] + ([args.decoder] if args.decoder else [])
    out = Path(args.output_dir)
    config = current_config(out, args.modules)
    if config is not None:
        print(f"compose: {out} is newer than its modules, kept")
    else:
        try:
            modules = [read_module(path, out / "modules") for path in args.modules]
            composed = compose(modules, out / "interfaces")
        except (InterfaceMismatch, ValueError, FileNotFoundError) as error:
            sys.exit(f"compose: {error}")
        # Decoding needs only the architecture; training options come from --finetune_config.
        config = {"model_conf": {}, "use_preprocessor": True,
                  **composed.config, "composed_from": [str(p) for p in args.modules]}
        # Written aside and renamed: an interrupted compose never leaves a half-written model behind.
        atomic_save(composed.state, out / "model.pth")
        write_lines(out / "config.yaml", yaml.safe_dump(config, sort_keys=False).splitlines())
        print(f"composed {' + '.join(m.role for m in modules)} ({composed.task}) into {out}")
    # Only finetune.yaml is rewritten for a kept model: a new model.pth would make its decodings stale.
    if args.finetune_config and not finetune_is_current(out, args.finetune_config):
        write_finetune_config(out, config, args.finetune_config)


if __name__ == "__main__":
    main()
