"""Speed perturbation of a training data dir (Ko et al. 2015, as ESPnet's and Kaldi's recipes do
with ``sox speed``), without sox: each factor's audio is resampled in Python and written as WAV.

    python -m legonn.recipe.speed_perturb data/train data/train_sp --factors 0.9 1.0 1.1

Factor f plays the utterance f times as fast (duration / f, pitch x f): the samples are resampled
from ``rate`` to ``rate / f`` (polyphase filter) and read back at ``rate``. The output dir holds
every per-utterance file of the input (text, phones, utt2spk, ...) once per factor, with the ids
prefixed ``sp<f>-`` (factor 1.0 keeps the original ids and audio); speakers are prefixed the same
way, as ESPnet does, and spk2utt is rebuilt. The perturbed audio goes to ``--audio_dir``
(default ``<out>_audio/``, beside the data dir: a data dir holds files only). An output dir
finished with the same input and factors is left alone.
"""

from __future__ import annotations

import argparse
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile

from legonn.progress import progress
from legonn.recipe.data_dir import UTTERANCE_FILES, DataDirError, read_entries, write_spk2utt
from legonn.utils import write_lines

PER_UTTERANCE = tuple(name for name in UTTERANCE_FILES if name not in ("feats.scp", "utt2num_frames"))


def perturb(samples: np.ndarray, factor: float) -> np.ndarray:
    """``samples`` (1-D) played ``factor`` times as fast at the same sample rate."""
    if factor == 1.0:
        return samples
    from scipy.signal import resample_poly

    ratio = Fraction(1 / factor).limit_denominator(100)  # 0.9 -> 10/9, 1.1 -> 10/11
    return resample_poly(samples, ratio.numerator, ratio.denominator).astype(samples.dtype)


def prefix(factor: float) -> str:
    return "" if factor == 1.0 else f"sp{factor:g}-"


def speed_perturb(data_dir: str | Path, out_dir: str | Path, factors: list[float], audio_dir: str | Path | None = None) -> int:
    """Write ``out_dir`` (see the module doc); returns the number of utterances written."""
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    if not factors or any(f <= 0 for f in factors):
        raise DataDirError(f"speed factors must be positive, got {factors}")
    from legonn.bin.make_fbank import load_audio  # its Sphere/pipe handling, not a copy of it

    stamp = f"{data_dir.resolve()} factors={' '.join(f'{f:g}' for f in factors)}"
    done = out_dir / ".done"
    if done.is_file() and done.read_text(encoding="utf-8").strip() == stamp:
        return len(read_entries(out_dir / "wav.scp"))
    tables = {name: read_entries(data_dir / name) for name in PER_UTTERANCE if (data_dir / name).is_file()}
    if "wav.scp" not in tables:
        raise DataDirError(f"{data_dir / 'wav.scp'}: no such file; speed perturbation needs the audio")
    out_dir.mkdir(parents=True, exist_ok=True)
    wav_dir = Path(audio_dir) if audio_dir else out_dir.with_name(out_dir.name + "_audio")
    wav_dir.mkdir(parents=True, exist_ok=True)
    wav_scp = {}
    todo = [(f, e) for f in factors if f != 1.0 for e in tables["wav.scp"]]
    for factor, entry in progress(todo, total=len(todo), desc="speed perturbation"):
        samples, rate = load_audio(entry.value)
        path = wav_dir / f"{prefix(factor)}{entry.utt_id}.wav"
        soundfile.write(path, perturb(samples[:, 0], factor), rate, subtype="PCM_16")
        wav_scp[prefix(factor) + entry.utt_id] = str(path.resolve())
    out = {}
    for name, entries in tables.items():
        lines = []
        for factor in factors:
            p = prefix(factor)
            for e in entries:
                value = e.value
                if name == "wav.scp" and factor != 1.0:
                    value = wav_scp[p + e.utt_id]
                elif name == "utt2spk":
                    value = p + value
                lines.append((p + e.utt_id, value))
        out[name] = sorted(lines)  # data dirs are sorted by id (C locale order)
    for name, lines in out.items():
        write_lines(out_dir / name, (f"{u} {v}" if v else u for u, v in lines))
    if "utt2spk" in out:
        write_spk2utt(out_dir, out["utt2spk"])
    done.write_text(stamp + "\n", encoding="utf-8")
    return len(out["wav.scp"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m legonn.recipe.speed_perturb", description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--factors", type=float, nargs="+", default=[0.9, 1.0, 1.1])
    parser.add_argument("--audio_dir", help="where the perturbed WAV files go (default: OUT_DIR_audio)")
    args = parser.parse_args(argv)
    try:
        n = speed_perturb(args.data_dir, args.out_dir, args.factors, args.audio_dir)
    except DataDirError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"speed_perturb {args.data_dir} -> {args.out_dir}: {n} utterances (factors {' '.join(map(str, args.factors))})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
