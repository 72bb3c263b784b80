#!/usr/bin/env bash
# Run a command as JOB=1:N array jobs with one log per job, locally or on Slurm.
#   utils/run_jobs.sh [--backend local|slurm] [--max_jobs N] [--slurm_opts "..."] JOB=1:N log/x.JOB.log COMMAND ...
# cmd.sh picks the backend; see `python -m legonn.recipe.run_jobs --help`.
exec python -m legonn.recipe.run_jobs "$@"
