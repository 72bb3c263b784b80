"""ESPnet's Trainer, made safe to interrupt, and with clear errors for unreadable inputs.

ESPnet writes checkpoint.pth, <N>epoch.pth and the averaged models with torch.save straight to
their final names, so a run killed (or out of disk space) while saving leaves a truncated
checkpoint that --resume cannot read. While LegoNNTrainer runs, those saves go to
NAME.partial, are flushed to disk and only then renamed over NAME: the previous file stays
whole until the new one is complete. Around that:

* --resume with an unreadable checkpoint.pth stops with what to do, and a run killed between
  ESPnet's two saves (checkpoint.pth written, <N>epoch.pth not yet) gets <N>epoch.pth back
  from the checkpoint, so model averaging finds every epoch;
* every training and validation data file is checked before the first epoch (a missing file,
  an id missing from one file, an empty text, a feats.scp entry pointing nowhere), naming the
  utterance and the file, instead of failing inside a data-loader worker;
* --init_param files that cannot be read are reported as such (ESPnet loads them before the
  trainer starts, so LegoNNTask.main_worker runs it inside `readable_init_param_errors`);
* model averaging uses the checkpoints on disk: a finished training resumed under settings that
  average more of them (keep_nbest_models 3 -> 5) averages the best ones its earlier settings
  kept, and says which were gone, instead of stopping on a deleted file.

The changes to ESPnet hold only while a LegoNN task or trainer runs (context managers below);
importing this module changes nothing.

--use_amp true computes in mixed precision on CPU too: ESPnet's trainer autocasts each forward
pass with torch.cuda.amp alone, which does nothing to a model on CPU; while LegoNNTrainer runs,
the same forward passes also run under torch.autocast("cpu", bfloat16) (matrix products in
bfloat16; weights, gradients and legonn's losses in float32).

--num_att_plot N draws, after every epoch, the interface marginals and the OLC and decoder
cross-attention of N validation utterances into exp/<tag>/images/ (legonn/tasks/images.py).
"""
import contextlib
import logging
from pathlib import Path

import espnet2.main_funcs.average_nbest_models as espnet_averaging
import espnet2.tasks.abs_task as espnet_abs_task
import espnet2.train.trainer as espnet_trainer
import torch
from espnet2.train.trainer import Trainer

from legonn.recipe.data_dir import check_data_files
from legonn.utils import atomic_save


def load_error(path):
    """Why torch.load cannot read `path` (a damaged file raises almost anything), or None.
    Called after a load failed, to tell a damaged file from weights that do not fit."""
    try:
        torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:
        return error
    return None


def describe(error: BaseException) -> str:
    """Type and first sentence of an error (torch's read errors run on for several)."""
    first = (str(error).strip().splitlines() or [""])[0].split(". ")[0]
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


class _TorchWithAtomicSave:
    """Stands in for the `torch` module inside ESPnet's trainer while LegoNNTrainer runs."""

    save = staticmethod(atomic_save)

    def __getattr__(self, name):
        return getattr(torch, name)


@contextlib.contextmanager
def atomic_checkpoints():
    modules = (espnet_trainer, espnet_averaging)
    for module in modules:
        module.torch = _TorchWithAtomicSave()
    try:
        yield
    finally:
        for module in modules:
            module.torch = torch


def average_kept_nbest_models(output_dir, reporter, best_model_criterion, nbest, **kwargs):
    """ESPnet's average_nbest_models, ranking only the epochs whose checkpoint is on disk; where
    some of the n best are gone, the n best kept ones (not ESPnet's fallback, the best one alone)."""
    output_dir = Path(output_dir)
    on_disk = lambda epoch: (output_dir / f"{epoch}epoch.pth").exists()
    nbests = [nbest] if isinstance(nbest, int) else list(nbest)
    most = max(nbests, default=1)
    kept_counts = []
    for phase, key, mode in best_model_criterion:
        if reporter.has(phase, key):
            ranking = reporter.sort_epochs_and_values(phase, key, mode)
            gone = [epoch for epoch, _ in ranking[:most] if not on_disk(epoch)]
            if gone:
                kept_counts.append(sum(on_disk(epoch) for epoch, _ in ranking))
                logging.warning(f"averaging by {phase}.{key}: the checkpoints of epochs {gone}, among the "
                                f"{most} best, were deleted under earlier settings; averaging the best kept ones")
    if kept_counts:
        nbests = sorted({min(n, min(kept_counts)) for n in nbests})
    rank = reporter.sort_epochs_and_values
    reporter.sort_epochs_and_values = lambda *args, **kw: [(e, v) for e, v in rank(*args, **kw) if on_disk(e)]
    try:  # the reporter itself (ESPnet type-checks it), its ranking filtered for this call only
        espnet_averaging.average_nbest_models(output_dir=output_dir, reporter=reporter,
                                              best_model_criterion=best_model_criterion, nbest=nbests, **kwargs)
    finally:
        del reporter.sort_epochs_and_values


