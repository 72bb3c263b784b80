"""Model zoo: packing a trained model (config + weights + every file the config names) into an
ESPnet-format archive, opening it elsewhere, and decoding with it, without any training: tiny
random models saved the way ESPnet's trainer saves them."""
import shutil

import numpy as np
import pytest
import torch
import yaml
from espnet2.main_funcs.pack_funcs import unpack

from legonn.bin import pack
from legonn.bin.make_interface import bpe_interface
from legonn.modules import compose, read_module, split_model
from legonn.nets.interface import BLANK, SOS_EOS, UNK, Interface
from legonn.nets.layers import padding_mask
from legonn.search.beam_search import beam_search
from legonn.search.ctc_prefix_score import CTCPrefixScorer
from legonn.tasks.asr import ASRTask
from legonn.tasks.mt import MTTask
from legonn.tokenizer import Tokenizer
from legonn.zoo import LegoNNInference, load_model

GERMAN = "ein kleiner hund sieht eine große katze und der mann läuft".split()
ENGLISH = ["a small dog sees a big cat", "the man runs", "a big man sees the small cat",
           "the dog runs and the cat sees a man", "small cats run"] * 6
MT_CONFIG = {
    "encoder_conf": {"dim": 32, "heads": 2, "ffn_dim": 64, "layers": 1, "olc": {"ratio": 2.0, "max_len": 64, "layers": 1}},
    "ingestor": "wemb", "ingestor_conf": {"rf": 1, "heads": 2, "ffn_dim": 64, "layers": 1},
    "decoder_conf": {"dim": 32, "heads": 2, "ffn_dim": 64, "layers": 1}, "model_conf": {"ctc_weights": [1.0]},
}


def save_experiment(recipe, task, options, config=None, tag="tiny"):
    """Builds a random model the way ESPnet's trainer does (task parser + build_model) and saves
    exp/<tag>/config.yaml and exp/<tag>/valid.acc.ave.pth; paths in the config stay relative
    to the recipe directory, as in a real recipe."""
    (recipe / "conf").mkdir(parents=True, exist_ok=True)
    (recipe / "conf" / f"{tag}.yaml").write_text(yaml.safe_dump(config or MT_CONFIG))
    args = task.get_parser().parse_args(["--config", f"conf/{tag}.yaml", *options])
    torch.manual_seed(0)
    model = task.build_model(args).eval()
    exp = recipe / "exp" / tag
    exp.mkdir(parents=True, exist_ok=True)
    (exp / "config.yaml").write_text(yaml.safe_dump(vars(args), sort_keys=False))
    torch.save(model.state_dict(), exp / "valid.acc.ave.pth")
    return model


@pytest.fixture
def mt_recipe(tmp_path, monkeypatch):
    recipe = tmp_path / "egs2" / "toy" / "mt1"
    recipe.mkdir(parents=True)
    monkeypatch.chdir(recipe)
    Interface("de", "word", [BLANK, UNK, *GERMAN, SOS_EOS]).save("data/interfaces/de")
    bpe_interface("en", ENGLISH, 30, "unigram").save("data/interfaces/en")
    model = save_experiment(recipe, MTTask, [
        "--input_interface", "data/interfaces/de/interface.yaml",
        "--interfaces", "[data/interfaces/en/interface.yaml]", "--ctc_targets", "[text]"])
    return recipe, model


def reference_search(model, src_interface, sentence, beam=3, penalty=0.6):
    ids = torch.tensor([Tokenizer(src_interface).encode(sentence)])
    encoded = model.encode(ids, torch.tensor([ids.size(1)]))
    memory, lengths = model.decoder_memory(encoded)
    mask = padding_mask(lengths, memory.size(1))
    hyps = beam_search(model.decoder.decoder, memory, mask, model.sos_eos, model.sos_eos,
                       beam_size=beam, length_penalty=penalty, nbest=2)[0]
    return encoded, hyps


