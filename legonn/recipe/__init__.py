"""Small recipe utilities shared by every ``egs2/*/legonn1`` recipe.

``data_dir``  checks, splits, subsets and filters Kaldi-style data directories.
``run_jobs``  runs ``JOB=1:N`` array jobs locally or on Slurm with one log per job.

They are written for this project (ESPnet's pip package ships no recipe
``utils/``) and import only the standard library, so calling them from a
shell script is fast.
"""
