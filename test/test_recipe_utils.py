"""Specification of the shared recipe utilities: data dirs, run_jobs,
parse_options.sh and make_fbank."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import soundfile
import torch
import torchaudio.compliance.kaldi as kaldi

from legonn.bin import make_fbank
from legonn.recipe.data_dir import (
    DataDirError,
    filter_long_or_empty,
    filter_scp,
    read_keys,
    split_scp,
    subset,
    validate,
)
from test.conftest import SHARED_DATA

REPO = Path(__file__).resolve().parents[1]
UTILS = REPO / "egs2" / "TEMPLATE" / "legonn1" / "utils"
AN4_SPH = min((SHARED_DATA / "an4" / "wav").glob("**/*.sph"), default=None)


def write_file(path, entries):
    """Write ``{utt_id: value}`` as a Kaldi file, in the given order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{u} {v}\n" for u, v in entries.items()), encoding="utf-8")
    return path


def make_data_dir(path, num_utts=10, with_wavs=True):
    """A small consistent data dir: text, utt2spk and wav.scp (with real files)."""
    path.mkdir(parents=True, exist_ok=True)
    ids = [f"spk{i % 3}-utt{i:02d}" for i in range(num_utts)]
    ids.sort()
    write_file(path / "text", {u: f"words of {u}" for u in ids})
    write_file(path / "utt2spk", {u: u.split("-")[0] for u in ids})
    if with_wavs:
        for u in ids:
            (path / f"{u}.wav").write_bytes(b"")  # validate only checks that the file exists
        write_file(path / "wav.scp", {u: str(path / f"{u}.wav") for u in ids})
    return ids


