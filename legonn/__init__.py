"""legonn: LegoNN modular encoder-decoder models (Dalmia et al., TASLP 2023) on ESPnet2.

Importing legonn changes nothing outside it: the environment its tools expect (NLTK_DATA for
g2p_en, thread policy) is set by tools/activate.sh, and the changes to ESPnet's behaviour hold
only while a LegoNN task runs (legonn.tasks.trainer). The one exception is in legonn.tasks, which
ESPnet's modules load through: it defers ESPnet's eager imports of text front-ends that legonn
never uses (legonn.tasks.defer_import), a start-up cost of every training and decoding process."""

# The version is written once, in setup.py; the installed package's metadata carries it.
try:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _version
    __version__ = _version("legonn")
except PackageNotFoundError:  # a source tree on sys.path that was never installed
    __version__ = "unknown"
