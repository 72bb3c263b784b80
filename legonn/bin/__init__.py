"""legonn's command lines. Each runs as a process of its own, so the start-up choices that hold for
a whole process are made here; library code never imports this package.

ESPnet decorates its classes with typeguard's @typechecked, which at import recompiles every
annotated method with run-time type checks. That is half of the start-up of every training,
decoding and scoring process (`python -X importtime`: espnet2.tasks.abs_task and
espnet2.train.preprocessor spend their time in it; importing legonn.tasks.mt took 14-17 s without
and 8 s with the checks skipped, on a loaded 2-core machine), and a check in every call of ESPnet's
data path. legonn's commands skip that instrumentation, as `python -O` would (typeguard's own
switch), but keep assert statements. LEGONN_TYPECHECK=1 keeps ESPnet's checks, for debugging."""
import os

if os.environ.get("LEGONN_TYPECHECK") != "1":
    import typeguard

    def _unchecked(target=None, **_options):
        """typeguard.typechecked, with or without options, returning what it decorates."""
        return target if target is not None else (lambda decorated: decorated)

    typeguard.typechecked = _unchecked