@contextlib.contextmanager
def averaging_kept_checkpoints():
    espnet_trainer.average_nbest_models = average_kept_nbest_models
    try:
        yield
    finally:
        espnet_trainer.average_nbest_models = espnet_averaging.average_nbest_models


_espnet_autocast = espnet_trainer.autocast  # torch.cuda.amp's


@contextlib.contextmanager
def _autocast_cpu_too(enabled=True, **cuda_args):
    # (without a GPU, torch.cuda.amp's autocast warns and does nothing)
    cuda = _espnet_autocast(enabled, **cuda_args) if torch.cuda.is_available() else contextlib.nullcontext()
    with cuda, torch.autocast("cpu", dtype=torch.bfloat16, enabled=enabled):
        yield


@contextlib.contextmanager
def autocasting_on_cpu_too():
    """ESPnet's trainer enters `autocast(use_amp)` around each forward pass (training and
    validation), the torch.cuda.amp one; while active, that also autocasts the CPU to bfloat16.
    Per forward pass, not per epoch: autocast keeps the bfloat16 copies of the weights until
    its outermost context exits, and an epoch-long one would keep the first step's."""
    espnet_trainer.autocast = _autocast_cpu_too
    try:
        yield
    finally:
        espnet_trainer.autocast = _espnet_autocast


class LegoNNTrainer(Trainer):
    @classmethod
    def build_options(cls, args):
        # The last point where the data paths are known: check them before the first epoch.
        for key in ("train_data_path_and_name_and_type", "valid_data_path_and_name_and_type"):
            check_data_files(getattr(args, key) or [], f"--{key}")
        return super().build_options(args)

    @staticmethod
    def resume(checkpoint, model, reporter, *args, **kwargs):
        try:
            Trainer.resume(checkpoint, model, reporter, *args, **kwargs)
        except Exception:
            error = load_error(checkpoint)
            if error is None:
                raise
            raise ValueError(f"--resume: {checkpoint} cannot be read ({describe(error)}); "
                             f"it was probably cut off while being written "
                             f"by an older run. Delete it to start over from epoch 1, or restore a copy") from None
        # Killed between ESPnet's saves of checkpoint.pth and <N>epoch.pth: restore the latter.
        epoch = reporter.get_epoch()
        epoch_file = Path(checkpoint).parent / f"{epoch}epoch.pth"
        other_rank = torch.distributed.is_initialized() and torch.distributed.get_rank() != 0
        if epoch > 0 and not epoch_file.exists() and not other_rank:  # ESPnet saves on rank 0 only
            atomic_save(model.state_dict(), epoch_file)
            logging.warning(f"{epoch_file} was missing (run interrupted while saving); rewrote it "
                            f"from {checkpoint}")

    @classmethod
    @torch.no_grad()
    def plot_attention(cls, model, output_dir, summary_writer, iterator, reporter, options) -> None:
        # ESPnet's version hooks its own attention classes and finds none here (SDPA returns no
        # weights); ours draws what a LegoNN model has instead. output_dir is exp/<tag>/att_ws.
        if options.no_forward_run:
            return
        from legonn.tasks.images import write_images  # matplotlib only when pictures are drawn

        out_dir = Path(output_dir).parent / "images"
        written = write_images(model, iterator, out_dir, reporter.get_epoch(),
                               "cuda" if options.ngpu > 0 else "cpu", summary_writer, reporter)
        logging.info(f"images: wrote {len(written)} picture(s) to {out_dir}")

    @classmethod
    def run(cls, *args, **kwargs) -> None:
        with atomic_checkpoints(), averaging_kept_checkpoints(), autocasting_on_cpu_too():
            super().run(*args, **kwargs)


@contextlib.contextmanager
def readable_init_param_errors():
    """While active, ESPnet's --init_param loader reports a missing or unreadable file as such
    (instead of a torch traceback)."""
    espnet_load = espnet_abs_task.load_pretrained_model

    def load_pretrained_model(init_param: str, *args, **kwargs):
        path = Path(init_param.split(":", 1)[0])
        if not path.is_file():
            raise FileNotFoundError(f"--init_param {init_param}: {path} does not exist")
        try:
            return espnet_load(init_param, *args, **kwargs)
        except Exception:
            error = load_error(path)
            if error is None:
                raise
            raise ValueError(f"--init_param {init_param}: not a readable model file "
                             f"({describe(error)}); it may be truncated: "
                             "re-create it (e.g. re-run compose or training)") from None

    espnet_abs_task.load_pretrained_model = load_pretrained_model
    try:
        yield
    finally:
        espnet_abs_task.load_pretrained_model = espnet_load
