"""Data preparation of the full-scale recipes (the paper's corpora), on tiny fake corpora laid
out exactly like the real distributions: each recipe's local/data.sh runs in a copy of the
recipe, its data dirs must validate and hold the expected ids and texts, and a missing corpus
must stop it with a message naming what is missing and where to get it.

The audio tools (sph2pipe, sox, ffmpeg) are only named in wav.scp commands at this stage, so
stubs stand in for them."""
import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

REPO = Path(__file__).resolve().parents[1]
EGS = REPO / "egs2"
TEMPLATE = EGS / "TEMPLATE" / "legonn1"
VENV_BIN = Path(sys.executable).parent


# --- helpers ------------------------------------------------------------------


def recipe_copy(tmp_path: Path, recipe: str) -> Path:
    """The recipe's own files (symlinks to other recipes resolved), TEMPLATE files linked."""
    source = EGS / recipe
    target = tmp_path / "egs2" / recipe
    target.mkdir(parents=True)
    for name in ("db.sh", "run.sh"):
        shutil.copy(source / name, target / name)
    for name in ("local", "conf"):
        shutil.copytree(source / name, target / name)  # follows symlinks
    for name in ("legonn.sh", "utils", "path.sh", "cmd.sh"):
        assert (source / name).resolve() == (TEMPLATE / name).resolve(), f"{recipe}/{name}"
        (target / name).symlink_to(TEMPLATE / name)
    return target


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    stubs = tmp_path_factory.mktemp("bin")
    for tool in ("sph2pipe", "sox", "ffmpeg"):
        (stubs / tool).write_text("#!/bin/sh\necho stub >&2; exit 1\n")
        (stubs / tool).chmod(0o755)
    return {**os.environ, "PATH": f"{stubs}:{VENV_BIN}:{os.environ['PATH']}", "LC_ALL": "C.UTF-8"}


def data_sh(recipe: Path, env, *args):
    return subprocess.run(["local/data.sh", *args], cwd=recipe, env=env, capture_output=True, text=True)


def check_ok(result):
    assert result.returncode == 0, result.stdout + result.stderr


def read(path: Path) -> dict:
    return dict(line.split(" ", 1) for line in path.read_text(encoding="utf-8").splitlines())


def validate(recipe: Path, *sets):
    for name in sets:
        result = subprocess.run([sys.executable, "-m", "legonn.recipe.data_dir", "validate", f"data/{name}"],
                                cwd=recipe, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


def sgm(path: Path, lang: str, docs: dict):
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f'<refset setid="x" srclang="any" trglang="{lang}">']
    for docid, segs in docs.items():
        lines.append(f'<doc sysid="ref" docid="{docid}" genre="news" origlang="en">')
        lines += [f'<seg id="{i}">{s}</seg>' for i, s in enumerate(segs, 1)]
        lines.append("</doc>")
    path.write_text("\n".join(lines + ["</refset>"]) + "\n", encoding="utf-8")


