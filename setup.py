"""legonn: LegoNN modular encoder-decoder models as ESPnet2 tasks and recipes."""
from setuptools import find_packages, setup

setup(
    name="legonn",
    version="0.1.0",
    description="LegoNN (Dalmia et al., TASLP 2023): modular encoder-decoder models on ESPnet2",
    packages=find_packages(include=["legonn", "legonn.*"]),
    python_requires=">=3.10",
    install_requires=[
        "espnet==202511",
        "torch>=2.1",
        "torchaudio==2.11.0",
        "kaldiio>=2.18",
        "sentencepiece",
        "sacrebleu>=2.3",
        "g2p_en",
        "numba",
        "editdistance",
        "tensorboard",
        "matplotlib",
        "PyYAML",
    ],
    extras_require={"test": ["pytest", "pytest-timeout"]},
)
