# How jobs run. Local machine (default):
export cmd="utils/run_jobs.sh --backend local"
# On a Slurm cluster change the line above to, e.g.:
# export cmd="utils/run_jobs.sh --backend slurm --slurm_opts '--partition gpu --gres gpu:1 --time 72:00:00'"
