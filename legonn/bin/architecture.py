"""Where the model that new trainer options build differs from the one a training folder holds.

    python -m legonn.bin.architecture --task mt --previous exp/x/config.yaml --config conf/x.yaml [options]

prints one "key: before -> after" line per setting of the architecture (the task's
architecture_args, nested keys dotted) that differs between the folder's config.yaml and the
options as the trainer would read them; nothing when the model is the same. legonn.sh trains such
a folder again rather than resuming it: ESPnet would load the old weights into the new model
wherever the shapes agree, and a switch such as the OLC's uniform copy changes no shape."""
import argparse

import yaml

from legonn.tasks.asr import ASRTask
from legonn.tasks.mt import MTTask

TASKS = {"mt": MTTask, "asr": ASRTask}


def leaves(value, prefix: str = ""):
    """(dotted key, value) of every non-dict value under `value`."""
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            yield from leaves(inner, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def differences(before: dict, after: dict) -> list[str]:
    old, new = dict(leaves(before)), dict(leaves(after))
    return [f"{key}: {old.get(key)} -> {new.get(key)}"
            for key in sorted(old.keys() | new.keys()) if old.get(key) != new.get(key)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=sorted(TASKS), required=True)
    parser.add_argument("--previous", required=True, help="config.yaml that the trainer wrote into the folder")
    ours, trainer_options = parser.parse_known_args(argv)
    task = TASKS[ours.task]
    try:
        with open(ours.previous) as f:
            previous = yaml.safe_load(f)
        if not isinstance(previous, dict):
            raise yaml.YAMLError("not a mapping")
    except (OSError, yaml.YAMLError) as error:
        parser.exit(1, f"legonn.bin.architecture: {ours.previous} is not a trainer's config.yaml: {error}\n")
    # Both read by the trainer's parser, so that a default and its spelled-out value compare equal:
    # the previous ones as its --config would (set as defaults; of them, the options it has: ESPnet
    # also writes e.g. its version), then through YAML, as the trainer writes its config.
    keys = task.architecture_args()
    previous_parser = task.get_parser()
    previous_parser.set_defaults(**{key: value for key, value in previous.items() if key in keys})

    def architecture(options) -> dict:
        return yaml.safe_load(yaml.safe_dump({key: vars(options).get(key) for key in keys}))

    lines = differences(architecture(previous_parser.parse_args([])),
                        architecture(task.get_parser().parse_args(trainer_options)))
    if lines:
        print("\n".join(lines))

if __name__ == "__main__":
    main()
