"""Small recipe utilities shared by every ``egs2/*/legonn1`` recipe.

``data_dir``  checks, splits, subsets and filters Kaldi-style data directories.
``run_jobs``  runs ``JOB=1:N`` array jobs locally or on Slurm with one log per job.
``results``   RESULTS.md tables from score files.
``g2p``       g2p_en phone targets.

Corpus code that several recipes share (one implementation, so that the transfer recipes'
text looks alike):

``text_norm`` Moses-like tokenizer, lower-casing, punctuation stripping (paper App. A).
``asr_data``  Kaldi-style ASR data dirs (wav.scp segment commands, text, utt2spk, phones).
``wmt``       MT data dirs from WMT files as statmt.org distributes them
              (``python -m legonn.recipe.wmt``).

They are written for this project (ESPnet's pip package ships no recipe
``utils/``); ``data_dir``, ``run_jobs``, ``text_norm``, ``asr_data`` and ``wmt`` import only
the standard library, so calling them from a shell script is fast.
"""
