"""Interrupted runs: kill -9 in an epoch, while saving or decoding; a full disk.

One group of the fault-injection suite; test/faults_common.py holds the cases' machinery, the
shared toy recipe and the table (docs/faults.md)."""
import errno
import io
import os
import re
import shutil
import signal
import time
import traceback
from collections.abc import Callable

import pytest
import torch

from legonn import utils as legonn_utils
from legonn.bin import inference, mt_train
from legonn.recipe import data_dir
from legonn.tasks.trainer import LegoNNTrainer
from test.faults_common import (
    Case,
    call,
    captured,
    case,
    cases_of,
    clear_error,
    legonn_sh,
    observe,
    reporter_of,
    run_case,
    succeeded,
)

GROUP = "interrupted runs"

# Interrupted runs.

def in_child(target: Callable, kill_when: Callable[[], bool] = None, timeout=180) -> int:
    """Runs target() in a forked process (ESPnet already imported); kill -9 it once kill_when()
    holds, unless it dies first. Returns the child's wait status."""
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        code = 1
        try:
            torch.set_num_threads(1)
            with captured():
                target()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if kill_when is not None and kill_when():
            os.kill(pid, signal.SIGKILL)
            return os.waitpid(pid, 0)[1]
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError("the child never reached the point where it was to be killed")
        time.sleep(0.05)


def killed(status: int) -> bool:
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


class KillingFile(io.FileIO):
    """A checkpoint being written when the process gets kill -9 (or the disk fills up)."""

    def __init__(self, path, limit, action):
        super().__init__(path, "wb")
        self.written, self.limit, self.action = 0, limit, action

    def write(self, data):
        if self.written + len(data) > self.limit:
            super().write(bytes(data)[: self.limit - self.written])
            self.flush()
            self.action()
        self.written += len(data)
        return super().write(data)


def fail_on(name: str, occurrence: int, action: Callable[[], None], limit=2000):
    """A replacement for legonn.utils._open_partial: the `occurrence`-th save of `name`
    runs `action` after `limit` bytes."""
    seen = {"n": 0}

    def open_partial(path):
        if path.name == name + ".partial":
            seen["n"] += 1
            if seen["n"] == occurrence:
                return KillingFile(path, limit, action)
        return open(path, "wb")
    return open_partial


def kill_self():
    os.kill(os.getpid(), signal.SIGKILL)


@case("kill-9-mid-epoch", GROUP, "kill -9 mid-epoch 3 of mt_train, then mt_train ... --resume true")
def _(toy, tmp):
    out, marker = tmp / "exp", tmp / "epoch3_running"
    original = LegoNNTrainer.train_one_epoch.__func__

    def stalls_in_epoch_3():
        def train_one_epoch(cls, *args, iterator, reporter, **kwargs):
            def batches():
                for i, batch in enumerate(iterator):
                    if reporter.epoch == 3 and i == 1:  # one update of epoch 3 done
                        marker.touch()
                        time.sleep(600)
                    yield batch
            return original(cls, *args, iterator=batches(), reporter=reporter, **kwargs)
        LegoNNTrainer.train_one_epoch = classmethod(train_one_epoch)
        mt_train.main(toy.train_argv(out, None, None, "--max_epoch", "3"))

    assert killed(in_child(stalls_in_epoch_3, kill_when=marker.exists))
    before = reporter_of(out / "checkpoint.pth")
    assert before["epoch"] == 2 and sorted(before["stats"]) == [1, 2]
    result = toy.train(out, "--max_epoch", "3")
    text = succeeded(result, r"resumed using .*checkpoint.pth", r"3/3epoch started")
    assert not re.search(r"[12]/3epoch started", text)
    after = reporter_of(out / "checkpoint.pth")
    assert after["epoch"] == 3 and all(after["stats"][e] == before["stats"][e] for e in (1, 2))
    return observe("killed (SIGKILL) during epoch 3; checkpoint.pth held epoch 2; resume: "
                   "'The training was resumed using .../checkpoint.pth', '3/3epoch started', "
                   "epochs 1-2 kept unchanged, training finished at epoch 3")


@case("kill-9-while-saving-checkpoint", GROUP, "kill -9 while checkpoint.pth of epoch 2 is being written, then --resume true")
def _(toy, tmp):
    out = tmp / "exp"

    def dies_while_saving():
        legonn_utils._open_partial = fail_on("checkpoint.pth", 2, kill_self)
        mt_train.main(toy.train_argv(out))

    assert killed(in_child(dies_while_saving))
    assert (out / "checkpoint.pth.partial").stat().st_size == 2000  # the cut-off write
    assert reporter_of(out / "checkpoint.pth")["epoch"] == 1  # the previous one, whole
    succeeded(toy.train(out), r"resumed using", r"2/2epoch started")
    assert reporter_of(out / "checkpoint.pth")["epoch"] == 2
    return observe("killed 2000 bytes into checkpoint.pth.partial; checkpoint.pth still loads (epoch 1); "
                   "resume trains epoch 2 only")


