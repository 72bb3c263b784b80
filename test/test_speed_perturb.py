"""Specification of legonn.recipe.speed_perturb: a training data dir at several speeds, as
ESPnet's recipes make with sox, written by Python resampling."""

import numpy as np
import pytest
import soundfile

from legonn.recipe.data_dir import DataDirError, read_entries, validate
from legonn.recipe.speed_perturb import main, perturb, speed_perturb

RATE = 16000


def tone(seconds, hz=440.0):
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


@pytest.fixture
def data(tmp_path):
    data = tmp_path / "data" / "train"
    data.mkdir(parents=True)
    utts = {"spkA-u1": ("spkA", 1.0, "a b c"), "spkB-u2": ("spkB", 0.5, "d e")}
    wav, text, utt2spk, phones = [], [], [], []
    for utt, (spk, seconds, words) in utts.items():
        path = tmp_path / f"{utt}.wav"
        soundfile.write(path, tone(seconds), RATE, subtype="PCM_16")
        wav.append(f"{utt} {path}")
        text.append(f"{utt} {words}")
        utt2spk.append(f"{utt} {spk}")
        phones.append(f"{utt} EY1 B")
    for name, lines in (("wav.scp", wav), ("text", text), ("utt2spk", utt2spk), ("phones", phones)):
        (data / name).write_text("\n".join(lines) + "\n")
    return data


def test_every_utterance_at_every_speed_with_prefixed_ids_and_speakers(data, tmp_path):
    out = tmp_path / "data" / "train_sp"
    assert speed_perturb(data, out, [0.9, 1.0, 1.1]) == 6
    validate(out)  # sorted, consistent, audio present
    text = {e.utt_id: e.value for e in read_entries(out / "text")}
    assert text == {p + u: w for p in ("", "sp0.9-", "sp1.1-") for u, w in (("spkA-u1", "a b c"), ("spkB-u2", "d e"))}
    assert {e.utt_id: e.value for e in read_entries(out / "utt2spk")}["sp0.9-spkA-u1"] == "sp0.9-spkA"
    assert (out / "spk2utt").read_text().splitlines()[0] == "sp0.9-spkA sp0.9-spkA-u1"
    assert {e.utt_id: e.value for e in read_entries(out / "phones")}["sp1.1-spkB-u2"] == "EY1 B"
    wav = {e.utt_id: e.value for e in read_entries(out / "wav.scp")}
    assert wav["spkA-u1"] == str(tmp_path / "spkA-u1.wav")  # factor 1.0: the original audio
    assert not (out / "wav").exists() and (tmp_path / "data" / "train_sp_audio").is_dir()
    for prefix, factor in (("sp0.9-", 0.9), ("sp1.1-", 1.1)):
        samples, rate = soundfile.read(wav[prefix + "spkA-u1"])
        assert rate == RATE and abs(len(samples) - RATE / factor) <= 2  # duration / factor


def test_pitch_moves_with_the_speed():
    for factor in (0.9, 1.1):
        out = perturb(tone(1.0, 1000.0), factor)
        peak = np.argmax(np.abs(np.fft.rfft(out))) * RATE / len(out)
        assert abs(peak - 1000.0 * factor) < 5


def test_a_finished_output_is_kept_and_bad_factors_are_refused(data, tmp_path, capsys):
    out = tmp_path / "sp"
    assert main([str(data), str(out), "--factors", "1.0", "1.1"]) == 0
    stamp = (out / "wav.scp").stat().st_mtime_ns
    assert main([str(data), str(out), "--factors", "1.0", "1.1"]) == 0
    assert (out / "wav.scp").stat().st_mtime_ns == stamp
    assert "4 utterances" in capsys.readouterr().out
    with pytest.raises(DataDirError, match="positive"):
        speed_perturb(data, out, [0.0])
    (data / "wav.scp").unlink()
    assert main([str(data), str(tmp_path / "sp2")]) == 1
    assert "needs the audio" in capsys.readouterr().err
