"""Train a LegoNN MT model with ESPnet's trainer: python -m legonn.bin.mt_train --config ..."""
from legonn.tasks.mt import MTTask


def main(cmd=None):
    MTTask.main(cmd=cmd)


if __name__ == "__main__":
    main()