def run(*command, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


# --- data_dir: validate --------------------------------------------------------


def test_validate_accepts_a_consistent_data_dir(tmp_path):
    make_data_dir(tmp_path / "train")
    assert "10 utterances" in validate(tmp_path / "train")


def test_validate_names_file_and_line_of_bytes_that_are_not_utf8(tmp_path):
    make_data_dir(tmp_path)
    (tmp_path / "text").write_bytes(b"a hello\nb caf\xe9\n")
    with pytest.raises(DataDirError, match=r"text:2: not valid UTF-8"):
        validate(tmp_path)


def test_validate_reports_unsorted_and_duplicate_ids_with_their_line(tmp_path):
    make_data_dir(tmp_path, with_wavs=False)
    write_file(tmp_path / "utt2spk", {"spk0-utt00": "s", "spk2-utt02": "s", "spk1-utt01": "s"})
    (tmp_path / "text").write_text("spk0-utt00 a\nspk0-utt00 b\n", encoding="utf-8")
    with pytest.raises(DataDirError) as err:
        validate(tmp_path)
    message = str(err.value)
    assert "text:2: utterance id 'spk0-utt00' appears twice" in message
    assert "utt2spk:3: not sorted" in message and "LC_ALL=C sort" in message


def test_validate_reports_empty_transcripts_by_id(tmp_path):
    ids = make_data_dir(tmp_path)
    write_file(tmp_path / "text", {u: "" if u == ids[3] else "words" for u in ids})
    with pytest.raises(DataDirError, match=f"1 empty transcript.*{ids[3]}"):
        validate(tmp_path)


def test_validate_reports_ids_missing_on_either_side(tmp_path):
    ids = make_data_dir(tmp_path)
    write_file(tmp_path / "wav.scp", {u: str(tmp_path / f"{u}.wav") for u in ids[1:]})
    write_file(tmp_path / "src_text", {u: "source" for u in ids + ["zz-extra"]})
    with pytest.raises(DataDirError) as err:
        validate(tmp_path)
    message = str(err.value)
    assert f"wav.scp lacks 1 id(s) that text has: {ids[0]}" in message
    assert "src_text has 1 id(s) that text lacks: zz-extra" in message


def test_validate_reports_missing_audio_paths_but_does_not_run_commands(tmp_path):
    ids = make_data_dir(tmp_path)
    (tmp_path / f"{ids[0]}.wav").unlink()
    locations = {u: str(tmp_path / f"{u}.wav") for u in ids}
    locations[ids[1]] = "sph2pipe -f wav /nowhere/x.sph |"
    write_file(tmp_path / "wav.scp", locations)
    with pytest.raises(DataDirError) as err:
        validate(tmp_path)
    assert f"audio file missing for {ids[0]};" in str(err.value)
    assert ids[1] not in str(err.value)


def test_validate_message_ends_with_what_to_do_and_cli_exits_1(tmp_path):
    make_data_dir(tmp_path)
    (tmp_path / "text").write_text("", encoding="utf-8")
    result = run(sys.executable, "-m", "legonn.recipe.data_dir", "validate", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("Fix the files above")


# --- data_dir: split, filter, subset -----------------------------------------------


def test_cli_splits_subsets_and_filters(tmp_path):
    ids = make_data_dir(tmp_path / "train")
    cli = [sys.executable, "-m", "legonn.recipe.data_dir"]
    assert run(*cli, "split", str(tmp_path / "train" / "wav.scp"), "2", str(tmp_path / "split2")).returncode == 0
    second_half = tmp_path / "split2" / "keys.2"
    result = run(*cli, "subset", str(tmp_path / "train"), str(tmp_path / "half"), "--keys", str(second_half))
    assert result.stdout == f"{tmp_path / 'half'}: 5 of 10 utterances from {tmp_path / 'train'}\n"
    result = run(*cli, "filter", str(tmp_path / "half"), str(tmp_path / "short"), "--max_tokens", "2")
    assert result.returncode == 1 and "all 5 utterances" in result.stderr and "raise --max_tokens" in result.stderr
    assert read_keys(tmp_path / "half" / "text") == ids[5:]


def test_split_writes_contiguous_key_lists_that_concatenate_to_the_original(tmp_path):
    ids = make_data_dir(tmp_path)
    paths = split_scp(tmp_path / "wav.scp", 3, tmp_path / "split3")
    assert [p.name for p in paths] == ["keys.1", "keys.2", "keys.3"]
    parts = [read_keys(p) for p in paths]
    assert sum(parts, []) == ids
    assert sorted(len(part) for part in parts) == [3, 3, 4]


def test_split_into_more_parts_than_lines_is_an_error(tmp_path):
    make_data_dir(tmp_path, num_utts=2)
    with pytest.raises(DataDirError, match=r"\(2 lines\) into 3 parts; use 1 to 2 jobs"):
        split_scp(tmp_path / "wav.scp", 3, tmp_path / "split3")


def test_filter_scp_keeps_the_lines_of_the_keys_in_file_order(tmp_path):
    ids = make_data_dir(tmp_path)
    lines = filter_scp(tmp_path / "text", [ids[5], ids[2]])
    assert lines == [f"{ids[2]} words of {ids[2]}", f"{ids[5]} words of {ids[5]}"]


def test_subset_first_n_is_a_valid_data_dir_with_rebuilt_spk2utt(tmp_path):
    ids = make_data_dir(tmp_path / "train")
    summary = subset(tmp_path / "train", tmp_path / "mini", first=5)
    assert summary.endswith(f"5 of 10 utterances from {tmp_path / 'train'}")
    assert read_keys(tmp_path / "mini" / "wav.scp") == ids[:5]
    validate(tmp_path / "mini")
    spk2utt = (tmp_path / "mini" / "spk2utt").read_text().splitlines()
    assert spk2utt == ["spk0 " + " ".join(ids[:4]), f"spk1 {ids[4]}"]


def test_subset_by_keys_and_unknown_keys_are_an_error(tmp_path):
    ids = make_data_dir(tmp_path / "train")
    subset(tmp_path / "train", tmp_path / "two", keys=[ids[7], ids[1]])
    assert read_keys(tmp_path / "two" / "text") == [ids[1], ids[7]]
    with pytest.raises(DataDirError, match="1 requested id.*nope"):
        subset(tmp_path / "train", tmp_path / "bad", keys=["nope"])


def test_subset_fraction_is_a_reproducible_random_slice(tmp_path):
    make_data_dir(tmp_path / "train", num_utts=40)
    subset(tmp_path / "train", tmp_path / "a", fraction=0.1, seed=3)
    subset(tmp_path / "train", tmp_path / "b", fraction=0.1, seed=3)
    assert (tmp_path / "a" / "text").read_text() == (tmp_path / "b" / "text").read_text()
    assert len(read_keys(tmp_path / "a" / "text")) == 4
    validate(tmp_path / "a")


def test_subset_leaves_out_and_counts_ids_not_in_every_file(tmp_path):
    ids = make_data_dir(tmp_path / "train")
    write_file(tmp_path / "train" / "utt2spk", {u: "s" for u in ids[:-2]})
    summary = subset(tmp_path / "train", tmp_path / "all", fraction=1.0)
    assert "8 of 8 utterances" in summary and "left out 2 not found in every file" in summary
    validate(tmp_path / "all")


def test_filter_skips_and_counts_empty_and_overly_long_text(tmp_path):
    ids = make_data_dir(tmp_path / "train", num_utts=5)
    texts = {u: "a few words" for u in ids}
    texts[ids[1]] = ""
    texts[ids[3]] = "far too many words for the limit"
    write_file(tmp_path / "train" / "text", texts)
    summary = filter_long_or_empty(tmp_path / "train", tmp_path / "clean", max_tokens=5)
    assert "kept 3 of 5 utterances, skipped 2" in summary
    assert "empty text: 1" in summary and "text longer than 5 words: 1" in summary
    assert read_keys(tmp_path / "clean" / "text") == [ids[0], ids[2], ids[4]]
    assert read_keys(tmp_path / "clean" / "skipped") == [ids[1], ids[3]]
    validate(tmp_path / "clean")


def test_filter_counts_characters_with_unit_char(tmp_path):
    ids = make_data_dir(tmp_path / "train", num_utts=3)
    write_file(tmp_path / "train" / "text", {ids[0]: "abc", ids[1]: "abcdef", ids[2]: "ab cd"})
    filter_long_or_empty(tmp_path / "train", tmp_path / "clean", max_tokens=5, unit="char")
    assert read_keys(tmp_path / "clean" / "text") == [ids[0], ids[2]]


# --- run_jobs ---------------------------------------------------------------------


def run_jobs(*args, cwd, env=None):
    return run(sys.executable, "-m", "legonn.recipe.run_jobs", *args, cwd=cwd, env=env)


def test_run_jobs_reports_the_failed_job_and_its_log(tmp_path):
    result = run_jobs("JOB=1:3", "log/step.JOB.log", "bash", "-c", "echo job JOB says hi; [ JOB != 2 ]", cwd=tmp_path)
    assert result.returncode == 1
    assert "1 of 3 jobs failed; see log/step.2.log" in result.stderr
    assert "job 2 says hi" in result.stderr  # the end of the failed log is shown
    log = (tmp_path / "log" / "step.1.log").read_text().splitlines()
    assert log[0] == "# bash -c 'echo job 1 says hi; [ 1 != 2 ]'"
    assert log[1].startswith("# Started at")
    assert log[2] == "job 1 says hi"
    assert log[3].startswith("# Ended (code 0) at") and "elapsed" in log[3]
    assert "# Ended (code 1)" in (tmp_path / "log" / "step.2.log").read_text()


def test_run_jobs_runs_at_most_max_jobs_at_a_time(tmp_path):
    command = "echo start >> trace; sleep 0.2; echo end >> trace"
    assert run_jobs("--max_jobs", "1", "JOB=1:3", "log/s.JOB.log", command, cwd=tmp_path).returncode == 0
    assert (tmp_path / "trace").read_text().split() == ["start", "end"] * 3


def test_run_jobs_keeps_escaped_shell_operators_and_fails_broken_pipelines(tmp_path):
    command = ["echo", "a b JOB", "|", "tr", "a-z", "A-Z", ">", "out.JOB"]  # as written: echo "a b JOB" \| ... \> ...
    assert run_jobs("JOB=1:2", "log/p.JOB.log", *command, cwd=tmp_path).returncode == 0
    assert (tmp_path / "out.2").read_text() == "A B 2\n"
    assert run_jobs("log/fail.log", "false | cat", cwd=tmp_path).returncode == 1


def test_a_rerun_keeps_the_earlier_logs_numbered_oldest_first(tmp_path):
    for word in ("first", "second", "third"):
        assert run_jobs("log/train.log", "echo", word, cwd=tmp_path).returncode == 0
    logs = tmp_path / "log"
    assert sorted(p.name for p in logs.iterdir()) == ["train.log", "train.log.1", "train.log.2"]
    assert "first" in (logs / "train.log.1").read_text()
    assert "second" in (logs / "train.log.2").read_text()
    assert "third" in (logs / "train.log").read_text()


def test_run_jobs_single_job_form_and_shell_wrapper(tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    result = run("bash", str(UTILS / "run_jobs.sh"), "log/one.log", "echo", "JOB", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "\nJOB\n" in (tmp_path / "log" / "one.log").read_text()  # no JOB=, nothing is replaced


FAKE_SBATCH = """\
#!/usr/bin/env bash
# Stands in for "sbatch --wait --array=A-B ... SCRIPT": runs each array task in turn.
echo "$@" > "$FAKE_SBATCH_ARGS"
for arg in "$@"; do
  case $arg in --array=*) range=${arg#--array=}; range=${range%%%*} ;; esac
  script=$arg
done
status=0
for task in $(seq "${range%-*}" "${range#*-}"); do
  [ "$task" = "${FAKE_SBATCH_NEVER_RUNS:-}" ] && { status=1; continue; }
  SLURM_ARRAY_TASK_ID=$task bash "$script" || status=1
done
exit $status
"""


@pytest.fixture
def fake_slurm(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sbatch = bin_dir / "sbatch"
    sbatch.write_text(FAKE_SBATCH)
    sbatch.chmod(sbatch.stat().st_mode | stat.S_IEXEC)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_SBATCH_ARGS": str(tmp_path / "sbatch_args")}


def test_slurm_backend_submits_one_array_job_with_the_given_options(tmp_path, fake_slurm):
    slurm = ["--backend", "slurm", "--slurm_opts", "--partition gpu --gres gpu:1 --nodes 2"]
    command = ["bash", "-c", "echo task JOB; [ JOB != 3 ]"]
    result = run_jobs(*slurm, "JOB=1:3", "log/t.JOB.log", *command, cwd=tmp_path, env=fake_slurm)
    assert result.returncode == 1
    assert "1 of 3 jobs failed; see log/t.3.log" in result.stderr
    sbatch_args = (tmp_path / "sbatch_args").read_text()
    assert sbatch_args.startswith("--wait --array=1-3 ")
    assert "--partition gpu --gres gpu:1 --nodes 2" in sbatch_args
    log = (tmp_path / "log" / "t.2.log").read_text()
    assert "task 2\n# Ended (code 0)" in log


def test_slurm_backend_maps_espnets_memory_thread_and_gpu_options(tmp_path, fake_slurm):
    options = ["--backend", "slurm", "--mem", "8G", "--num_threads", "4", "--gpu", "2"]
    assert run_jobs(*options, "JOB=1:2", "log/t.JOB.log", "true", cwd=tmp_path, env=fake_slurm).returncode == 0
    sbatch_args = (tmp_path / "sbatch_args").read_text().split()
    assert {"--gres=gpu:2", "--mem=8G", "--cpus-per-task=4"} <= set(sbatch_args)
    # Locally they change nothing: the jobs run as before.
    assert run_jobs("--mem", "8G", "--num_threads", "4", "--gpu", "1", "log/l.log", "true", cwd=tmp_path).returncode == 0


def test_slurm_job_that_never_ran_counts_as_failed_despite_an_old_log(tmp_path, fake_slurm):
    (tmp_path / "log").mkdir()
    (tmp_path / "log" / "t.2.log").write_text("# Ended (code 0) at an earlier run\n")
    env = {**fake_slurm, "FAKE_SBATCH_NEVER_RUNS": "2"}
    result = run_jobs("--backend", "slurm", "JOB=1:2", "log/t.JOB.log", "true", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "1 of 2 jobs failed; see log/t.2.log" in result.stderr
    assert (tmp_path / "log" / "t.2.log.1").read_text() == "# Ended (code 0) at an earlier run\n"


# --- parse_options.sh -------------------------------------------------------------

DEMO_SCRIPT = f"""\
#!/usr/bin/env bash
# Demo stage script.
# Usage: demo.sh [options] <data_dir>
set -euo pipefail
stage=1          # first stage to run
num_jobs=4
. {UTILS / "parse_options.sh"}
echo "stage=$stage num_jobs=$num_jobs rest=$*"
"""


@pytest.fixture
def demo_script(tmp_path):
    script = tmp_path / "demo.sh"
    script.write_text(DEMO_SCRIPT)
    return script


def test_parse_options_sets_defined_variables_in_each_spelling(demo_script):
    result = run("bash", str(demo_script), "--stage", "3", "--num-jobs", "2", "data/train", "x")
    assert result.stdout == "stage=3 num_jobs=2 rest=data/train x\n"
    result = run("bash", str(demo_script), "--num_jobs=8", "--", "--not-an-option")
    assert result.stdout == "stage=1 num_jobs=8 rest=--not-an-option\n"


def test_parse_options_rejects_unknown_options_listing_valid_ones(demo_script):
    result = run("bash", str(demo_script), "--stgae", "3")
    assert result.returncode == 1 and result.stdout == ""
    assert "unknown option --stgae" in result.stderr and "--stage --num_jobs" in result.stderr


def test_parse_options_sources_config_files_before_later_options(demo_script, tmp_path):
    (tmp_path / "demo.conf").write_text("num_jobs=16\nstage=2\n")
    result = run("bash", str(demo_script), "--config", str(tmp_path / "demo.conf"), "--stage", "5")
    assert result.stdout == "stage=5 num_jobs=16 rest=\n"


def test_parse_options_help_shows_header_and_current_values(demo_script):
    result = run("bash", str(demo_script), "--num_jobs", "7", "--help")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[:2] == ["Demo stage script.", "Usage: demo.sh [options] <data_dir>"]
    assert any(line.split()[:3] == ["--stage", "1", "#"] and "first stage to run" in line for line in lines)
    assert any(line.split() == ["--num_jobs", "7"] for line in lines)


# --- make_fbank -------------------------------------------------------------------


def write_wav(path, seconds=0.5, rate=16000, channels=1, silent=False):
    shape = (int(seconds * rate), channels) if channels > 1 else (int(seconds * rate),)
    samples = np.zeros(shape) if silent else np.random.default_rng(0).uniform(-0.3, 0.3, shape)
    soundfile.write(path, samples, rate, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory):
    """A data dir with one utterance for every kind of audio make_fbank must handle."""
    root = tmp_path_factory.mktemp("audio")
    good = write_wav(root / "good.wav")
    broken = root / "broken.wav"
    broken.write_bytes(b"RIFF" + b"\x00" * 40)
    truncated = root / "truncated.wav"
    truncated.write_bytes(good.read_bytes()[:4000])
    locations = {
        "a_good": good,
        "b_stereo": write_wav(root / "stereo.wav", channels=2),
        "c_silent": write_wav(root / "silent.wav", silent=True),
        "d_8khz": write_wav(root / "8khz.wav", rate=8000),
        "e_broken": broken,
        "f_truncated": truncated,
        "g_too_short": write_wav(root / "short.wav", seconds=0.01),
        "h_missing": root / "missing.wav",
        "i_piped": f"cat {good} |",
    }
    write_file(root / "data" / "wav.scp", locations)
    return root


def fbank_argv(audio_dir, tmp_path, keys):
    """make_fbank arguments for the utterances ``keys`` of the audio data dir."""
    write_file(tmp_path / "keys", dict.fromkeys(keys, ""))
    data_dir, out_dir, key_file = audio_dir / "data", tmp_path / "out", tmp_path / "keys"
    return ["--data_dir", str(data_dir), "--out_dir", str(out_dir), "--key_file", str(key_file)]


def fbank_of(path):
    samples, rate = soundfile.read(path, dtype="float32")
    return kaldi.fbank(torch.from_numpy(samples * 32768.0)[None], num_mel_bins=80, sample_frequency=rate, dither=0.0)


def test_make_fbank_keeps_good_audio_and_skips_bad_audio_with_a_reason(audio_dir, capsys):
    out = audio_dir / "fbank"
    assert make_fbank.main(["--data_dir", str(audio_dir / "data"), "--out_dir", str(out)]) == 0
    summary = capsys.readouterr().out
    assert "kept 3, skipped 6" in summary
    assert "multi-channel (used channel 0): 1" in summary
    skipped = dict(line.split(" ", 1) for line in (out / "skipped").read_text().splitlines())
    assert {utt: why.split(":")[0] for utt, why in skipped.items()} == {
        "c_silent": "silent",
        "d_8khz": "wrong sample rate",
        "e_broken": "unreadable",
        "f_truncated": "truncated file",
        "g_too_short": "too short",
        "h_missing": "missing file",
    }
    assert "add --resample" in skipped["d_8khz"]

    feats = dict(kaldiio.load_scp(str(out / "feats.scp")))
    assert list(feats) == ["a_good", "b_stereo", "i_piped"]
    assert np.allclose(feats["a_good"], fbank_of(audio_dir / "good.wav").numpy())
    assert np.array_equal(feats["i_piped"], feats["a_good"])
    assert (out / "utt2num_frames").read_text() == "a_good 48\nb_stereo 48\ni_piped 48\n"
    assert not list(out.glob("*.partial")) and not list(out.glob("*.tmp"))


def test_make_fbank_resamples_on_request_and_reads_a_key_file(audio_dir, tmp_path):
    argv = fbank_argv(audio_dir, tmp_path, ["d_8khz"])
    assert make_fbank.main(argv + ["--resample"]) == 0
    assert (tmp_path / "out" / "utt2num_frames").read_text() == "d_8khz 48\n"


def test_make_fbank_fails_only_when_nothing_is_kept(audio_dir, tmp_path, capsys):
    argv = fbank_argv(audio_dir, tmp_path, ["c_silent", "e_broken"])
    assert make_fbank.main(argv) == 1
    assert "no utterance was kept" in capsys.readouterr().err


def test_make_fbank_rerun_leaves_finished_output_alone_unless_options_change(audio_dir, tmp_path, capsys):
    argv = fbank_argv(audio_dir, tmp_path, ["a_good"])
    make_fbank.main(argv)
    capsys.readouterr()
    assert make_fbank.main(argv) == 0
    assert "already done" in capsys.readouterr().out
    assert make_fbank.main(argv + ["--num_mel_bins", "40"]) == 0
    assert kaldiio.load_scp(str(tmp_path / "out" / "feats.scp"))["a_good"].shape == (48, 40)


def test_make_fbank_rejects_keys_that_are_not_in_wav_scp(audio_dir, tmp_path, capsys):
    argv = fbank_argv(audio_dir, tmp_path, ["zz_unknown"])
    assert make_fbank.main(argv) == 1
    assert "lists 1 id(s) not in" in capsys.readouterr().err


@pytest.mark.skipif(AN4_SPH is None, reason="AN4 audio not in shared/data")
def test_make_fbank_reads_nist_sphere_files_and_notices_truncated_ones(tmp_path):
    truncated = tmp_path / "truncated.sph"
    truncated.write_bytes(AN4_SPH.read_bytes()[:5000])
    write_file(tmp_path / "data" / "wav.scp", {"an4": AN4_SPH, "an4_truncated": truncated})
    assert make_fbank.main(["--data_dir", str(tmp_path / "data"), "--out_dir", str(tmp_path / "out")]) == 0
    samples, rate = soundfile.read(AN4_SPH)
    num_frames = 1 + (len(samples) - 400) // 160  # 25 ms windows every 10 ms at 16 kHz
    assert (tmp_path / "out" / "utt2num_frames").read_text() == f"an4 {num_frames}\n"
    assert (tmp_path / "out" / "skipped").read_text().startswith("an4_truncated truncated file:")


def test_train_minutes_sum_finished_runs_and_the_span_of_a_killed_one(tmp_path):
    from legonn.recipe.results import train_minutes

    exp = tmp_path / "exp" / "model"
    exp.mkdir(parents=True)
    killed = ("# python -m legonn.bin.asr_train ...\n# Started at Mon Nov 30 10:31:49 2026 on vm\n"
              "[vm] 2026-11-30 10:40:00,001 (trainer:394) INFO: 1epoch results: ...\n"
              "[vm] 2026-11-30 10:48:40,512 (trainer:336) INFO: 4/10epoch started\n")
    (exp / "train.log.1").write_text(killed)  # no footer: 10:31:49 -> 10:48:40
    (exp / "train.log").write_text("# Started at Mon Nov 30 10:48:46 2026 on vm\n"
                                   "# Ended (code 0) at Mon Nov 30 10:59:39 2026, elapsed 652.8 s\n")
    assert train_minutes(tmp_path / "exp", "model") == pytest.approx((1011 + 652.8) / 60)
    assert train_minutes(tmp_path / "exp", "never_trained") is None
