"""ESPnet glue: AbsTask subclasses that build LegoNN models from configs."""
import importlib

# Task name -> "module:class"; imported on demand so that naming a task loads only its code.
TASKS = {"mt": "legonn.tasks.mt:MTTask", "asr": "legonn.tasks.asr:ASRTask"}


def task_class(name: str):
    """The AbsTask subclass of a task name ('mt' or 'asr')."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of {sorted(TASKS)}")
    module, cls = TASKS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def task_of(config: dict) -> str:
    """The task a training (or composed) config was written for: 'asr' when its first module
    reads speech features (the config sets input_size, an ASRTask option), else 'mt'."""
    return "asr" if "input_size" in config else "mt"
