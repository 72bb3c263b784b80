"""Specification of ``legonn.bin.plot_marginals``: one utterance's marginals as a PNG."""

import kaldiio
import matplotlib.image
import numpy as np
import pytest

from legonn.bin import plot_marginals

TOKENS = ["<blank>", "a", "b", "c", "d", "$x"]


def log_marginals(path_tokens, vocab=len(TOKENS), peak=0.9):
    """K x V log-probabilities whose argmax at position t is path_tokens[t]."""
    probs = np.full((len(path_tokens), vocab), (1.0 - peak) / (vocab - 1))
    probs[np.arange(len(path_tokens)), path_tokens] = peak
    return np.log(probs).astype(np.float32)


@pytest.fixture
def setup(tmp_path):
    scp = tmp_path / "interface0.scp"
    with kaldiio.WriteHelper(f"ark,scp:{tmp_path / 'interface0.ark'},{scp}") as writer:
        writer("utt1", log_marginals([0, 1, 1, 0, 2, 0, 5, 3, 3, 0]))
        writer("utt2", log_marginals([0, 4, 0]))
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("".join(t + "\n" for t in TOKENS), encoding="utf-8")
    return tmp_path, scp, tokens


def test_writes_a_readable_png_heatmap(setup):
    tmp_path, scp, tokens = setup
    out = tmp_path / "fig.png"
    plot_marginals.main(["--marginals", str(scp), "--tokens", str(tokens), "--utt", "utt1", "--out", str(out)])
    image = matplotlib.image.imread(out)
    height, width = image.shape[:2]
    assert height > 100 and width > 100
    assert image[..., :3].std() > 0.05  # not a blank canvas


def test_alignment_spans_are_drawn_when_given(setup):
    tmp_path, scp, tokens = setup
    alignment = tmp_path / "align.txt"
    alignment.write_text("utt2 4 1 2\nutt1 1 1 3\nutt1 2 4 5\nutt1 3 7 9\n", encoding="utf-8")
    plain, boxed = tmp_path / "plain.png", tmp_path / "boxed.png"
    common = ["--marginals", str(scp), "--tokens", str(tokens), "--utt", "utt1"]
    plot_marginals.main(common + ["--out", str(plain)])
    plot_marginals.main(common + ["--out", str(boxed), "--alignment", str(alignment)])
    assert not np.array_equal(matplotlib.image.imread(plain), matplotlib.image.imread(boxed))


def test_unknown_utterance_is_an_error_listing_available_ids(setup):
    tmp_path, scp, tokens = setup
    with pytest.raises(plot_marginals.UnknownUttError, match=r"'nope'.*utt1, utt2"):
        plot_marginals.main(
            ["--marginals", str(scp), "--tokens", str(tokens), "--utt", "nope", "--out", str(tmp_path / "x.png")]
        )


def test_token_list_must_match_the_vocabulary_size(setup):
    tmp_path, scp, tokens = setup
    tokens.write_text("<blank>\na\n", encoding="utf-8")
    with pytest.raises(ValueError, match="6 columns.*2 tokens"):
        plot_marginals.main(
            ["--marginals", str(scp), "--tokens", str(tokens), "--utt", "utt1", "--out", str(tmp_path / "x.png")]
        )


def test_rows_are_blank_then_top_tokens_preferring_path_and_alignment_tokens():
    probs = np.exp(log_marginals([0, 1, 1, 0, 2, 0, 5, 3, 3, 0]))
    assert plot_marginals.choose_rows(probs, must_show=set(), top=2) == [0, 1, 2]
    with_path_token = plot_marginals.choose_rows(probs, must_show={4}, top=2)
    assert with_path_token[0] == 0 and set(with_path_token) == {0, 1, 4}
    # Below the blank, rows follow the position where each token peaks.
    every_token_peaks = np.exp(log_marginals([0, 1, 1, 0, 2, 0, 4, 3, 3, 0], vocab=5))
    assert plot_marginals.choose_rows(every_token_peaks, must_show=set(), top=10) == [0, 1, 2, 4, 3]


def test_title_reads_sentencepiece_pieces_as_words_and_other_units_spaced():
    assert plot_marginals.detokenize(["\u2581the", "\u2581cat", "s"]) == "the cats"
    assert plot_marginals.detokenize(["DH", "AH0"]) == "DH AH0"
