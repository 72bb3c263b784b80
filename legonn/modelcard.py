"""Model cards: the README.md every packed archive carries (`python -m legonn.bin.pack`), in the
layout of ESPnet's Hugging Face uploads (YAML front matter with tags, datasets and license; the
model's name; how to use it; RESULTS; the config in a <details> block; citations), so that an
unpacked archive can be uploaded as it is. A LegoNN card adds what a module user needs: every
interface with its vocabulary size and checksum, and how to compose the module with others."""
import re
from collections.abc import Sequence
from pathlib import Path

import yaml

from legonn.nets.interface import Interface

TASK_TAGS = {"mt": ["translation"], "asr": ["audio", "automatic-speech-recognition"]}
CITATIONS = """### Citing LegoNN

```BibTex
@article{dalmia2023legonn,
  title   = {{LegoNN}: Building Modular Encoder-Decoder Models},
  author  = {Dalmia, Siddharth and Okhonko, Dmytro and Lewis, Mike and Edunov, Sergey and
             Watanabe, Shinji and Metze, Florian and Zettlemoyer, Luke and Mohamed, Abdelrahman},
  journal = {IEEE/ACM Transactions on Audio, Speech, and Language Processing},
  volume  = {31},
  year    = {2023},
  eprint  = {2206.03318},
  archivePrefix = {arXiv}
}
```

### Citing ESPnet

```BibTex
@inproceedings{watanabe2018espnet,
  author={Shinji Watanabe and Takaaki Hori and Shigeki Karita and Tomoki Hayashi and Jiro Nishitoba and Yuya Unno and Nelson Yalta and Jahn Heymann and Matthew Wiesner and Nanxin Chen and Adithya Renduchintala and Tsubasa Ochiai},
  title={{ESPnet}: End-to-End Speech Processing Toolkit},
  year={2018},
  booktitle={Proceedings of Interspeech},
  pages={2207--2211},
  doi={10.21437/Interspeech.2018-1456},
  url={http://dx.doi.org/10.21437/Interspeech.2018-1456}
}
```
"""


def recipe_of(train_config: Path) -> str | None:
    """egs2/<corpus>/<task> of exp/<tag>/config.yaml, when it lies in a recipe."""
    parts = Path(train_config).resolve().parts
    if "egs2" in parts and len(parts) > parts.index("egs2") + 2:
        i = parts.index("egs2")
        return "/".join(parts[i:i + 3])
    return None


def front_matter(task: str | None, recipe: str | None) -> list[str]:
    """task None: a middle or decoder module, which serves text and speech models alike."""
    meta = {"tags": ["espnet", "legonn", *TASK_TAGS.get(task, [])], "license": "apache-2.0"}
    if recipe:
        meta["datasets"] = [recipe.split("/")[1]]
    return ["---", *yaml.safe_dump(meta, sort_keys=False).splitlines(), "---", ""]


def interface_table(rows: Sequence[tuple]) -> list[str]:
    """rows: (where, Interface or None)."""
    lines = ["| where | name | kind | vocabulary size | checksum |", "|---|---|---|---|---|"]
    for where, interface in rows:
        if interface is None:
            lines.append(f"| {where} | - | hidden states (no interface) | - | - |")
        else:
            lines.append(f"| {where} | {interface.name} | {interface.kind} | {interface.size} | `{interface.checksum}` |")
    return lines


def results_section(results: Path | None, tag: str) -> list[str]:
    """The RESULTS.md rows of this experiment (`tag` in a table row) under their table headers;
    the whole file when no row names it."""
    if results is None:
        return ["# RESULTS", "", "No RESULTS.md was given when this archive was packed "
                "(`python -m legonn.bin.pack ... --results RESULTS.md`).", ""]
    lines = Path(results).read_text(encoding="utf-8").splitlines()
    mine = re.compile(rf"`{re.escape(tag)}`|\b{re.escape(tag)}\b")
    kept, header = [], []
    for line in lines:
        if line.startswith("#"):
            header = [line]
        elif line.startswith("|") and (len(header) < 3 or set(line) <= set("|-: ")):
            header.append(line)  # a table's heading, its header row and its rule
        elif line.startswith("|") and mine.search(line):
            if header:
                kept += [""] if kept else []
                kept += header
                header = []
            kept.append(line)
        elif not line.startswith("|"):
            header = header[:1]
    body = kept or lines
    # RESULTS.md's own headings go one level down: they sit under the card's "# RESULTS".
    body = ["#" + line if line.startswith("#") else line for line in body]
    return ["<!-- From the recipe's RESULTS.md -->", "# RESULTS", "", *body, ""]


def config_section(task: str, config: dict) -> list[str]:
    return [f"## {task.upper()} config", "", "<details><summary>expand</summary>", "", "```",
            *yaml.safe_dump(config, sort_keys=False).splitlines(), "```", "", "</details>", ""]


