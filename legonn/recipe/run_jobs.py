"""Run a command as an array of jobs, locally or on Slurm, with one log per job.

Usage:
    python -m legonn.recipe.run_jobs [--backend local|slurm] [--max_jobs N] [--gpu N]
        [--mem SIZE] [--num_threads N] [--slurm_opts "--partition gpu --nodes 2"]
        JOB=1:N LOGDIR/name.JOB.log COMMAND ...
    python -m legonn.recipe.run_jobs [options] LOG COMMAND ...        (a single job)

Every ``JOB`` in the log path and the command becomes the job index.  The
command words are quoted one by one, except bare shell operators (``\\|``,
``\\>``, ``2\\>\\&1``...) which stay operators; a command given as one word is
run as a bash command line.  Pipelines fail if any part fails.

Each log starts with the command and start time and ends with the exit code and
elapsed time.  A rerun (a resumed training, a repeated stage) first moves an
existing log to LOG.1 (then LOG.2, ...: oldest first), so no run's log is lost.
If any job fails, the exit status is 1 and the message names the failed logs and
shows the end of the first one.

``--backend slurm`` submits ``sbatch --wait --array=1-N`` with ``--slurm_opts``
passed through; each array task calls this module again for its own index, so
the logs look the same.  ESPnet's resource options ``--gpu N``, ``--mem SIZE``
and ``--num_threads N`` become ``--gres=gpu:N``, ``--mem=SIZE`` and
``--cpus-per-task=N`` on Slurm and are ignored locally (cmd.sh sets them).
A multi-node command (``--nodes 2``) starts its workers on
the other nodes itself, e.g. with ``srun``.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

JOB_RANGE = re.compile(r"([A-Za-z_]\w*)=(\d+):(\d+)")
SHELL_OPERATORS = {"|", "|&", "||", "&&", ";", "<", ">", ">>", "2>", "2>>", "&>", "2>&1"}
FOOTER = re.compile(r"^# Ended \(code (-?\d+)\)", re.MULTILINE)
SHOWN_LOGS = 5
TAIL_LINES = 20


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m legonn.recipe.run_jobs",
        description=__doc__.split("\n\n", 2)[2],
        usage="%(prog)s [options] [JOB=1:N] LOG COMMAND ...",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--backend", choices=["local", "slurm"], default="local")
    parser.add_argument("--max_jobs", type=int, help="jobs running at once (local default: number of CPUs)")
    parser.add_argument("--gpu", type=int, default=0, help="GPUs per job (Slurm: --gres=gpu:N)")
    parser.add_argument("--mem", help="memory per job, e.g. 8G (Slurm: --mem=SIZE)")
    parser.add_argument("--num_threads", type=int, default=1, help="CPU threads per job (Slurm: --cpus-per-task=N)")
    parser.add_argument(
        "--slurm_opts", default="", help='extra sbatch options as one string (a single one: --slurm_opts="--exclusive")'
    )
    parser.add_argument("job_log_command", nargs=argparse.REMAINDER, help="[JOB=1:N] LOG COMMAND ...")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    words = list(args.job_log_command)
    job_range = JOB_RANGE.fullmatch(words[0]) if words else None
    if job_range:
        words = words[1:]
        name, first, last = job_range.group(1), int(job_range.group(2)), int(job_range.group(3))
    else:
        name, first, last = None, 1, 1
    if len(words) < 2:
        parser.error("expected [JOB=1:N] LOG COMMAND ...")
    log_template, command = words[0], shell_command(words[1:])
    if first > last:
        parser.error(f"empty job range {job_range.group(0)}")
    if last > first and name not in log_template:
        parser.error(f"the log path {log_template} must contain {name}, or all jobs would write one log")

    jobs = list(range(first, last + 1))
    logs = [Path(substitute(log_template, name, job)) for job in jobs]
    if args.backend == "local":
        max_jobs = args.max_jobs or os.cpu_count() or 1
        with ThreadPoolExecutor(max_workers=min(max_jobs, len(jobs))) as pool:
            codes = list(pool.map(run_one, (substitute(command, name, job) for job in jobs), logs))
    else:
        codes = run_slurm(args, name or "JOB", first, last, log_template, command, logs)
    return report(logs, codes)


def shell_command(words: list[str]) -> str:
    if len(words) == 1:
        return words[0]
    return " ".join(word if word in SHELL_OPERATORS else shlex.quote(word) for word in words)


def substitute(text: str, name: str | None, job: int) -> str:
    return text.replace(name, str(job)) if name else text


def keep_earlier_log(log: Path) -> None:
    if log.exists():
        number = 1
        while log.with_name(f"{log.name}.{number}").exists():
            number += 1
        log.rename(log.with_name(f"{log.name}.{number}"))


def run_one(command: str, log: Path) -> int:
    """Run one job with its output, framed by a header and a footer, in ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    keep_earlier_log(log)
    start = time.time()
    with log.open("w", encoding="utf-8") as f:
        f.write(f"# {command}\n# Started at {time.ctime(start)} on {socket.gethostname()}\n")
        f.flush()
        # pipefail: without it a failing first stage of a pipeline is reported as success.
        code = subprocess.run(["bash", "-o", "pipefail", "-c", command], stdout=f, stderr=subprocess.STDOUT).returncode
        f.write(f"# Ended (code {code}) at {time.ctime()}, elapsed {time.time() - start:.1f} s\n")
    return code


