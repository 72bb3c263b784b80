"""Build a model from modules trained in different models (no fine-tuning needed).

  python -m legonn.bin.compose --encoder exp/fr_en/modules/encoder0.zip \
      --decoder exp/de_en/modules/decoder.zip --output_dir exp/compose_fr_en_with_de_en_decoder
  python -m legonn.bin.compose --modules phones.zip pronunciation.zip decoder.zip --output_dir DIR

(--modules lists the archives in chain order; --encoder [--middle ...] --decoder names them.)

writes config.yaml + model.pth, decodable with legonn.bin.inference and usable with
`--init_param DIR/model.pth` to fine-tune the composed model end-to-end (paper Table VI).
Modules whose interfaces differ are refused with both vocabularies named. A composition newer
than its archives (and --finetune_config) is kept, so rerunning a recipe does not make the
decoding of an unchanged model stale."""
import argparse
import sys
from pathlib import Path

import yaml

from legonn.modules import compose, read_module
from legonn.nets.interface import InterfaceMismatch
from legonn.utils import atomic_save, write_lines


def is_current(out: Path, archives, finetune_config) -> bool:
    """OUT_DIR already holds this composition, written after every input changed."""
    model, config = out / "model.pth", out / "config.yaml"
    inputs = [Path(p) for p in archives] + ([Path(finetune_config)] if finetune_config else [])
    if not (model.is_file() and config.is_file() and all(p.is_file() for p in inputs)):
        return False
    if finetune_config and not (out / "finetune.yaml").is_file():
        return False
    if (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("composed_from") != [str(p) for p in archives]:
        return False
    return all(p.stat().st_mtime < model.stat().st_mtime for p in inputs)


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
    if is_current(out, args.modules, args.finetune_config):
        print(f"compose: {out} is newer than its modules, kept")
        return
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
    if args.finetune_config:
        training = yaml.safe_load(Path(args.finetune_config).read_text(encoding="utf-8")) or {}
        clash = sorted(set(training) & set(composed.config))
        if clash:
            sys.exit(f"compose: {args.finetune_config} sets {clash}, which the modules define")
        architecture = {k: v for k, v in config.items() if k != "composed_from"}
        (out / "finetune.yaml").write_text(yaml.safe_dump({**architecture, **training}, sort_keys=False),
                                           encoding="utf-8")
    print(f"composed {' + '.join(m.role for m in modules)} ({composed.task}) into {out}")


if __name__ == "__main__":
    main()
