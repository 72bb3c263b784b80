"""Specification of the pictures drawn while training (--num_att_plot N, legonn/tasks/images.py):
per epoch, for N validation utterances, the interface marginals with the greedy path and the
OLC and decoder cross-attention under exp/<tag>/images/<utt>/."""
import matplotlib.image
import pytest
import torch
import yaml

from legonn.bin import mt_train
from legonn.nets.layers import MultiHeadAttention, padding_mask
from legonn.tasks.images import recording_attention, token_labels
from test.toy import word_interface, write_split

TINY = {
    "encoder_conf": {"dim": 16, "heads": 2, "ffn_dim": 32, "layers": 1, "dropout": 0.0,
                     "olc": {"ratio": 2.0, "max_len": 40, "layers": 2}},
    "ingestor": "wemb", "ingestor_conf": {"layers": 1, "heads": 2, "ffn_dim": 32, "dropout": 0.0},
    "decoder_conf": {"dim": 16, "heads": 2, "ffn_dim": 32, "layers": 2, "dropout": 0.0},
    "optim": "adam", "optim_conf": {"lr": 0.002}, "batch_type": "unsorted", "batch_size": 8,
    "max_epoch": 2, "best_model_criterion": [["valid", "acc", "max"]], "keep_nbest_models": 1,
    "num_workers": 0, "use_tensorboard": False,
}


def test_recorded_weights_are_sdpas_and_leave_the_output_unchanged():
    torch.manual_seed(0)
    attention = MultiHeadAttention(8, 2).eval()
    query, memory = torch.randn(2, 3, 8), torch.randn(2, 5, 8)
    mask = padding_mask(torch.tensor([5, 2]))[:, None, None, :]
    plain = attention(query, memory, mask)
    assert not hasattr(attention, "weights")  # off by default: SDPA alone
    with recording_attention(attention):
        recorded = attention(query, memory, mask)
        weights = attention.weights
    assert torch.equal(plain, recorded)
    assert not attention.keep_weights and not hasattr(attention, "weights")
    assert weights.shape == (2, 2, 3, 5)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 2, 3))
    assert (weights[1, :, :, 2:] == 0).all()  # padded memory positions get no weight
    # The weights are the ones SDPA applied: weighting the values by them gives its output.
    _, value = attention.project_key_value(memory)
    context = (weights @ value).transpose(1, 2).reshape(2, 3, 8)
    torch.testing.assert_close(attention.out(context), plain)


def test_tick_labels_keep_the_symbols_of_the_greedy_reading():
    tokens = ["<blank>", "<unk>", "a", "b$", "<sos/eos>"]
    assert token_labels([0, 2, 2, 0, 2, 3, 3, 0], tokens) == ["", "a", "", "", "a", r"b\$", "", ""]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    write_split(root / "train", 24, 0)
    write_split(root / "valid", 5, 1)
    src = word_interface("src", [f"s{i}" for i in range(12)], root)
    tgt = word_interface("tgt", [f"t{i}" for i in range(12)], root)
    config = root / "train.yaml"
    config.write_text(yaml.safe_dump(TINY))
    argv = ["--config", str(config), "--interfaces", f"[{tgt}]", "--ctc_targets", "[text]",
            "--output_interface", tgt, "--input_interface", src, "--output_dir", str(root / "exp"),
            "--ngpu", "0", "--num_att_plot", "2"]
    for mode in ("train", "valid"):
        argv += [f"--{mode}_data_path_and_name_and_type", f"{root / mode}/src_text,src_text,text",
                 f"--{mode}_data_path_and_name_and_type", f"{root / mode}/text,text,text",
                 f"--{mode}_shape_file", f"{root / mode}/src_text"]
    mt_train.main(argv)
    return root / "exp"


def test_num_att_plot_draws_each_epoch_for_that_many_validation_utterances(trained):
    images = trained / "images"  # ESPnet's learning curves are there too, as files
    utterances = sorted(p.name for p in images.iterdir() if p.is_dir())
    assert utterances == ["utt0000", "utt0001"]  # the first two of the validation set
    expected = {f"{name}.{epoch}ep.png" for name in ("interface0", "olc0", "decoder") for epoch in (1, 2)}
    for utt in utterances:
        assert {p.name for p in (images / utt).iterdir()} == expected
    assert not (trained / "att_ws").exists()  # ESPnet's own (empty) plots are not made


def test_pictures_are_readable_images(trained):
    for path in (trained / "images").glob("*/*.png"):
        image = matplotlib.image.imread(path)
        height, width = image.shape[:2]
        assert 250 <= height <= 1200 and 350 <= width <= 4500, (path, image.shape)
        assert image[..., :3].std() > 0.05, path  # not a blank canvas