def run_slurm(args, name: str, first: int, last: int, log_template: str, command: str, logs: list[Path]) -> list:
    """Submit an array job, wait for it, and read each job's exit code from its log."""
    if shutil.which("sbatch") is None:
        sys.exit("error: sbatch not found on PATH; run on a Slurm login node or use --backend local")
    queue_dir = Path(log_template).parent / "q"
    queue_dir.mkdir(parents=True, exist_ok=True)
    stem = Path(log_template).stem.replace(name, "array")
    script = queue_dir / f"{stem}.sh"
    task = "${SLURM_ARRAY_TASK_ID}"
    script.write_text(
        "#!/usr/bin/env bash\n"
        f"# Array task N of `run_jobs {name}={first}:{last}`: runs job N with its own log.\n"
        f"cd {shlex.quote(os.getcwd())}\n"
        f"exec {shlex.quote(sys.executable)} -m legonn.recipe.run_jobs {name}={task}:{task} "
        f"{shlex.quote(log_template)} {shlex.quote(command)}\n"
    )
    # A log left over from an earlier run would make a job that never started look done.
    for log in logs:
        keep_earlier_log(log)
    throttle = f"%{args.max_jobs}" if args.max_jobs else ""
    sbatch = ["sbatch", "--wait", f"--array={first}-{last}{throttle}", f"--job-name={stem}"]
    sbatch += [f"--output={queue_dir}/{stem}.%a.out"]
    sbatch += [f"--gres=gpu:{args.gpu}"] if args.gpu else []
    sbatch += [f"--mem={args.mem}"] if args.mem else []
    sbatch += [f"--cpus-per-task={args.num_threads}"] if args.num_threads > 1 else []
    sbatch += shlex.split(args.slurm_opts) + [str(script)]
    code = subprocess.run(sbatch).returncode
    if code != 0 and not any(log.exists() for log in logs):
        print(f"sbatch exited with code {code}; see {queue_dir}", file=sys.stderr)
    return [exit_code_in(log) for log in logs]


def exit_code_in(log: Path) -> int | None:
    """The code in the footer; ``None`` if the job never finished writing its log."""
    if not log.exists():
        return None
    match = FOOTER.search(log.read_text(encoding="utf-8", errors="replace"))
    return int(match.group(1)) if match else None


def report(logs: list[Path], codes: list) -> int:
    failed = [log for log, code in zip(logs, codes) if code != 0]
    if not failed:
        return 0
    shown = ", ".join(map(str, failed[:SHOWN_LOGS])) + (", ..." if len(failed) > SHOWN_LOGS else "")
    print(f"{len(failed)} of {len(logs)} jobs failed; see {shown}", file=sys.stderr)
    if failed[0].exists():
        tail = failed[0].read_text(encoding="utf-8", errors="replace").splitlines()[-TAIL_LINES:]
        print(f"--- last lines of {failed[0]} ---\n" + "\n".join(tail), file=sys.stderr)
    else:
        print(f"{failed[0]} was never written; the job did not start (see {failed[0].parent / 'q'})", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