def test_pack_model_roundtrip(mt_recipe, tmp_path, monkeypatch):
    recipe, model = mt_recipe
    archive = pack.main(["model", "--train_config", "exp/tiny/config.yaml",
                         "--model_file", "exp/tiny/valid.acc.ave.pth", "--outpath", str(tmp_path / "zoo" / "tiny.zip")])
    source_interface = Interface.load("data/interfaces/de")
    encoded, hyps = reference_search(model, source_interface, "ein kleiner hund läuft")

    # The recipe is gone and we are elsewhere: everything must come from the archive.
    shutil.move(str(tmp_path / "egs2"), str(tmp_path / "gone"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    # ESPnet's own unpack opens it (espnet_model_zoo uses the same function).
    files = unpack(archive, tmp_path / "espnet_unpacked")
    assert set(files) == {"mt_train_config", "mt_model_file"}
    config = yaml.safe_load(open(files["mt_train_config"]))
    assert config["output_interface"] is None  # (the last interface)
    for path in config["interfaces"] + [config["input_interface"]]:
        assert path.startswith(str(tmp_path / "espnet_unpacked")), path
        assert Interface.load(path).name in ("de", "en")
    assert Interface.load(config["interfaces"][0]).bpemodel == Interface.load(
        tmp_path / "gone" / "toy" / "mt1" / "data" / "interfaces" / "en").bpemodel

    loaded, train_args = load_model(archive, cache_dir=tmp_path / "cache")
    assert not loaded.training and train_args.input_interface.startswith(str(tmp_path / "cache"))
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), name
    encoded2, hyps2 = reference_search(loaded, source_interface, "ein kleiner hund läuft")
    assert torch.equal(encoded[0].log_probs, encoded2[0].log_probs)
    assert hyps == hyps2

    translate = LegoNNInference.from_pretrained(archive, beam_size=3, length_penalty=0.6, nbest=2,
                                                cache_dir=tmp_path / "cache")
    results = translate("ein kleiner hund läuft")
    assert [r.tokens for r in results] == [[model.output_interface.tokens[t] for t in h.tokens] for h in hyps]
    assert [r.score for r in results] == pytest.approx([h.normalized_score for h in hyps])
    assert results[0].text == Tokenizer(model.output_interface).decode(hyps[0].tokens)
    assert len(results[0].interfaces) == 1  # the CTC reading of the encoder interface
    batch = translate(["ein kleiner hund läuft", "der mann"])
    assert [r.tokens for r in batch[0]] == [r.tokens for r in results]
    # The unpacked folder itself also loads (no second unpacking).
    again, _ = load_model(tmp_path / "espnet_unpacked")
    assert torch.equal(again.state_dict()["decoder.decoder.embed.weight"], model.state_dict()["decoder.decoder.embed.weight"])


def test_load_experiment_dir_from_anywhere(mt_recipe, tmp_path, monkeypatch):
    recipe, model = mt_recipe
    monkeypatch.chdir(tmp_path)  # relative interface paths resolve against the recipe directory
    loaded, _ = load_model(recipe / "exp" / "tiny")
    ids = torch.tensor([[2, 3, 4]])
    assert torch.equal(model.encode(ids, torch.tensor([3]))[0].log_probs,
                       loaded.encode(ids, torch.tensor([3]))[0].log_probs)
    with pytest.raises(FileNotFoundError, match="data/interfaces/de/interface.yaml"):
        shutil.rmtree(recipe / "data" / "interfaces" / "de")
        load_model(recipe / "exp" / "tiny")


def test_pack_module_roundtrip(mt_recipe, tmp_path):
    recipe, model = mt_recipe
    archives = {}
    for name in ("encoder0", "decoder"):
        archives[name] = pack.main(["module", "--train_config", "exp/tiny/config.yaml", "--model_file",
                                    "exp/tiny/valid.acc.ave.pth", "--module", name,
                                    "--outpath", str(tmp_path / "modules" / f"{name}.zip")])
    modules = [read_module(archives[n], tmp_path / "unpacked") for n in ("encoder0", "decoder")]
    assert modules[1].input_interface.checksum == model.interfaces[0].checksum
    composed = compose(modules, tmp_path / "interfaces")
    assert composed.state.keys() == model.state_dict().keys()
    for key, value in model.state_dict().items():
        assert torch.equal(composed.state[key], value), key
    # Same content as legonn.modules.split_model gives for the experiment.
    reference = {m.name: m for m in split_model("exp/tiny/config.yaml", "exp/tiny/valid.acc.ave.pth")}
    assert modules[1].weights.keys() == reference["decoder"].weights.keys()
    with pytest.raises(SystemExit, match="not 'middle1'"):
        pack.main(["module", "--train_config", "exp/tiny/config.yaml", "--model_file",
                   "exp/tiny/valid.acc.ave.pth", "--module", "middle1", "--outpath", str(tmp_path / "x.zip")])


def test_pack_asr_model_with_feature_stats(tmp_path, monkeypatch):
    recipe = tmp_path / "egs2" / "toy" / "asr1"
    recipe.mkdir(parents=True)
    monkeypatch.chdir(recipe)
    phones = Interface("phones", "phone", [BLANK, UNK, *"AA B K S T".split(), SOS_EOS])
    phones.save("data/interfaces/phones")
    stats = recipe / "exp" / "tiny" / "stats" / "train"
    stats.mkdir(parents=True)
    feats = np.random.RandomState(0).randn(50, 8)
    np.savez(stats / "feats_stats.npz", count=np.array(50.0), sum=feats.sum(0), sum_square=(feats ** 2).sum(0))
    config = {"input_size": 8, "encoder_conf": {"dim": 16, "heads": 2, "ffn_dim": 32, "layers": 1, "conv_channels": [4, 4]},
              "decoder": "none", "model_conf": {"ctc_weights": [1.0]}}
    model = save_experiment(recipe, ASRTask, [
        "--interfaces", "[data/interfaces/phones/interface.yaml]", "--ctc_targets", "[phones]",
        "--normalize_stats", "exp/tiny/stats/train/feats_stats.npz"], config)
    archive = pack.main(["model", "--train_config", "exp/tiny/config.yaml", "--model_file",
                         "exp/tiny/valid.acc.ave.pth", "--outpath", str(tmp_path / "asr.tar.gz")])
    shutil.move(str(tmp_path / "egs2"), str(tmp_path / "gone"))
    monkeypatch.chdir(tmp_path)
    files = unpack(archive, tmp_path / "unpacked")
    assert set(files) == {"asr_train_config", "asr_model_file"}
    assert yaml.safe_load(open(files["asr_train_config"]))["normalize_stats"].endswith("feats_stats.npz")

    recognize = LegoNNInference.from_pretrained(archive, cache_dir=tmp_path / "cache")
    assert recognize.task == "asr"
    x = torch.from_numpy(np.random.RandomState(1).randn(40, 8).astype(np.float32))
    reference = model.encode(x[None], torch.tensor([40]))[-1]
    result = recognize(x.numpy())[0]
    ids = [t for t in reference.log_probs[0].argmax(-1).unique_consecutive().tolist() if t != 0]
    assert result.tokens == [phones.tokens[i] for i in ids]
    assert result.text == result.interfaces[-1]
    with pytest.raises(ValueError, match=r"shape \(frames, 8\)"):
        recognize(np.zeros((10, 3), dtype=np.float32))


def test_an_enc_dec_baseline_decodes_with_no_interface_to_read(mt_recipe):
    recipe, _ = mt_recipe
    config = {"encoder_conf": {"dim": 32, "heads": 2, "ffn_dim": 64, "layers": 1}, "ingestor": "none",
              "decoder_conf": {"dim": 32, "heads": 2, "ffn_dim": 64, "layers": 1}}
    model = save_experiment(recipe, MTTask, ["--input_interface", "data/interfaces/de/interface.yaml",
                                             "--output_interface", "data/interfaces/en/interface.yaml",
                                             "--ctc_targets", "[]"],
                            config, tag="encdec")
    assert model.encoders[0].ctc_head is None
    decoded = LegoNNInference.from_pretrained(recipe / "exp" / "encdec", beam_size=2)("ein kleiner hund läuft")
    assert decoded[0].interfaces == [] and decoded[0].tokens == [
        model.output_interface.tokens[t] for t in decoded[0].token_ids]


def test_joint_ctc_attention_search_adds_the_interfaces_ctc_prefix_scores(mt_recipe):
    recipe, model = mt_recipe
    sentence = "ein kleiner hund läuft"
    ids = torch.tensor([Tokenizer(Interface.load("data/interfaces/de")).encode(sentence)])
    encoded = model.encode(ids, torch.tensor([ids.size(1)]))
    memory, lengths = model.decoder_memory(encoded)
    ctc = CTCPrefixScorer(encoded[-1].log_probs, encoded[-1].lengths, 0, model.sos_eos)
    # weight 0.2: 0.8 * decoder + 0.2 * CTC, which ranks like decoder + 0.25 * CTC (30 tokens:
    # CTC scores them all)
    expected = beam_search(model.decoder.decoder, memory, padding_mask(lengths, memory.size(1)), model.sos_eos,
                           model.sos_eos, beam_size=3, length_penalty=0.6, nbest=2, scorers=[(ctc, 0.25)])[0]
    joint = LegoNNInference.from_pretrained(recipe / "exp" / "tiny", beam_size=3, nbest=2, ctc_weight=0.2)
    assert [r.token_ids for r in joint(sentence)] == [h.tokens for h in expected]
    plain = LegoNNInference.from_pretrained(recipe / "exp" / "tiny", beam_size=3, nbest=2)
    assert [r.token_ids for r in plain(sentence)] != [h.tokens for h in expected]  # CTC changed the search
    assert joint.search.tag() == "beam3_lp0.6_nbest2_ctc0.2"


def test_joint_search_is_refused_without_a_ctc_interface_over_the_output_vocabulary(mt_recipe):
    recipe, _ = mt_recipe
    config = {"encoder_conf": {"dim": 32, "heads": 2, "ffn_dim": 64, "layers": 1}, "ingestor": "none",
              "decoder_conf": {"dim": 32, "heads": 2, "ffn_dim": 64, "layers": 1}}
    save_experiment(recipe, MTTask, ["--input_interface", "data/interfaces/de/interface.yaml",
                                     "--output_interface", "data/interfaces/en/interface.yaml",
                                     "--ctc_targets", "[]"], config, tag="encdec")
    with pytest.raises(ValueError, match="--ctc_weight needs a model with a decoder and a CTC interface"):
        LegoNNInference.from_pretrained(recipe / "exp" / "encdec", ctc_weight=0.3)
    with pytest.raises(ValueError, match="--ctc_weight 1.0 must be at least 0 and below 1"):
        LegoNNInference.from_pretrained(recipe / "exp" / "tiny", ctc_weight=1.0)
