"""Cut a trained LegoNN model into standalone module archives.

  python -m legonn.bin.export_modules --train_config exp/X/config.yaml \
      --model_file exp/X/valid.acc.ave.pth --output_dir exp/X/modules
writes encoder0.zip, middle1.zip..., decoder.zip (each loadable without the model)."""
import argparse
from pathlib import Path

from legonn.modules import split_model, write_module


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train_config", required=True)
    parser.add_argument("--model_file", required=True)
    parser.add_argument("--output_dir", "--out_dir", dest="output_dir", required=True,
                        help="where the archives go (--out_dir: its former name)")
    args = parser.parse_args(argv)
    for path in (args.train_config, args.model_file):
        if not Path(path).exists():
            parser.error(f"{path} does not exist")
    source = f"{args.train_config} + {args.model_file}"
    for module in split_model(args.train_config, args.model_file):
        archive = write_module(module, Path(args.output_dir) / f"{module.name}.zip", source)
        out = module.output_interface
        print(f"{archive}: {module.role}, output {out.describe() if out else 'hidden states (no interface)'}")


if __name__ == "__main__":
    main()
