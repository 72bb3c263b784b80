"""Transcribe audio files with a LegoNN speech model; prints "FILE<TAB>hypothesis" a file.

  python -m legonn.bin.transcribe exp/legonn_wemb a.wav b.flac
  python -m legonn.bin.transcribe an4_legonn_wemb.zip --show_interface a.wav
  python -m legonn.bin.transcribe --modules phones.zip pronunciation.zip decoder.zip a.wav
  python -m legonn.bin.transcribe phones.zip pronunciation.zip decoder.zip a.wav

MODEL: a packed model, an experiment or composed-model directory, or module archives in chain
order (the leading .zip/.tar.gz/.tgz arguments; or --modules, then every argument is audio).
Audio: anything the recipes' feature dump reads (wav, flac, NIST Sphere...); other sample rates
are resampled to 16 kHz, only the first channel is used. --show_interface prints, before each
hypothesis, every interface's greedy CTC reading as a line starting with '#'.
"""
import argparse
import sys
from pathlib import Path

from legonn.bin.make_fbank import load_audio
from legonn.bin.translate import add_model_arguments, load, print_hypothesis
from legonn.features import BadAudio, compute_fbank

PROG = "python -m legonn.bin.transcribe"
ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")


def split_arguments(paths, modules):
    """(model sources, audio files): with --modules every path is audio; else the leading
    archives are modules (several) or a packed model (one), or the first path is an exp dir."""
    if modules:
        return modules, paths
    count = 0
    while count < len(paths) and paths[count].endswith(ARCHIVE_SUFFIXES):
        count += 1
    if count == 0 and paths and Path(paths[0]).is_dir():
        count = 1
    return paths[:count], paths[count:]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", metavar="MODEL... AUDIO",
                        help="the model (packed model, exp directory or module archives), then audio files")
    add_model_arguments(parser)
    args = parser.parse_args(argv)
    sources, audio = split_arguments(args.paths, args.modules)
    if not audio:
        parser.error("no audio files given")
    inference = load(PROG, sources, args, "asr")
    failed = 0
    for start in range(0, len(audio), args.batch_size):
        names, features = [], []
        for name in audio[start:start + args.batch_size]:
            try:
                samples, rate = load_audio(name)
                features.append(compute_fbank(samples[:, 0], rate, inference.train_args.input_size, 16000, resample=True))
                names.append(name)
            except BadAudio as bad:
                print(f"{PROG}: skip {name}: {bad}", file=sys.stderr)
                failed += 1
        if features:
            for name, nbest in zip(names, inference(features)):
                print_hypothesis(inference, nbest[0], args.show_interface, prefix=f"{name}\t")
    if failed:
        sys.exit(f"{PROG}: {failed} of {len(audio)} file(s) could not be read (see above)")


if __name__ == "__main__":
    main()
