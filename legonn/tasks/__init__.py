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
    although legonn's own preprocessor uses neither; likewise scipy.signal, which ESPnet's
    preprocessor imports for speech augmentation that legonn does not configure. A stand-in
    carries the real module's spec (and a package's __path__), which is all the import statement
    reads. importlib's LazyLoader cannot do this: the import statement reads __spec__ through a
    lazy module, which loads it."""
    parts = name.split(".")
    chain = [".".join(parts[:i + 1]) for i in range(len(parts))]
    if name in sys.modules or importlib.util.find_spec(chain[0]) is None:
        return
    chain = [module for module in chain if module not in sys.modules]  # imported packages stay
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
            setattr(sys.modules[parent], child, stand_in)


def defer_function(module: str, function: str) -> None:
    """Puts a stand-in for `module` into sys.modules that holds only `function`, which imports the
    real module when it is first called and calls it. For modules read with `from module import
    function`, which reads the attribute at once, so that defer_import's stand-ins load it: ESPnet's
    trainer imports calculate_all_attentions that way, and its module imports the JETS TTS aligner
    and through it scipy.stats: 1.4 s of every task process's 4 s import (beside two trainings
    on the 2-core machine), for attention plots that only a training with num_att_plot > 0 draws."""
    if module in sys.modules:
        return
    stand_in = types.ModuleType(module)

    def call_real(*args, **kwargs):
        if sys.modules.get(module) is stand_in:
            del sys.modules[module]
        return getattr(importlib.import_module(module), function)(*args, **kwargs)

    call_real.__name__ = call_real.__qualname__ = function
    setattr(stand_in, function, call_real)
    sys.modules[module] = stand_in


# Before any ESPnet task module is imported: they live in this package.
importlib.import_module("scipy")  # stays real: numba reads its __version__; its own submodules load lazily
for _module in ("g2p_en", "tacotron_cleaner.cleaners", "scipy.signal"):
    defer_import(_module)
defer_function("espnet2.main_funcs.calculate_all_attentions", "calculate_all_attentions")

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