def write(path: Path, lines, gz=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(line + "\n" for line in lines)
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf-8")


def sph(path: Path, seconds: float, rate: int, channels: int = 1):
    path.parent.mkdir(parents=True, exist_ok=True)
    samples = (np.random.RandomState(0).randn(int(seconds * rate), channels) * 0.1).astype(np.float32)
    soundfile.write(path, samples, rate, format="NIST", subtype="PCM_16")


def missing_corpus(recipe: Path, env, args, *expected):
    result = data_sh(recipe, env, *args)
    assert result.returncode != 0
    for text in expected:
        assert text in result.stderr, result.stderr
    assert not (recipe / "data" / "train").exists()


# --- MT -----------------------------------------------------------------------


def test_wmt14_en_de(tmp_path, env):
    root = tmp_path / "wmt14"
    write(root / "training/europarl-v7.de-en.en", ["Resumption of the session", "", "Short", "OK ."])
    write(root / "training/europarl-v7.de-en.de", ["Wiederaufnahme der Sitzungsperiode", "Leer",
                                                     "Das ist ein viel zu langer Satz", "OK ."])
    write(root / "commoncrawl.de-en.en", ["Tom & Jerry"])
    write(root / "commoncrawl.de-en.de", ["Tom & Jerry"])
    write(root / "training-parallel-nc-v11/news-commentary-v11.de-en.en", ["News\tcommentary"])
    write(root / "training-parallel-nc-v11/news-commentary-v11.de-en.de", ["Nachrichten Kommentar"])
    for year in (2011, 2012, 2013):
        sgm(root / f"dev/newstest{year}-src.en.sgm", "en", {"d1": [f"Year {year} one", "A &amp; B"]})
        sgm(root / f"dev/newstest{year}-ref.de.sgm", "de", {"d1": [f"Jahr {year} eins", "A &amp; B"]})
    # newstest2014: the full set (test-full/) is scored, not the filtered one (test/).
    for folder, words in (("test-full", ("Full", "Voll")), ("test", ("Filtered", "Gefiltert"))):
        sgm(root / f"{folder}/newstest2014-deen-src.de.sgm", "de", {"a": [words[1]], "b": ["Zwei"]})
        sgm(root / f"{folder}/newstest2014-deen-ref.en.sgm", "en", {"a": [words[0]], "b": ["Two"]})
    sgm(root / "dev/newstest2015-ende-src.en.sgm", "en", {"x": ["fifteen"]})
    sgm(root / "dev/newstest2015-ende-ref.de.sgm", "de", {"x": ["fünfzehn"]})
    write(root / "test/newstest2016.en-de.xml", [
        '<dataset id="x"><collection id="general"><doc id="a" origlang="en">'
        '<src lang="en"><p><seg id="1">Xml one</seg><seg id="2">Xml two</seg></p></src>'
        '<ref lang="de" translator="A"><p><seg id="1">Xml eins</seg><seg id="2">Xml zwei</seg></p></ref>'
        "</doc></collection></dataset>"])
    recipe = recipe_copy(tmp_path, "wmt14_en_de/mt1")

    missing_corpus(recipe, env, ["--data_root", str(tmp_path / "nowhere")],
                   "WMT14 En-De corpus folder not found", "statmt.org/wmt14", "WMT14_EN_DE")
    check_ok(data_sh(recipe, env, "--data_root", str(root)))
    tests = [f"test_newstest{y}" for y in (2011, 2012, 2014, 2015, 2016)]
    validate(recipe, "train", "valid", "test", *tests)
    data = recipe / "data"
    # Empty side, too long and ratio > 1.5 dropped; raw true-cased text kept; ids sorted by corpus.
    assert read(data / "train/src_text") == {
        "commoncrawl-de-en_00000000": "Tom & Jerry",
        "europarl-v7-de-en_00000000": "Resumption of the session",
        "europarl-v7-de-en_00000003": "OK .",
        "news-commentary-v11-de-en_00000000": "News commentary"}
    assert read(data / "train/text")["europarl-v7-de-en_00000000"] == "Wiederaufnahme der Sitzungsperiode"
    assert read(data / "valid/text") == {"newstest2013_00000": "Jahr 2013 eins", "newstest2013_00001": "A & B"}
    assert read(data / "test_newstest2014/src_text") == {"newstest2014_00000": "Full", "newstest2014_00001": "Two"}
    assert read(data / "test_newstest2014/text") == {"newstest2014_00000": "Voll", "newstest2014_00001": "Zwei"}
    assert read(data / "test_newstest2016/text") == {"newstest2016_00000": "Xml eins", "newstest2016_00001": "Xml zwei"}
    assert len(read(data / "test/text")) == 2 + 2 + 2 + 1 + 2

    # A missing file of an otherwise present corpus is named.
    (root / "dev/newstest2012-ref.de.sgm").unlink()
    result = data_sh(recipe, env, "--data_root", str(root))
    assert result.returncode != 0 and "test set newstest2012" in result.stderr


def test_wmt19_de_en(tmp_path, env):
    root = tmp_path / "wmt19"
    write(root / "europarl-v9.de-en.tsv.gz", ["Das ist gut.\tThat's good.", "Nur eine Seite\t"], gz=True)
    write(root / "news-commentary-v14.de-en.tsv.gz", ["„Hallo“, sagte er.\t\"Hello,\" he said."], gz=True)
    write(root / "wikititles-v1.de-en.tsv.gz", ["Berlin\tBerlin"], gz=True)
    write(root / "commoncrawl.de-en.de", ["Die U.S.-Regierung"])
    write(root / "commoncrawl.de-en.en", ["The U.S. government"])
    write(root / "rapid2019.de-en.de", ["Artikel 3"])
    write(root / "rapid2019.de-en.en", ["Article 3"])
    write(root / "paracrawl-release1.en-de.zipporah0-dedup-clean.de", ["nicht benutzt"])  # excluded
    write(root / "paracrawl-release1.en-de.zipporah0-dedup-clean.en", ["not used"])
    sgm(root / "dev/newstest2018-deen-src.de.sgm", "de", {"d": ["Guten Morgen!"]})
    sgm(root / "dev/newstest2018-deen-ref.en.sgm", "en", {"d": ["Good morning!"]})
    # From 2019 on, de-en and en-de are different documents: the de->en files must be used.
    sgm(root / "sgm/newstest2019-deen-src.de.sgm", "de", {"de1": ["Es geht."]})
    sgm(root / "sgm/newstest2019-deen-ref.en.sgm", "en", {"de1": ["It works."]})
    sgm(root / "sgm/newstest2019-ende-src.en.sgm", "en", {"en1": ["Wrong direction."]})
    sgm(root / "sgm/newstest2019-ende-ref.de.sgm", "de", {"en1": ["Falsche Richtung."]})
    recipe = recipe_copy(tmp_path, "wmt19_de_en/mt1")

    missing_corpus(recipe, env, [], "WMT19 De-En corpus folder not found", "statmt.org/wmt19", "WMT19_DE_EN")
    (root / "rapid2019.de-en.en").rename(root / "rapid.en")
    result = data_sh(recipe, env, "--data_root", str(root))
    assert result.returncode != 0 and "training corpus rapid2019.de-en" in result.stderr
    (root / "rapid.en").rename(root / "rapid2019.de-en.en")
    (recipe / "db.sh").write_text(f"WMT19_DE_EN={root}\n")  # the db.sh way
    check_ok(data_sh(recipe, env))
    validate(recipe, "train", "valid", "test", "train_nopunct", "valid_nopunct", "test_nopunct")
    data = recipe / "data"
    assert read(data / "train/src_text") == {
        "commoncrawl-de-en_00000000": "die u.s.-regierung",
        "europarl-v9-de-en_00000000": "das ist gut .",
        "news-commentary-v14-de-en_00000000": "„ hallo “ , sagte er .",
        "rapid2019-de-en_00000000": "artikel 3",
        "wikititles-v1-de-en_00000000": "berlin"}
    assert read(data / "train/text")["europarl-v9-de-en_00000000"] == "that 's good ."
    assert read(data / "train/text")["news-commentary-v14-de-en_00000000"] == '" hello , " he said .'
    assert read(data / "train_nopunct/text")["news-commentary-v14-de-en_00000000"] == "hello he said"
    assert read(data / "train_nopunct/text")["commoncrawl-de-en_00000000"] == "the us government"
    assert read(data / "valid/text") == {"newstest2018_00000": "good morning !"}
    assert read(data / "valid_nopunct/src_text") == {"newstest2018_00000": "guten morgen"}
    assert read(data / "test/src_text") == {"newstest2019_00000": "es geht ."}


def test_wmt16_ro_en(tmp_path, env):
    root = tmp_path / "lee"
    base = root / "wmt16" / "en-ro"
    write(base / "train/corpus.bpe.ro", ["aceasta este o propo@@ ziție .", "da"])
    write(base / "train/corpus.bpe.en", ["this is a sen@@ tence .", "yes , that is very much the case"])
    write(base / "dev/dev.bpe.ro", ["nu e a@@ șa"])
    write(base / "dev/dev.bpe.en", ["it &apos;s not so"])
    write(base / "test/test.bpe.ro", ["Salut"])
    write(base / "test/test.bpe.en", ["Hello &quot; there"])
    recipe = recipe_copy(tmp_path, "wmt16_ro_en/mt1")

    (tmp_path / "empty").mkdir()
    missing_corpus(recipe, env, ["--data_root", str(tmp_path / "empty")], "corpus.bpe.ro", "dl4mt-nonauto")
    check_ok(data_sh(recipe, env, "--data_root", str(root)))
    validate(recipe, "train", "valid", "test")
    data = recipe / "data"
    # BPE undone, escapes resolved, not re-tokenized, lower-cased; ratio > 1.5 dropped.
    assert read(data / "train/src_text") == {"wmt16_train_0000000": "aceasta este o propoziție ."}
    assert read(data / "train/text") == {"wmt16_train_0000000": "this is a sentence ."}
    assert read(data / "valid/text") == {"wmt16_valid_0000000": "it 's not so"}
    assert read(data / "valid/src_text") == {"wmt16_valid_0000000": "nu e așa"}
    assert read(data / "test/text") == {"wmt16_test_0000000": 'hello " there'}


# --- ASR ----------------------------------------------------------------------


def test_swbd(tmp_path, env):
    swbd, trans = tmp_path / "LDC97S62", tmp_path / "swb_ms98_transcriptions"
    hub5, hub5_trans = tmp_path / "LDC2002S09" / "hub5e_00", tmp_path / "LDC2002T43"
    for conversation in ("sw02001", "sw02005"):
        sph(swbd / "swb1_d1" / "data" / f"{conversation}.sph", 2.0, 8000, channels=2)
    write(trans / "20/2001/sw2001A-ms98-a-trans.text", [
        "sw2001A-ms98-a-0001 0.000000 0.977625 [silence]",
        "sw2001A-ms98-a-0002 0.977625 11.561375 hi um yeah [laughter-i'd] like to talk about th[ey]- p._h._d. [noise]",
        "sw2001A-ms98-a-0003 11.561375 12.5 uh-huh",
        "sw2001A-ms98-a-0004 12.5 13.0 uh-huh"])
    write(trans / "20/2001/sw2001B-ms98-a-trans.text", [
        "sw2001B-ms98-a-0001 0.000000 1.5 okay {yuppie} them_1 [vocalized-noise]",
        "sw2001B-ms98-a-0002 1.5 2.0 uh-huh"])
    write(trans / "20/2005/sw2005A-ms98-a-trans.text", ["sw2005A-ms98-a-0001 0.5 1.25 <b_aside> right <e_aside>"])
    for conversation in ("en_4156", "sw_4390"):
        sph(hub5 / "english" / f"{conversation}.sph", 2.0, 8000, channels=2)
    write(hub5_trans / "reference" / "hub5e00.english.000405.stm", [
        ";; comment",
        "en_4156 A en_4156_A 301.85 302.48 <O,en,F,en-F>  (%HESITATION) HE IS (A-) POLICE OFFICER",
        "en_4156 B en_4156_B 303.00 304.00 <O,en,F,en-F>  IGNORE_TIME_SEGMENT_IN_SCORING",
        "sw_4390 A sw_4390_A 10.10 12.00 <O,en,M,en-M>  <B_ASIDE> YEAH RIGHT"])
    recipe = recipe_copy(tmp_path, "swbd/asr1")

    result = data_sh(recipe, env, "--swbd", str(swbd), "--swbd_transcriptions", str(trans),
                     "--eval2000_speech", str(hub5), "--eval2000_transcripts", str(tmp_path / "nowhere"))
    assert result.returncode != 0
    assert "LDC2002T43" in result.stderr and "LDC97S62" not in result.stderr
    missing_corpus(recipe, env, [], "LDC97S62", "LDC2002S09", "openslr.org/resources/5")
    check_ok(data_sh(recipe, env, "--swbd", str(swbd), "--swbd_transcriptions", str(trans),
                     "--eval2000_speech", str(hub5), "--eval2000_transcripts", str(hub5_trans),
                     "--num_valid", "1"))
    validate(recipe, "train", "valid", "eval2000", "eval2000_swb", "eval2000_ch")
    data = recipe / "data"
    assert read(data / "valid/text") == {
        "sw02001-A_000098-001156": "hi um yeah i'd like to talk about th- p h d"}
    assert read(data / "train/text") == {
        "sw02001-A_001156-001250": "uh-huh", "sw02001-A_001250-001300": "uh-huh",
        "sw02001-B_000000-000150": "okay yuppie them", "sw02001-B_000150-000200": "uh-huh",
        "sw02005-A_000050-000125": "right"}
    wav = read(data / "train/wav.scp")["sw02001-B_000000-000150"]
    assert wav.startswith("sph2pipe -f wav -p -c 2 -t 0.00:1.50 ") and "sw02001.sph" in wav
    assert wav.endswith("| sox -R -t wav - -t wav - rate 16000 dither |")
    assert read(data / "train/utt2spk")["sw02005-A_000050-000125"] == "sw02005-A"
    assert read(data / "eval2000_ch/text") == {"en_4156-A_030185-030248": "he is a- police officer"}
    assert read(data / "eval2000_swb/text") == {"sw_4390-A_001010-001200": "yeah right"}
    assert set(read(data / "eval2000/text")) == {"en_4156-A_030185-030248", "sw_4390-A_001010-001200"}
    # Recordings of Table XI's low-resource conditions are slices of train (data_dir subset).


def test_europarl_st_and_tedlium(tmp_path, env):
    europarl = tmp_path / "v1.1"
    talks = {"train": ["en.20080925.22.3-216", "en.20090112.3.3-047"], "dev": ["en.20100706.10.3-063"],
             "test": ["en.20120912.8.3-150"]}
    texts = {"train": ["Mr President, I don't agree!", "The U.S. costs: 3.5 million."],
             "dev": ["Thank you."], "test": ["– ...", "It's 2010."]}
    for split, names in talks.items():
        lst = [f"{names[0]} 0.00 4.20"] + ([f"{names[-1]} 5.10 7.00"] if len(texts[split]) > 1 else [])
        write(europarl / "en" / "en" / split / "segments.lst", lst)
        write(europarl / "en" / "en" / split / "segments.en", texts[split])
        for name in names:
            write(europarl / "en" / "audios" / f"{name}.m4a", ["not really audio"])
    ted = tmp_path / "TEDLIUM_release-3"
    stm = {"AaronHuey_2010X": ["AaronHuey_2010X 1 AaronHuey_2010X 13.86 29.28 <o,f0,male> i 'm going to talk <unk> about it(2)",
                               "AaronHuey_2010X 1 AaronHuey_2010X 29.28 30.00 <o,f0,male> ignore_time_segment_in_scoring"],
           "BillGates_2010": ["BillGates_2010 1 BillGates_2010 1.50 3.25 <o,f0,male> {NOISE} energy is important"],
           "DanBarber_2010": ["DanBarber_2010 1 DanBarber_2010 0.00 2.00 <o,f0,male> fish"]}
    for talk, lines in stm.items():
        folder = ted / "data"
        write(folder / "stm" / f"{talk}.stm", lines)
        sph(folder / "sph" / f"{talk}.sph", 0.5, 16000)
    for split, talk in (("dev", "BillGates_2010"), ("test", "DanBarber_2010")):
        write(ted / "legacy" / split / "stm" / f"{talk}.stm", stm[talk])
        sph(ted / "legacy" / split / "sph" / f"{talk}.sph", 0.5, 16000)
    ep_recipe = recipe_copy(tmp_path, "europarl_st/asr1")
    ted_recipe = recipe_copy(tmp_path, "tedlium/asr1")

    missing_corpus(ep_recipe, env, ["--data_root", str(tmp_path)], "en/en/train/segments.lst",
                   "mllp.upv.es/europarl-st")
    missing_corpus(ted_recipe, env, [], "TED-LIUM release 3 not found", "openslr.org/51")
    # The two g2p runs (slow imports) go side by side.
    jobs = [subprocess.Popen(["local/data.sh", "--data_root", str(root)], cwd=recipe, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for recipe, root in ((ep_recipe, europarl), (ted_recipe, ted))]
    for job in jobs:
        out, err = job.communicate(timeout=300)
        assert job.returncode == 0, out + err

    validate(ep_recipe, "train", "valid", "test")
    data = ep_recipe / "data"
    text = read(data / "train/text")
    assert text == {"en.20080925.22.3-216_0000000_0000420": "mr president i don 't agree",
                    "en.20090112.3.3-047_0000510_0000700": "the us costs 3.5 million"}
    phones = read(data / "train/phones")
    assert phones["en.20080925.22.3-216_0000000_0000420"].startswith("M IH S T ER P R EH Z")
    assert set(" ".join(phones.values()).split()) <= set(read(data / "local/phone_inventory")["inventory"].split())
    wav = read(data / "train/wav.scp")["en.20090112.3.3-047_0000510_0000700"]
    assert wav.startswith("ffmpeg -nostdin -loglevel error -ss 5.10 -t 1.90 -i ") and wav.endswith("-f wav - |")
    assert read(data / "train/utt2spk")["en.20090112.3.3-047_0000510_0000700"] == "en.20090112.3.3-047"
    assert read(data / "test/text") == {"en.20120912.8.3-150_0000510_0000700": "it 's 2010"}  # punctuation only: dropped
    assert read(data / "valid/text") == {"en.20100706.10.3-063_0000000_0000420": "thank you"}

    validate(ted_recipe, "train", "valid", "test")
    data = ted_recipe / "data"
    assert read(data / "train/text") == {"AaronHuey_2010X-0001386-0002928": "i 'm going to talk about it"}
    assert read(data / "valid/text") == {"BillGates_2010-0000150-0000325": "energy is important"}
    assert read(data / "test/text") == {"DanBarber_2010-0000000-0000200": "fish"}
    assert read(data / "train/phones")["AaronHuey_2010X-0001386-0002928"].startswith("AY M G OW IH NG")
    wav = read(data / "valid/wav.scp")["BillGates_2010-0000150-0000325"]
    assert wav.startswith("sph2pipe -f wav -p -c 1 -t 1.50:3.25 ") and "legacy/dev/sph/BillGates_2010.sph" in wav


def test_shared_corpus_code_lives_in_the_package():
    """The transfer recipes must normalize text identically: their shared code is legonn.recipe
    (text_norm, asr_data, wmt), never a recipe's local/ file linked or copied into another."""
    shared = {"text_norm.py", "asr_data.py", "prepare_wmt.py"}
    for local in EGS.glob("*/*/local"):
        for path in local.iterdir():
            assert not path.is_symlink(), f"{path} links another recipe's file; use legonn.recipe"
            assert path.name not in shared, f"{path}: shared corpus code belongs in legonn.recipe"


# --- configs ------------------------------------------------------------------


def shrink(conf: dict) -> dict:
    """The same architecture keys with one block per stack, so that building is cheap."""
    conf = dict(conf)
    if "layers" in conf:
        conf["layers"] = 1
    if isinstance(conf.get("olc"), dict):
        conf["olc"] = {**conf["olc"], "layers": 1}
    for key in ("encoder_conf", "ingestor_conf"):
        if isinstance(conf.get(key), dict):
            conf[key] = shrink(conf[key])
    return conf


FULLSCALE = ("wmt14_en_de/mt1", "wmt19_de_en/mt1", "wmt16_ro_en/mt1", "swbd/asr1", "europarl_st/asr1", "tedlium/asr1")
# and the Multi30k explorations, which only a named --de_models trains (no mini run covers them)
CONFIGS = sorted([path for recipe in FULLSCALE for path in (EGS / recipe).glob("conf/*.yaml")]
                 + [EGS / "multi30k/mt1/conf" / f"train_{m}.yaml"
                    for m in ("legonn_wemb_enc4", "legonn_wemb_olc3", "encdec_enc6")])


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: f"{p.parts[-4]}/{p.name}")
def test_recipe_config(config, tmp_path):
    """Every config parses with the task's parser (no unknown key), its optimizer and scheduler
    build, and its architecture (one block per stack) runs a batch through."""
    import torch
    from espnet2.tasks.abs_task import optim_classes, scheduler_classes

    from legonn.nets.interface import Interface
    from legonn.tasks.asr import ASRTask
    from legonn.tasks.mt import MTTask

    asr = config.parts[-3] == "asr1"
    task = ASRTask if asr else MTTask
    args = task.get_parser().parse_args(["--config", str(config)])
    params = [torch.nn.Parameter(torch.zeros(2))]
    optimizer = optim_classes[args.optim](params, **args.optim_conf)
    scheduler_classes[args.scheduler](optimizer, **args.scheduler_conf)
    if config.name.startswith("finetune"):
        return  # the architecture comes from the composed modules
    # Tiny vocabularies stand in for the real interfaces.
    names = ["phones", "bpe"][-1 - len(args.middle_modules):]
    paths = [Interface(n, "word", ["<blank>", "<unk>"] + list("abcdefghij") + ["<sos/eos>"]).save(tmp_path / n)
             for n in names + ["src"]]
    args.encoder_conf = shrink(args.encoder_conf)
    args.ingestor_conf = shrink(args.ingestor_conf)
    args.decoder_conf = shrink(args.decoder_conf)
    args.middle_modules = [shrink(m) for m in args.middle_modules]
    if args.ingestor in (None, "none") and args.decoder not in (None, "none"):  # enc-dec baseline
        args.interfaces, args.ctc_targets, args.output_interface = [], [], str(paths[-2])
    else:
        args.interfaces, args.ctc_targets = [str(p) for p in paths[:-1]], ["phones", "text"][-len(names):]
    if not asr:
        args.input_interface = str(paths[-1])
    model = task.build_model(args)
    model.eval()
    if asr:
        batch = {"speech": torch.randn(1, 400, args.input_size), "speech_lengths": torch.tensor([400])}
    else:
        batch = {"src_text": torch.tensor([[2, 3, 4, 5]]), "src_text_lengths": torch.tensor([4])}
    outputs = model.encode(batch[task.input_key], batch[f"{task.input_key}_lengths"])
    if model.decoder is not None:
        memory, lengths = model.decoder_memory(outputs)
        mask = torch.arange(memory.size(1))[None] < lengths[:, None]
        assert model.decoder.decoder(torch.tensor([[model.sos_eos, 2]]), memory, mask).shape[-1] == 13
