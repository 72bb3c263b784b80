"""Train a LegoNN ASR model with ESPnet's trainer: python -m legonn.bin.asr_train --config ..."""
from legonn.tasks.asr import ASRTask


def main(cmd=None):
    ASRTask.main(cmd=cmd)


if __name__ == "__main__":
    main()
