"""ESPnet glue: AbsTask subclasses that build LegoNN models from configs."""
import importlib
import importlib.util
import sys
import types


def defer_import(name: str) -> None:
    """Puts stand-ins for module `name` (and for its packages, which may import it from their
    __init__) into sys.modules; the first read of a stand-in's attribute imports the real
    modules. ESPnet's task modules import g2p_en and tacotron_cleaner at module level
    (espnet2.text.phoneme_tokenizer, espnet2.text.cleaner), and both import inflect: 9 s of a
    35 s start-up on a loaded 2-core machine, in every training, stats and decoding process,
    although legonn's own preprocessor uses neither. A stand-in carries the real module's spec
    (and a package's __path__), which is all the import statement reads. importlib's LazyLoader
    cannot do this: the import statement reads __spec__ through a lazy module, which loads it."""
    parts = name.split(".")
    chain = [".".join(parts[:i + 1]) for i in range(len(parts))]
    if any(module in sys.modules for module in chain) or importlib.util.find_spec(chain[0]) is None:
        return
    stand_ins = {}

    def real_attribute(module: str, attribute: str):
        if attribute.startswith("__"):  # introspection (inspect reads __file__) loads nothing
            raise AttributeError(attribute)
        for deferred, stand_in in stand_ins.items():
            if sys.modules.get(deferred) is stand_in:
                del sys.modules[deferred]
        return getattr(importlib.import_module(module), attribute)

    for module in chain:
        spec = importlib.util.find_spec(module)
        stand_in = types.ModuleType(module)
        stand_in.__spec__ = spec
        if spec.submodule_search_locations is not None:
            stand_in.__path__ = list(spec.submodule_search_locations)
        stand_in.__getattr__ = lambda attribute, module=module: real_attribute(module, attribute)
        stand_ins[module] = sys.modules[module] = stand_in
        if "." in module:  # `import a.b` reads a.b, set only when the import system loads b
            parent, _, child = module.rpartition(".")
            setattr(stand_ins[parent], child, stand_in)


# Before any ESPnet task module is imported: they live in this package.
for _module in ("g2p_en", "tacotron_cleaner.cleaners"):
    defer_import(_module)

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