def model_card(config: dict, task: str, name: str, train_config: Path, archive_config: str,
               archive_model: str, results: Path | None = None) -> str:
    """README.md of a packed whole model. `config`: the archived config (paths inside the
    archive); `archive_config`: its path inside the archive."""
    recipe = recipe_of(train_config)
    tag = Path(train_config).resolve().parent.name
    interfaces = [Interface.load(Path(p)) for p in config.get("interfaces") or []]
    rows = []
    if config.get("input_interface"):
        rows.append(("input (source text)", Interface.load(Path(config["input_interface"]))))
    rows += [(f"interface{i} (CTC, encoder module {i} output)", iface) for i, iface in enumerate(interfaces)]
    if config.get("decoder") not in (None, "none"):
        output = Interface.load(Path(config["output_interface"])) if config.get("output_interface") else interfaces[-1]
        rows.append(("output (decoder vocabulary)", output))
    train_data = [entry[0] if isinstance(entry, (list, tuple)) else str(entry)
                  for entry in config.get("train_data_path_and_name_and_type") or []]
    command = "translate" if task == "mt" else "transcribe"
    example = ('echo "a sentence" | python -m legonn.bin.translate ' if task == "mt"
               else "python -m legonn.bin.transcribe ") + f"{name}.zip" + (" a.wav" if task == "asr" else "")
    modules = ["encoder0"] + [f"middle{i}" for i in range(1, len(config.get("middle_modules") or []) + 1)]
    if config.get("decoder") not in (None, "none"):
        modules.append("decoder")
    lines = front_matter(task, recipe) + [
        f"## LegoNN {task.upper()} model", "", f"### `{name}`", "",
        f"This model was trained with the {recipe or 'a'} recipe of "
        "[legonn](https://arxiv.org/abs/2206.03318) (LegoNN on ESPnet2), experiment `" + tag + "`: "
        f"a chain of {len(modules)} module(s) ({', '.join(modules)}) that talk only through "
        "CTC-grounded interfaces, so each module can be reused in another model.", "",
        "### Interfaces", "", *interface_table(rows), "",
        "### Training data", "",
        *([f"- `{path}`" for path in train_data] or ["- not recorded in the config"]),
        *([f"- recipe: `{recipe}` (its `local/data.sh` prepares the data)"] if recipe else []), "",
        "### Demo: How to use", "", "```bash",
        f"{example}   # prints the hypotheses ({command}; --show_interface: every interface's reading)",
        "```", "", "```python", "from legonn.inference import LegoNNInference",
        f'model = LegoNNInference.from_pretrained("{name}.zip")',
        ('model("a sentence")[0].text' if task == "mt" else 'model(waveform_16khz)[0].text'), "```", "",
        "### How to compose", "",
        "Cut it into module archives and plug a module into another model whose interface is the "
        "same (`compose` checks the checksums above):", "", "```bash", "unzip " + name + ".zip -d " + name,
        f"python -m legonn.bin.pack module --train_config {name}/{archive_config} "
        f"--model_file {name}/{archive_model} --module {modules[-1]} --outpath {modules[-1]}.zip",
        f"python -m legonn.bin.compose --modules other_encoder0.zip {modules[-1]}.zip --output_dir exp/composed",
        "```", "",
        *results_section(results, tag), *config_section(task, config), "", CITATIONS]
    return "\n".join(lines)


def module_card(module, name: str, source: str, results: Path | None = None) -> str:
    """README.md of a module archive; `module`: a legonn.modules.ModuleSpec."""
    task = module.task  # set for encoder modules only
    recipe = recipe_of(Path(source.split(" + ")[0])) if source else None
    tag = Path(source.split(" + ")[0]).resolve().parent.name if source else name
    rows = []
    if module.input_interface is not None:
        rows.append(("input", module.input_interface))
    elif module.role != "encoder":
        rows.append(("input", None))  # hidden states of an enc-dec baseline's cut
    speech = module.role == "encoder" and module.input_interface is None
    input_line = (f"speech features ({module.input_size} log-mel filterbank bins of 16 kHz audio)" if speech
                  else "the input interface below")
    rows.append(("output", module.output_interface))
    place = {"encoder": "first in a chain", "middle": "between two interfaces", "decoder": "last in a chain"}[module.role]
    lines = front_matter(task, recipe) + [
        f"## LegoNN {module.role} module", "", f"### `{name}`", "",
        f"{'An' if module.role == 'encoder' else 'A'} {module.role} module ({place}) exported from `{source or 'a trained model'}`"
        + (f" of the {recipe} recipe" if recipe else "") + f". It reads {input_line}.", "",
        "### Interfaces", "", *interface_table(rows), "",
        "### How to compose", "",
        "Modules connect when the output interface of one is the input interface of the next "
        "(same checksum); `compose` refuses others and names both vocabularies.", "", "```bash",
        "python -m legonn.bin.compose --modules encoder0.zip [middle1.zip ...] decoder.zip --output_dir exp/composed",
        ("python -m legonn.bin.translate --modules encoder0.zip decoder.zip < sentences.txt" if task == "mt"
         else "python -m legonn.bin.transcribe --modules encoder0.zip decoder.zip a.wav"), "```", "",
        *results_section(results, tag), "## Module spec", "", "<details><summary>expand</summary>", "", "```",
        *yaml.safe_dump(module.architecture(), sort_keys=False).splitlines(), "```", "", "</details>", "",
        "", CITATIONS]
    return "\n".join(lines)
