"""Kaldi-compatible log-mel filterbank features: what `python -m legonn.bin.make_fbank` writes for
a data dir and what a speech model in the zoo computes from a waveform."""
from __future__ import annotations

import numpy as np
import torch
import torchaudio.compliance.kaldi as kaldi
import torchaudio.functional

FRAME_LENGTH_MS = 25.0
FRAME_SHIFT_MS = 10.0


class BadAudio(Exception):
    """An utterance to skip: a short ``reason`` to count and a ``detail`` to log."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def compute_fbank(waveform: np.ndarray, rate: int, num_mel_bins: int = 80, sample_rate: int = 16000,
                  resample: bool = False) -> np.ndarray:
    """(frames, num_mel_bins) log-mel filterbank of a mono waveform in [-1, 1], as the recipes'
    dump stage computes it; audio that gives no usable features raises BadAudio."""
    if len(waveform) == 0:
        raise BadAudio("empty audio", "no samples")
    # Kaldi computes features on 16-bit sample values, not on [-1, 1] floats.
    signal = torch.from_numpy(np.ascontiguousarray(waveform) * 32768.0)
    if rate != sample_rate:
        if not resample:
            raise BadAudio("wrong sample rate", f"{rate} Hz, expected {sample_rate} Hz (add --resample)")
        signal = torchaudio.functional.resample(signal, rate, sample_rate)
    if not signal.any():
        raise BadAudio("silent", "all samples are zero")
    frame_length = int(sample_rate * FRAME_LENGTH_MS / 1000)
    if len(signal) < frame_length:
        raise BadAudio("too short", f"{len(signal)} samples, one {FRAME_LENGTH_MS:g} ms frame needs {frame_length}")
    feats = kaldi.fbank(
        signal.unsqueeze(0),
        num_mel_bins=num_mel_bins,
        sample_frequency=sample_rate,
        frame_length=FRAME_LENGTH_MS,
        frame_shift=FRAME_SHIFT_MS,
        dither=0.0,  # reproducible features: the same audio always gives the same numbers
    )
    if not torch.isfinite(feats).all():
        raise BadAudio("non-finite features", "audio contains NaN or inf")
    return feats.numpy()