@case("kill-9-between-checkpoint-and-epoch-file", GROUP, "kill -9 after checkpoint.pth but before 2epoch.pth is saved, then --resume true")
def _(toy, tmp):
    out = tmp / "exp"

    def dies_before_epoch_file():
        legonn_utils._open_partial = fail_on("2epoch.pth", 1, kill_self, limit=0)
        mt_train.main(toy.train_argv(out))

    assert killed(in_child(dies_before_epoch_file))
    assert reporter_of(out / "checkpoint.pth")["epoch"] == 2 and not (out / "2epoch.pth").exists()
    text = succeeded(toy.train(out), r"2epoch.pth was missing \(run interrupted while saving\); rewrote it from")
    assert (out / "2epoch.pth").is_file() and (out / "valid.acc.ave.pth").exists()
    return observe(re.search(r"\S*2epoch.pth was missing.*", text).group(0))


@case("disk-full-while-saving-checkpoint", GROUP, "mt_train with the disk full (ENOSPC) while writing checkpoint.pth of epoch 2")
def _(toy, tmp):
    out = tmp / "exp"

    def disk_full():
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(legonn_utils, "_open_partial", fail_on("checkpoint.pth", 2, disk_full))
        message = clear_error(toy.train(out), r"could not save .*checkpoint.pth \(No space left on device\)",
                              r"previous checkpoint.pth is unchanged", r"resume with --resume true")
    assert reporter_of(out / "checkpoint.pth")["epoch"] == 1 and not list(out.glob("*.partial"))
    succeeded(toy.train(out), r"2/2epoch started")
    return message


@case("kill-9-during-decoding", GROUP, "kill -9 decoding job 2 of 2, then ./legonn.sh --stage 6 --stop_stage 6 --nj 2")
def _(toy, tmp):
    recipe, decode = toy.recipe, toy.recipe / "exp/toy/decode_test"
    shutil.rmtree(decode, ignore_errors=True)  # an interrupted decoding (rerun-stage-6 may have finished one)
    split = lambda job: decode / "split" / str(job)
    assert data_dir.main(["split", str(recipe / "dump/test/src_text"), "2", str(decode / "log")]) == 0
    keys = lambda job: ["--key_file", str(decode / "log" / f"keys.{job}")]
    succeeded(call(inference.main, toy.decode_argv(recipe / "dump/test/src_text", split(1), *keys(1))))

    def dies_while_finishing():
        write = inference.write_lines
        inference.write_lines = lambda path, lines: kill_self() if path == split(2) / "text" else write(path, lines)
        inference.main(toy.decode_argv(recipe / "dump/test/src_text", split(2), *keys(2)))

    assert killed(in_child(dies_while_finishing))
    assert (split(2) / "token").is_file() and not (split(2) / "text").exists()
    done_before = (split(1) / "text").stat().st_mtime_ns
    stage6 = ["--stage", "6", "--stop_stage", "6", "--nj", "2", "--tag", "toy", "--test_sets", "test",
              "--inference_model", "valid.acc.ave.pth", "--inference_args", "--beam_size 2",
              "--default_inference_args", "--beam_size 2"]
    result = legonn_sh(recipe, *stage6)
    assert result.code == 0, result.err
    log1, log2 = ((decode / "log" / f"decode.{job}.log").read_text() for job in (1, 2))
    assert "already has every utterance; skipping" in log1 and "decoded 3 utterances" in log2
    assert (split(1) / "text").stat().st_mtime_ns == done_before
    assert data_dir.read_keys(decode / "text") == data_dir.read_keys(recipe / "dump/test/src_text")
    line = lambda log, text: next(line for line in log.splitlines() if text in line).split(": ", 1)[-1]
    return observe(f"job 1: {line(log1, 'already has')} / job 2: {line(log2, 'decoded 3')}"
                   + f" / decode_test/text has all {len(data_dir.read_keys(decode / 'text'))} utterances")


@pytest.mark.parametrize("fault", cases_of(GROUP), ids=lambda fault: fault.id)
def test_fault(fault: Case, fault_toy, tmp_path):
    run_case(fault, fault_toy, tmp_path)
