# How jobs run, in ESPnet's split: train_cmd for training and its statistics (stages 4-5),
# decode_cmd for feature extraction and decoding (stages 3 and 6). legonn.sh --train_cmd /
# --decode_cmd override them for one call; --cmd overrides both.
#
# utils/run_jobs.sh options: --backend local|slurm, --max_jobs N (jobs at once), and per job
# --mem SIZE, --num_threads N, --gpu N (Slurm: sbatch --mem, --cpus-per-task, --gres=gpu:N;
# ignored locally), --slurm_opts '...' (any other sbatch options, e.g. partition and time).
cmd_backend=local   # local or slurm

if [ "$cmd_backend" = slurm ]; then
  export train_cmd="utils/run_jobs.sh --backend slurm --mem 16G --num_threads 4 --gpu 1 --slurm_opts '--partition gpu --time 72:00:00'"
  export decode_cmd="utils/run_jobs.sh --backend slurm --mem 8G --num_threads 1 --slurm_opts '--partition cpu --time 4:00:00'"
else
  export train_cmd="utils/run_jobs.sh --backend local"
  export decode_cmd="utils/run_jobs.sh --backend local"
fi
