"""Renders a synthesis plan (local/prepare_speech.py) into 16 kHz 16-bit mono wav files with
espeak-ng: one espeak-ng call per utterance (voice, words per minute, pitch), resampled from
espeak-ng's 22.05 kHz, padded with a little leading/trailing silence and mixed with colored
noise at the planned SNR. Parallel use: job J of N takes every N-th line.

  python local/synthesize.py --plan db/plan/train --text data/train/text \
      --wav_dir db/wav/train [--job 1 --nj 4]

Resumable: a wav that already exists is kept (each is written under a temporary name and
renamed, so an interrupted job leaves no half file)."""
import argparse
import io
import os
import shutil
import subprocess
import sys
import zlib
from math import gcd
from pathlib import Path

import numpy as np
import soundfile
from scipy.signal import lfilter, resample_poly

from legonn.progress import progress

RATE = 16000


def render(text: str, voice: str, wpm: int, pitch: int) -> np.ndarray:
    """espeak-ng's waveform for `text`, resampled to 16 kHz (float64 in [-1, 1])."""
    proc = subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-p", str(pitch), "--stdout", "--stdin"],
                          input=text.encode("utf-8"), capture_output=True)
    if proc.returncode != 0 or len(proc.stdout) < 100:
        raise RuntimeError(f"espeak-ng -v {voice} failed (exit {proc.returncode}): "
                           f"{proc.stderr.decode(errors='replace').strip()[-300:]}")
    samples, rate = soundfile.read(io.BytesIO(proc.stdout), dtype="float64")
    if samples.ndim > 1:
        samples = samples[:, 0]
    if rate != RATE:
        g = gcd(RATE, rate)
        samples = resample_poly(samples, RATE // g, rate // g)
    return samples


def mix(speech: np.ndarray, snr_db: float, color: float, lead: float, trail: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    signal = np.concatenate([np.zeros(int(lead * RATE)), speech, np.zeros(int(trail * RATE))])
    noise = lfilter([1.0], [1.0, -color], rng.standard_normal(len(signal)))  # first-order colored noise
    active = speech[np.abs(speech) > 1e-4]
    speech_power = np.mean(active ** 2) if len(active) else np.mean(speech ** 2)
    noise *= np.sqrt(speech_power / (np.mean(noise ** 2) * 10 ** (snr_db / 10)))
    mixed = signal + noise
    peak = np.max(np.abs(mixed))
    gain = rng.uniform(0.3, 0.9) / peak if peak > 0 else 1.0  # random level, never clipped
    return mixed * gain


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plan", required=True)
    parser.add_argument("--text", required=True)
    parser.add_argument("--wav_dir", required=True)
    parser.add_argument("--job", type=int, default=1)
    parser.add_argument("--nj", type=int, default=1)
    args = parser.parse_args(argv)
    if shutil.which("espeak-ng") is None:
        sys.exit("synthesize.py: espeak-ng is not installed (Debian/Ubuntu: apt-get install espeak-ng)")
    texts = {}
    for line in Path(args.text).read_text(encoding="utf-8").splitlines():
        utt, _, caption = line.partition(" ")
        texts[utt] = caption
    plan = Path(args.plan).read_text(encoding="utf-8").splitlines()[args.job - 1::args.nj]
    out = Path(args.wav_dir)
    out.mkdir(parents=True, exist_ok=True)
    done = made = 0
    for line in progress(plan, desc=f"synthesize job {args.job}/{args.nj}"):
        utt, voice, wpm, pitch, snr, color, lead, trail = line.split()
        wav = out / f"{utt}.wav"
        if wav.is_file() and wav.stat().st_size > 44:
            done += 1
            continue
        speech = render(texts[utt], voice, int(wpm), int(pitch))
        audio = mix(speech, float(snr), float(color), float(lead), float(trail), zlib.crc32(utt.encode()))
        partial = wav.with_name(wav.name + ".partial.wav")
        soundfile.write(partial, audio, RATE, subtype="PCM_16")
        os.replace(partial, wav)
        made += 1
    print(f"synthesize.py job {args.job}/{args.nj}: {made} wavs written, {done} already there -> {out}")


if __name__ == "__main__":
    main()
